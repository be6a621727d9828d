package scan

import (
	"cmp"
	"container/heap"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wsclosescan/wsclosescan/layers"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
)

// orderer releases records in output order: by start time, then client, then server (as
// strings), ties in the order the connections ended. A finished record is held until no
// connection still tracked and no connection not yet seen can sort before it: tracked
// connections are bounded by the earliest start among them (openHeap), unseen ones by the
// capture time of the latest segment processed, since a connection starts at its first
// segment.
//
// At most limit records wait (0: no limit). Past it the earliest waiting record is emitted
// at once and the orderer promises nothing before its start any more (floor): a connection
// still open that started earlier is emitted late, out of order (the merger counts it). This
// keeps memory bounded when a connection stays open across a long capture.
//
// With a wait (Options.SortWait), a connection that started more than wait+linger before
// now no longer bounds the output: bound() is at least now-wait-linger, where linger is
// the reassembler's ClosedLinger, the capture time a closed connection stays tracked
// before its record comes. So a connection that lasted less than wait comes out in
// order, a record waits for earlier ones at most wait of capture time, and a connection
// that lasts longer is emitted late when it ends.
type orderer struct {
	emit  func(outRec)
	open  openHeap
	ready readyHeap
	seq   uint64
	now   time.Time // capture time of the latest segment processed
	// byEnd orders records by when their connections are released (Options.Order):
	// by clock, the latest capture time of the whole capture when the record came.
	byEnd      bool
	clock      time.Time
	releasedAt time.Time // ConnStats.At of the connection whose records come now
	flushing   bool      // Flush is releasing every connection at clock
	limit      int
	wait       time.Duration
	linger     time.Duration
	floor      time.Time // start of the last record emitted early; later output never sorts before it
	// halfOpen reports the start of the assembler's oldest half-open connection, which
	// has no Stream yet and so is not in open (nil: none).
	halfOpen func() (time.Time, bool)
}

// factory wraps the layers so that the orderer knows which connections are open.
type factory struct {
	layers *layers.Factory
	o      *orderer
}

// NewStream implements reassembly.StreamFactory.
func (f *factory) NewStream(info reassembly.ConnInfo) reassembly.Stream {
	t := &tracked{Stream: f.layers.NewStream(info), f: f, start: info.Start.UnixNano(), acks: info.Acks}
	heap.Push(&f.o.open, t)
	return t
}

// skipFactory is factory for Options.SkipHalfOpen: a connection released half-open gets no
// Stream and no record, only a count.
type skipFactory struct {
	factory
	skipped *atomic.Int64
}

// TakeHalfOpen implements reassembly.HalfOpenTaker.
func (f *skipFactory) TakeHalfOpen(reassembly.ConnInfo, reassembly.EndReason) bool {
	f.skipped.Add(1)
	return true
}

// TakeHalfOpens implements reassembly.HalfOpenCounter.
func (f *skipFactory) TakeHalfOpens(n int, _ reassembly.EndReason) { f.skipped.Add(int64(n)) }

// tracked is an open connection's stream, remembered in the orderer's open heap. While the
// connection sleeps (reassembly.Sleeper), Stream is an asleep value and nap holds its
// state; the next call wakes it.
type tracked struct {
	reassembly.Stream
	f     *factory
	start int64 // the connection's start, UnixNano (as the assembler keeps it)
	acks  *reassembly.AckWatch
	idx   int32 // index in the open heap
	nap   layers.Nap
}

// asleep stands for the Stream of a sleeping connection, and says whether it keeps
// (reassembly.Keeper), which sleep cannot change. Its methods are never called.
type asleep bool

func (asleep) Data(reassembly.Dir, []byte, reassembly.Stamp) {
	panic("scan: a sleeping stream was fed")
}
func (asleep) Gap(reassembly.Dir, int64, int64, reassembly.GapCause, reassembly.Stamp) {
	panic("scan: a sleeping stream was fed")
}
func (asleep) Event(reassembly.Event)   { panic("scan: a sleeping stream was fed") }
func (asleep) End(reassembly.ConnStats) { panic("scan: a sleeping stream was ended") }

