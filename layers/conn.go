package layers

import (
	"math"
	"net/netip"
	"time"

	"github.com/wsclosescan/wsclosescan/h2demux"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/tlsdec"
	"github.com/wsclosescan/wsclosescan/wsparse"
)

// MaxGapNotes caps the gaps of a connection that Conn.Gaps lists.
const MaxGapNotes = 8

// TCPEnd is the first FIN and the first RST one direction sent, and what else TCP showed
// about its end. For an HTTP/2 stream, END_STREAM is its FIN and RST_STREAM its RST.
type TCPEnd struct {
	FIN, RST time.Time // zero when not sent
	// FINFrame and RSTFrame are their frame numbers (0 when not known).
	FINFrame, RSTFrame uint64
	RSTWithACK         bool
	// RSTOutOfWindow: a RST whose sequence number was outside the window was seen (a
	// receiver following RFC 5961 ignores it, so it is not RST).
	RSTOutOfWindow bool
	DataAfterFIN   bool
	// RetransMismatch counts the retransmissions that carried different bytes; the first
	// at RetransMismatchT.
	RetransMismatch  int
	RetransMismatchT time.Time
}

// First returns the first of the FIN and the RST with its frame number: rst is false for
// the FIN, and t is zero when neither was sent.
func (e *TCPEnd) First() (t time.Time, rst bool, frame uint64) {
	switch {
	case e.FIN.IsZero() && e.RST.IsZero():
		return time.Time{}, false, 0
	case e.RST.IsZero() || (!e.FIN.IsZero() && !e.RST.Before(e.FIN)):
		return e.FIN, false, e.FINFrame
	}
	return e.RST, true, e.RSTFrame
}

// Gap is a hole in one direction's bytes: Length bytes missing at Offset (Length 0: an
// unknown number, before Offset), revealed at Time.
type Gap struct {
	Dir            reassembly.Dir
	Cause          reassembly.GapCause
	Offset, Length int64
	Time           time.Time
}

// Conn is what the layers saw on one TCP connection, or on one RFC 8441 stream (see
// Stream). Fields indexed by [2] are by reassembly.Dir, the direction of the sender as the
// assembler named it; SideOf and DirOf translate to the WebSocket sides, which the decoder
// may have found swapped.
type Conn struct {
	file *string // the capture file the connection was read from (File), shared
	// Info is the assembler's view of the connection: for a stream, its TCP connection's
	// endpoints, and the stream's start.
	Info reassembly.ConnInfo
	// lastNs is Last as UnixNano (unless rare.lastFar); LastFrame the frame number of the
	// latest segment at Last (0 for a stream).
	lastNs    int64
	LastFrame uint64
	// Missing counts the bytes reported missing; Lost is set when an unknown amount was
	// lost (a layer lost its framing). LastGap and Gaps tell the gaps themselves.
	Missing [2]int64
	Lost    [2]bool
	// Released says why the assembler let the connection go.
	Released reassembly.EndReason

	route            // where the bytes go (plain or TLS); next to the bytes above, in one word
	app              // what the application bytes are (HTTP/1.1 or HTTP/2)
	ackWatched uint8 // bit wsparse.Side: the ACK of the side's first close is watched

	// Frames are the frame numbers of the milestones, as the decoder found them.
	Frames Milestones

	f      *Factory
	ws     *wsparse.Conn
	tls    *tlsdec.Conn // the TLS layer, when the connection is TLS
	h2     *h2Layer     // the HTTP/2 layer, for app == appH2
	stream *Stream      // for the Conn of a stream: the stream

	stamps *[2]stampRing // by reassembly.Dir; the Factory's again after judge

	// Most connections have no gap, and a timeline only with Options.Timeline; an open
	// one has sent no FIN or RST yet: their state is allocated on first use.
	ends *[2]TCPEnd // by reassembly.Dir; the Factory's again after judge
	rare *connRare
}

// connRare is what few connections need: gap notes, a timeline, a Last that lastNs cannot
// hold. A Conn holds it by one pointer (288 bytes, not 320).
type connRare struct {
	gaps    *gapNotes
	tl      *timeline
	last    time.Time // Last, when lastFar
	lastFar bool
}

