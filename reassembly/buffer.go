package reassembly

import (
	"bytes"
	"math/bits"
)

// chunk is a buffered out-of-order segment: a copy of its payload plus the count of
// snaplen-missing bytes after it.
type chunk struct {
	seq     uint32
	data    []byte // owned, from the assembler's pool
	missing int
	at      Stamp
}

// end returns the sequence number after the chunk's last byte, missing bytes included.
func (ch *chunk) end() uint32 { return ch.seq + uint32(len(ch.data)+ch.missing) }

// Pool size classes: powers of two from 512 bytes to 128 KiB.
const (
	minClassShift = 9
	numClasses    = 9
	maxPoolHeld   = 8 << 20 // bytes kept in free lists at most
)

// bytePool recycles chunk buffers by power-of-two size class. It is owned by one Assembler
// and used from one goroutine, so it needs no locking and keeps output deterministic.
type bytePool struct {
	free [numClasses][][]byte
	held int
}

func classOf(n int) int {
	if n <= 1<<minClassShift {
		return 0
	}
	return bits.Len(uint(n-1)) - minClassShift
}

// get returns a buffer of length n.
func (p *bytePool) get(n int) []byte {
	k := classOf(n)
	if k >= numClasses {
		return make([]byte, n)
	}
	if l := len(p.free[k]); l > 0 {
		b := p.free[k][l-1]
		p.free[k][l-1] = nil
		p.free[k] = p.free[k][:l-1]
		p.held -= cap(b)
		return b[:n]
	}
	return make([]byte, n, 1<<(k+minClassShift))
}

// put recycles b if it came from get and the pool is not full.
func (p *bytePool) put(b []byte) {
	c := cap(b)
	k := classOf(c)
	if c == 0 || k >= numClasses || 1<<(k+minClassShift) != c || p.held+c > maxPoolHeld {
		return
	}
	p.free[k] = append(p.free[k], b[:0])
	p.held += c
}

// firstDiff returns the sequence number of the first byte that differs where a (starting at
// aSeq) and b (starting at bSeq) overlap.
func firstDiff(aSeq uint32, a []byte, bSeq uint32, b []byte) (uint32, bool) {
	lo, hi := aSeq, aSeq+uint32(len(a))
	if seqGT(bSeq, lo) {
		lo = bSeq
	}
	if bEnd := bSeq + uint32(len(b)); seqLT(bEnd, hi) {
		hi = bEnd
	}
	if !seqLT(lo, hi) {
		return 0, false
	}
	n := int(hi - lo)
	x, y := a[lo-aSeq:][:n], b[lo-bSeq:][:n]
	if bytes.Equal(x, y) {
		return 0, false
	}
	for i := range n {
		if x[i] != y[i] {
			return lo + uint32(i), true
		}
	}
	return 0, false
}

// checkBuffered compares a segment with the buffered chunks of d that overlap it, reporting
// the first differing byte as EventRetransmitMismatch, and reports whether one chunk already
// covers the whole segment.
func (c *conn) checkBuffered(d Dir, seq uint32, data []byte, missing int,
	at Stamp) (covered bool) {
	h := &c.h[d]
	if h.ahead == nil {
		return false
	}
	end := seq + uint32(len(data)+missing)
	reported := false
	for i := h.firstAtOrAfter(end) - 1; i >= 0; i-- {
		ch := &h.ahead.chunks[i]
		if seqLE(ch.seq+uint32(h.ahead.maxSpan), seq) {
			break // chunks are sorted by seq and none is longer than maxSpan
		}
		if !reported {
			if diff, ok := firstDiff(ch.seq, ch.data, seq, data); ok {
				c.event(Event{Kind: EventRetransmitMismatch, Dir: d, Time: at.Time, Frame: at.Frame, Offset: h.streamOffset(diff)})
				reported = true
			}
		}
		if seqLE(ch.seq, seq) && seqGE(ch.end(), end) {
			covered = true
		}
	}
	return covered
}

// firstAtOrAfter returns the index of the first chunk starting at or after seq.
func (h *half) firstAtOrAfter(seq uint32) int {
	chunks := h.chunks()
	lo, hi := 0, len(chunks)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if seqLT(chunks[m].seq, seq) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// bufferSegment stores a copy of an out-of-order segment of d, sorted by sequence number.
func (c *conn) bufferSegment(d Dir, seq uint32, data []byte, missing int, at Stamp) {
	h := &c.h[d]
	if c.checkBuffered(d, seq, data, missing, at) {
		c.stats.Dirs[d].Retransmitted++
		return
	}
	c.stats.Dirs[d].OutOfOrder++
	ch := chunk{seq: seq, missing: missing, at: at}
	if len(data) > 0 {
		ch.data = c.a.pool.get(len(data))
		copy(ch.data, data)
	}
	i := h.firstAtOrAfter(seq + 1) // after chunks with the same seq
	o := c.held(d)
	o.chunks = append(o.chunks, chunk{})
	copy(o.chunks[i+1:], o.chunks[i:])
	o.chunks[i] = ch
	if span := len(data) + missing; span > o.maxSpan {
		o.maxSpan = span
	}
	if len(o.chunks) == 1 {
		o.bufSince = at.Time
	}
	c.addBuffered(len(data))
}

// freeChunks releases the first n chunks of d.
func (c *conn) freeChunks(d Dir, n int) {
	h := &c.h[d]
	o := h.ahead
	freed := 0
	for i := range n {
		freed += len(o.chunks[i].data)
		c.a.pool.put(o.chunks[i].data)
	}
	copy(o.chunks, o.chunks[n:])
	clear(o.chunks[len(o.chunks)-n:])
	o.chunks = o.chunks[:len(o.chunks)-n]
	if len(o.chunks) == 0 {
		o.maxSpan = 0
		c.tidy(d)
	}
	c.addBuffered(-freed)
}

// trimAtFIN cuts buffered bytes of d at or after its FIN, which a sender cannot have sent
// before the FIN. It reports whether anything was cut.
func (c *conn) trimAtFIN(d Dir) bool {
	h := &c.h[d]
	o := h.ahead
	if o == nil {
		return false
	}
	cut, kept, freed := false, 0, 0
	for i := range o.chunks {
		ch := o.chunks[i]
		if seqGE(ch.seq, h.finSeq) {
			cut = true
			freed += len(ch.data)
			c.a.pool.put(ch.data)
			continue
		}
		if seqGT(ch.end(), h.finSeq) {
			cut = true
			keep := int(h.finSeq - ch.seq)
			if keep < len(ch.data) {
				freed += len(ch.data) - keep
				ch.data, ch.missing = ch.data[:keep], 0
			} else {
				ch.missing = keep - len(ch.data)
			}
		}
		o.chunks[kept] = ch
		kept++
	}
	clear(o.chunks[kept:])
	o.chunks = o.chunks[:kept]
	c.addBuffered(-freed)
	return cut
}

// addBuffered accounts delta buffered bytes to the conn and the assembler.
func (c *conn) addBuffered(delta int) {
	if delta == 0 {
		return
	}
	a := c.a
	before := c.buffered
	c.buffered += delta
	a.stats.Buffered += delta
	a.stats.PeakBuffered = max(a.stats.PeakBuffered, a.stats.Buffered)
	switch {
	case before == 0 && c.buffered > 0:
		a.buffering.pushBack(c)
	case before > 0 && c.buffered == 0:
		a.buffering.remove(c)
	}
}
