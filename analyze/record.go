package analyze

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
	"github.com/wsclosescan/wsclosescan/wsparse"
)

// facts is what the record and the hints are derived from, with sides resolved.
type facts struct {
	hs          *wsparse.Handshake
	handshake   string
	close       [2]*wsparse.CloseFrame // by wsparse.Side
	received    [2]bool                // close[side] reached the other side before its RST
	ends        [2]tcpEnd              // by wsparse.Side
	missing     [2]int64
	lastGap     [2]gap
	stats       [2]wsparse.DirStats
	tcpEnded    bool
	endSide     wsparse.Side // first FIN or RST: who
	endHow      string       // "fin" or "rst"
	endTime     time.Time
	observed    [2]*int
	verdict     string
	lastFrame   time.Time
	websocket   bool
	start, last time.Time
}

// dirOf maps a WebSocket side to the reassembler's direction of the bytes it sends.
func (c *conn) dirOf(s wsparse.Side) reassembly.Dir {
	d := reassembly.Dir(s)
	if c.ws.SidesSwapped() {
		d = d.Reverse()
	}
	return d
}

func (c *conn) sideOf(d reassembly.Dir) wsparse.Side { return wsparse.Side(c.dirOf(wsparse.Side(d))) }

// facts fills f (the caller's, so that it needs no allocation).
func (c *conn) facts(f *facts) {
	*f = facts{hs: c.ws.Handshake(), websocket: c.ws.IsWebSocket(), start: c.info.Start, last: c.last}
	for _, s := range []wsparse.Side{wsparse.Client, wsparse.Server} {
		d := c.dirOf(s)
		f.close[s] = c.ws.Close(s)
		f.ends[s] = c.ends[d]
		f.missing[s] = c.missing[d]
		f.lastGap[s] = c.lastGap[d]
		f.stats[s] = c.ws.Stats(s)
		if t := f.stats[s].LastFrameTime; t.After(f.lastFrame) {
			f.lastFrame = t
		}
	}
	f.derive()
}

// derive computes the conclusions from the observations: how TCP ended, which close
// frames were received, the handshake state, the verdict and what each API reported.
func (f *facts) derive() {
	for _, s := range []wsparse.Side{wsparse.Client, wsparse.Server} {
		t, how := f.ends[s].first()
		if how != "" && (!f.tcpEnded || t.Before(f.endTime)) {
			f.tcpEnded, f.endSide, f.endHow, f.endTime = true, s, how, t
		}
		cl, rst := f.close[s], f.ends[s.Other()].rst
		f.received[s] = cl != nil && (rst.IsZero() || cl.Time.Before(rst))
	}
	f.handshake = handshakeState(f.hs)
	f.verdict = verdict(f)
	f.observed = [2]*int{observed(f, wsparse.Client), observed(f, wsparse.Server)}
}

func handshakeState(hs *wsparse.Handshake) string {
	switch {
	case hs == nil || (!hs.RequestSeen && !hs.ResponseSeen):
		return report.HandshakeNotSeen
	case !hs.ResponseSeen:
		return report.HandshakeIncomplete
	case hs.Upgraded || (hs.Failure == "" && hs.Status == 101):
		return report.HandshakeCompleted
	}
	return report.HandshakeRejected
}

// verdict classifies the connection; see the README for the definitions.
func verdict(f *facts) string {
	switch {
	case !f.websocket:
		return report.VerdictNotWebSocket
	case f.handshake == report.HandshakeRejected:
		return report.VerdictHandshakeFailed
	case f.handshake == report.HandshakeIncomplete && f.tcpEnded:
		return report.VerdictHandshakeFailed
	case f.close[0] != nil && f.close[1] != nil && f.received[0] && f.received[1]:
		return report.VerdictClean
	case !f.tcpEnded:
		return report.VerdictOpenAtEnd
	case f.close[0] == nil && f.close[1] == nil:
		return report.VerdictAbnormal
	}
	return report.VerdictHalfClosed
}

// observed is the close code side s's WebSocket API reports (RFC 6455 7.1.5, 7.1.6, 7.4.1):
// the code of the close frame it received, 1005 for one without a code, 1006 when the
// connection ended without one, nil while it is still open (unless the closing handshake
// already completed, which settles the code before TCP closes).
func observed(f *facts, s wsparse.Side) *int {
	peer := s.Other()
	switch {
	case f.verdict == report.VerdictNotWebSocket:
		return nil
	case f.verdict == report.VerdictHandshakeFailed:
		return report.Int(1006)
	case f.verdict == report.VerdictOpenAtEnd:
		return nil // the API has not reported anything yet
	case f.received[peer] && f.close[peer].HasCode:
		return report.Int(int(f.close[peer].Code))
	case f.received[peer]:
		return report.Int(1005)
	case f.tcpEnded:
		return report.Int(1006)
	}
	return nil
}

