package reassembly

import "time"

// half is the state of one direction of a connection, named by its sender: the sender's
// sequence space and stream position, plus what the sender said as a receiver of the other
// direction (its last ACK and window).
type half struct {
	started  bool   // next and offset are valid
	synSeen  bool   // the sender's SYN was captured; isn is valid
	finSeen  bool   // a FIN was captured; finSeq is valid
	finDone  bool   // the FIN event was delivered; next is finSeq+1
	isn      uint32 // initial sequence number from the SYN
	next     uint32 // sequence number of the next byte to deliver
	watch    uint32 // with watching: the acknowledgment number AckWatch.Watch waits for
	finSeq   uint32
	ack      uint32 // as the receiver of the other direction: last acknowledgment number sent
	offset   int64  // stream offset of next: bytes delivered plus gap lengths
	payloads bool   // any payload or missing byte was seen (port reuse test)
	watching bool   // an AckWatch.Watch of this direction is pending

	// As the receiver of the other direction.
	ackSeen    bool
	winFromSYN bool // win came from a SYN, which is never scaled
	hasWScale  bool
	wscale     uint8  // window scale option of the sender's SYN
	win        uint16 // last window advertised

	// What the sender sent ahead of a hole, nil while none is held: an in-order
	// connection never allocates it.
	ahead *ahead
}

// ahead is the out-of-order state of one direction: the segments and the FIN that arrived
// ahead of a hole. It exists only while one of them is held.
type ahead struct {
	chunks   []chunk   // out-of-order segments sorted by seq; chunks[0].seq > next
	maxSpan  int       // longest chunk span, bounds overlap searches
	bufSince time.Time // capture time the buffer last became non-empty
	finAt    Stamp     // the FIN's, while it waits for the bytes before it
}

// chunks returns the segments held ahead of a hole, sorted by seq.
func (h *half) chunks() []chunk {
	if h.ahead == nil {
		return nil
	}
	return h.ahead.chunks
}

// held returns the out-of-order state of d, taking it from the assembler's spares on
// first use.
func (c *conn) held(d Dir) *ahead {
	h := &c.h[d]
	if h.ahead == nil {
		h.ahead = c.a.getAhead()
	}
	return h.ahead
}

// tidy gives the out-of-order state of d back to the assembler once it holds neither a
// segment nor a waiting FIN.
func (c *conn) tidy(d Dir) {
	h := &c.h[d]
	if o := h.ahead; o != nil && len(o.chunks) == 0 && (!h.finSeen || h.finDone) {
		h.ahead = nil
		c.a.putAhead(o)
	}
}

// Spare out-of-order states an assembler keeps, and the chunk capacity a spare keeps, so
// that a connection reordering now and then allocates nothing in the steady state.
const (
	maxSpareAhead  = 64
	maxSpareChunks = 16
)

func (a *Assembler) getAhead() *ahead { return a.spareAhead.Get() }

func (a *Assembler) putAhead(o *ahead) {
	if a.spareAhead.Len() >= maxSpareAhead {
		return
	}
	chunks := o.chunks[:0]
	if cap(chunks) > maxSpareChunks {
		chunks = nil
	}
	*o = ahead{chunks: chunks}
	a.spareAhead.Put(o, maxSpareAhead)
}

// streamOffset converts a sequence number of this direction to a stream offset.
func (h *half) streamOffset(seq uint32) int64 {
	return h.offset + int64(seqDiff(seq, h.next))
}

// finOffset returns the stream offset of the FIN.
func (h *half) finOffset() int64 {
	if h.finDone {
		return h.streamOffset(h.finSeq + 1)
	}
	return h.streamOffset(h.finSeq)
}

// start begins d's stream at seq. Without any SYN of the connection captured, the stream
// opens with a zero-length GapMidstream.
func (c *conn) start(d Dir, seq uint32, at Stamp) {
	h := &c.h[d]
	h.started, h.next, h.offset = true, seq, 0
	if c.by == ClientByPort && !c.h[0].synSeen && !c.h[1].synSeen {
		c.stream.Gap(d, 0, 0, GapMidstream, at)
	}
}

// gapTo declares the bytes of d up to target missing.
func (c *conn) gapTo(d Dir, target uint32, cause GapCause, at Stamp) {
	h := &c.h[d]
	if !seqGT(target, h.next) {
		return
	}
	n := int64(target - h.next)
	c.stream.Gap(d, h.offset, n, cause, at)
	c.stats.Dirs[d].MissingBytes += n
	h.offset += n
	h.next = target
}

