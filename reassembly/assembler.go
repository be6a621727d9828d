package reassembly

import (
	"time"

	"github.com/wsclosescan/wsclosescan/internal/freelist"
)

// Assembler reassembles the TCP connections of one capture. It is not safe for concurrent
// use; Streams must not call back into it.
type Assembler struct {
	factory   StreamFactory
	taker     HalfOpenTaker   // factory, when it implements it
	counter   HalfOpenCounter // factory, when it implements it
	opts      Options
	conns     connTable
	half      halfTable // connections that only exchanged SYNs (see halfopen.go)
	tombs     tombTable // connections released early (see tomb.go)
	all       connList  // creation order
	open      idleHeap  // open conns by last activity, with an IdleTimeout or MaxConns only
	closed    connList  // closed conns by last activity
	buffering connList  // conns holding out-of-order bytes, oldest first
	pool      bytePool
	// spare is the conn of the half-open connection released last, for the next to reuse:
	// a flood's million SYNs released at Flush would otherwise allocate one each.
	spare *conn
	// spare out-of-order states (see getAhead)
	spareAhead freelist.List[ahead]
	now        time.Time // latest capture time seen
	// expireAt is a time no later than the first moment a tracked connection can expire
	// (ClosedLinger or IdleTimeout after its last segment), when haveExpiry: Advance looks
	// at the lists only once the clock passes it.
	expireAt   time.Time
	haveExpiry bool
	tracked    int
	memory     int64 // estimated memory of the tracked connections (Options.MaxMemory)
	last       *conn // the conn of the previous segment, nil if released
	hand       *conn // the next conn sweep looks at (nil: the first)
	stats      AssemblerStats
	sink       uint64 // what Prefetch read, so that the reads are not optimized away
}

// NewAssembler returns an Assembler that creates a Stream with f for every connection.
// Zero fields of opts take their defaults (see Options).
func NewAssembler(f StreamFactory, opts Options) *Assembler {
	a := &Assembler{factory: f, opts: opts.withDefaults()}
	a.taker, _ = f.(HalfOpenTaker)
	a.counter, _ = f.(HalfOpenCounter)
	a.all.slot = slotAll
	a.closed.slot = slotActivity
	a.buffering.slot = slotBuffered
	return a
}

// Add processes one segment. Segments must come in capture order; seg.Payload is not
// retained after Add returns.
func (a *Assembler) Add(seg *Segment) { a.add(seg, 0, false) }

// AddFlow is Add for a caller that has computed flow = FlowHash(seg.Src, seg.Dst)
// already, to pick the Assembler.
func (a *Assembler) AddFlow(seg *Segment, flow uint64) { a.add(seg, flow, true) }

func (a *Assembler) add(seg *Segment, flow uint64, haveFlow bool) {
	if seg == nil {
		return
	}
	a.stats.Segments++
	a.Advance(seg.Time)
	c, d := a.lookup(seg, flow, haveFlow)
	if c == nil {
		return // kept half-open
	}
	if seg.Flags.Has(FlagSYN) {
		switch c.classifySYN(seg, d) {
		case synReuse:
			a.release(c, EndReused)
			c = a.newConn(seg)
			d = c.dirOf(seg)
		case synIgnore:
			a.stats.IgnoredSYNs++
			c.stats.Dirs[d].Packets++
			a.touch(c)
			return
		}
	}
	a.touch(c)
	c.onSegment(seg, d)
	if c.buffered > a.opts.MaxBufferedPerConn || a.stats.Buffered > a.opts.MaxBufferedTotal {
		a.enforceLimits(c, seg.Stamp())
	}
	if a.opts.SleepFrom > 0 && a.tracked >= a.opts.SleepFrom {
		a.sweep()
	}
}

// sweep looks at the next connection in creation order, going round, and puts its Stream
// to sleep (Sleeper) if the connection has been idle for SleepIdle segments: an open one,
// or a closed one lingering (ClosedLinger), as a server's thousands do once they close
// together.
func (a *Assembler) sweep() {
	c := a.hand
	if c == nil {
		if c = a.all.head; c == nil {
			return
		}
	}
	a.hand = c.links[slotAll].next
	if c.asleep || a.stats.Segments-c.lastSeq < a.opts.SleepIdle {
		return
	}
	if s, ok := c.stream.(Sleeper); ok && s.Sleep() {
		c.asleep = true
		a.stats.Slept++
	}
}

