package analyze

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/wsclosescan/wsclosescan/layers"
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
	ends        [2]layers.TCPEnd       // by wsparse.Side
	missing     [2]int64
	lost        [2]bool // an unknown amount of bytes lost
	lastGap     [2]layers.Gap
	stats       [2]wsparse.DirStats
	tcpEnded    bool
	endSide     wsparse.Side // first FIN or RST: who
	endHow      string       // "fin" or "rst"
	endTime     time.Time
	observed    [2]apiCode
	verdict     report.Verdict
	lenient     bool    // the client carried on after a 101 that a strict client refuses
	failed      [2]bool // the side failed the connection over the peer's invalid close
	unknown     []string
	lastFrame   time.Time
	keep        keepalive
	websocket   bool
	stream      bool // an HTTP/2 stream: its "TCP end" is END_STREAM (fin) or RST_STREAM (rst)
	start, last time.Time
	released    reassembly.EndReason // why the assembler let the connection go
	// damage is the damage that ended damageFile while the connection was open
	// (layers.Conn.Damage).
	damage, damageFile string
}

// endOf is the first of e's FIN and RST: when, "fin" or "rst" ("" for neither).
func endOf(e *layers.TCPEnd) (time.Time, string) {
	t, rst, _ := e.First()
	switch {
	case t.IsZero():
		return t, ""
	case rst:
		return t, "rst"
	}
	return t, "fin"
}

// factsOf fills f (the caller's, so that it needs no allocation) from what the layers saw.
func factsOf(c *layers.Conn, f *facts) {
	ws := c.WS()
	*f = facts{hs: ws.Handshake(), websocket: ws.IsWebSocket(), stream: c.Stream() != nil, start: c.Info.Start, last: c.Last(),
		released: c.Released}
	f.damageFile, f.damage = c.Damage()
	for _, s := range []wsparse.Side{wsparse.Client, wsparse.Server} {
		d := c.DirOf(s)
		if f.websocket { // frames of an unproven connection are no WebSocket's close frames
			f.close[s] = ws.Close(s)
		}
		f.ends[s] = c.End(d)
		f.missing[s] = c.Missing[d]
		f.lost[s] = c.Lost[d]
		f.lastGap[s] = c.LastGap(d)
		f.stats[s] = ws.Stats(s)
		if t := f.stats[s].LastFrameTime; t.After(f.lastFrame) {
			f.lastFrame = t
		}
	}
	f.derive()
}

// derive computes the conclusions from the observations: how TCP ended, the handshake
// state, which close frames reached the peer's application, the verdict, what each API
// reported, and what the capture cannot tell (see evidence.go).
func (f *facts) derive() {
	for _, s := range []wsparse.Side{wsparse.Client, wsparse.Server} {
		t, how := endOf(&f.ends[s])
		if how != "" && (!f.tcpEnded || t.Before(f.endTime)) {
			f.tcpEnded, f.endSide, f.endHow, f.endTime = true, s, how, t
		}
	}
	f.handshake, f.lenient = handshakeState(f.hs, f.stats, f.tcpEnded)
	f.conclude()
	f.uncertain()
}

// conclude derives what follows from the close frames: which were received, which side
// failed the connection, the verdict and the observed codes.
func (f *facts) conclude() {
	for _, s := range []wsparse.Side{wsparse.Client, wsparse.Server} {
		f.received[s] = delivered(f, s)
	}
	for _, s := range []wsparse.Side{wsparse.Client, wsparse.Server} {
		f.failed[s] = failedOnInvalid(f, s)
	}
	f.verdict = verdict(f)
	f.observed = [2]apiCode{observed(f, wsparse.Client), observed(f, wsparse.Server)}
}

