package gencap

import (
	"encoding/base64"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"

	"github.com/wsclosescan/wsclosescan/internal/wsframe"
)

// descKind is what a queued packet is.
type descKind uint8

const (
	dData descKind = iota
	dAck
	dSYN
	dFIN
	dRST
)

// desc is one packet waiting to be written: its payload is c.buf[off:off+n]. The ACK
// number and timestamps are filled in when it is written.
type desc struct {
	kind  descKind
	dir   uint8
	flags uint8
	seq   uint32
	off   int32
	n     int32
}

// hole is an out-of-order segment already on the wire, waiting for the bytes before it.
type hole struct {
	start, end uint32
	ok         bool
}

// conn is one connection being generated.
type conn struct {
	addr   [2]netip.AddrPort // client, server
	mss    int
	steps  []step
	next   int // next step to run
	q      []desc
	qh     int
	buf    []byte
	snd    [2]uint32 // next sequence number to assign, by sender
	wire   [2]uint32 // sent contiguously on the wire so far, by sender
	hold   [2]hole
	ipID   [2]uint16
	tsOff  [2]uint32
	lastTS [2]uint32
	// unacked counts data segments of a direction the peer has not acknowledged yet.
	unacked [2]int

	key     string // Sec-WebSocket-Key
	offer   int    // the request's index in offers
	ping    [8]byte
	pingLen int

	// The timed shapes (all but ShapeMixed):
	id       int   // start order
	at       int64 // capture time of the next packet, microseconds since the Unix epoch
	deflate  bool  // permessage-deflate negotiated: data messages compressed
	long     bool  // long-lived: bursts four times further apart
	ends     bool  // the plan ends TCP with a FIN or RST
	resume   int   // with resumeAt: step index that waits until resumeAt, 0 if none
	resumeAt int64 // capture time (µs) at which step resume starts at the earliest
}

// done reports whether the connection has nothing more to send.
func (c *conn) done() bool { return c.qh == len(c.q) && c.next == len(c.steps) }

func (c *conn) push(d desc) { c.q = append(c.q, d) }

// pushData queues payload bytes c.buf[off:end] sent by dir as MSS-sized segments, the last
// with PSH, with the peer acknowledging every second segment.
func (c *conn) pushData(dir, off, end int) {
	for off < end {
		n := min(c.mss, end-off)
		fl := uint8(flagACK)
		if off+n == end {
			fl |= flagPSH
		}
		c.push(desc{kind: dData, dir: uint8(dir), flags: fl, seq: c.snd[dir], off: int32(off), n: int32(n)})
		c.snd[dir] += uint32(n)
		off += n
		c.unacked[1-dir] = 0 // the segment carries an ACK of everything the peer sent
		c.unacked[dir]++
		if c.unacked[dir] >= 2 {
			c.pushAck(1 - dir)
		}
	}
}

func (c *conn) pushAck(dir int) {
	c.push(desc{kind: dAck, dir: uint8(dir), flags: flagACK, seq: c.snd[dir]})
	c.unacked[1-dir] = 0
}

// maybeAck queues, with probability 1/2, an ACK from dir of what the peer sent.
func (c *conn) maybeAck(g *gen, dir int) {
	if c.unacked[1-dir] > 0 && g.r.IntN(2) == 0 {
		c.pushAck(dir)
	}
}

// appendBytes appends p to the connection's buffer and returns its bounds.
func (c *conn) appendBytes(p []byte) (int, int) {
	off := len(c.buf)
	c.buf = append(c.buf, p...)
	return off, len(c.buf)
}

// fill runs the next step, queueing its packets.
func (c *conn) fill(g *gen) {
	c.q, c.qh = c.q[:0], 0
	g.recycle(c)
	s := c.steps[c.next]
	c.next++
	d := s.dir
	switch s.kind {
	case stSYN:
		c.push(desc{kind: dSYN, dir: client, flags: flagSYN, seq: c.snd[client] - 1})
		c.push(desc{kind: dSYN, dir: server, flags: flagSYN | flagACK, seq: c.snd[server] - 1})
		c.pushAck(client)
	case stRequest:
		off, end := c.appendBytes(c.request(g, s))
		c.pushData(client, off, end)
		c.maybeAck(g, server)
	case stResponse:
		off, end := c.appendBytes(c.response(s))
		c.pushData(server, off, end)
		c.maybeAck(g, client)
	case stData:
		g.bursts++
		g.pending--
		c.burst(g, d, s.n)
	case stPing, stPong:
		if s.kind == stPing {
			g.stats.Pings[d]++
			c.pingLen = g.r.IntN(9)
			for i := range c.pingLen {
				c.ping[i] = byte(g.r.Uint32())
			}
		}
		op := byte(0x89)
		if s.kind == stPong {
			op = 0x8a
		}
		off := len(c.buf)
		c.buf = appendFrame(c.buf, op, c.ping[:c.pingLen], d == client, g.r.Uint32())
		g.stats.Frames++
		c.pushData(d, off, len(c.buf))
		c.maybeAck(g, 1-d)
	case stClose:
		var p []byte
		if s.hasCode {
			p = wsframe.Close(uint16(s.code), s.reason)
		}
		off := len(c.buf)
		c.buf = appendFrame(c.buf, 0x88, p, d == client, g.r.Uint32())
		g.stats.Frames++
		c.pushData(d, off, len(c.buf))
	case stAck:
		c.pushAck(d)
	case stFIN:
		c.push(desc{kind: dFIN, dir: uint8(d), flags: flagFIN | flagACK, seq: c.snd[d]})
		c.snd[d]++
		c.unacked[1-d] = 0
	case stRST, stRSTAfterClose:
		c.push(desc{kind: dRST, dir: uint8(d), flags: flagRST | flagACK, seq: c.snd[d]})
	}
	if g.timed != nil && s.kind != stData {
		// The timed shapes apply the disorder rates to every data segment, not only to
		// those of the bursts (ShapeMixed's), as the rates are of all data segments.
		g.disorder(c, 0)
	}
	for _, q := range c.q {
		g.queued += int64(q.n)
	}
}

