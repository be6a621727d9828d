package reassembly

import (
	"net/netip"
	"time"
)

// conn is one tracked TCP connection.
type conn struct {
	a         *Assembler
	info      connInfo
	ends      [2]endpoint // client, server: the table key
	hash      uint64      // flowHash of ends
	stream    Stream
	h         [2]half // indexed by Dir (the sender)
	stats     connStats
	links     [numSlots]link
	lastSeen  int64  // assembler capture time of the last segment, UnixNano (seen)
	lastFrame uint64 // frame number of the connection's last segment
	lastSeq   int64  // assembler segment count at the last segment
	idleKey   int64  // lastSeq when last placed in the idle heap
	buffered  int    // out-of-order payload bytes held in chunks
	idleIdx   int32  // index in the idle heap, -1 when not in it
	closed    bool   // FIN seen both ways, or an in-window RST
	rst       bool   // an in-window RST was seen
	asleep    bool   // the Stream went to sleep (Sleeper) and no segment came since
	by        ClientBy
}

// connInfo is what a conn keeps of the ConnInfo its Stream was given: the start as UnixNano
// (as the half-open table keeps segment times), no Acks (nil in its own copy), and By in
// conn.by (with the other bytes).
type connInfo struct {
	Client, Server netip.AddrPort
	start          int64
}

// connStats is what a conn keeps of its ConnStats while it is tracked: the Reason and At
// are known when it is released.
type connStats struct {
	Dirs [2]DirStats
}

// seen returns the capture time of the connection's last segment.
func (c *conn) seen() time.Time { return time.Unix(0, c.lastSeen).UTC() }

// dirOf returns the direction of a segment of the connection.
func (c *conn) dirOf(seg *Segment) Dir {
	d, _ := c.match(seg.Src, seg.Dst)
	return d
}

// sameAddrs reports whether src and dst are the connection's endpoints exactly as first
// seen, and the direction from src to dst.
func (c *conn) sameAddrs(src, dst netip.AddrPort) (Dir, bool) {
	switch {
	case src == c.info.Client && dst == c.info.Server:
		return ClientToServer, true
	case src == c.info.Server && dst == c.info.Client:
		return ServerToClient, true
	}
	return ServerToClient, false
}

// match reports whether a segment from src to dst belongs to the connection, and its
// direction: the endpoints as first seen, or the same key in another zone or
// IPv4-mapped form.
func (c *conn) match(src, dst netip.AddrPort) (Dir, bool) {
	if d, ok := c.sameAddrs(src, dst); ok {
		return d, true
	}
	es, ed := endpointOf(src), endpointOf(dst)
	switch {
	case es == c.ends[0] && ed == c.ends[1]:
		return ClientToServer, true
	case es == c.ends[1] && ed == c.ends[0]:
		return ServerToClient, true
	}
	return ServerToClient, false
}

func (c *conn) event(e Event) { c.stream.Event(e) }

// clampPayload bounds a segment's payload and missing bytes (see maxSegmentSpan).
func clampPayload(seg *Segment) ([]byte, int) {
	data, missing := seg.Payload, max(seg.Missing, 0)
	if len(data) > maxSegmentSpan {
		return data[:maxSegmentSpan], 0
	}
	return data, min(missing, maxSegmentSpan-len(data))
}

// onSegment processes a segment sent in direction d. The order of the calls it makes is the
// one documented in doc.go.
func (c *conn) onSegment(seg *Segment, d Dir) {
	h := &c.h[d]
	c.stats.Dirs[d].Packets++
	c.lastFrame = seg.Frame
	data, missing := clampPayload(seg)
	seq := seg.Seq
	if seg.Flags.Has(FlagSYN) {
		c.onSYN(seg, d, len(data)+missing)
		seq++ // payload and FIN follow the SYN's sequence number
	}
	if !h.started {
		c.start(d, seq, seg.Stamp())
	}
	if len(data)+missing > 0 {
		h.payloads = true
	}
	rst := seg.Flags.Has(FlagRST)
	oow := rst && c.rstOutOfWindow(seg, d)
	if !oow {
		c.onAck(seg, d)
	}
	if rst {
		c.onRST(seg, d, oow)
		return
	}
	if n := len(data) + missing; seg.Flags.Has(FlagFIN) || !maybeProbe(h, seq, n) || !c.probe(d, seq, n) {
		c.onPayload(d, seq, data, missing, seg.Stamp())
	}
	if seg.Flags.Has(FlagFIN) {
		c.onFIN(d, seq+uint32(len(data)+missing), len(data)+missing == 0, seg.Stamp())
	}
	if !c.closed {
		c.checkClosed()
	}
}