// handshakeState judges the opening handshake by what the peers did: frames after a request
// whose answer was not captured mean the server accepted; frames from the
// client after a 101 that a strict client must refuse mean this client accepted it (lenient
// is then set; handshake_error keeps the strict reading). While TCP is still open and the
// client has sent nothing, its decision is not on the wire yet: the server completed the
// handshake, and the verdict is open_at_end.
func handshakeState(hs *wsparse.Handshake, st [2]wsparse.DirStats, tcpEnded bool) (state string, lenient bool) {
	switch {
	case hs == nil || (!hs.RequestSeen && !hs.ResponseSeen):
		return report.HandshakeNotSeen, false
	case !hs.ResponseSeen && st[wsparse.Server].Frames+st[wsparse.Client].Frames > 0:
		return report.HandshakeCompleted, false
	case !hs.ResponseSeen:
		return report.HandshakeIncomplete, false
	case hs.Upgraded || (hs.Failure == "" && hs.Status == accepting(hs)):
		return report.HandshakeCompleted, false
	case hs.Status == accepting(hs) && st[wsparse.Client].Frames > 0:
		return report.HandshakeCompleted, true
	case hs.Status == accepting(hs) && !tcpEnded:
		return report.HandshakeCompleted, false
	}
	return report.HandshakeRejected, false
}

// accepting is the status that accepts the handshake: 101, or 200 for an HTTP/2 stream.
func accepting(hs *wsparse.Handshake) int {
	if hs.Tunnel {
		return 200
	}
	return 101
}

// delivered reports whether side s's close frame reached the peer's application. It did not
// when the peer's RST came first, when the peer had closed TCP (FIN) before the frame arrived
// and its RST answered it (a close arriving at a closed socket), or when the peer had sent its
// own close first and then reset the connection without a FIN: a socket closed with unread
// data answers with RST, so the echo sat unread (Node ws's close then resetAndDestroy).
func delivered(f *facts, s wsparse.Side) bool {
	cl := f.close[s]
	if cl == nil {
		return false
	}
	pe := f.ends[s.Other()]
	if pe.RST.IsZero() {
		return true
	}
	if !cl.Time.Before(pe.RST) {
		return false
	}
	if !pe.FIN.IsZero() && pe.FIN.Before(cl.Time) {
		return false
	}
	own := f.close[s.Other()]
	return !(own != nil && own.Time.Before(cl.Time) && (pe.FIN.IsZero() || pe.RST.Before(pe.FIN)))
}

// failedOnInvalid reports whether side s failed the connection in answer to the peer's
// invalid close frame (RFC 6455 7.1.7): its own close came after it and carries 1002
// (protocol error) or 1007 (invalid payload). Its API then reports 1006, not the code.
func failedOnInvalid(f *facts, s wsparse.Side) bool {
	own, peer := f.close[s], f.close[s.Other()]
	if own == nil || peer == nil || peer.Valid() || !own.HasCode || own.Time.Before(peer.Time) {
		return false
	}
	return own.Code == 1002 || own.Code == 1007
}

// verdict classifies the connection; see the README for the definitions.
func verdict(f *facts) report.Verdict {
	both := f.close[0] != nil && f.close[1] != nil
	switch {
	case !f.websocket:
		return report.VerdictNotWebSocket
	case f.handshake == report.HandshakeRejected:
		return report.VerdictHandshakeFailed
	case f.handshake == report.HandshakeIncomplete && f.tcpEnded:
		return report.VerdictHandshakeFailed
	case both && f.received[0] && f.received[1] && f.close[0].Valid() && f.close[1].Valid():
		return report.VerdictClean
	case !f.tcpEnded:
		return report.VerdictOpenAtEnd
	case f.close[0] == nil && f.close[1] == nil:
		return report.VerdictAbnormal
	}
	return report.VerdictHalfClosed
}

// apiCode is the close code a WebSocket API reported, if it reported one.
type apiCode struct {
	code int
	ok   bool
}

func reported(code int) apiCode { return apiCode{code, true} }

