package gencap

import (
	"strconv"
	"strings"

	"github.com/wsclosescan/wsclosescan/report"
)

// Truth is the expected record of one connection: the fields of report.Record that
// wsclosescan must reproduce, flattened. Nullable fields are nil when the record has null.
type Truth struct {
	Client            string         `json:"client"`
	Server            string         `json:"server"`
	Handshake         string         `json:"handshake"`
	HandshakeError    *string        `json:"handshake_error"`
	HTTPStatus        *int           `json:"http_status"`
	Subprotocol       *string        `json:"subprotocol"`
	ClientCloseCode   *int           `json:"client_close_code"`
	ClientCloseReason *string        `json:"client_close_reason"`
	ServerCloseCode   *int           `json:"server_close_code"`
	ServerCloseReason *string        `json:"server_close_reason"`
	FirstClose        *string        `json:"first_close"`
	TCPEndFirst       *string        `json:"tcp_end_first"`
	TCPEndHow         *string        `json:"tcp_end_how"`
	ClientObserved    *int           `json:"client_observed"`
	ServerObserved    *int           `json:"server_observed"`
	Verdict           report.Verdict `json:"verdict"`
}

// sideNames are the record's names of the sides, indexed by side.
var sideNames = [2]string{"client", "server"}

// closeSeen is the first close frame a side sent.
type closeSeen struct {
	at      int // step index; -1 if none
	code    int
	hasCode bool
	reason  string
}

// handshakeError is the handshake_error wsclosescan words for an answer hs to a request
// offering offers[offer] (wsparse's judge), or "" for none.
func handshakeError(hs hsKind, offer int) string {
	switch hs {
	case hs403:
		return "server answered 403 Forbidden"
	case hs426:
		return "server does not support WebSocket version 13 (it supports 13)"
	case hsBadAccept:
		return "accept key does not match the request key"
	case hsUnrequestedProto:
		return `server chose subprotocol "v2.stream" that the client did not offer`
	case hsIgnoredProto:
		quoted := make([]string, len(offers[offer]))
		for i, p := range offers[offer] {
			quoted[i] = strconv.Quote(p)
		}
		if len(quoted) == 1 {
			return "server ignored the requested subprotocol " + quoted[0]
		}
		return "server ignored the requested subprotocols " + strings.Join(quoted, ", ")
	}
	return ""
}

// delivered reports whether side d's close frame reached the peer's application: sent before
// the peer's RST, and not to a peer that had sent its FIN before it (the RST then answers the
// close), nor to a peer that had closed first and then reset without a FIN (a socket closed
// with unread data resets: the answer was never read).
func delivered(cl [2]closeSeen, fin, rst [2]int, d int) bool {
	p := 1 - d
	switch {
	case cl[d].at < 0:
		return false
	case rst[p] < 0:
		return true
	case rst[p] < cl[d].at:
		return false
	case fin[p] >= 0 && fin[p] < cl[d].at:
		return false
	}
	closedFirst := cl[p].at >= 0 && cl[p].at < cl[d].at
	return !(closedFirst && (fin[p] < 0 || rst[p] < fin[p]))
}

// deriveTruth applies the report README's definitions to a connection's steps, which are
// in the order their packets go on the wire.
//
// A 101 that ignored the requested subprotocol is judged by what the client did: a frame
// from the client after it means the client accepted it (handshake completed, the
// connection judged like any other, handshake_error still saying what a browser would have
// refused); a client that closes TCP without a frame failed the handshake.
func deriveTruth(clientAddr, serverAddr string, steps []step) Truth {
	t := Truth{Client: clientAddr, Server: serverAddr}
	cl := [2]closeSeen{{at: -1}, {at: -1}}
	fin, rst := [2]int{-1, -1}, [2]int{-1, -1}
	status, upgraded, offer, resp := 0, false, 0, -1
	hs := hsOK
	for i, s := range steps {
		d := s.dir
		if s.isFrame() && d == client && resp >= 0 && hs == hsIgnoredProto {
			upgraded = true // the client accepted the 101
		}
		switch s.kind {
		case stRequest:
			offer = s.offer
		case stResponse:
			status, hs, resp = s.status, s.hs, i
			upgraded = s.status == 101 && s.hs == hsOK
		case stClose:
			if cl[d].at < 0 {
				cl[d] = closeSeen{at: i, code: s.code, hasCode: s.hasCode, reason: s.reason}
			}
		case stFIN:
			if fin[d] < 0 {
				fin[d] = i
			}
		case stRST, stRSTAfterClose:
			if rst[d] < 0 {
				rst[d] = i
			}
		}
	}
	if status != 0 {
		t.HTTPStatus = new(status)
		t.Handshake = report.HandshakeRejected
		if upgraded {
			t.Handshake = report.HandshakeCompleted
		}
		if e := handshakeError(hs, offer); e != "" {
			t.HandshakeError = new(e)
		}
		switch {
		case hs == hsOK && offer != 0:
			t.Subprotocol = new(offers[offer][0])
		case hs == hsUnrequestedProto:
			t.Subprotocol = new("v2.stream")
		}
	} else {
		t.Handshake = report.HandshakeNotSeen
	}
	endAt, endSide, endHow := -1, 0, ""
	for d := range 2 {
		for _, e := range []struct {
			at  int
			how string
		}{{fin[d], "fin"}, {rst[d], "rst"}} {
			if e.at >= 0 && (endAt < 0 || e.at < endAt) {
				endAt, endSide, endHow = e.at, d, e.how
			}
		}
	}
	ended := endAt >= 0
	if ended {
		t.TCPEndFirst, t.TCPEndHow = new(sideNames[endSide]), new(endHow)
	}
	var received [2]bool
	for d := range 2 {
		received[d] = delivered(cl, fin, rst, d)
		if cl[d].at >= 0 {
			code := (*int)(nil)
			if cl[d].hasCode {
				code = new(cl[d].code)
			}
			reason := new(cl[d].reason)
			if d == 0 {
				t.ClientCloseCode, t.ClientCloseReason = code, reason
			} else {
				t.ServerCloseCode, t.ServerCloseReason = code, reason
			}
		}
	}
	switch {
	case cl[0].at >= 0 && (cl[1].at < 0 || cl[0].at < cl[1].at):
		t.FirstClose = new("client")
	case cl[1].at >= 0:
		t.FirstClose = new("server")
	}
	switch {
	case t.Handshake == report.HandshakeRejected:
		t.Verdict = report.VerdictHandshakeFailed
	case received[0] && received[1]:
		t.Verdict = report.VerdictClean
	case !ended:
		t.Verdict = report.VerdictOpenAtEnd
	case cl[0].at < 0 && cl[1].at < 0:
		t.Verdict = report.VerdictAbnormal
	default:
		t.Verdict = report.VerdictHalfClosed
	}
	observed := func(d int) *int {
		peer := 1 - d
		switch {
		case t.Verdict == report.VerdictHandshakeFailed:
			return new(1006)
		case t.Verdict == report.VerdictOpenAtEnd:
			return nil // the API reports nothing before the connection is closed
		case received[peer] && cl[peer].hasCode:
			return new(cl[peer].code)
		case received[peer]:
			return new(1005)
		case ended:
			return new(1006)
		}
		return nil
	}
	t.ClientObserved, t.ServerObserved = observed(0), observed(1)
	return t
}