// onSYN records the SYN of d (classifySYN has accepted it) and reports it.
func (c *conn) onSYN(seg *Segment, d Dir, n int) {
	h := &c.h[d]
	if h.synSeen {
		if n == 0 {
			c.stats.Dirs[d].Retransmitted++
		}
		return
	}
	h.synSeen, h.isn = true, seg.Seq
	h.wscale, h.hasWScale = seg.WScale, seg.HasWScale
	if !h.started {
		h.started, h.next, h.offset = true, seg.Seq+1, 0
	}
	kind := EventSYN
	if seg.Flags.Has(FlagACK) {
		kind = EventSYNACK
	}
	c.event(Event{Kind: kind, Dir: d, Time: seg.Time, Frame: seg.Frame, Offset: h.streamOffset(seg.Seq + 1)})
}

// onAck records the window and acknowledgment the sender of d advertised, and applies the
// acknowledgment to the other direction.
func (c *conn) onAck(seg *Segment, d Dir) {
	h := &c.h[d]
	if !seg.Flags.Has(FlagRST) {
		h.win, h.winFromSYN = seg.Window, seg.Flags.Has(FlagSYN)
	}
	if !seg.Flags.Has(FlagACK) {
		return
	}
	h.ackSeen, h.ack = true, seg.Ack
	p := d.Reverse()
	if !c.h[p].started {
		c.start(p, seg.Ack, seg.Stamp())
		return
	}
	if hp := &c.h[p]; hp.watching && !seg.Flags.Has(FlagRST) && seqGE(seg.Ack, hp.watch) {
		hp.watching = false
		c.event(Event{Kind: EventAcked, Dir: d, Time: seg.Time, Frame: seg.Frame, Offset: hp.streamOffset(seg.Ack)})
	}
	if seqGT(seg.Ack, c.h[p].next) {
		c.ackPast(p, seg.Ack, seg.Stamp())
	}
}

// onPayload delivers, buffers or counts a segment's payload of d starting at seq.
func (c *conn) onPayload(d Dir, seq uint32, data []byte, missing int, at Stamp) {
	h := &c.h[d]
	if len(data)+missing == 0 {
		return
	}
	if h.finSeen {
		data, missing = c.clipFIN(d, seq, data, missing, at)
	}
	n := len(data) + missing
	if n == 0 {
		return
	}
	if seqLE(seq+uint32(n), h.next) {
		c.stats.Dirs[d].Retransmitted++
		return
	}
	if seqLT(seq, h.next) {
		data, missing = trimFront(data, missing, int(h.next-seq))
		seq = h.next
	}
	if seq != h.next {
		c.bufferSegment(d, seq, data, missing, at)
		return
	}
	if len(h.chunks()) > 0 {
		c.checkBuffered(d, seq, data, missing, at)
	}
	c.emit(d, data, missing, at)
	if len(h.chunks()) > 0 || h.finSeen {
		c.drain(d)
	}
}

// maybeProbe is a quick test for the shapes probe looks at.
func maybeProbe(h *half, seq uint32, n int) bool {
	return (seq == h.next-1 && n <= 1) || (seq == h.next && n == 1)
}

// probe counts keep-alives (0 or 1 byte at next-1, no SYN, FIN or RST) and zero-window
// probes (the same, or one new byte at next, while the receiver advertises a zero window).
// It reports whether the segment carries no new data.
func (c *conn) probe(d Dir, seq uint32, n int) bool {
	h, r := &c.h[d], &c.h[d.Reverse()]
	zeroWin := r.ackSeen && r.win == 0 && !r.winFromSYN
	st := &c.stats.Dirs[d]
	switch {
	case seq == h.next-1 && n <= 1:
		if zeroWin {
			st.ZeroWindowProb++
		} else {
			st.KeepAlives++
		}
		return true
	case zeroWin && seq == h.next && n == 1:
		st.ZeroWindowProb++
	}
	return false
}

// onFIN records the FIN of d at finSeq and delivers it if the stream has reached it.
func (c *conn) onFIN(d Dir, finSeq uint32, bare bool, at Stamp) {
	h := &c.h[d]
	if h.finSeen {
		if bare && finSeq == h.finSeq {
			c.stats.Dirs[d].Retransmitted++
		}
		return
	}
	h.finSeen, h.finSeq = true, finSeq
	if c.trimAtFIN(d) {
		c.event(Event{Kind: EventDataAfterFIN, Dir: d, Time: at.Time, Frame: at.Frame, Offset: h.finOffset()})
	}
	if seqLT(finSeq, h.next) {
		// Bytes after the FIN were already delivered: report the FIN where it was.
		h.finDone = true
		c.tidy(d)
		c.event(Event{Kind: EventFIN, Dir: d, Time: at.Time, Frame: at.Frame, Offset: h.streamOffset(finSeq)})
		return
	}
	if h.next == finSeq {
		c.deliverFIN(d, at)
		return
	}
	c.held(d).finAt = at // until the bytes before it arrive
}

