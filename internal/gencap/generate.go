package gencap

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/wsclosescan/wsclosescan/report"
)

// Shape of the traffic.
const (
	meanStepMicros = 200      // mean capture time between two packets
	meanBursts     = 19       // mean number of data bursts per connection (geometric)
	disorderRate   = 100      // one data segment in disorderRate is out of order, and one retransmitted
	ipv6Share      = 20       // one connection in ipv6Share is IPv6
	bigBuffer      = 64 << 10 // connection buffers above this are recycled after each step
	maxFree        = 4        // recycled buffers kept
)

// shapeParams are the parameters of the message mix that differ between shapes.
type shapeParams struct {
	binaryEvery int                   // one data message in binaryEvery is binary
	fragEvery   int                   // one message (of 8 bytes or more) in fragEvery is fragmented
	size        func(*rand.Rand) int  // draws a message's payload size
	cookies     bool                  // requests carry a Cookie header
	browsers    bool                  // requests come from browsers (their User-Agent)
	disorder    int                   // one data segment in disorder is out of order, and one retransmitted; 0: none
	ipv6        func(*rand.Rand) bool // draws whether a connection is IPv6
}

// mixedParams are ShapeMixed's.
var mixedParams = shapeParams{binaryEvery: 5, fragEvery: 33, size: messageSize, disorder: disorderRate,
	ipv6: func(r *rand.Rand) bool { return r.IntN(ipv6Share) == 0 }}

// gen is the state of one Generate call.
type gen struct {
	p       shapeParams
	timed   *timed // the timed shapes' state; nil for ShapeMixed
	opts    Options
	r       *rand.Rand
	pools   *pools
	planner planner
	w       *recordWriter
	usec    int64 // capture clock, microseconds since the Unix epoch
	started int
	free    [][]byte
	seg     seg
	stats   Stats
	built   int64 // data segments queued, for the disorder rates
	// bursts counts the data bursts run so far and pending those planned but not run yet,
	// to stop starting connections early enough for TargetSize.
	bursts, pending int64
	// queued counts the payload bytes queued in connections but not written yet.
	queued int64
}

// Generate writes a capture to capture and one line of ground truth (a Truth as JSON) per
// connection to truth, in the order the connections start. It returns what it generated;
// the only errors are the writers'.
func Generate(capture, truth io.Writer, opts Options) (Stats, error) {
	opts = opts.withDefaults()
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], opts.Seed)
	copy(seed[8:], "wsclosescan/gencap")
	g := &gen{p: mixedParams, opts: opts, r: rand.New(rand.NewChaCha8(seed)), planner: planner{meanBursts: meanBursts, lenient: opts.LenientProto},
		usec: opts.Start.UnixMicro(), stats: Stats{Verdicts: map[report.Verdict]int{}}}
	g.pools = newPools(g.r)
	w, err := newRecordWriter(capture, opts.Format, opts.Gzip)
	if err != nil {
		return g.stats, fmt.Errorf("gencap: %w", err)
	}
	g.w = w
	tw := bufio.NewWriterSize(truth, 64<<10)
	enc := json.NewEncoder(tw)
	first := g.usec
	if opts.Shape != ShapeMixed {
		if err := g.runTimed(enc); err != nil {
			return g.stats, err
		}
		return g.finish(tw, first)
	}
	var active []*conn
	for {
		canStart := (opts.Connections <= 0 || g.started < opts.Connections) &&
			(opts.TargetSize <= 0 || g.w.bytes+g.drainEstimate() < opts.TargetSize)
		if !canStart && len(active) == 0 {
			break
		}
		var c *conn
		i := -1
		if canStart && g.r.IntN(opts.Concurrency) >= len(active) {
			c = g.newConn()
			if err := enc.Encode(g.truth(c)); err != nil {
				return g.stats, fmt.Errorf("gencap: writing truth: %w", err)
			}
		} else {
			i = g.r.IntN(len(active))
			c = active[i]
		}
		if err := g.emit(c); err != nil {
			return g.stats, fmt.Errorf("gencap: %w", err)
		}
		switch {
		case c.done() && i >= 0:
			g.release(c)
			active[i] = active[len(active)-1]
			active = active[:len(active)-1]
		case c.done():
			g.release(c)
		case i < 0:
			active = append(active, c)
		}
	}
	return g.finish(tw, first)
}

// finish flushes the capture and the truth and completes the stats.
func (g *gen) finish(tw *bufio.Writer, first int64) (Stats, error) {
	if err := g.w.close(); err != nil {
		return g.stats, fmt.Errorf("gencap: %w", err)
	}
	if err := tw.Flush(); err != nil {
		return g.stats, fmt.Errorf("gencap: writing truth: %w", err)
	}
	g.stats.Bytes = g.w.bytes
	g.stats.Connections = g.started
	g.stats.Duration = time.Duration(g.usec-first) * time.Microsecond
	return g.stats, nil
}

// newConn plans a connection and prepares its handshake.
func (g *gen) newConn() *conn {
	i := g.started
	g.started++
	c := &conn{mss: mssIPv4, id: i}
	if g.timed != nil {
		c.steps = g.timed.plan(g, c)
	} else {
		c.steps = g.planner.plan(g.r)
	}
	for _, s := range c.steps {
		switch {
		case s.kind == stData:
			g.pending++
		case s.kind == stRequest && s.lenient:
			g.stats.LenientProto++
		}
	}
	slot := i % 8000
	port := uint16(32768 + (i/8000)%28000)
	if g.p.ipv6(g.r) {
		c.mss = mssIPv6
		g.stats.IPv6++
		var a [16]byte
		copy(a[:], []byte{0x20, 0x01, 0x0d, 0xb8, 0, 1})
		binary.BigEndian.PutUint16(a[14:], uint16(slot+1))
		c.addr[client] = netip.AddrPortFrom(netip.AddrFrom16(a), port)
		c.addr[server] = netip.MustParseAddrPort("[2001:db8:ff::10]:8080")
	} else {
		c.addr[client] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{100, 64, byte(slot / 250), byte(slot%250 + 1)}), port)
		servers := [...]netip.AddrPort{
			netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, 10}), 80),
			netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, 11}), 8080),
			netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, 12}), 9000),
			netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, 20}), 3000),
		}
		c.addr[server] = servers[g.r.IntN(len(servers))]
	}
	for d := range 2 {
		isn := g.r.Uint32()
		c.snd[d], c.wire[d] = isn+1, isn
		c.ipID[d] = uint16(g.r.Uint32())
		c.tsOff[d] = g.r.Uint32()
	}
	return c
}

