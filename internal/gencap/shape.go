package gencap

import (
	"bytes"
	"compress/flate"
	"container/heap"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"
)

// The timed shapes (ShapeBusy, ShapeMass, ShapeSYNFlood) schedule every packet at a capture
// time: each connection knows the time of its next packet, and the generator always writes
// the earliest one next (a heap of connections), so connections overlap as their plans say
// and thousands can be open at once. Connections start at times drawn uniformly over the
// shape's window; between the steps of a plan a connection waits a delay that depends on
// the step (a round trip for an answer, a burst gap between bursts of activity). A
// connection waiting longer than idleRelease holds no buffers, so memory grows with the
// connections open, not with the capture.

// idleRelease is the wait (µs) past which a connection's buffers are released.
const idleRelease = 10_000

// busyParams, massParams and floodParams are the message mixes of the timed shapes.
var (
	busyParams = shapeParams{binaryEvery: 10, fragEvery: 25, size: busySize, cookies: true, disorder: 100}
	massParams = shapeParams{binaryEvery: 10, fragEvery: 25, size: massSize, cookies: true, browsers: true}
	noIPv6     = func(*rand.Rand) bool { return false }
)

// Estimated capture bytes of a ShapeBusy connection: busyConnBytes plus busyBurstBytes per
// burst (busyDeflatedBurstBytes on a connection with permessage-deflate), measured on
// generated captures; TargetSize divided by the estimate gives the number of connections.
const (
	busyConnBytes          = 2425
	busyBurstBytes         = 1890
	busyDeflatedBurstBytes = 1030
)

// timed is the state of a timed shape.
type timed struct {
	shape  Shape
	conns  connHeap
	open   int
	gap    int64 // mean burst gap, µs
	n      int   // connections to start (busy, mass)
	base   int64 // capture time of the first start, µs
	window int64 // µs

	// The next start, drawn once: its time and whether it is drawn.
	nextAt  int64
	hasNext bool

	// mass: the plans, and when the closes start
	templates [][]step
	closeBase int64

	// SYN flood
	syns, synNext int
	wsStarted     bool
	floodDst      netip.AddrPort

	fw   *flate.Writer
	zbuf bytes.Buffer
}

// runTimed generates a timed shape.
func (g *gen) runTimed(enc *json.Encoder) error {
	o := g.opts
	t := &timed{shape: o.Shape, base: g.usec, window: o.Window.Microseconds(), gap: o.BurstGap.Microseconds()}
	g.timed = t
	g.p = busyParams
	g.p.ipv6 = func(r *rand.Rand) bool { return o.IPv6 > 0 && r.IntN(1000) < o.IPv6 }
	switch o.Shape {
	case ShapeBusy:
		g.planner = planner{meanBursts: max(o.MeanBursts-1, 0), lenient: o.LenientProto, pingEvery: 5, fates: busyFates, busyMsgs: true}
		t.n = o.Connections
		if o.Connections <= 0 {
			per := busyConnBytes + int64(o.MeanBursts)*
				(busyBurstBytes*int64(1000-o.Deflate)+busyDeflatedBurstBytes*int64(o.Deflate))/1000
			t.n = int(max(1, o.TargetSize/per))
		}
	case ShapeMass:
		g.p = massParams
		g.p.ipv6 = noIPv6
		t.n = o.Connections
		t.gap = 20_000
		t.templates = massTemplates()
		t.closeBase = t.base + t.window + int64(time.Second/time.Microsecond)
	case ShapeSYNFlood:
		g.p = massParams
		g.p.ipv6 = noIPv6
		t.syns = o.SYNs
		t.gap = max(t.window/20, 1000)
		t.floodDst = netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, 10}), 80)
		t.templates = [][]step{floodTemplate()}
	default:
		return fmt.Errorf("gencap: unknown shape %v", o.Shape)
	}
	for {
		at, ok := t.next(g)
		if !ok && len(t.conns) == 0 {
			return nil
		}
		if ok && (len(t.conns) == 0 || at <= t.conns[0].at) {
			if err := t.start(g, enc, at); err != nil {
				return err
			}
			continue
		}
		c := heap.Pop(&t.conns).(*conn)
		if err := g.stepTimed(c); err != nil {
			return fmt.Errorf("gencap: %w", err)
		}
	}
}