// onRST reports an RST sent in d. One within the window ends d's stream first: its holes
// become gaps, buffered bytes and a pending FIN are delivered, and bytes before the RST's
// sequence number that were never captured become a gap.
func (c *conn) onRST(seg *Segment, d Dir, oow bool) {
	h := &c.h[d]
	if !oow {
		c.finalize(d, seg.Stamp())
		if !h.finDone {
			c.gapTo(d, seg.Seq, GapLost, seg.Stamp())
		}
		c.rst = true
	}
	c.event(Event{Kind: EventRST, Dir: d, Time: seg.Time, Frame: seg.Frame, Offset: h.streamOffset(seg.Seq),
		WithACK: seg.Flags.Has(FlagACK), OutOfWindow: oow})
	c.checkClosed()
}

// rstOutOfWindow applies the rule documented in doc.go to an RST sent in d.
func (c *conn) rstOutOfWindow(seg *Segment, d Dir) bool {
	r := &c.h[d.Reverse()]
	if !r.ackSeen {
		return false
	}
	diff := int64(seqDiff(seg.Seq, r.ack))
	if r.win == 0 {
		return diff != 0
	}
	wnd := int64(r.win)
	if !r.winFromSYN {
		wnd <<= c.windowShift(d.Reverse())
	}
	return diff < 0 || diff >= wnd
}

// windowShift returns the window scale of the sender of d: its SYN's option when both SYNs
// were captured and both carried one, else the largest legal shift (14). A capture layer
// that does not decode the option, or a handshake that was not captured, thus never makes
// an RST look out of window because of an underestimated window.
func (c *conn) windowShift(d Dir) uint {
	h0, h1 := &c.h[0], &c.h[1]
	if h0.synSeen && h1.synSeen && h0.hasWScale && h1.hasWScale {
		return uint(min(c.h[d].wscale, 14))
	}
	return 14
}

// checkClosed moves the connection to the closed list once a FIN was seen both ways or an
// in-window RST was seen.
func (c *conn) checkClosed() {
	if c.closed || !(c.rst || (c.h[0].finSeen && c.h[1].finSeen)) {
		return
	}
	c.closed = true
	c.a.open.remove(c)
	c.a.closed.moveToBack(c)
	c.a.noteExpiry(c.seen().Add(c.a.opts.ClosedLinger))
}

// synAction is what the assembler does with a SYN on a tracked connection.
type synAction uint8

const (
	synAccept     synAction = iota // the first SYN of that side
	synRetransmit                  // same ISN as the SYN already seen
	synReuse                       // a new connection on the same 4-tuple
	synIgnore                      // a stray SYN on a live connection
)

// classifySYN decides what a SYN sent in d means for the connection.
func (c *conn) classifySYN(seg *Segment, d Dir) synAction {
	h := &c.h[d]
	switch {
	case h.synSeen && seg.Seq == h.isn:
		return synRetransmit
	case !h.synSeen && (!h.started || h.next == seg.Seq+1):
		return synAccept
	case c.reusable():
		return synReuse
	}
	return synIgnore
}

// reusable reports whether a new SYN may replace the connection: it is closing (a FIN or an
// RST was seen), no payload was seen in either direction, or it has been silent for at
// least ClosedLinger (its end was probably not captured).
func (c *conn) reusable() bool {
	return c.rst || c.h[0].finSeen || c.h[1].finSeen || (!c.h[0].payloads && !c.h[1].payloads) ||
		c.a.now.Sub(c.seen()) >= c.a.opts.ClosedLinger
}

// skipOldestHole declares the first hole of the direction that started buffering first a
// GapBufferLimit gap and delivers the bytes it held back.
func (c *conn) skipOldestHole(at Stamp) {
	d := ClientToServer
	c0, c1 := &c.h[0], &c.h[1]
	if len(c0.chunks()) == 0 || (len(c1.chunks()) > 0 && c1.ahead.bufSince.Before(c0.ahead.bufSince)) {
		d = ServerToClient
	}
	h := &c.h[d]
	if len(h.chunks()) == 0 {
		return
	}
	c.gapTo(d, h.chunks()[0].seq, GapBufferLimit, at)
	c.drain(d)
}