// awake returns the Stream, waking it first if it sleeps.
func (t *tracked) awake() reassembly.Stream {
	if _, ok := t.Stream.(asleep); ok {
		t.Stream = t.f.layers.Wake(t.nap, t.acks)
		t.nap = 0
	}
	return t.Stream
}

// Sleep implements reassembly.Sleeper.
func (t *tracked) Sleep() bool {
	if _, ok := t.Stream.(asleep); ok {
		return true
	}
	keep := t.Keep()
	n, ok := t.f.layers.Sleep(t.Stream)
	if ok {
		t.Stream, t.nap = asleep(keep), n
	}
	return ok
}

// Keep implements reassembly.Keeper for the wrapped Stream.
func (t *tracked) Keep() bool {
	switch s := t.Stream.(type) {
	case asleep:
		return bool(s)
	case reassembly.Keeper:
		return s.Keep()
	}
	return true
}

// Data implements reassembly.Stream.
func (t *tracked) Data(dir reassembly.Dir, data []byte, at reassembly.Stamp) {
	t.awake().Data(dir, data, at)
}

// Gap implements reassembly.Stream.
func (t *tracked) Gap(dir reassembly.Dir, offset, length int64, cause reassembly.GapCause, at reassembly.Stamp) {
	t.awake().Gap(dir, offset, length, cause, at)
}

// Event implements reassembly.Stream.
func (t *tracked) Event(e reassembly.Event) { t.awake().Event(e) }

// End implements reassembly.Stream: the analyzer emits the record (into the orderer's
// ready heap), then the connection stops bounding the output.
func (t *tracked) End(stats reassembly.ConnStats) {
	o := t.f.o
	o.releasedAt = stats.At
	t.awake().End(stats)
	heap.Remove(&o.open, int(t.idx))
}

// add holds a finished record until it can be emitted. Records are normally released
// after each batch; past the limit they are released at once.
func (o *orderer) add(r *report.Record) {
	o.seq++
	r.Released = o.releasedAt
	key := r.Start.Time
	if o.byEnd {
		key = o.releasedAt
	}
	o.ready.push(held{sec: key.Unix(), nsec: int32(key.Nanosecond()), rec: r, seq: o.seq})
	if o.limit > 0 && len(o.ready) > o.limit {
		o.release()
	}
}

// bound returns the earliest position in output order a record not yet emitted can
// have. By start: the start of the oldest open connection, or now for one not seen yet.
// By end: the clock, and while Flush releases every connection at that clock, the start
// bound too, as the records released at one clock come by start.
func (o *orderer) bound() outKey {
	if o.byEnd {
		if o.flushing {
			return outKey{o.clock, o.startBound()}
		}
		return outKey{key: o.clock}
	}
	b := o.startBound()
	return outKey{b, b}
}

// startBound returns the earliest start a connection not yet finished can have.
func (o *orderer) startBound() time.Time {
	b := o.now
	if len(o.open) > 0 && !b.IsZero() && o.open[0].start < b.UnixNano() { // no start is before the zero time
		b = time.Unix(0, o.open[0].start).UTC()
	}
	if o.halfOpen != nil {
		if t, ok := o.halfOpen(); ok && t.Before(b) {
			b = t
		}
	}
	if o.byEnd {
		return b
	}
	if b.Before(o.floor) {
		b = o.floor
	}
	if o.wait > 0 && !o.now.IsZero() {
		if w := o.now.Add(-o.wait - o.linger); b.Before(w) {
			b = w
		}
	}
	return b
}

// release emits the held records that start before bound().
func (o *orderer) release() {
	bound := o.bound()
	for len(o.ready) > 0 && o.ready[0].out().before(bound) {
		o.emit(o.ready.pop().out())
	}
	for o.limit > 0 && len(o.ready) > o.limit && !o.byEnd {
		h := o.ready.pop()
		if h.rec.Start.After(o.floor) {
			o.floor = h.rec.Start.Time
		}
		o.emit(h.out())
	}
}