// next returns the time of the next connection start or SYN, drawing it once.
func (t *timed) next(g *gen) (int64, bool) {
	if t.hasNext {
		return t.nextAt, true
	}
	i, n := g.started, t.n
	if t.shape == ShapeSYNFlood {
		i, n = t.synNext, t.syns
	}
	if i >= n {
		return 0, false
	}
	slot := max(t.window/int64(n), 1)
	t.nextAt, t.hasNext = t.base+t.window*int64(i)/int64(n)+g.r.Int64N(slot), true
	return t.nextAt, true
}

// start starts the next connection, or writes the next SYN, at time at.
func (t *timed) start(g *gen, enc *json.Encoder, at int64) error {
	if t.shape == ShapeSYNFlood && (t.wsStarted || t.synNext < t.syns/2) {
		t.hasNext = false
		g.usec = max(at, g.usec+1)
		if err := g.writeSYN(t.synNext); err != nil {
			return fmt.Errorf("gencap: %w", err)
		}
		t.synNext++
		return nil
	}
	if t.shape == ShapeSYNFlood {
		t.wsStarted = true // the SYN drawn for this time follows it
	} else {
		t.hasNext = false
	}
	c := g.newConn()
	if t.shape == ShapeSYNFlood {
		c.addr[server] = t.floodDst
	}
	if err := enc.Encode(g.truth(c)); err != nil {
		return fmt.Errorf("gencap: writing truth: %w", err)
	}
	c.at = at
	heap.Push(&t.conns, c)
	return nil
}

// plan draws the steps of a new connection of a timed shape and sets its flags.
func (t *timed) plan(g *gen, c *conn) []step {
	r := g.r
	var steps []step
	switch t.shape {
	case ShapeBusy:
		steps = g.planner.plan(r)
		c.long = r.IntN(1000) < g.opts.LongLived
		c.deflate = steps[2].hs == hsOK && steps[2].status == 101 && r.IntN(1000) < g.opts.Deflate
	case ShapeMass:
		steps = t.templates[r.IntN(len(t.templates))]
		c.deflate = r.IntN(1000) < g.opts.Deflate
		slot := max(t.window/int64(t.n), 1)
		c.resumeAt = t.closeBase + t.window*int64(c.id)/int64(t.n) + r.Int64N(slot)
		for i, s := range steps {
			if s.kind == stClose {
				c.resume = i
				break
			}
		}
	case ShapeSYNFlood:
		steps = t.templates[0]
	}
	for _, s := range steps {
		if s.kind == stFIN || s.kind == stRST || s.kind == stRSTAfterClose {
			c.ends = true
		}
	}
	if c.long {
		g.stats.LongLived++
	}
	if c.deflate {
		g.stats.Deflate++
	}
	return steps
}

// stepTimed writes the connection's next packet at its time (or just after the last
// packet written), then schedules the one after it, or retires the connection.
func (g *gen) stepTimed(c *conn) error {
	t := g.timed
	for c.qh == len(c.q) && c.next < len(c.steps) {
		c.fill(g)
		if c.steps[c.next-1].kind == stResponse {
			c.key = "" // no longer needed
		}
	}
	if c.qh == len(c.q) {
		g.release(c)
		return nil
	}
	g.usec = max(c.at, g.usec+1)
	if c.qh == 0 && c.next == 1 {
		t.open++
		g.stats.MaxOpen = max(g.stats.MaxOpen, t.open)
	}
	if err := g.writeNext(c); err != nil {
		return err
	}
	switch {
	case c.qh < len(c.q):
		c.at = g.usec + 1 + g.r.Int64N(150)
	case c.next == len(c.steps):
		if c.ends {
			t.open--
		}
		g.release(c)
		return nil
	default:
		d := t.delay(g, c)
		c.at = g.usec + d
		if c.resume == c.next && c.at < c.resumeAt {
			c.at = c.resumeAt
		}
		if c.at-g.usec > idleRelease {
			g.release(c)
			c.qh = 0
		}
	}
	heap.Push(&t.conns, c)
	return nil
}