// getRare returns c's rare state, allocating it on first use.
func (c *Conn) getRare() *connRare {
	if c.rare == nil {
		c.rare = new(connRare)
	}
	return c.rare
}

// gapsOf returns c's gap notes, or nil.
func (c *Conn) gapsOf() *gapNotes {
	if c.rare == nil {
		return nil
	}
	return c.rare.gaps
}

// tlOf returns c's timeline, or nil.
func (c *Conn) tlOf() *timeline {
	if c.rare == nil {
		return nil
	}
	return c.rare.tl
}

// File returns the capture file the connection was read from.
func (c *Conn) File() string {
	if c.file == nil {
		return ""
	}
	return *c.file
}

// Last returns the latest capture time seen on the connection.
func (c *Conn) Last() time.Time {
	if c.rare != nil && c.rare.lastFar {
		return c.rare.last
	}
	return time.Unix(0, c.lastNs).UTC()
}

// nanoOf returns t as UnixNano, and false when time.Unix(0, n).UTC() would not give t back
// (not in UTC, or out of UnixNano's range: before 1678 or after 2262). Capture times are
// in UTC.
func nanoOf(t time.Time) (int64, bool) {
	const maxSec = math.MaxInt64/1_000_000_000 - 1
	if sec := t.Unix(); sec < -maxSec || sec > maxSec || t.Location() != time.UTC {
		return 0, false
	}
	return t.UnixNano(), true
}

// setLast makes t the connection's Last.
func (c *Conn) setLast(t time.Time) {
	if n, ok := nanoOf(t); ok {
		c.lastNs = n
		if c.rare != nil {
			c.rare.lastFar = false
		}
		return
	}
	r := c.getRare()
	r.last, r.lastFar = t, true
}

// End returns what the bytes sent in direction d showed of TCP's end: the zero TCPEnd
// while they showed nothing.
func (c *Conn) End(d reassembly.Dir) TCPEnd {
	if c.ends == nil {
		return TCPEnd{}
	}
	return c.ends[d&1]
}

// end returns the TCP end of direction d, allocating the ends on first use.
func (c *Conn) end(d reassembly.Dir) *TCPEnd {
	if c.ends == nil {
		c.ends = c.f.getEnds()
	}
	return &c.ends[d&1]
}

// gapNotes are the gaps of a connection.
type gapNotes struct {
	last  [2]Gap // by reassembly.Dir
	first []Gap  // the first MaxGapNotes
	more  int    // the others
}

// LastGap returns the latest gap of the bytes sent in direction d, the zero Gap if none.
func (c *Conn) LastGap(d reassembly.Dir) Gap {
	if c.gapsOf() == nil {
		return Gap{}
	}
	return c.gapsOf().last[d&1]
}

// Gaps returns the first MaxGapNotes gaps of a TCP connection in the order they were
// found, and how many more there were (none for a stream: see LastGap).
func (c *Conn) Gaps() (first []Gap, more int) {
	if c.gapsOf() == nil {
		return nil, 0
	}
	return c.gapsOf().first, c.gapsOf().more
}

// noteGap records g as the latest gap of its direction, and among the first ones if note.
func (c *Conn) noteGap(g Gap, note bool) {
	r := c.getRare()
	if r.gaps == nil {
		r.gaps = new(gapNotes)
	}
	n := r.gaps
	n.last[g.Dir&1] = g
	switch {
	case !note:
	case len(n.first) < MaxGapNotes:
		n.first = append(n.first, g)
	default:
		n.more++
	}
}

// WS is the WebSocket decoder's view of a connection, read-only.
type WS interface {
	Handshake() *wsparse.Handshake
	Close(side wsparse.Side) *wsparse.CloseFrame
	Stats(side wsparse.Side) wsparse.DirStats
	Findings() []wsparse.Finding
	Pings() []wsparse.Ping
	IsWebSocket() bool
	SidesSwapped() bool
	LastMessage(side wsparse.Side) (wsparse.LastMessage, bool)
}

