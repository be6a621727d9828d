package wsparse

import (
	"time"
	"unsafe"
)

// Defaults for Options fields left at zero.
const (
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultMaxControlPayload = 4 << 10
	DefaultMaxPings          = 1000
)

// Options configures a Conn. Zero fields take the defaults.
type Options struct {
	// MaxHeaderBytes caps an HTTP header block (default 64 KiB). A longer block is a
	// finding and HTTP parsing stops for that side.
	MaxHeaderBytes int
	// MaxControlPayload is how many bytes of a control frame payload are kept (default
	// 4 KiB). Payloads above 125 bytes are a finding; they are read up to this cap.
	MaxControlPayload int
	// MaxPings caps the ping/pong records kept per connection (default 1000); the counts
	// in DirStats continue past it.
	MaxPings int
	// Handoff, if set, receives the bytes after an upgrade to HTTP/2 (a 101 with Upgrade:
	// h2c), by true side, in stream order. An interface rather than two funcs, so that a
	// caller can pass its per-connection state without allocating closures.
	Handoff Handoff
	// OnEvent, if set, is called in stream order for timeline items.
	OnEvent func(Event)
	// Payloads keeps the last complete data message of each side (Conn.LastMessage): its
	// type, size, time and first PreviewBytes, inflated when permessage-deflate is on.
	// Off, it costs nothing.
	Payloads bool
	// MaxInflaters (an int32, so that it shares a word with Payloads in every Conn) caps the permessage-deflate inflaters (about 34 KiB each) of the Conns
	// of one Pool that exist at once (default DefaultMaxInflaters); a connection that
	// finds none gets no preview of its compressed messages, and says so.
	MaxInflaters int32
}

// Handoff takes the bytes of a connection after it upgraded to another protocol that the
// caller decodes (HTTP/2). data is only valid during the call.
type Handoff interface {
	HandoffData(s Side, data []byte, t time.Time)
	HandoffGap(s Side, length int64, t time.Time)
}

// EventKind says what an Event reports.
type EventKind uint8

// Event kinds.
const (
	// EventRequest: an HTTP request header block was parsed (Detail: "GET /path").
	EventRequest EventKind = iota + 1
	// EventResponse: an HTTP response header block was parsed (Status set).
	EventResponse
	// EventPing and EventPong: a ping or pong frame completed.
	EventPing
	EventPong
	// EventClose: a close frame completed (Close set).
	EventClose
	// EventGap: bytes of the side are missing from the capture (Detail gives the amount).
	EventGap
	// EventResync: decoding resumed at a frame boundary found after a gap.
	EventResync
	// EventUndecodable: the side ended while no frame boundary could be found.
	EventUndecodable
	// EventFinding: the first occurrence of a finding code on a side (Code set).
	EventFinding
	// EventMessage: a data message completed (Detail: "text message, 12 bytes"); its
	// Frame is the index of its final frame.
	EventMessage
)

// String names the kind, e.g. "close".
func (k EventKind) String() string {
	switch k {
	case EventRequest:
		return "request"
	case EventResponse:
		return "response"
	case EventPing:
		return "ping"
	case EventPong:
		return "pong"
	case EventClose:
		return "close"
	case EventGap:
		return "gap"
	case EventResync:
		return "resync"
	case EventUndecodable:
		return "undecodable"
	case EventFinding:
		return "finding"
	case EventMessage:
		return "message"
	}
	return "unknown"
}

// Event is a timeline item. Side is the true side (see Conn.SidesSwapped).
type Event struct {
	Kind   EventKind
	Side   Side
	Time   time.Time
	Frame  int // frame index in Side's direction, -1 when not about a frame
	Status int // HTTP status of EventResponse
	Close  *CloseFrame
	Code   FindingCode // EventFinding
	// Length is the payload size of EventMessage (the whole message).
	Length int64
	Detail string
}