// flush emits every held record in order (a sort is cheaper than popping the heap).
func (o *orderer) flush() {
	slices.SortFunc(o.ready, func(a, b held) int {
		if c := cmp.Or(cmp.Compare(a.sec, b.sec), cmp.Compare(a.nsec, b.nsec)); c != 0 {
			return c
		}
		if c := compareRecords(a.rec, b.rec); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	for i, h := range o.ready {
		o.emit(h.out())
		o.ready[i] = held{}
	}
	o.ready = o.ready[:0]
	o.floor = time.Time{} // the next capture starts afresh
}

// openHeap orders open connections by start time.
type openHeap []*tracked

func (h openHeap) Len() int           { return len(h) }
func (h openHeap) Less(i, j int) bool { return h[i].start < h[j].start }
func (h openHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = int32(i), int32(j)
}

func (h *openHeap) Push(x any) {
	t := x.(*tracked)
	t.idx = int32(len(*h))
	*h = append(*h, t)
}

func (h *openHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return t
}

// held is a finished record waiting for its turn; seq keeps ties in release order. sec and
// nsec are its key (its start, or by end its release clock), so that most comparisons
// need not load the record.
type held struct {
	sec  int64
	nsec int32
	rec  *report.Record
	seq  uint64
}

func (h held) key() time.Time { return time.Unix(h.sec, int64(h.nsec)) }

func (h held) out() outRec { return outRec{rec: h.rec, key: h.key()} }

// outRec is a record in output order with its key: by start, its start; by end, when its
// connection was released. Records are ordered by key, then as compareRecords orders them.
type outRec struct {
	rec *report.Record
	key time.Time
}

// outKey is a position in output order: a key, then a start.
type outKey struct{ key, start time.Time }

// before reports whether r sorts before every record at or after b.
func (r outRec) before(b outKey) bool {
	return r.key.Before(b.key) || (r.key.Equal(b.key) && r.rec.Start.Before(b.start))
}

// compareOut compares records in output order.
func compareOut(a, b *outRec) int {
	switch {
	case a.key.Before(b.key):
		return -1
	case b.key.Before(a.key):
		return 1
	}
	return compareRecords(a.rec, b.rec)
}

// readyHeap orders held records by output order: a binary heap written out rather than
// container/heap, whose interface boxing would allocate for every record.
type readyHeap []held

func (h readyHeap) less(i, j int) bool {
	if a, b := &h[i], &h[j]; a.sec != b.sec || a.nsec != b.nsec {
		return a.sec < b.sec || (a.sec == b.sec && a.nsec < b.nsec)
	}
	if c := compareRecords(h[i].rec, h[j].rec); c != 0 {
		return c < 0
	}
	return h[i].seq < h[j].seq
}

func (h *readyHeap) push(x held) {
	*h = append(*h, x)
	q := *h
	for i := len(q) - 1; i > 0; {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q[i], q[p] = q[p], q[i]
		i = p
	}
}

func (h *readyHeap) pop() held {
	q := *h
	top, n := q[0], len(q)-1
	q[0], q[n] = q[n], held{}
	q = q[:n]
	for i := 0; ; {
		l, small := 2*i+1, i
		if l < n && q.less(l, small) {
			small = l
		}
		if r := l + 1; r < n && q.less(r, small) {
			small = r
		}
		if small == i {
			break
		}
		q[i], q[small] = q[small], q[i]
		i = small
	}
	*h = q
	return top
}

// compareRecords compares records in output order: start, client, server.
func compareRecords(a, b *report.Record) int {
	switch {
	case a.Start.Before(b.Start.Time):
		return -1
	case b.Start.Before(a.Start.Time):
		return 1
	}
	if c := strings.Compare(a.Client, b.Client); c != 0 {
		return c
	}
	return strings.Compare(a.Server, b.Server)
}