// emit delivers in-order bytes of d starting at next, then missing snaplen bytes as a gap.
func (c *conn) emit(d Dir, data []byte, missing int, at Stamp) {
	h := &c.h[d]
	if len(data) > 0 {
		n := len(data)
		c.stats.Dirs[d].Bytes += int64(n)
		h.offset += int64(n)
		h.next += uint32(n) // before Data, for an AckWatch.Watch during it
		c.stream.Data(d, data, at)
	}
	if missing > 0 {
		c.gapTo(d, h.next+uint32(missing), GapSnaplen, at)
	}
}

// drain delivers the buffered chunks of d that became contiguous, then a FIN that became
// reachable.
func (c *conn) drain(d Dir) {
	h := &c.h[d]
	n := 0
	chunks := h.chunks()
	for n < len(chunks) && seqLE(chunks[n].seq, h.next) {
		ch := &chunks[n]
		n++
		if !seqGT(ch.end(), h.next) {
			continue // covered by bytes delivered since it was buffered
		}
		data, missing := trimFront(ch.data, ch.missing, int(h.next-ch.seq))
		c.emit(d, data, missing, ch.at)
	}
	if n > 0 {
		c.freeChunks(d, n)
	}
	c.maybeFIN(d)
}

// trimFront drops the first k sequence positions of a payload followed by missing bytes.
func trimFront(data []byte, missing, k int) ([]byte, int) {
	if k <= len(data) {
		return data[k:], missing
	}
	return nil, max(0, missing-(k-len(data)))
}

// maybeFIN delivers d's FIN once the stream has reached it.
func (c *conn) maybeFIN(d Dir) {
	h := &c.h[d]
	if !h.finSeen || h.finDone || h.next != h.finSeq {
		return
	}
	c.deliverFIN(d, h.ahead.finAt)
}

// deliverFIN reports d's FIN, captured at at, which the stream has reached.
func (c *conn) deliverFIN(d Dir, at Stamp) {
	h := &c.h[d]
	h.finDone = true
	c.tidy(d)
	c.event(Event{Kind: EventFIN, Dir: d, Time: at.Time, Frame: at.Frame, Offset: h.offset})
	h.next++
}

// finalize ends d's stream as far as the capture allows: each remaining hole becomes a
// GapLost gap followed by the buffered bytes, then a FIN still waiting for bytes is reached.
func (c *conn) finalize(d Dir, at Stamp) {
	h := &c.h[d]
	if !h.started {
		return
	}
	for len(h.chunks()) > 0 {
		c.gapTo(d, h.chunks()[0].seq, GapLost, at)
		c.drain(d)
	}
	if h.finSeen && !h.finDone {
		c.gapTo(d, h.finSeq, GapLost, at)
		c.maybeFIN(d)
	}
}

// ackPast declares the bytes of d that the receiver acknowledged but the capture lacks as
// GapLost, and delivers what they were holding back.
//
// An ACK exactly one past the last byte, with nothing buffered and no FIN seen, most likely
// acknowledges a FIN the capture lacks rather than one lost byte: it declares nothing.
func (c *conn) ackPast(d Dir, ack uint32, at Stamp) {
	h := &c.h[d]
	if ack == h.next+1 && len(h.chunks()) == 0 && !h.finSeen {
		return
	}
	for !h.finDone && seqGT(ack, h.next) {
		target := ack
		if len(h.chunks()) > 0 {
			target = seqMin(target, h.chunks()[0].seq)
		}
		if h.finSeen {
			target = seqMin(target, h.finSeq)
		}
		before := h.next
		c.gapTo(d, target, GapLost, at)
		c.drain(d)
		if h.next == before {
			return
		}
	}
}

// clipFIN cuts the part of a payload of d at or after d's FIN, reporting it as
// EventDataAfterFIN.
func (c *conn) clipFIN(d Dir, seq uint32, data []byte, missing int, at Stamp) ([]byte, int) {
	h := &c.h[d]
	if !h.finSeen {
		return data, missing
	}
	keep := int64(seqDiff(h.finSeq, seq))
	if keep >= int64(len(data)+missing) {
		return data, missing
	}
	c.event(Event{Kind: EventDataAfterFIN, Dir: d, Time: at.Time, Frame: at.Frame, Offset: h.finOffset()})
	switch {
	case keep <= 0:
		return nil, 0
	case keep <= int64(len(data)):
		return data[:keep], 0
	default:
		return data, int(keep) - len(data)
	}
}
