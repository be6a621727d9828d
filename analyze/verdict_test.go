package analyze

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/layers"
	"github.com/wsclosescan/wsclosescan/report"
	"github.com/wsclosescan/wsclosescan/wsparse"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(ms float64) time.Time { return t0.Add(time.Duration(ms * float64(time.Millisecond))) }

func closeAt(side wsparse.Side, code int, ms float64) *wsparse.CloseFrame {
	c := &wsparse.CloseFrame{Side: side, Time: at(ms)}
	if code > 0 {
		c.HasCode, c.Code = true, wsparse.CloseCode(code)
	}
	return c
}

// scenario describes the raw observations of a connection; facts derives the rest.
type scenario struct {
	hs             *wsparse.Handshake
	clientClose    *wsparse.CloseFrame
	serverClose    *wsparse.CloseFrame
	clientFIN      float64 // ms; 0 = none
	clientRST      float64
	serverFIN      float64
	serverRST      float64
	lastFrame      float64
	notWebSocket   bool
	undecodableSrv bool
	missingSrv     int64
	gapSrv         float64 // ms of the server's last gap
	clientFrames   int64
	serverFrames   int64
}

func invalid(c *wsparse.CloseFrame) *wsparse.CloseFrame {
	c.Problems = []string{"made invalid by the test"}
	return c
}

func ignoredProto() *wsparse.Handshake {
	return &wsparse.Handshake{RequestSeen: true, ResponseSeen: true, Status: 101, Protocols: []string{"chat"},
		Failure: `server ignored the requested subprotocol "chat"`, RequestTime: at(0), ResponseTime: at(1)}
}

// refused is a handshake the server answered with status (not 101).
func refused(status int, text string) *wsparse.Handshake {
	return &wsparse.Handshake{RequestSeen: true, ResponseSeen: true, Path: "/chat", Origin: "https://app.example",
		Status: status, StatusText: text, Failure: fmt.Sprintf("server answered %d %s", status, text)}
}

func upgraded() *wsparse.Handshake {
	return &wsparse.Handshake{RequestSeen: true, ResponseSeen: true, Status: 101, Upgraded: true,
		RequestTime: at(0), ResponseTime: at(1)}
}

func (s scenario) facts() *facts {
	f := &facts{hs: s.hs, websocket: !s.notWebSocket, start: t0}
	f.close = [2]*wsparse.CloseFrame{s.clientClose, s.serverClose}
	ms := func(v float64) time.Time {
		if v == 0 {
			return time.Time{}
		}
		return at(v)
	}
	f.ends[wsparse.Client] = layers.TCPEnd{FIN: ms(s.clientFIN), RST: ms(s.clientRST)}
	f.ends[wsparse.Server] = layers.TCPEnd{FIN: ms(s.serverFIN), RST: ms(s.serverRST)}
	f.lastFrame = ms(s.lastFrame)
	f.stats[wsparse.Server].Undecodable = s.undecodableSrv
	f.missing[wsparse.Server] = s.missingSrv
	f.lastGap[wsparse.Server].Time = ms(s.gapSrv)
	f.stats[wsparse.Client].Frames = s.clientFrames
	f.stats[wsparse.Server].Frames = s.serverFrames
	f.stats[wsparse.Server].LastFrameTime = ms(s.lastFrame)
	f.derive()
	return f
}

func code(c apiCode) string {
	if !c.ok {
		return "none"
	}
	return report.CodeText(&c.code)
}