// Advance moves the assembler's clock to t, when t is later than every capture time seen
// so far, releasing the connections that expire by then exactly as Add does before it
// processes a segment of time t. A caller that splits one capture between several
// Assemblers (by connection) calls Advance with the latest capture time of the whole
// capture before each Add, so that every Assembler judges time as a single one would.
func (a *Assembler) Advance(t time.Time) {
	if t.After(a.now) {
		a.now = t
		if a.haveExpiry && t.After(a.expireAt) {
			a.expire()
		}
	}
}

// Flush ends the capture: every tracked connection has its remaining holes declared
// GapLost with the bytes after them delivered, a FIN still waiting delivered, and then
// End(EndFlushed). Connections that carried more than SYNs go in the order they were
// first tracked in full, merged by start time with the half-open ones (which go in the
// order they were first seen). The Assembler is empty afterwards.
func (a *Assembler) Flush() {
	for a.FlushSome(1 << 30) {
	}
}

// FlushSome is Flush in steps: it releases up to n connections, in Flush's order, and
// reports whether any are left. A caller that must not hold the records of every
// connection at once flushes in steps and hands them on in between.
func (a *Assembler) FlushSome(n int) bool {
	if k := a.half.n; k > 0 && a.counter != nil {
		// All at once: they are only counted (HalfOpenCounter).
		a.counter.TakeHalfOpens(k, EndFlushed)
		a.tracked -= k
		a.memory -= int64(k) * int64(a.opts.HalfOpenCost)
		a.stats.Ended[EndFlushed] += int64(k)
		a.half.reset()
	}
	for ; n > 0 && (a.all.head != nil || a.half.head != 0); n-- {
		c, i := a.all.head, a.half.head
		if i != 0 && (c == nil || a.half.at(i).segs[0].time < c.info.start) {
			a.half.dropIndex() // all go now (once rebuilt, if a segment comes between two steps)
			a.releaseHalf(i, EndFlushed)
		} else {
			a.release(c, EndFlushed)
		}
	}
	if a.all.head != nil || a.half.head != 0 {
		return true
	}
	a.tombs = tombTable{} // the next capture is another one
	a.half.reset()
	return false
}

// HalfOpenStart returns the start of the oldest half-open connection (one that has
// exchanged only SYNs, kept without a Stream until it carries more), and whether there is
// one. Its Stream, once created, reports that ConnInfo.Start: a caller ordering records by
// start time must wait for it as for the connections whose Streams are open.
func (a *Assembler) HalfOpenStart() (time.Time, bool) {
	if i := a.half.head; i != 0 {
		return time.Unix(0, a.half.at(i).segs[0].time).UTC(), true
	}
	return time.Time{}, false
}

// Prefetch reads the table slots of the connections whose FlowHashes are flows, which a
// caller is about to Add segments of: a table lookup is a cache miss when many
// connections are tracked (a SYN flood's million, a busy server's thousands), and the
// reads of a whole batch, independent of each other, overlap, where the lookups one
// segment at a time each wait for theirs. It changes nothing.
func (a *Assembler) Prefetch(flows []uint64) {
	var sink uint64
	if n := len(a.conns.slots); n > 0 {
		mask := uint64(n - 1)
		for _, f := range flows {
			sink += a.conns.slots[f&mask].hash
		}
	}
	if n := len(a.half.slots); n > 0 && a.half.n > 0 {
		mask := uint64(n - 1)
		for _, f := range flows {
			sink += a.half.slots[halfHome(f, mask)]
		}
	}
	a.sink += sink
}

// Stats returns counters of what the Assembler has processed so far.
func (a *Assembler) Stats() AssemblerStats {
	s := a.stats
	s.Tracked, s.HalfOpen, s.Memory = a.tracked, a.half.n, a.memory
	return s
}

// lookup returns the connection of seg, creating it if needed, and the segment's
// direction. flow is seg's FlowHash when haveFlow.
func (a *Assembler) lookup(seg *Segment, flow uint64, haveFlow bool) (*conn, Dir) {
	if c := a.last; c != nil {
		if d, ok := c.sameAddrs(seg.Src, seg.Dst); ok {
			return c, d
		}
	}
	if !haveFlow {
		flow = FlowHash(seg.Src, seg.Dst)
	}
	c, d := a.conns.find(flow, seg.Src, seg.Dst)
	if c == nil {
		if c = a.lookupHalf(seg, flow); c == nil {
			return nil, 0
		}
		d = c.dirOf(seg)
	}
	a.last = c
	return c, d
}