func (c *conn) record(stats reassembly.ConnStats) *report.Record {
	var fs facts
	f := &fs
	c.facts(f)
	client, server := c.info.Client, c.info.Server
	if c.ws.SidesSwapped() {
		client, server = server, client
	}
	r := &report.Record{
		File:           c.file,
		Client:         addrString(client),
		Server:         addrString(server),
		Start:          report.Time{Time: c.info.Start},
		End:            report.Time{Time: c.last},
		DurationS:      seconds(c.last.Sub(c.info.Start)),
		WebSocket:      f.websocket,
		Handshake:      f.handshake,
		Verdict:        f.verdict,
		Extensions:     []string{},
		ClientClose:    closeRecord(f.close[wsparse.Client]),
		ServerClose:    closeRecord(f.close[wsparse.Server]),
		ClientObserved: f.observed[wsparse.Client],
		ServerObserved: f.observed[wsparse.Server],
		MissingBytes:   report.PerSide{Client: f.missing[0], Server: f.missing[1]},
		Frames:         report.PerSide{Client: f.stats[0].Frames, Server: f.stats[1].Frames},
		Messages:       report.PerSide{Client: f.stats[0].Messages, Server: f.stats[1].Messages},
		Bytes:          report.PerSide{Client: f.stats[0].PayloadBytes, Server: f.stats[1].PayloadBytes},
		Pings:          c.pings(),
	}
	fillHandshake(r, f.hs)
	if first := firstClose(f); first != nil {
		r.FirstClose = report.String(first.Side.String())
	}
	if f.tcpEnded {
		r.TCPEnd = report.TCPEnd{First: report.String(f.endSide.String()), How: report.String(f.endHow),
			Time: &report.Time{Time: f.endTime}}
	}
	if la := lastActivity(f); !la.IsZero() {
		r.LastActivity = &report.Time{Time: la}
		end := c.last
		if f.tcpEnded {
			end = f.endTime
		}
		if idle := seconds(end.Sub(la)); idle >= 0 {
			r.IdleBeforeEndS = &idle
		}
	}
	r.Problems = c.problems(f)
	r.Hints = hints(f, c.an.opts.IdleHint)
	if c.an.opts.Timeline {
		r.Timeline = c.timelineEntries()
	}
	return r
}

func fillHandshake(r *report.Record, hs *wsparse.Handshake) {
	if hs == nil {
		return
	}
	if hs.ResponseSeen {
		r.HTTPStatus = report.Int(hs.Status)
		if hs.Subprotocol != "" {
			r.Subprotocol = report.String(hs.Subprotocol)
		}
		r.Extensions = nonNil(hs.ChosenExtensions)
	}
	if hs.Failure != "" {
		r.HandshakeError = report.String(hs.Failure)
	}
	if hs.RequestSeen {
		r.Request = &report.Request{Method: hs.Method, Path: hs.Path, Host: hs.Host, Origin: hs.Origin,
			UserAgent: hs.UserAgent, Protocols: nonNil(hs.Protocols), Extensions: nonNil(hs.Extensions)}
	}
}

func closeRecord(cf *wsparse.CloseFrame) *report.Close {
	if cf == nil {
		return nil
	}
	c := &report.Close{Reason: string(cf.Reason), Time: report.Time{Time: cf.Time}, Valid: cf.Valid(),
		Problems: nonNil(cf.Problems)}
	if cf.Incomplete {
		// What the capture lacks cannot be vouched for.
		c.Valid = false
		c.Problems = append(c.Problems, fmt.Sprintf("payload cut short in the capture (%d bytes announced): "+
			"the reason may be incomplete", cf.PayloadLen))
	}
	if cf.HasCode {
		c.Code = report.Int(int(cf.Code))
	}
	return c
}

func firstClose(f *facts) *wsparse.CloseFrame {
	c, s := f.close[wsparse.Client], f.close[wsparse.Server]
	switch {
	case c == nil:
		return s
	case s == nil:
		return c
	case s.Time.Before(c.Time):
		return s
	}
	return c
}

// lastActivity is the time of the last WebSocket frame, or of the handshake without one.
func lastActivity(f *facts) time.Time {
	if !f.lastFrame.IsZero() {
		return f.lastFrame
	}
	if f.hs != nil {
		if f.hs.ResponseSeen {
			return f.hs.ResponseTime
		}
		if f.hs.RequestSeen {
			return f.hs.RequestTime
		}
	}
	return time.Time{}
}

func addrString(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	return a.String() // [::1]:port for IPv6
}

func seconds(d time.Duration) float64 { return float64(d) / float64(time.Second) }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// describeDuration prints a duration the way the hints use it: "0.2 ms", "35.0 ms", "1.5 s".
func describeDuration(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms < 1:
		return strconv.FormatFloat(ms, 'g', 2, 64) + " ms"
	case ms < 1000:
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.1f s", seconds(d))
}
