package analyze

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/wsclosescan/wsclosescan/report"
)

// Contradictions lists the ways a record contradicts itself; a record this package builds
// has none. The invariants:
//
//   - a record that is not WebSocket has verdict not_websocket and no close frames;
//   - handshake_failed: the handshake was rejected or never answered, and the client sent no
//     frame after the response (frames would mean it accepted);
//   - clean: both sides sent a valid close frame, and each API reported the peer's code
//     (1005 without one);
//   - abnormal: no close frame from either side, and none that may be hidden by missing bytes;
//   - unknown is the verdict exactly when "verdict" is listed in unknown, and a close frame
//     listed as unknown is not reported as seen;
//   - an API code is missing only while the connection is open, for plain TCP, or when it is
//     listed as unknown;
//   - a hint that says an application never saw the peer's code, or that a side reports a
//     code, agrees with that side's observed code.
func Contradictions(r *report.Record) []string {
	var out []string
	bad := func(format string, args ...any) {
		out = append(out, fmt.Sprintf(format, args...))
	}
	if !r.WebSocket {
		want := report.VerdictNotWebSocket
		if r.IsUnknown("websocket") {
			want = report.VerdictUnknown // an encrypted connection that may carry WebSocket
		}
		if r.Verdict != want || r.ClientClose != nil || r.ServerClose != nil {
			bad("not WebSocket, yet verdict %s and close frames %v/%v", r.Verdict, r.ClientClose != nil, r.ServerClose != nil)
		}
		return out
	}
	closes := map[string]*report.Close{"client": r.ClientClose, "server": r.ServerClose}
	observed := map[string]*int{"client": r.ClientObserved, "server": r.ServerObserved}
	switch r.Verdict {
	case report.VerdictNotWebSocket:
		bad("verdict not_websocket on a WebSocket record")
	case report.VerdictHandshakeFailed:
		if r.Handshake != report.HandshakeRejected && r.Handshake != report.HandshakeIncomplete {
			bad("handshake_failed with handshake %s", r.Handshake)
		}
		if r.Frames.Client > 0 {
			bad("handshake_failed, yet the client sent %d frames after the response", r.Frames.Client)
		}
	case report.VerdictClean:
		for _, s := range []string{"client", "server"} {
			c := closes[s]
			if c == nil || !c.Valid {
				bad("clean without a valid %s close frame", s)
				continue
			}
			peer := other(s)
			want := 1005
			if c.Code != nil {
				want = *c.Code
			}
			if o := observed[peer]; o == nil || *o != want {
				bad("clean, yet the %s observed %s, not %d from the %s's close", peer, report.CodeText(o), want, s)
			}
		}
	case report.VerdictAbnormal:
		if r.ClientClose != nil || r.ServerClose != nil || r.IsUnknown("client_close") || r.IsUnknown("server_close") {
			bad("abnormal with a close frame seen or possibly hidden")
		}
	}
	if (r.Verdict == report.VerdictUnknown) != r.IsUnknown("verdict") {
		bad("verdict %s, unknown %v", r.Verdict, r.Unknown)
	}
	for _, s := range []string{"client", "server"} {
		if r.IsUnknown(s+"_close") && closes[s] != nil {
			bad("%s close listed as unknown, yet reported", s)
		}
		open := r.Verdict == report.VerdictOpenAtEnd || (r.Verdict == report.VerdictUnknown && r.TCPEnd.How == nil)
		if observed[s] == nil && !open && !r.IsUnknown(s+"_observed") {
			bad("%s observed nothing, yet the connection ended (%s)", s, r.Verdict)
		}
	}
	for _, h := range r.Hints {
		for _, s := range []string{"client", "server"} {
			if strings.HasPrefix(h, s+" closed TCP before the "+other(s)+"'s close arrived: its application never saw") {
				if o := observed[s]; o == nil || *o != 1006 {
					bad("hint says the %s never saw the %s's code, yet it observed %s", s, other(s), report.CodeText(o))
				}
			}
			if code, ok := claimedCode(h, s); ok {
				if o := observed[s]; o != nil && *o != code {
					bad("hint says the %s reports %d, yet it observed %d: %q", s, code, *o, h)
				}
			}
		}
		if strings.Contains(h, "without a close frame from either side") && r.Verdict != report.VerdictAbnormal {
			bad("hint claims no close frames with verdict %s", r.Verdict)
		}
	}
	return out
}

// claimedCode finds an unconditional "the SIDE reports N" or "SIDE ... its API reports N" in a
// hint.
func claimedCode(h, side string) (int, bool) {
	for _, lead := range []string{"the " + side + " reports ", "so the " + side + " most likely never read the answer and its API reports "} {
		i := strings.Index(h, lead)
		if i < 0 || strings.Contains(h[:i], " if ") || strings.Contains(h[i:], ", if ") {
			continue
		}
		rest := h[i+len(lead):]
		n := 0
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if code, err := strconv.Atoi(rest[:n]); err == nil {
			return code, true
		}
	}
	return 0, false
}

func other(s string) string {
	if s == "client" {
		return "server"
	}
	return "client"
}