// observed is the close code side s's WebSocket API reports (RFC 6455 7.1.5, 7.1.6, 7.4.1):
// the code of the close frame it received, 1005 for one without a code, 1006 when the
// connection ended without one or when s failed the connection, none while it is still
// open (unless the closing handshake already completed, which settles the code before TCP
// closes).
func observed(f *facts, s wsparse.Side) apiCode {
	peer := s.Other()
	switch {
	case f.verdict == report.VerdictNotWebSocket:
		return apiCode{}
	case f.verdict == report.VerdictHandshakeFailed:
		return reported(1006)
	case f.verdict == report.VerdictOpenAtEnd:
		return apiCode{} // the API has not reported anything yet
	case f.failed[s]:
		return reported(1006)
	case f.received[peer] && f.close[peer].HasCode:
		return reported(int(f.close[peer].Code))
	case f.received[peer]:
		return reported(1005)
	case f.tcpEnded:
		return reported(1006)
	}
	return apiCode{}
}

// closeUnknown reports whether side s's close frame, not seen, may be among bytes missing at
// the end of its stream: the decoder lost the frame boundary for good, or the last gap came
// after s's last complete frame.
//
// A side whose bytes were all captured but could not be decoded (a frame the decoder could
// not follow) is not in doubt: its close frame would be its last frame and end exactly at
// the end of the stream, where the final scan finds it. A side whose bytes were dropped
// unscanned (a mid-stream start without a frame boundary) is.
func (f *facts) closeUnknown(s wsparse.Side) bool {
	st := &f.stats[s]
	switch {
	case f.close[s] != nil:
		return false
	case st.Unscanned:
		return true
	case f.missing[s] == 0 && !f.lost[s]:
		return false
	}
	return st.Undecodable || !f.lastGap[s].Time.Before(st.LastFrameTime)
}

// uncertain marks what the capture cannot establish. A close frame that may be among
// missing bytes is assumed both ways, absent and present (received, at the time of the
// gap); where the conclusions differ, the field is unknown. A close frame whose code bytes
// were not captured makes the code the peer's API reported unknown.
func (f *facts) uncertain() {
	f.unknown = f.unknown[:0]
	if f.verdict == report.VerdictNotWebSocket || f.verdict == report.VerdictHandshakeFailed {
		return
	}
	alt := *f
	hidden := false
	for _, s := range []wsparse.Side{wsparse.Client, wsparse.Server} {
		if !f.closeUnknown(s) {
			continue
		}
		hidden = true
		f.unknown = append(f.unknown, s.String()+"_close")
		t := f.lastGap[s].Time
		if t.IsZero() {
			t = f.last
		}
		alt.close[s] = &wsparse.CloseFrame{Side: s, Time: t, HasCode: true, Code: 1000}
	}
	if hidden {
		alt.conclude()
	}
	for _, s := range []wsparse.Side{wsparse.Client, wsparse.Server} {
		cl := f.close[s]
		if cl != nil && cl.Incomplete && cl.PayloadLen > 2 && cl.HasCode {
			f.unknown = append(f.unknown, s.String()+"_close_reason")
		}
		if cl != nil && !cl.HasCode && cl.Incomplete && cl.PayloadLen >= 2 {
			f.unknown = append(f.unknown, s.String()+"_close_code")
			if f.received[s] {
				alt.observed[s.Other()] = apiCode{-1, true} // differs from anything known
			}
		}
	}
	for _, s := range []wsparse.Side{wsparse.Client, wsparse.Server} {
		if alt.observed[s] != f.observed[s] {
			f.unknown = append(f.unknown, s.String()+"_observed")
			f.observed[s] = apiCode{}
		}
	}
	if hidden && alt.verdict != f.verdict {
		f.unknown = append(f.unknown, "verdict")
		f.verdict = report.VerdictUnknown
	}
}

// recordStore is a record together with the values its pointer fields point at, so that
// building a record is one allocation instead of one per field.
type recordStore struct {
	rec                         report.Record
	req                         report.Request
	closes                      [2]report.Close
	closeCodes, observed        [2]int
	httpStatus                  int
	handshakeError, subprotocol string
	tcpHow                      string
	firstClose, tcpFirst        report.Side
	tcpEndTime, lastActivity    report.Time
	reqTime, respTime           report.Time
	idle                        float64
	frames                      [5]uint64 // FrameNumbers in field order
	interval                    [2]float64
	rtt                         report.RTTStats
}

