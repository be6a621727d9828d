package gencap

import (
	"github.com/wsclosescan/wsclosescan/report"
)

// Truth is the expected record of one connection: the fields of report.Record that
// wsclosescan must reproduce, flattened. Nullable fields are nil when the record has null.
type Truth struct {
	Client            string  `json:"client"`
	Server            string  `json:"server"`
	Handshake         string  `json:"handshake"`
	HTTPStatus        *int    `json:"http_status"`
	ClientCloseCode   *int    `json:"client_close_code"`
	ClientCloseReason *string `json:"client_close_reason"`
	ServerCloseCode   *int    `json:"server_close_code"`
	ServerCloseReason *string `json:"server_close_reason"`
	FirstClose        *string `json:"first_close"`
	TCPEndFirst       *string `json:"tcp_end_first"`
	TCPEndHow         *string `json:"tcp_end_how"`
	ClientObserved    *int    `json:"client_observed"`
	ServerObserved    *int    `json:"server_observed"`
	Verdict           string  `json:"verdict"`
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

// deriveTruth applies the report README's definitions to a connection's steps, which are
// in the order their packets go on the wire.
func deriveTruth(client, server string, steps []step) Truth {
	t := Truth{Client: client, Server: server}
	cl := [2]closeSeen{{at: -1}, {at: -1}}
	fin, rst := [2]int{-1, -1}, [2]int{-1, -1}
	status, upgraded := 0, false
	for i, s := range steps {
		d := s.dir
		switch s.kind {
		case stResponse:
			status, upgraded = s.status, s.status == 101 && s.hs == hsOK
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
		t.HTTPStatus = report.Int(status)
		t.Handshake = report.HandshakeRejected
		if upgraded {
			t.Handshake = report.HandshakeCompleted
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
		t.TCPEndFirst, t.TCPEndHow = report.String(sideNames[endSide]), report.String(endHow)
	}
	var received [2]bool
	for d := range 2 {
		peerRST := rst[1-d]
		received[d] = cl[d].at >= 0 && (peerRST < 0 || cl[d].at < peerRST)
		if cl[d].at >= 0 {
			code := (*int)(nil)
			if cl[d].hasCode {
				code = report.Int(cl[d].code)
			}
			reason := report.String(cl[d].reason)
			if d == 0 {
				t.ClientCloseCode, t.ClientCloseReason = code, reason
			} else {
				t.ServerCloseCode, t.ServerCloseReason = code, reason
			}
		}
	}
	switch {
	case cl[0].at >= 0 && (cl[1].at < 0 || cl[0].at < cl[1].at):
		t.FirstClose = report.String("client")
	case cl[1].at >= 0:
		t.FirstClose = report.String("server")
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
			return report.Int(1006)
		case t.Verdict == report.VerdictOpenAtEnd:
			return nil // the API reports nothing before the connection is closed
		case received[peer] && cl[peer].hasCode:
			return report.Int(cl[peer].code)
		case received[peer]:
			return report.Int(1005)
		case ended:
			return report.Int(1006)
		}
		return nil
	}
	t.ClientObserved, t.ServerObserved = observed(0), observed(1)
	return t
}