// lookupHalf handles a segment of a connection that is not tracked in full: it keeps a new
// or half-open connection half-open when the segment allows (returning nil), else returns
// the connection tracked in full from now on, promoted or new.
func (a *Assembler) lookupHalf(seg *Segment, flow uint64) *conn {
	if i := a.half.find(flow, seg.Src, seg.Dst); i != 0 {
		fromClient, _ := a.half.match(i, seg.Src, seg.Dst)
		if !a.half.at(i).absorb(seg, fromClient) {
			return a.promote(i, true)
		}
		return nil
	}
	if a.tombs.n > 0 && a.tombs.has(flow) {
		if !seg.Flags.Has(FlagSYN) || seg.Flags.Has(FlagACK) {
			a.stats.AfterRelease++
			if seg.Flags.Has(FlagRST) {
				a.tombs.remove(flow)
			}
			return nil
		}
		a.tombs.remove(flow) // a new connection on the 4-tuple
	}
	if !storable(seg) {
		return a.newConn(seg)
	}
	a.makeRoom(1, int64(a.opts.HalfOpenCost))
	a.half.add(seg, flow)
	a.stats.PeakHalfOpen = max(a.stats.PeakHalfOpen, a.half.n)
	if a.opts.IdleTimeout > 0 {
		a.noteExpiry(seg.Time.Add(a.opts.IdleTimeout))
	}
	a.counted(int64(a.opts.HalfOpenCost))
	return nil
}

// makeRoom releases connections until n more, costing cost more bytes, fit MaxConns
// and MaxMemory.
func (a *Assembler) makeRoom(n int, cost int64) {
	for a.tracked > 0 && ((a.opts.MaxConns > 0 && a.tracked+n > a.opts.MaxConns) ||
		(a.opts.MaxMemory > 0 && a.memory+cost > a.opts.MaxMemory)) {
		a.evict()
	}
}

// counted counts a connection that starts being tracked, estimated to cost cost bytes.
func (a *Assembler) counted(cost int64) {
	a.stats.Connections++
	a.tracked++
	a.memory += cost
	a.stats.PeakTracked = max(a.stats.PeakTracked, a.tracked)
}

// promote tracks half-open connection i in full: it creates its conn and Stream and
// replays the stored segments into them. With room, other connections are released first
// if its full cost does not fit the limits (a connection promoted to be released at once
// needs none).
func (a *Assembler) promote(i uint32, room bool) *conn {
	h := *a.half.at(i)
	client, server := a.half.ends(i)
	a.half.remove(i)
	a.memory -= int64(a.opts.HalfOpenCost)
	if room {
		a.tracked--
		a.makeRoom(1, int64(a.opts.ConnCost))
		a.tracked++
	}
	a.memory += int64(a.opts.ConnCost)
	c := a.track(ConnInfo{Client: client, Server: server, By: h.by, Start: time.Unix(0, h.segs[0].time).UTC()})
	for k := range int(h.n) {
		seg := h.segment(k, client, server)
		d := c.dirOf(&seg)
		c.lastSeen = seg.Time.UnixNano()
		for range int(h.segs[k].retrans) + 1 {
			c.onSegment(&seg, d)
		}
	}
	c.lastSeen, c.lastFrame, c.lastSeq = h.last, h.lastFrame, a.stats.Segments
	return c
}

// releaseHalf ends half-open connection i: the factory takes it (HalfOpenTaker), or it is
// tracked in full for a moment so that its Stream sees its segments, then released.
func (a *Assembler) releaseHalf(i uint32, reason EndReason) {
	if a.taker != nil {
		h := a.half.at(i)
		client, server := a.half.ends(i)
		info := ConnInfo{Client: client, Server: server, By: h.by, Start: time.Unix(0, h.segs[0].time).UTC()}
		if hash := h.hash; a.taker.TakeHalfOpen(info, reason) {
			a.half.remove(i)
			a.memory -= int64(a.opts.HalfOpenCost)
			a.tracked--
			a.stats.Ended[reason]++
			if reason == EndIdle || reason == EndEvicted {
				a.tombs.add(hash)
			}
			return
		}
	}
	c := a.promote(i, false)
	a.release(c, reason)
	a.spare = c // released, it is in no table, list or heap, and its Stream has ended
}