// frame stores a frame number in st.frames[i]; 0 (not known) is null.
func (st *recordStore) frame(i int, n uint64) *uint64 {
	if n == 0 {
		return nil
	}
	return set(&st.frames[i], n)
}

// set stores v in *slot and returns slot: a nullable field's pointer into the store.
func set[T any](slot *T, v T) *T {
	*slot = v
	return slot
}

// record judges the facts of one connection or stream.
func (a *Analyzer) record(c *layers.Conn) *report.Record {
	var fs facts
	f := &fs
	factsOf(c, f)
	ws := c.WS()
	var pings []report.Ping
	f.keep, pings = keepaliveOf(ws.Pings(), f.stats)
	client, server := c.Endpoints()
	st := new(recordStore)
	r := &st.rec
	cs, ss := addrStrings(client, server)
	cid, filter := xrefStrings(client, server)
	*r = report.Record{
		File:           c.File(),
		Client:         cs,
		Server:         ss,
		CommunityID:    cid,
		DisplayFilter:  filter,
		ClientAddr:     client,
		ServerAddr:     server,
		Start:          report.Time{Time: c.Info.Start},
		End:            report.Time{Time: c.Last()},
		DurationS:      seconds(c.Last().Sub(c.Info.Start)),
		WebSocket:      f.websocket,
		Handshake:      f.handshake,
		Verdict:        f.verdict,
		Extensions:     []string{},
		ClientClose:    st.closeRecord(0, f.close[wsparse.Client]),
		ServerClose:    st.closeRecord(1, f.close[wsparse.Server]),
		ClientObserved: st.observedCode(wsparse.Client, f.observed[wsparse.Client]),
		ServerObserved: st.observedCode(wsparse.Server, f.observed[wsparse.Server]),
		Unknown:        append([]string{}, f.unknown...),
		MissingBytes:   report.PerSide{Client: f.missing[0], Server: f.missing[1]},
		Frames:         report.PerSide{Client: f.stats[0].Frames, Server: f.stats[1].Frames},
		Messages:       report.PerSide{Client: f.stats[0].Messages, Server: f.stats[1].Messages},
		Bytes:          report.PerSide{Client: f.stats[0].PayloadBytes, Server: f.stats[1].PayloadBytes},
	}
	r.Pings = pings
	f.keep.record(st)
	st.fillHandshake(f.hs)
	if first := firstClose(f); first != nil {
		r.FirstClose = set(&st.firstClose, recordSide(first.Side))
	}
	if f.tcpEnded {
		r.TCPEnd = report.TCPEnd{First: set(&st.tcpFirst, recordSide(f.endSide)), How: set(&st.tcpHow, f.endHow),
			Time: set(&st.tcpEndTime, report.Time{Time: f.endTime})}
	}
	frameNumbers(c, f, st)
	if la := lastActivity(f); !la.IsZero() {
		r.LastActivity = set(&st.lastActivity, report.Time{Time: la})
		end := c.Last()
		if f.tcpEnded {
			end = f.endTime
		}
		if st.idle = seconds(end.Sub(la)); st.idle >= 0 {
			r.IdleBeforeEndS = &st.idle
		}
	}
	r.Problems = problems(c, f)
	r.Hints = hints(f, a.opts)
	if in, ok := c.TLS(); ok {
		addTLS(c, &in, r)
	}
	if entries, head, dropped, ok := c.Timeline(); ok {
		r.Timeline = timelineEntries(c, entries, head, dropped)
	}
	if a.opts.Payloads && f.websocket {
		r.LastMessages = &report.LastMessages{Client: lastMessage(ws, wsparse.Client), Server: lastMessage(ws, wsparse.Server)}
	}
	return r
}