// Damage names the file whose damage ended it while the connection was open, and the
// damage, when the connection was still open at the end of the capture and had no packet
// after the damage: how it ended may be in the part that could not be read. "", "" otherwise.
func (c *Conn) Damage() (file, what string) {
	if c.Released != reassembly.EndFlushed {
		return "", ""
	}
	for _, d := range c.f.damages {
		if !c.Last().After(d.at) {
			return d.file, d.what
		}
	}
	return "", ""
}

// WS returns what the WebSocket decoder found, by true side.
func (c *Conn) WS() WS { return c.ws }

// TLS returns what the TLS layer saw, and false when the connection is not TLS.
func (c *Conn) TLS() (tlsdec.Info, bool) {
	if c.tls == nil {
		return tlsdec.Info{}, false
	}
	return c.tls.Info(), true
}

// H2 returns what the HTTP/2 layer saw, and false when the connection is not HTTP/2.
func (c *Conn) H2() (h2demux.Info, bool) {
	if c.h2 == nil {
		return h2demux.Info{}, false
	}
	return c.h2.Info(), true
}

// Streams returns the connection's RFC 8441 WebSocket streams, in the order they opened.
func (c *Conn) Streams() []*Stream {
	if c.h2 == nil {
		return nil
	}
	return c.h2.streams
}

// Stream returns the stream whose facts c is, or nil for a TCP connection.
func (c *Conn) Stream() *Stream { return c.stream }

// DirOf maps a WebSocket side to the assembler's direction of the bytes it sends.
func (c *Conn) DirOf(s wsparse.Side) reassembly.Dir {
	d := reassembly.Dir(s)
	if c.ws.SidesSwapped() {
		d = d.Reverse()
	}
	return d
}

// Endpoints returns the WebSocket client's and server's addresses: the assembler's, swapped
// when the handshake showed that it took the server for the client.
func (c *Conn) Endpoints() (client, server netip.AddrPort) {
	if c.ws.SidesSwapped() {
		return c.Info.Server, c.Info.Client
	}
	return c.Info.Client, c.Info.Server
}

// SideOf maps the assembler's direction to the WebSocket side that sends it.
func (c *Conn) SideOf(d reassembly.Dir) wsparse.Side { return wsparse.Side(c.DirOf(wsparse.Side(d))) }

func (c *Conn) touch(t time.Time) {
	if c.rare == nil || !c.rare.lastFar {
		if n, ok := nanoOf(t); ok { // the common case: nanoseconds compare
			c.lastNs = max(c.lastNs, n)
			return
		}
	}
	if t.After(c.Last()) {
		c.setLast(t)
	}
}

// touchAt is touch for a segment, whose frame number it keeps with the latest time.
func (c *Conn) touchAt(at reassembly.Stamp) {
	if c.rare == nil || !c.rare.lastFar {
		if n, ok := nanoOf(at.Time); ok { // the common case: nanoseconds compare
			if n >= c.lastNs {
				c.lastNs, c.LastFrame = n, at.Frame
			}
			return
		}
	}
	if !at.Time.Before(c.Last()) {
		c.setLast(at.Time)
		c.LastFrame = at.Frame
	}
}

// ready gives c its WebSocket decoder and frame rings, from the Factory's pools.
func (c *Conn) ready() {
	if c.ws != nil {
		return
	}
	c.stamps = c.f.getRings()
	c.ws = c.f.wsDecoder(c, (*handoff)(c)) // after an Upgrade: h2c (h2.go)
	if c.Info.By != reassembly.ClientByPort {
		c.ws.StreamStart() // the SYN was captured: each stream is seen from its first byte
	}
}

// tcpStream is a Conn as the assembler sees it: the reassembly.Stream methods are its
// own, so that the facts handed to the judge have none.
type tcpStream Conn

// Keep implements reassembly.Keeper: a connection proven WebSocket, or that may hide one
// (TLS, HTTP/2), is worth more than one that carried bytes and never became WebSocket
// when the assembler must release one early.
func (ts *tcpStream) Keep() bool {
	c := (*Conn)(ts)
	return c.tls != nil || c.h2 != nil || (c.ws != nil && c.ws.IsWebSocket()) // streams come with h2
}

