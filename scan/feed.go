package scan

import (
	"time"

	"github.com/wsclosescan/wsclosescan/capture"
	"github.com/wsclosescan/wsclosescan/reassembly"
)

// Batching between the decoding goroutine and the shards. An arena normally holds many
// payloads; one larger than the arena gets an arena of its own size (at most
// capture.MaxRecordSize), which the batch then keeps.
const (
	numBatches = 8 // per shard
	batchSegs  = 256
	batchArena = 128 << 10
)

// batch is a run of decoded segments for one shard, their payloads copied into arena (the
// capture reader reuses its buffers). nows[i] is the latest capture time of the whole
// capture when segs[i] was read, and now the latest when the batch was sent. last marks
// the final batch of a Read.
type batch struct {
	segs  []reassembly.Segment
	nows  []time.Time
	arena []byte
	now   time.Time
	last  bool
}

func newBatch() *batch {
	return &batch{segs: make([]reassembly.Segment, 0, batchSegs),
		nows: make([]time.Time, 0, batchSegs)}
}

func (b *batch) reset() {
	b.segs, b.nows, b.arena, b.now, b.last = b.segs[:0], b.nows[:0], b.arena[:0], time.Time{}, false
}

// fits reports whether a payload of n bytes fits in the arena. Arenas grow as payloads
// come, up to batchArena (or the one larger payload), so a capture of small packets never
// allocates them whole.
func (b *batch) fits(n int) bool { return len(b.arena)+n <= max(cap(b.arena), batchArena) }

// add appends seg, copying its payload into the arena (which must have room).
func (b *batch) add(seg *reassembly.Segment, now time.Time) {
	s := *seg
	if n := len(s.Payload); n > 0 {
		start := len(b.arena)
		b.arena = append(b.arena, s.Payload...)
		s.Payload = b.arena[start:len(b.arena):len(b.arena)]
	}
	b.segs = append(b.segs, s)
	b.nows = append(b.nows, now)
}

// decode reads r to its end (or first error), handing each segment to the shard of its
// connection, and returns the latest capture time seen (starting from now) and the error
// that ended r. It runs on its own goroutine and allocates nothing per packet.
func decode(r *capture.Reader, shards []*shard, now time.Time) (time.Time, error) {
	cur := make([]*batch, len(shards))
	get := func(k int) *batch {
		if cur[k] == nil {
			cur[k] = <-shards[k].free
			cur[k].reset()
		}
		return cur[k]
	}
	// When one shard's batch is full, every shard gets its batch, even a partial or empty
	// one, so that all shards learn how far the capture has got: the merger can only
	// emit a record once every shard has passed its start.
	sendAll := func() {
		for k := range shards {
			b := get(k)
			b.now = now
			shards[k].in <- b
			cur[k] = nil
		}
	}
	var seg reassembly.Segment
	var err error
	for {
		if err = r.Next(&seg); err != nil {
			break
		}
		if seg.Time.After(now) {
			now = seg.Time
		}
		k := shardOf(&seg, len(shards))
		b := get(k)
		if n := len(seg.Payload); !b.fits(n) {
			if len(b.segs) > 0 {
				sendAll()
				b = get(k)
			}
			if !b.fits(n) {
				b.arena = make([]byte, 0, n)
			}
		}
		b.add(&seg, now)
		if len(b.segs) == cap(b.segs) {
			sendAll()
		}
	}
	for k := range shards {
		get(k).last = true
	}
	sendAll()
	return now, err
}

// shardOf picks the shard of a segment's connection from the high half of its flow hash,
// which is the same in both directions (the assemblers index their tables with the low
// bits).
func shardOf(seg *reassembly.Segment, n int) int {
	if n == 1 {
		return 0
	}
	return int((reassembly.FlowHash(seg.Src, seg.Dst) >> 32 * uint64(n)) >> 32)
}