// delay draws the wait (µs) between the end of step c.next-1 and the start of step
// c.next: a round trip for an answer, a burst gap before new activity.
func (t *timed) delay(g *gen, c *conn) int64 {
	r := g.r
	prev, s := c.steps[c.next-1], c.steps[c.next]
	switch s.kind {
	case stRequest:
		return 100 + r.Int64N(900)
	case stResponse:
		return 500 + r.Int64N(4500)
	case stPong, stAck:
		return 200 + r.Int64N(2800)
	case stPing:
		return t.burstGap(g, c) / 2
	}
	switch prev.kind {
	case stResponse:
		return 1000 + r.Int64N(49_000) // the first frames soon after the upgrade
	case stData, stPong:
		return t.burstGap(g, c)
	}
	return 200 + r.Int64N(2800)
}

// burstGap draws the time between two bursts of activity: 0.75 to 1.25 times the mean
// gap, four times that on a long-lived connection.
func (t *timed) burstGap(g *gen, c *conn) int64 {
	gap := t.gap
	if c.long {
		gap *= 4
	}
	return gap*3/4 + g.r.Int64N(gap/2+1)
}

// writeSYN writes SYN i of a SYN flood: from its own address and port (198.18.0.0/15,
// the benchmarking range) to the flood's target, at time g.usec.
func (g *gen) writeSYN(i int) error {
	t, r := g.timed, g.r
	const addrs = 131070 // addresses used in 198.18.0.0/15
	a := i%addrs + 1
	blocks := (t.syns + addrs - 1) / addrs
	width := max(64000/blocks, 1)
	port := 1024 + (i/addrs)*width + r.IntN(width)
	s := &g.seg
	s.src = netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18 + byte(a>>16), byte(a >> 8), byte(a)}), uint16(port))
	s.dst, s.toServer = t.floodDst, true
	s.seq, s.ack, s.flags, s.win = r.Uint32(), 0, flagSYN, synWin
	s.ipID, s.tsVal, s.tsEcr = uint16(r.Uint32()), r.Uint32(), 0
	s.payload = nil
	g.stats.Packets++
	g.stats.SYNs++
	return g.w.write(g.usec, s)
}

// compress deflates a message payload as permessage-deflate does without context
// takeover (RFC 7692 7.2.1): a compressor reset for each message, flushed, without the
// final 00 00 ff ff. The result is valid until the next call.
func (g *gen) compress(p []byte) []byte {
	t := g.timed
	t.zbuf.Reset()
	if t.fw == nil {
		t.fw, _ = flate.NewWriter(&t.zbuf, flate.BestSpeed)
	} else {
		t.fw.Reset(&t.zbuf)
	}
	t.fw.Write(p)
	t.fw.Flush()
	b := t.zbuf.Bytes()
	return b[:len(b)-4]
}