// drainEstimate is how many bytes the connections already started will still write:
// their pending bursts at the average size of a burst so far.
func (g *gen) drainEstimate() int64 {
	const priorBursts, priorSize = 1000, 2000 // until enough bursts ran
	return g.queued + g.pending*(g.w.bytes+priorBursts*priorSize)/(g.bursts+priorBursts)
}

// truth derives the connection's expected record and counts its verdict.
func (g *gen) truth(c *conn) Truth {
	t := deriveTruth(c.addr[client].String(), c.addr[server].String(), c.steps)
	g.stats.Verdicts[t.Verdict]++
	return t
}

// emit writes the connection's next packet.
func (g *gen) emit(c *conn) error {
	for c.qh == len(c.q) && c.next < len(c.steps) {
		c.fill(g)
	}
	if c.qh == len(c.q) {
		return nil
	}
	g.usec += 1 + int64(g.r.IntN(2*meanStepMicros))
	return g.writeNext(c)
}

// writeNext writes the connection's next queued packet at time g.usec.
func (g *gen) writeNext(c *conn) error {
	d := c.q[c.qh]
	c.qh++
	dir := int(d.dir)
	s := &g.seg
	s.src, s.dst, s.toServer = c.addr[dir], c.addr[1-dir], dir == client
	s.seq, s.flags = d.seq, d.flags
	s.ack = 0
	if d.flags&flagACK != 0 {
		s.ack = c.wire[1-dir]
	}
	s.win = 502
	if d.kind == dSYN {
		s.win = synWin
	}
	c.ipID[dir]++
	s.ipID = c.ipID[dir]
	s.tsVal = uint32(g.usec/1000) + c.tsOff[dir]
	s.tsEcr = c.lastTS[1-dir]
	c.lastTS[dir] = s.tsVal
	s.payload = c.buf[d.off : d.off+d.n]
	span := uint32(d.n)
	if d.kind == dSYN || d.kind == dFIN {
		span++
	}
	c.advance(dir, d.seq, d.seq+span)
	g.queued -= int64(d.n)
	if d.n > 0 {
		g.stats.DataSegments++
	}
	g.stats.Packets++
	return g.w.write(g.usec, s)
}

// advance records that sequence numbers [start, end) of dir went on the wire.
func (c *conn) advance(dir int, start, end uint32) {
	if start == end {
		return
	}
	h := &c.hold[dir]
	switch {
	case start == c.wire[dir]:
		c.wire[dir] = end
		if h.ok && h.start == end {
			c.wire[dir], h.ok = h.end, false
		}
	case int32(start-c.wire[dir]) > 0:
		*h = hole{start: start, end: end, ok: true}
	}
}

// disorder swaps and duplicates data segments queued from index first on, so that about
// one data segment in disorderRate is sent after its successor and one is retransmitted.
func (g *gen) disorder(c *conn, first int) {
	if g.p.disorder <= 0 {
		return
	}
	for j := first; j < len(c.q); j++ {
		d := c.q[j]
		if d.kind != dData {
			continue
		}
		g.built++
		if g.stats.OutOfOrder*int64(g.p.disorder) < g.built {
			// Swap with the next data segment of the same sender, if any.
			for k := j + 1; k < len(c.q); k++ {
				if c.q[k].kind == dData && c.q[k].dir == d.dir {
					c.q[j], c.q[k] = c.q[k], c.q[j]
					g.stats.OutOfOrder++
					j = k
					g.built++
					break
				}
			}
		}
		if g.stats.Retransmitted*int64(g.p.disorder) < g.built {
			at := min(j+1+g.r.IntN(3), len(c.q))
			c.q = slices.Insert(c.q, at, c.q[j])
			g.stats.Retransmitted++
			if at == j+1 {
				j++
			}
		}
	}
}

// reserve makes room for n more bytes in c.buf, reusing a recycled buffer when n is large.
func (g *gen) reserve(c *conn, n int) {
	if cap(c.buf)-len(c.buf) >= n {
		return
	}
	need := len(c.buf) + n
	for i, b := range g.free {
		if cap(b) >= need {
			g.free = slices.Delete(g.free, i, i+1)
			c.buf = append(b[:0], c.buf...)
			return
		}
	}
	c.buf = append(make([]byte, 0, max(need, 2*cap(c.buf))), c.buf...)
}

// recycle empties c.buf before a step, handing a large buffer back for reuse.
func (g *gen) recycle(c *conn) {
	if cap(c.buf) > bigBuffer {
		g.keep(c.buf)
		c.buf = nil
	}
	c.buf = c.buf[:0]
}

// release takes the buffers of a finished connection.
func (g *gen) release(c *conn) {
	if cap(c.buf) > bigBuffer {
		g.keep(c.buf)
	}
	c.buf, c.q = nil, nil
}

func (g *gen) keep(b []byte) {
	if len(g.free) < maxFree {
		g.free = append(g.free, b[:0])
	}
}