// newConn starts tracking the connection of seg and creates its Stream.
func (a *Assembler) newConn(seg *Segment) *conn {
	a.makeRoom(1, int64(a.opts.ConnCost))
	srcIsClient, by := pickClient(seg)
	info := ConnInfo{Client: seg.Src, Server: seg.Dst, By: by, Start: seg.Time}
	if !srcIsClient {
		info.Client, info.Server = seg.Dst, seg.Src
	}
	a.counted(int64(a.opts.ConnCost))
	return a.track(info)
}

// track creates the conn and Stream of a connection already counted in tracked.
func (a *Assembler) track(info ConnInfo) *conn {
	c := a.spare
	if c != nil {
		a.spare = nil
		*c = conn{a: a}
	} else {
		c = &conn{a: a}
	}
	c.info, c.by = connInfo{Client: info.Client, Server: info.Server, start: info.Start.UnixNano()}, info.By
	if a.factory != nil {
		info.Acks = (*AckWatch)(c)
		c.stream = a.factory.NewStream(info)
	}
	if c.stream == nil {
		c.stream = nopStream{}
	}
	c.ends = [2]endpoint{endpointOf(c.info.Client), endpointOf(c.info.Server)}
	c.hash = flowHash(&c.ends[0], &c.ends[1])
	a.conns.insert(c.hash, c)
	a.all.pushBack(c)
	c.idleIdx = -1
	if a.opts.IdleTimeout > 0 || a.opts.MaxConns > 0 || a.opts.MaxMemory > 0 { // otherwise open conns need no order
		c.lastSeq = a.stats.Segments
		a.open.push(c)
		if a.opts.IdleTimeout > 0 {
			a.noteExpiry(a.now.Add(a.opts.IdleTimeout))
		}
	}
	return c
}

// pickClient applies the client rules documented in doc.go to the first segment of a
// connection, reporting whether its sender is the client.
func pickClient(seg *Segment) (srcIsClient bool, by ClientBy) {
	switch {
	case seg.Flags.Has(FlagSYN) && !seg.Flags.Has(FlagACK):
		return true, ClientBySYN
	case seg.Flags.Has(FlagSYN):
		return false, ClientBySYNACK
	}
	sp, dp := seg.Src.Port(), seg.Dst.Port()
	for _, bound := range [...]uint16{1024, 32768} {
		if (sp < bound) != (dp < bound) {
			return dp < bound, ClientByPort
		}
	}
	return true, ClientByPort
}

// touch records activity on c at the current capture time. An open connection keeps
// its place in the idle heap (see idleHeap); a closed one moves to the back of the closed
// list.
func (a *Assembler) touch(c *conn) {
	c.lastSeen, c.lastSeq = a.now.UnixNano(), a.stats.Segments
	c.asleep = false // the segment may wake the Stream
	if c.closed {
		a.closed.moveToBack(c)
	}
}

// noteExpiry lowers expireAt to t if needed.
func (a *Assembler) noteExpiry(t time.Time) {
	if !a.haveExpiry || t.Before(a.expireAt) {
		a.expireAt, a.haveExpiry = t, true
	}
}

// expire releases closed connections older than ClosedLinger and, with an IdleTimeout, idle
// open ones, in the order of their last activity, then sets expireAt to the first moment
// the next one can expire.
func (a *Assembler) expire() {
	for c := a.closed.head; c != nil && a.now.Sub(c.seen()) > a.opts.ClosedLinger; c = a.closed.head {
		a.release(c, EndClosed)
	}
	if a.opts.IdleTimeout > 0 {
		for c := a.open.top(); c != nil && a.now.Sub(c.seen()) > a.opts.IdleTimeout; c = a.open.top() {
			a.release(c, EndIdle)
		}
		// Half-open connections expire in the order they started: one that is still
		// retransmitting holds back the expiry of those that started after it.
		idle := a.now.Add(-a.opts.IdleTimeout).UnixNano()
		for i := a.half.head; i != 0 && a.half.at(i).last < idle; i = a.half.head {
			a.releaseHalf(i, EndIdle)
		}
	}
	a.haveExpiry = false
	if c := a.closed.head; c != nil {
		a.noteExpiry(c.seen().Add(a.opts.ClosedLinger))
	}
	if a.opts.IdleTimeout > 0 {
		if c := a.open.top(); c != nil {
			a.noteExpiry(c.seen().Add(a.opts.IdleTimeout))
		}
		if i := a.half.head; i != 0 {
			a.noteExpiry(time.Unix(0, a.half.at(i).last).Add(a.opts.IdleTimeout))
		}
	}
}