// Conn decodes the WebSocket layer of one TCP connection from its two byte streams.
//
// Sides: Feed, Gap and Close take the side the bytes were fed as. When the evidence shows
// that the stream fed as Client carries the server's bytes (an HTTP request on the side fed
// as Server, or mid-stream: unmasked frames on the side fed as Client and masked ones on the
// other), the roles are swapped internally and SidesSwapped reports true; from then on every
// result (Close(Client), Stats(Client), findings, pings, events) refers to the TRUE client,
// i.e. the bytes fed as Server. Callers that want results by fed side translate with
// SidesSwapped.
//
// A Conn is not safe for concurrent use. Memory is bounded: header blocks by MaxHeaderBytes,
// control payloads by MaxControlPayload, the resync lookahead by 64 KiB per side, records by
// MaxPings and the number of distinct finding codes.
type Conn struct {
	opts connOpts
	dirs [2]direction // indexed by fed side

	roleKnown   bool
	roleByChain bool // the roles were learned from mid-stream frames, not from HTTP
	swapped     bool
	ws          bool // the HTTP upgrade named websocket (request or 101)
	startKnown  bool // both streams are fed from their first byte (the SYNs were captured)
	foreign     bool // a stream started with another protocol (not HTTP, or TLS)
	httpSeen    bool
	wsWanted    bool   // an upgrade request or a 101 was seen: frames are expected
	server101   bool   // the server answered 101
	extKnown    bool   // the complete 101 was seen: negotiated extensions are known
	hsSeen      bool   // hs or hsp holds an upgrade request or response
	deflate     bool   // the judged 101 selected permessage-deflate (Handshake.Deflate)
	hsPacks     uint32 // how many times a handshake was packed into hsp (HandshakeVersion)

	hs       *Handshake // the handshake being made, from the request until its response is judged
	hsp      *byte      // else the judged handshake, packed (hspack.go; packed)
	reqQueue reqQueue   // requests awaiting a response, oldest first (bounded)

	closes [2]*CloseFrame // by true side
	stats  [2]dirStats    // by true side
	notes  *notes         // nil until the first finding or ping

	pool *Pool // nil for a Conn from NewConn
}

// notes are the findings, pings and (with Options.Payloads) last messages of a
// connection, which many connections never have.
type notes struct {
	findings []Finding
	pings    []byte    // the ping and pong records, packed (pings.go)
	pl       *payloads // with Options.Payloads, from the first data message
	far      *farTimes // nil until a time that a nanoTime cannot hold
}

// payloads returns what Options.Payloads keeps of the connection, or nil.
func (c *Conn) payloads() *payloads {
	if c.notes == nil {
		return nil
	}
	return c.notes.pl
}

// getNotes returns the connection's notes, allocating them on first use.
func (c *Conn) getNotes() *notes {
	if c.notes == nil {
		c.notes = new(notes)
	}
	return c.notes
}

// setFarLast keeps the LastFrameTime of side s that a nanoTime cannot hold.
func (c *Conn) setFarLast(s Side, t time.Time) {
	c.getNotes().getFar().last[s] = t
}

// connOpts are a Conn's Options: the hooks of its own, and the limits, which the Conns of a
// Pool share (a Conn holds 24 bytes of Options, not 56).
type connOpts struct {
	Handoff Handoff
	OnEvent func(Event)
	*limits
}

// limits are the Options that Conns share, with the defaults applied.
type limits struct {
	MaxHeaderBytes, MaxControlPayload, MaxPings int
	Payloads                                    bool
	MaxInflaters                                int32
}

// maxPoolLimits bounds the distinct limits a Pool keeps for its Conns to share; a Conn with
// others gets its own.
const maxPoolLimits = 8

// NewConn returns a Conn ready to be fed.
func NewConn(opts Options) *Conn {
	c := new(Conn)
	c.init(opts)
	return c
}