func TestVerdictAndObserved(t *testing.T) {
	tests := []struct {
		name                 string
		s                    scenario
		verdict              report.Verdict
		clientSaw, serverSaw string // "none" for nil
	}{
		{"clean client-initiated", scenario{hs: upgraded(), clientClose: closeAt(0, 1000, 10), serverClose: closeAt(1, 1000, 11), serverFIN: 12, clientFIN: 13},
			report.VerdictClean, "1000", "1000"},
		{"clean with different echo code", scenario{hs: upgraded(), clientClose: closeAt(0, 1009, 10), serverClose: closeAt(1, 1000, 11), serverFIN: 12},
			report.VerdictClean, "1000", "1009"},
		{"clean without codes", scenario{hs: upgraded(), clientClose: closeAt(0, 0, 10), serverClose: closeAt(1, 0, 11), serverFIN: 12},
			report.VerdictClean, "1005", "1005"},
		{"close exchange complete, TCP still open", scenario{hs: upgraded(), clientClose: closeAt(0, 1000, 10), serverClose: closeAt(1, 1000, 11)},
			report.VerdictClean, "1000", "1000"},
		{"client close never answered", scenario{hs: upgraded(), clientClose: closeAt(0, 1000, 10), serverFIN: 20, clientFIN: 21},
			report.VerdictHalfClosed, "1006", "1000"},
		{"server close then server RST", scenario{hs: upgraded(), serverClose: closeAt(1, 1011, 10), serverRST: 10.2},
			report.VerdictHalfClosed, "1011", "1006"},
		{"server close arrives after client's RST", scenario{hs: upgraded(), clientClose: closeAt(0, 1000, 10), clientRST: 11, serverClose: closeAt(1, 1000, 12)},
			report.VerdictHalfClosed, "1006", "1000"},
		// The client's RST answers a close that arrived at its closed socket.
		{"close after client FIN and RST is not received", scenario{hs: upgraded(), clientClose: closeAt(0, 1000, 10), clientFIN: 11, serverClose: closeAt(1, 1000, 12), clientRST: 13},
			report.VerdictHalfClosed, "1006", "1000"},
		// Without a RST the client may have half-closed and still read it.
		{"close after client FIN, no RST, counts as received", scenario{hs: upgraded(), clientClose: closeAt(0, 1000, 10), clientFIN: 11, serverClose: closeAt(1, 1000, 12), serverFIN: 13},
			report.VerdictClean, "1000", "1000"},
		// Node ws close(1011) then resetAndDestroy: the echo is on the wire before the RST,
		// but a reset without a FIN means it sat unread.
		{"close, echo, then reset by the closer", scenario{hs: upgraded(), serverClose: closeAt(1, 1011, 10), clientClose: closeAt(0, 1011, 10.5), serverRST: 11.2},
			report.VerdictHalfClosed, "1011", "1006"},
		// An echoer that resets after echoing did read the close it echoed.
		{"echo, then reset by the echoer", scenario{hs: upgraded(), clientClose: closeAt(0, 1000, 10), serverClose: closeAt(1, 1000, 10.5), serverRST: 11},
			report.VerdictClean, "1000", "1000"},
		{"invalid close answered with 1002", scenario{hs: upgraded(), clientClose: invalid(closeAt(0, 1005, 10)), serverClose: closeAt(1, 1002, 10.5), serverFIN: 11, clientFIN: 12},
			report.VerdictHalfClosed, "1002", "1006"},
		{"invalid close answered with 1007", scenario{hs: upgraded(), clientClose: invalid(closeAt(0, 1000, 10)), serverClose: closeAt(1, 1007, 10.5), serverFIN: 11, clientFIN: 12},
			report.VerdictHalfClosed, "1007", "1006"},
		{"invalid close echoed by a lenient peer", scenario{hs: upgraded(), clientClose: invalid(closeAt(0, 999, 10)), serverClose: closeAt(1, 999, 10.5), serverFIN: 11, clientFIN: 12},
			report.VerdictHalfClosed, "999", "999"},
		{"lenient client after an ignored subprotocol", scenario{hs: ignoredProto(), clientFrames: 2, clientClose: closeAt(0, 1000, 10), serverClose: closeAt(1, 1000, 11), serverFIN: 12},
			report.VerdictClean, "1000", "1000"},
		{"strict client after an ignored subprotocol", scenario{hs: ignoredProto(), clientFIN: 2},
			report.VerdictHandshakeFailed, "1006", "1006"},
		{"ignored subprotocol, the capture ends before the client acts", scenario{hs: ignoredProto()},
			report.VerdictOpenAtEnd, "none", "none"},
		{"response not captured, server frames", scenario{hs: &wsparse.Handshake{RequestSeen: true}, serverFrames: 3, clientClose: closeAt(0, 1000, 10), serverClose: closeAt(1, 1000, 11), serverFIN: 12},
			report.VerdictClean, "1000", "1000"},
		// The server's close, if any, may be among the missing bytes: whether the client saw
		// one, and so the verdict, is unknown; the server saw nothing either way.
		{"server close may be among missing bytes", scenario{hs: upgraded(), lastFrame: 5, undecodableSrv: true, missingSrv: 40, gapSrv: 8, serverRST: 9},
			report.VerdictUnknown, "none", "1006"},
		{"bytes missing inside a frame, then the server's close", scenario{hs: upgraded(), lastFrame: 12, missingSrv: 40, gapSrv: 8, serverClose: closeAt(1, 1000, 12), clientClose: closeAt(0, 1000, 13), serverFIN: 14},
			report.VerdictClean, "1000", "1000"},
		{"abnormal FIN without close frames", scenario{hs: upgraded(), lastFrame: 5, serverFIN: 60005},
			report.VerdictAbnormal, "1006", "1006"},
		{"abnormal RST", scenario{hs: upgraded(), clientRST: 50},
			report.VerdictAbnormal, "1006", "1006"},
		{"open at end", scenario{hs: upgraded(), lastFrame: 5},
			report.VerdictOpenAtEnd, "none", "none"},
		{"open at end after one close", scenario{hs: upgraded(), clientClose: closeAt(0, 1000, 10)},
			report.VerdictOpenAtEnd, "none", "none"},
		{"rejected 403", scenario{hs: &wsparse.Handshake{RequestSeen: true, ResponseSeen: true, Status: 403, Failure: "server answered 403 Forbidden"}, serverFIN: 5},
			report.VerdictHandshakeFailed, "1006", "1006"},
		{"no response then FIN", scenario{hs: &wsparse.Handshake{RequestSeen: true}, clientFIN: 3000},
			report.VerdictHandshakeFailed, "1006", "1006"},
		{"no response yet", scenario{hs: &wsparse.Handshake{RequestSeen: true}},
			report.VerdictOpenAtEnd, "none", "none"},
		{"mid-stream clean", scenario{clientClose: closeAt(0, 1001, 10), serverClose: closeAt(1, 1001, 11), serverFIN: 12},
			report.VerdictClean, "1001", "1001"},
		{"plain TCP", scenario{notWebSocket: true, clientFIN: 5},
			report.VerdictNotWebSocket, "none", "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.s.facts()
			if f.verdict != tt.verdict {
				t.Errorf("verdict: got %s, want %s", f.verdict, tt.verdict)
			}
			if got := code(f.observed[0]); got != tt.clientSaw {
				t.Errorf("client observed: got %s, want %s", got, tt.clientSaw)
			}
			if got := code(f.observed[1]); got != tt.serverSaw {
				t.Errorf("server observed: got %s, want %s", got, tt.serverSaw)
			}
		})
	}
}