// lastMessage is the last data message side s sent, as --payloads shows it; nil for none.
func lastMessage(ws layers.WS, s wsparse.Side) *report.Message {
	lm, ok := ws.LastMessage(s)
	if !ok {
		return nil
	}
	m := &report.Message{Type: "text", Size: lm.Length, Time: report.Time{Time: lm.Time}, Compressed: lm.Compressed,
		LaterBytesMissing: lm.LaterMissing}
	if lm.Op == wsparse.OpBinary {
		m.Type = "binary"
	}
	if lm.Inflated >= 0 {
		m.InflatedSize = &lm.Inflated
	}
	if lm.NoPreview != "" {
		m.NoPreview = &lm.NoPreview
		return m
	}
	size := lm.Length
	if lm.Inflated >= 0 {
		size = lm.Inflated
	}
	p, cut := report.NewPreview(m.Type, lm.Preview, size)
	m.Preview, m.PreviewCut = &p, cut
	return m
}

// observedCode is the nullable code side s's API reported.
func (st *recordStore) observedCode(s wsparse.Side, c apiCode) *int {
	if !c.ok {
		return nil
	}
	return set(&st.observed[s], c.code)
}

// fillHandshake fills the record's handshake fields.
func (st *recordStore) fillHandshake(hs *wsparse.Handshake) {
	if hs == nil {
		return
	}
	r := &st.rec
	if hs.ResponseSeen {
		r.HTTPStatus = set(&st.httpStatus, hs.Status)
		if hs.Subprotocol != "" {
			r.Subprotocol = set(&st.subprotocol, hs.Subprotocol)
		}
		r.Extensions = nonNil(hs.ChosenExtensions)
	}
	if hs.Failure != "" {
		r.HandshakeError = set(&st.handshakeError, hs.Failure)
	}
	if hs.RequestSeen {
		st.req = report.Request{Method: hs.Method, Path: hs.Path, Host: hs.Host, Origin: hs.Origin,
			UserAgent: hs.UserAgent, Protocols: nonNil(hs.Protocols), Extensions: nonNil(hs.Extensions),
			Key: hs.Key, XForwardedFor: hs.XForwardedFor, Forwarded: hs.Forwarded}
		r.Request = &st.req
		st.reqTime = report.Time{Time: hs.RequestTime}
		r.RequestTime = &st.reqTime
	}
	if hs.ResponseSeen {
		st.respTime = report.Time{Time: hs.ResponseTime}
		r.ResponseTime = &st.respTime
	}
}

// closeRecord describes the close frame cf (nil: none) in st.closes[i].
func (st *recordStore) closeRecord(i int, cf *wsparse.CloseFrame) *report.Close {
	if cf == nil {
		return nil
	}
	c := &st.closes[i]
	*c = report.Close{Reason: string(cf.Reason), Time: report.Time{Time: cf.Time}, Valid: cf.Valid(),
		Problems: nonNil(cf.Problems)}
	if cf.Incomplete {
		// What the capture lacks cannot be vouched for, nor called invalid: valid says no
		// violation was seen, and unknown lists the reason (see uncertain).
		c.Problems = append(c.Problems, fmt.Sprintf("payload cut short in the capture (%d bytes announced): "+
			"the reason may be incomplete", cf.PayloadLen))
	}
	if cf.HasCode {
		c.Code = set(&st.closeCodes[i], int(cf.Code))
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

// addrStrings formats both endpoints as AddrPort.String does ([::1]:port for IPv6), ""
// for an invalid one, in one allocation.
func addrStrings(a, b netip.AddrPort) (string, string) {
	var buf [96]byte
	out := buf[:0]
	if a.IsValid() {
		out = a.AppendTo(out)
	}
	n := len(out)
	if b.IsValid() {
		out = b.AppendTo(out)
	}
	s := string(out)
	return s[:n], s[n:]
}

// recordSide is the record's name of a WebSocket side.
func recordSide(s wsparse.Side) report.Side {
	if s == wsparse.Client {
		return report.SideClient
	}
	return report.SideServer
}

func seconds(d time.Duration) float64 { return float64(d) / float64(time.Second) }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