// init sets up a zero Conn.
func (c *Conn) init(opts Options) {
	if opts.MaxHeaderBytes <= 0 {
		opts.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if opts.MaxControlPayload <= 0 {
		opts.MaxControlPayload = DefaultMaxControlPayload
	}
	if opts.MaxPings <= 0 {
		opts.MaxPings = DefaultMaxPings
	}
	l := limits{MaxHeaderBytes: opts.MaxHeaderBytes, MaxControlPayload: opts.MaxControlPayload,
		MaxPings: opts.MaxPings, Payloads: opts.Payloads, MaxInflaters: opts.MaxInflaters}
	c.opts = connOpts{Handoff: opts.Handoff, OnEvent: opts.OnEvent, limits: c.pool.limitsFor(l)}
	for i := range c.dirs {
		c.dirs[i].fed = Side(i)
	}
}

// Feed pushes the next in-order bytes sent by side. t is their capture time. data is only
// valid during the call.
func (c *Conn) Feed(side Side, data []byte, t time.Time) {
	if side > Server || len(data) == 0 {
		return
	}
	c.feedDir(&c.dirs[side], data, t)
}

// Gap says length bytes sent by side are missing (length 0 = unknown amount) at this point
// of its stream.
func (c *Conn) Gap(side Side, length int64, t time.Time) {
	if side > Server {
		return
	}
	if length < 0 {
		length = 0
	}
	d := &c.dirs[side]
	s := c.trueSide(side)
	c.stats[s].MissingBytes += length
	detail := "an unknown number of " + s.String() + " bytes missing from the capture"
	if length > 0 {
		detail = itoa64(length) + " " + s.String() + " bytes missing from the capture"
	}
	c.emit(Event{Kind: EventGap, Side: s, Time: t, Frame: -1, Detail: detail})
	c.addFinding(FindCaptureGap, s, -1, t, detail)
	c.msgGap(side)
	c.gapDir(d, length, t)
}

// Finish is called at the end of the connection; incomplete header blocks are parsed as
// truncated here, a frame cut short is reported, and a side still looking for a frame
// boundary after a gap is marked undecodable.
func (c *Conn) Finish(t time.Time) {
	c.finishDir(&c.dirs[Client], t)
	c.finishDir(&c.dirs[Server], t)
	c.markUndecodable(&c.dirs[Client], t)
	c.markUndecodable(&c.dirs[Server], t)
}

// Handshake returns the opening handshake, or nil if no upgrade request or response was
// seen. Once the response is judged, the Conn keeps its handshake packed, and each call
// builds a Handshake from it: callers call it once, when they make the record, and do not
// modify it.
func (c *Conn) Handshake() *Handshake {
	switch {
	case !c.hsSeen:
		return nil
	case c.hs != nil:
		return c.hs
	}
	return unpack(c.packed(), c.dict())
}

// HandshakeTimes returns what Handshake's RequestSeen, RequestTime, ResponseSeen and
// ResponseTime would, without building a Handshake.
func (c *Conn) HandshakeTimes() (reqSeen bool, req time.Time, respSeen bool, resp time.Time) {
	switch {
	case !c.hsSeen:
		return false, time.Time{}, false, time.Time{}
	case c.hs != nil:
		return c.hs.RequestSeen, c.hs.RequestTime, c.hs.ResponseSeen, c.hs.ResponseTime
	}
	p := c.packed()
	flags := hspFlagsOf(p)
	req, resp, _, _ = hspHeadOf(p)
	return flags&hspRequestSeen != 0, req, flags&hspResponseSeen != 0, resp
}

// HandshakeVersion says whether what HandshakeTimes returns can have changed: while
// settled (the judged handshake is packed) it stays the same until the version changes;
// while not settled it can change at any time.
func (c *Conn) HandshakeVersion() (version uint32, settled bool) {
	return c.hsPacks, c.hs == nil
}

// handshake returns the handshake to modify, unpacking a packed one (or a new one when
// none was seen).
func (c *Conn) handshake() *Handshake {
	if c.hs == nil {
		if c.hsp != nil {
			c.hs = unpack(c.packed(), c.dict())
		} else {
			c.hs = c.newHandshake()
		}
		c.hsp = nil
	}
	return c.hs
}

// newHandshake returns a zero Handshake to fill, the Pool's when it has one.
func (c *Conn) newHandshake() *Handshake {
	if c.pool != nil {
		return c.pool.hss.Get()
	}
	return new(Handshake)
}

// packHandshake keeps the judged handshake packed, and gives the Handshake back to the
// Pool: nothing holds it (Handshake is called at the end, when no more is packed).
func (c *Conn) packHandshake() {
	c.deflate = c.hs.Deflate
	c.hsp = unsafe.StringData(pack(c.hs, c.dict()))
	if c.pool != nil {
		*c.hs = Handshake{}
		c.pool.hss.Put(c.hs, maxPooled)
	}
	c.hs = nil
	c.hsPacks++
}

// Close returns the first close frame sent by side, nil if none was seen.
func (c *Conn) Close(side Side) *CloseFrame {
	if side > Server {
		return nil
	}
	return c.closes[side]
}

// CloseCount returns how many close frames side sent.
func (c *Conn) CloseCount(side Side) int {
	if side > Server {
		return 0
	}
	if c.closes[side] == nil {
		return 0
	}
	return int(c.closes[side].count)
}

// Stats returns the frame counts of side.
func (c *Conn) Stats(side Side) DirStats {
	if side > Server {
		return DirStats{}
	}
	st := &c.stats[side]
	last := st.lastFrame.time()
	if st.lastFrame == farTime {
		last = c.notes.far.last[side]
	}
	return DirStats{Frames: st.Frames, Messages: st.Messages, PayloadBytes: st.PayloadBytes, Pings: st.Pings,
		Pongs: st.Pongs, LastFrameTime: last, MissingBytes: st.MissingBytes, Resyncs: st.Resyncs,
		Undecodable: st.Undecodable, Unscanned: st.Unscanned}
}

// StreamStart says that both streams are fed from their first byte (the capture holds the
// connection's SYN or SYN-ACK): a stream that does not start with HTTP then carries another
// protocol, never WebSocket frames. Call it before the first Feed.
func (c *Conn) StreamStart() { c.startKnown = true }

// IsWebSocket reports whether the capture proves that the connection carries WebSocket;
// see evidence.go for what counts as proof.
func (c *Conn) IsWebSocket() bool { return c.proven() }

// SidesSwapped reports whether the bytes fed as Client are really the server's. All
// results then refer to the true sides.
func (c *Conn) SidesSwapped() bool { return c.swapped }

// trueSide maps a fed side to the true side.
func (c *Conn) trueSide(fed Side) Side {
	if c.swapped {
		return fed.Other()
	}
	return fed
}

// setRole records that the bytes fed as fed come from the true side s. The first decision
// wins; later conflicting evidence is ignored.
func (c *Conn) setRole(fed, s Side) {
	if c.roleKnown {
		return
	}
	c.roleKnown = true
	if fed != s {
		c.swapped = true
		// Anything recorded before the decision was filed under the fed side.
		c.stats[0], c.stats[1] = c.stats[1], c.stats[0]
		c.closes[0], c.closes[1] = c.closes[1], c.closes[0]
		for _, cf := range c.closes {
			if cf != nil {
				cf.Side = cf.Side.Other()
			}
		}
		if n := c.notes; n != nil {
			for i := range n.findings {
				n.findings[i].Side = n.findings[i].Side.Other()
			}
			n.swapPings()
		}
	}
}

func (c *Conn) emit(e Event) {
	if c.opts.OnEvent != nil {
		c.opts.OnEvent(e)
	}
}

func itoa64(n int64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	u := uint64(n)
	if neg {
		u = uint64(-n)
	}
	for u > 0 {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