// massTemplates are the plans of ShapeMass connections (shared, never modified): the
// upgrade, a message each way, a ping from the client and its pong, then, when all are
// open, a clean close started by the client, FINs from the server first.
func massTemplates() [][]step {
	var out [][]step
	for _, v := range []struct {
		offer        int
		code         int
		reason, echo string
	}{{0, 1000, "", ""}, {0, 1001, "page unload", ""}, {2, 1000, "bye", "bye"}, {0, 1000, "done", ""}} {
		out = append(out, []step{{kind: stSYN}, {kind: stRequest, dir: client, offer: v.offer},
			{kind: stResponse, dir: server, status: 101}, {kind: stData, dir: client, n: 1},
			{kind: stData, dir: server, n: 1}, {kind: stPing, dir: client}, {kind: stPong, dir: server},
			{kind: stClose, dir: client, code: v.code, hasCode: true, reason: v.reason},
			{kind: stClose, dir: server, code: v.code, hasCode: true, reason: v.echo},
			{kind: stFIN, dir: server}, {kind: stFIN, dir: client}, {kind: stAck, dir: server}})
	}
	return out
}

// floodTemplate is the plan of the SYN flood's WebSocket connection: a few bursts both
// ways, pings, and a clean close started by the client.
func floodTemplate() []step {
	return []step{{kind: stSYN}, {kind: stRequest, dir: client}, {kind: stResponse, dir: server, status: 101},
		{kind: stData, dir: client, n: 1}, {kind: stData, dir: server, n: 2},
		{kind: stPing, dir: server}, {kind: stPong, dir: client},
		{kind: stData, dir: client, n: 1}, {kind: stData, dir: server, n: 1},
		{kind: stPing, dir: client}, {kind: stPong, dir: server},
		{kind: stClose, dir: client, code: 1000, hasCode: true, reason: "bye"},
		{kind: stClose, dir: server, code: 1000, hasCode: true},
		{kind: stFIN, dir: server}, {kind: stFIN, dir: client}, {kind: stAck, dir: server}}
}

// connHeap orders connections by the time of their next packet, then by start order.
type connHeap []*conn

func (h connHeap) Len() int { return len(h) }
func (h connHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].id < h[j].id
}
func (h connHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *connHeap) Push(x any)   { *h = append(*h, x.(*conn)) }
func (h *connHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return c
}

// lognormalQuantiles are 65 quantiles (0, 1/64, ..., 1) of a log-normal distribution with
// median 320 bytes and sigma 0.7, truncated to 50-2048 bytes (±2.65 sigma). A table keeps
// the draws the same on every platform (no floating point).
var lognormalQuantiles = [65]int{
	50, 75, 90, 102, 111, 121, 129, 137, 144, 152, 159, 166, 173, 180, 187, 194,
	200, 207, 214, 221, 228, 235, 242, 249, 256, 264, 271, 279, 287, 295, 303, 311,
	320, 329, 338, 347, 357, 367, 377, 388, 399, 411, 423, 436, 449, 463, 478, 494,
	511, 529, 548, 569, 592, 616, 644, 674, 709, 748, 794, 850, 918, 1009, 1138, 1357,
	2048,
}

// lognormalSize draws a payload size of 50-2048 bytes, log-normal.
func lognormalSize(r *rand.Rand) int {
	u := r.IntN(1 << 16)
	i, f := u>>10, u&1023
	lo, hi := lognormalQuantiles[i], lognormalQuantiles[i+1]
	return lo + (hi-lo)*f>>10
}

// massSize draws a ShapeMass payload size: a quarter of lognormalSize's, plus 16 (28-528
// bytes, median 96): a subscription and its first update.
func massSize(r *rand.Rand) int { return 16 + lognormalSize(r)/4 }

// busySize draws a ShapeBusy payload size: 97% log-normal (lognormalSize), 3% from 2 KiB
// to 1 MiB, the octave 2 KiB<<k chosen with probability proportional to 2^-k (half of
// them 2-4 KiB, 0.2% 512 KiB-1 MiB), uniform within it.
func busySize(r *rand.Rand) int {
	if r.IntN(100) >= 3 {
		return lognormalSize(r)
	}
	x := r.IntN(511) // octave k has weight 256>>k
	k := 0
	for w := 256; x >= w; w >>= 1 {
		x -= w
		k++
	}
	base := 2048 << k
	return min(base+r.IntN(base+1), maxMessage)
}