// Data implements reassembly.Stream.
func (ts *tcpStream) Data(dir reassembly.Dir, data []byte, at reassembly.Stamp) {
	c := (*Conn)(ts)
	c.ready()
	c.touchAt(at)
	c.stamps[dir].add(at)
	t := at.Time
	if c.route == routeUndecided {
		c.decide(data)
	}
	if c.route == routeTLS {
		c.tls.Feed(tlsdec.Dir(dir), data, t)
	} else {
		c.feedApp(dir, data, t)
	}
	c.noteFrames()
}

// Gap implements reassembly.Stream.
func (ts *tcpStream) Gap(dir reassembly.Dir, offset, length int64, cause reassembly.GapCause, at reassembly.Stamp) {
	c := (*Conn)(ts)
	c.ready()
	c.touchAt(at)
	c.stamps[dir].add(at)
	t := at.Time
	g := Gap{Dir: dir, Offset: offset, Length: length, Cause: cause, Time: t}
	c.Missing[dir] += length
	c.noteGap(g, true)
	if c.route == routeTLS {
		c.tls.Gap(tlsdec.Dir(dir), length, t)
	} else {
		c.gapApp(dir, length, t)
	}
	c.add(Entry{Time: t, Frame: at.Frame, Kind: EntryGap, Dir: dir, Cause: cause, Offset: offset, Length: length})
}

// Event implements reassembly.Stream.
func (ts *tcpStream) Event(e reassembly.Event) {
	c := (*Conn)(ts)
	if e.Kind == reassembly.EventAcked {
		// A bare ACK is not activity of the connection: its end stays where it was.
		c.add(Entry{Time: e.Time, Frame: e.Frame, Kind: EntryCloseAcked, Dir: e.Dir})
		return
	}
	c.touchAt(reassembly.Stamp{Time: e.Time, Frame: e.Frame})
	switch e.Kind {
	case reassembly.EventFIN, reassembly.EventRST, reassembly.EventDataAfterFIN, reassembly.EventRetransmitMismatch:
	case reassembly.EventSYN, reassembly.EventSYNACK:
		c.add(Entry{Time: e.Time, Frame: e.Frame, Kind: EntryTCP, Dir: e.Dir, TCP: e.Kind, WithACK: e.WithACK,
			OutOfWindow: e.OutOfWindow})
		return
	default:
		return
	}
	end := c.end(e.Dir)
	switch e.Kind {
	case reassembly.EventFIN:
		if end.FIN.IsZero() {
			end.FIN, end.FINFrame = e.Time, e.Frame
		}
	case reassembly.EventRST:
		switch {
		case e.OutOfWindow:
			// A receiver following RFC 5961 ignores it: a problem, not how TCP ended.
			end.RSTOutOfWindow = true
		case end.RST.IsZero():
			end.RST, end.RSTFrame = e.Time, e.Frame
			end.RSTWithACK = e.WithACK
		}
	case reassembly.EventDataAfterFIN:
		end.DataAfterFIN = true
		return
	case reassembly.EventRetransmitMismatch:
		if end.RetransMismatch == 0 {
			end.RetransMismatchT = e.Time
		}
		end.RetransMismatch++
		return
	}
	c.add(Entry{Time: e.Time, Frame: e.Frame, Kind: EntryTCP, Dir: e.Dir, TCP: e.Kind, WithACK: e.WithACK,
		OutOfWindow: e.OutOfWindow})
}

// End implements reassembly.Stream: it finishes every layer, hands the facts to the judge,
// and gives the decoders back to the pools.
func (ts *tcpStream) End(stats reassembly.ConnStats) {
	c := (*Conn)(ts)
	c.ready()
	c.Released = stats.Reason
	if c.tls != nil {
		c.tls.Finish(c.Last())
	}
	if c.h2 != nil {
		c.h2.Finish(c.Last()) // ends every stream still open
	}
	c.ws.Finish(c.Last())
	c.noteFrames()
	for _, s := range c.Streams() {
		s.finish(c)
	}
	c.f.judge(c)
	for _, s := range c.Streams() {
		s.release()
	}
	c.f.pool.Put(c.ws) // the facts keep nothing of it
	c.ws = nil
	c.f.putRings(c.stamps)
	c.stamps = nil
	c.f.putEnds(c.ends)
	c.ends = nil
}