func TestHints(t *testing.T) {
	tests := []struct {
		name string
		s    scenario
		want []string // each must appear as a substring of some hint
		not  []string // none may appear
	}{
		{"reset right after close", scenario{hs: upgraded(), serverClose: closeAt(1, 1011, 10), serverRST: 10.2},
			[]string{"server sent close 1011 then reset the connection 0.2 ms later: the client reports 1006, not 1011, if the reset arrives before it reads the close frame"}, nil},
		{"client closed TCP before server close", scenario{hs: upgraded(), clientClose: closeAt(0, 1000, 10), clientFIN: 11, serverClose: closeAt(1, 1000, 12), clientRST: 13},
			[]string{"client closed TCP before the server's close arrived: its application never saw the server's code"}, []string{"reset the connection"}},
		{"idle timeout", scenario{hs: upgraded(), lastFrame: 5, serverFIN: 60005},
			[]string{"no frames for 60.0 s, then FIN from the server: looks like an idle timeout in the server or a proxy"}, nil},
		{"abrupt drop", scenario{hs: upgraded(), lastFrame: 5, clientRST: 50},
			[]string{"TCP ended (RST from the client) without a close frame from either side"}, []string{"idle timeout"}},
		{"ignored subprotocol", scenario{hs: &wsparse.Handshake{RequestSeen: true, ResponseSeen: true, Status: 101,
			Failure: `server ignored the requested subprotocol "chat.v2"`}, clientFIN: 5},
			[]string{"the browser fails the connection because the server ignored the requested subprotocol"}, nil},
		{"bad accept", scenario{hs: &wsparse.Handshake{RequestSeen: true, ResponseSeen: true, Status: 101,
			Failure: "accept key does not match the request key"}, clientFIN: 250},
			[]string{"Sec-WebSocket-Accept is not derived from its Sec-WebSocket-Key"}, nil},
		{"403", scenario{hs: &wsparse.Handshake{RequestSeen: true, ResponseSeen: true, Status: 403, Failure: "server answered 403 Forbidden"}, serverFIN: 5},
			[]string{"the server refused the upgrade (server answered 403 Forbidden)"}, nil},
		{"404", scenario{hs: refused(404, "Not Found"), serverFIN: 5},
			[]string{"the server refused the upgrade (server answered 404 Not Found)", `nothing serves WebSocket at "/chat"`}, []string{"Origin"}},
		{"400", scenario{hs: refused(400, "Bad Request"), serverFIN: 5},
			[]string{"an answer of 400 to an upgrade usually means a proxy dropped the Upgrade and Connection headers"}, nil},
		{"200", scenario{hs: refused(200, "OK"), serverFIN: 5},
			[]string{"an answer of 200 to an upgrade", "proxy_set_header Upgrade $http_upgrade"}, nil},
		{"301", scenario{hs: refused(301, "Moved Permanently"), serverFIN: 5},
			[]string{"do not follow redirects on a WebSocket upgrade"}, nil},
		{"302", scenario{hs: refused(302, "Found"), serverFIN: 5},
			[]string{"do not follow redirects on a WebSocket upgrade"}, nil},
		{"401", scenario{hs: refused(401, "Unauthorized"), serverFIN: 5},
			[]string{"authentication or authorization failed", `the request's Origin is "https://app.example"`}, nil},
		{"426", scenario{hs: func() *wsparse.Handshake {
			h := refused(426, "Upgrade Required")
			h.Version, h.ServerVersions = "8", "13"
			return h
		}(), serverFIN: 5},
			[]string{`does not accept this client's WebSocket version "8" (the server asks for Sec-WebSocket-Version 13)`}, nil},
		{"502", scenario{hs: refused(502, "Bad Gateway"), serverFIN: 5},
			[]string{"a 502 comes from a proxy or load balancer", "check that backend"}, nil},
		{"503", scenario{hs: refused(503, "Service Unavailable"), serverFIN: 5}, []string{"a 503 comes from a proxy"}, nil},
		{"504", scenario{hs: refused(504, "Gateway Timeout"), serverFIN: 5}, []string{"a 504 comes from a proxy"}, nil},
		{"418 gets the general advice", scenario{hs: refused(418, "I'm a teapot"), serverFIN: 5},
			[]string{"check the server's logs, its Origin check and authentication"}, []string{"proxy"}},
		{"unanswered close", scenario{hs: upgraded(), clientClose: closeAt(0, 1000, 10), serverFIN: 20, clientFIN: 21},
			[]string{"the client sent close 1000 but the server never answered with a close frame before TCP ended (FIN by server): the client reports 1006, the server 1000"}, nil},
		{"close possibly lost in a gap", scenario{hs: upgraded(), clientClose: closeAt(0, 1000, 10), serverFIN: 20, undecodableSrv: true, missingSrv: 100},
			[]string{"bytes are missing from the server's stream near its end: a close frame may have been lost"}, []string{"never answered"}},
		{"reset after close is not also reported as unanswered", scenario{hs: upgraded(), serverClose: closeAt(1, 1011, 10), serverRST: 12},
			[]string{"reset the connection 2.0 ms later"}, []string{"never answered"}},
		{"invalid close frame", scenario{hs: upgraded(), serverClose: &wsparse.CloseFrame{Side: 1, Time: at(10), HasCode: true, Code: 1000,
			Problems: []string{"reason is 256 bytes (limit 123)"}}, clientFIN: 20, serverFIN: 21},
			[]string{"the server's close frame is invalid (reason is 256 bytes (limit 123)): a strict client fails the connection (sending 1002) and reports 1006; a lenient one reports 1000"}, nil},
		{"open at end", scenario{hs: upgraded(), lastFrame: 5},
			[]string{"capture ended while the connection was still open"}, nil},
		{"clean has no hints", scenario{hs: upgraded(), clientClose: closeAt(0, 1000, 10), serverClose: closeAt(1, 1000, 11), serverFIN: 12, clientFIN: 13},
			nil, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hints(tt.s.facts(), Options{IdleHint: 2 * time.Second})
			all := strings.Join(got, "\n")
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("missing hint %q; got:\n%s", w, all)
				}
			}
			for _, n := range tt.not {
				if n == "" && len(got) > 0 {
					t.Errorf("want no hints, got:\n%s", all)
				} else if n != "" && strings.Contains(all, n) {
					t.Errorf("unexpected hint containing %q; got:\n%s", n, all)
				}
			}
		})
	}
}

func TestDescribeDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{200 * time.Microsecond, "0.2 ms"},
		{45 * time.Microsecond, "0.045 ms"},
		{35 * time.Millisecond, "35.0 ms"},
		{1500 * time.Millisecond, "1.5 s"},
	}
	for _, tt := range tests {
		if got := report.HintDuration(tt.d); got != tt.want {
			t.Errorf("report.HintDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