// evictScan is how many of the oldest connections evict looks at for one that never
// carried a byte, then for one whose Stream does not keep (see Keeper).
const evictScan = 8

// evict releases a connection to stay within MaxConns and MaxMemory: a closed one first,
// then the oldest half-open one, then, among the oldest few, one that never carried a byte
// and then one whose Stream does not keep (a connection that never became WebSocket goes
// before a quiet WebSocket), then the one idle the longest.
func (a *Assembler) evict() {
	if c := a.closed.head; c != nil {
		a.release(c, EndClosed) // it had ended: only its linger is cut short
		return
	}
	if i := a.half.head; i != 0 {
		a.releaseHalf(i, EndEvicted)
		return
	}
	c := a.oldest(bare)
	if c == nil {
		c = a.oldest(unkept)
	}
	if c == nil {
		c = a.open.top()
	}
	if c == nil {
		c = a.all.head
	}
	if c != nil {
		a.release(c, EndEvicted)
	}
}

// bare reports whether c never carried a payload byte.
func bare(c *conn) bool {
	return c.stats.Dirs[0].Bytes == 0 && c.stats.Dirs[1].Bytes == 0 && c.stats.Dirs[0].MissingBytes == 0 &&
		c.stats.Dirs[1].MissingBytes == 0
}

// unkept reports whether c's Stream says it is not worth keeping.
func unkept(c *conn) bool {
	k, ok := c.stream.(Keeper)
	return ok && !k.Keep()
}

// oldest returns the oldest of the first evictScan connections, in creation order, that
// match, or nil.
func (a *Assembler) oldest(match func(*conn) bool) *conn {
	c := a.all.head
	for i := 0; c != nil && i < evictScan; i++ {
		if match(c) {
			return c
		}
		c = c.links[slotAll].next
	}
	return nil
}

// release finishes both directions of c, ends its Stream and forgets it.
func (a *Assembler) release(c *conn, reason EndReason) {
	last := Stamp{Time: c.seen(), Frame: c.lastFrame}
	c.finalize(ClientToServer, last)
	c.finalize(ServerToClient, last)
	for d := range c.h {
		if n := len(c.h[d].chunks()); n > 0 {
			c.freeChunks(Dir(d), n)
		}
	}
	stats := ConnStats{Dirs: c.stats.Dirs, Reason: reason, At: a.now}
	if t := c.seen().Add(a.opts.ClosedLinger); reason == EndClosed && t.Before(a.now) {
		stats.At = t
	}
	if t := c.seen().Add(a.opts.IdleTimeout); reason == EndIdle && t.Before(a.now) {
		stats.At = t
	}
	c.stream.End(stats)
	if reason == EndIdle || reason == EndEvicted {
		a.tombs.add(c.hash)
	}
	a.conns.remove(c.hash, c)
	if a.last == c {
		a.last = nil
	}
	if a.hand == c {
		a.hand = c.links[slotAll].next
	}
	a.all.remove(c)
	a.closed.remove(c)
	a.open.remove(c)
	a.buffering.remove(c)
	a.tracked--
	a.memory -= int64(a.opts.ConnCost)
	a.stats.Ended[reason]++
}

// enforceLimits declares holes GapBufferLimit gaps until c and the assembler are within
// their buffer limits: c's own first, then those of the connections that started buffering
// first.
func (a *Assembler) enforceLimits(c *conn, at Stamp) {
	for c.buffered > a.opts.MaxBufferedPerConn {
		c.skipOldestHole(at)
		a.stats.ConnLimitGaps++
	}
	for a.stats.Buffered > a.opts.MaxBufferedTotal && a.buffering.head != nil {
		a.buffering.head.skipOldestHole(at)
		a.stats.TotalLimitGaps++
	}
}

// nopStream discards everything; it stands in for a nil Stream from the factory.
type nopStream struct{}

func (nopStream) Data(Dir, []byte, Stamp)                {}
func (nopStream) Gap(Dir, int64, int64, GapCause, Stamp) {}
func (nopStream) Event(Event)                            {}
func (nopStream) End(ConnStats)                          {}