// burst queues n data messages from dir, then maybe an ACK, and applies the out-of-order
// and retransmission rates to the burst's data segments.
func (c *conn) burst(g *gen, dir, n int) {
	var sizes [4]int
	need := 0
	for i := range min(n, len(sizes)) {
		sizes[i] = g.p.size(g.r)
		need += sizes[i] + 4*frameOverhead
	}
	g.reserve(c, need)
	first := len(c.q)
	for i := range min(n, len(sizes)) {
		off := len(c.buf)
		c.message(g, dir, sizes[i])
		c.pushData(dir, off, len(c.buf))
	}
	c.maybeAck(g, 1-dir)
	g.disorder(c, first)
}

// message appends one data message of size bytes, sometimes fragmented, to c.buf.
func (c *conn) message(g *gen, dir, size int) {
	r := g.r
	text := r.IntN(g.p.binaryEvery) != 0
	op := byte(2)
	if text {
		op = 1
	}
	payload := g.pools.slice(r, text, size)
	if c.deflate {
		payload = g.compress(payload)
		op |= 0x40 // RSV1: a compressed message
		g.stats.Compressed++
	}
	frags := 1
	if size >= 8 && r.IntN(g.p.fragEvery) == 0 {
		frags = 2 + r.IntN(3)
		g.stats.Fragmented++
	}
	g.stats.Messages++
	g.stats.MessageSizes[min(max(bits.Len(uint(size))-1, 0), len(g.stats.MessageSizes)-1)]++
	g.stats.MaxMessage = max(g.stats.MaxMessage, size)
	for i := range frags {
		part := payload
		if i < frags-1 {
			part = payload[:r.IntN(len(payload)/2+1)]
		}
		payload = payload[len(part):]
		b0 := op
		if i > 0 {
			b0 = 0
		}
		if i == frags-1 {
			b0 |= 0x80
		}
		c.buf = appendFrame(c.buf, b0, part, dir == client, r.Uint32())
		g.stats.Frames++
	}
}

var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
	"okhttp/4.12.0",
	"Python/3.12 websockets/13.1",
}

// lenientAgents are clients that carry on after a 101 ignoring their subprotocol.
var lenientAgents = []string{"Python/3.12 websockets/13.1", "Go-http-client/1.1"}

var paths = []string{"/ws", "/socket", "/v1/stream", "/graphql", "/live/updates", "/chat/room-42"}

// request builds the upgrade request s and draws the connection's key.
func (c *conn) request(g *gen, s step) []byte {
	var k [16]byte
	for i := range k {
		k[i] = byte(g.r.Uint32())
	}
	c.key = base64.StdEncoding.EncodeToString(k[:])
	agents := userAgents
	if g.p.browsers {
		agents = userAgents[:3]
	}
	if s.lenient {
		agents = lenientAgents
	}
	extra := []string{
		"Origin: https://app.example.com",
		"User-Agent: " + agents[g.r.IntN(len(agents))],
		"Pragma: no-cache", "Cache-Control: no-cache",
		"Accept-Encoding: gzip, deflate, br", "Accept-Language: en-US,en;q=0.9",
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
	}
	if g.p.cookies {
		extra = append(extra, "Cookie: sid="+strconv.FormatUint(g.r.Uint64(), 36)+
			"; _ga=GA1.1."+strconv.Itoa(int(g.r.Uint32()))+"."+strconv.Itoa(1772000000+g.r.IntN(1e6))+
			"; theme=dark; consent=1")
	}
	c.offer = s.offer
	if s.offer != 0 {
		extra = append(extra, "Sec-WebSocket-Protocol: "+strings.Join(offers[s.offer], ", "))
	}
	path := paths[g.r.IntN(len(paths))] + "?session=" + strconv.FormatUint(g.r.Uint64()>>20, 36)
	return wsframe.Request(path, c.key, extra...)
}

// deflateResponse is the 101's acceptance of permessage-deflate: every message is
// compressed on its own (RFC 7692 7.1.1), so that the generator needs one compressor,
// not two per connection.
const deflateResponse = "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover"

// response builds the server's answer.
func (c *conn) response(s step) []byte {
	var proto []string
	if c.offer != 0 && s.hs == hsOK {
		proto = []string{"Sec-WebSocket-Protocol: " + offers[c.offer][0]}
	}
	if c.deflate && s.hs == hsOK {
		proto = append(proto, deflateResponse)
	}
	switch s.hs {
	case hs403:
		body := "origin not allowed here\n"
		return append(wsframe.Response(403, "Forbidden", "Content-Type: text/plain",
			"Content-Length: "+strconv.Itoa(len(body)), "Connection: close"), body...)
	case hs426:
		return wsframe.Response(426, "Upgrade Required", "Sec-WebSocket-Version: 13",
			"Content-Length: 0", "Connection: close")
	case hsBadAccept:
		return wsframe.Response(101, "Switching Protocols", "Upgrade: websocket",
			"Connection: Upgrade", "Sec-WebSocket-Accept: "+wsframe.AcceptKey(c.key+"x"))
	case hsUnrequestedProto:
		proto = []string{"Sec-WebSocket-Protocol: v2.stream"}
	}
	return wsframe.Response101(c.key, proto...)
}
