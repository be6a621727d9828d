package scan

import (
	"time"

	"github.com/wsclosescan/wsclosescan/capture"
	"github.com/wsclosescan/wsclosescan/reassembly"
)

// Batching between the decoding goroutine and the shards. Payloads stay in the capture
// reader's buffers, which the batches retain; only a payload that is not in one (a
// datagram reassembled from IP fragments) is copied, into the batch's arena, which grows
// as such payloads come, up to batchArena (or the one larger payload).
const (
	numBatches = 8 // per shard
	batchSegs  = 256
	batchArena = 128 << 10
	// roundBytes ends a round (a batch for every shard) once its payloads add up to this
	// much, so that the capture buffers the batches in flight retain stay few: rounds in
	// flight span at most about (numBatches+1)*roundBytes of the capture.
	roundBytes = 128 << 10
)

// batch is a run of decoded segments for one shard. Their payloads point into the capture
// buffers listed in bufs (retained until the shard is done with the batch) or into arena.
// flows[i] is segs[i]'s reassembly.FlowHash, computed once to pick the shard. nows[i] is
// the latest capture time of the whole capture when segs[i] was read, and now the latest
// when the batch was sent. last marks the final batch of a Read; idle one sent because
// the source had no more data for the moment.
type batch struct {
	segs  []reassembly.Segment
	flows []uint64
	nows  []time.Time
	bufs  []*capture.Buffer
	arena []byte
	now   time.Time
	last  bool
	idle  bool
}

func newBatch() *batch {
	return &batch{segs: make([]reassembly.Segment, 0, batchSegs),
		flows: make([]uint64, 0, batchSegs), nows: make([]time.Time, 0, batchSegs)}
}

func (b *batch) reset() {
	b.segs, b.flows, b.nows, b.arena = b.segs[:0], b.flows[:0], b.nows[:0], b.arena[:0]
	b.now, b.last, b.idle = time.Time{}, false, false
}

// release gives back the capture buffers the batch retained.
func (b *batch) release() {
	for i, buf := range b.bufs {
		buf.Release()
		b.bufs[i] = nil
	}
	b.bufs = b.bufs[:0]
}

// fits reports whether a payload of n bytes fits in the arena.
func (b *batch) fits(n int) bool { return len(b.arena)+n <= max(cap(b.arena), batchArena) }

// add appends seg, of flow hash flow. Its payload is in buf, which the batch retains
// (once), or, when buf is nil, is copied into the arena (which must have room).
func (b *batch) add(seg *reassembly.Segment, flow uint64, buf *capture.Buffer, now time.Time) {
	b.segs = append(b.segs, *seg)
	b.flows = append(b.flows, flow)
	b.nows = append(b.nows, now)
	switch n := len(seg.Payload); {
	case n == 0:
	case buf != nil:
		if len(b.bufs) == 0 || b.bufs[len(b.bufs)-1] != buf {
			buf.Retain()
			b.bufs = append(b.bufs, buf)
		}
	default:
		start := len(b.arena)
		b.arena = append(b.arena, seg.Payload...)
		b.segs[len(b.segs)-1].Payload = b.arena[start:len(b.arena):len(b.arena)]
	}
}

// decode reads r to its end (or first error), handing each segment to the shard of its
// connection, and returns the latest capture time seen (starting from now) and the error
// that ended r. It runs on its own goroutine and allocates nothing per packet. When wr is
// set (a source that may block), the segments decoded so far are sent before a read
// that waits for data, in batches marked idle.
// decode returns the latest capture time of the whole capture (now, before it), and the
// earliest and the latest of r alone.
func decode(r *capture.Reader, wr *waitReader, shards []*shard, now time.Time) (_, earliest, latest time.Time, _ error) {
	cur := make([]*batch, len(shards))
	get := func(k int) *batch {
		if cur[k] == nil {
			cur[k] = <-shards[k].free
			cur[k].reset()
		}
		return cur[k]
	}
	// A round ends when one shard's batch is full or the round's payloads reach
	// roundBytes: every shard then gets its batch, even a partial or empty one, so that
	// all shards learn how far the capture has got (the merger can only emit a record
	// once every shard has passed its start).
	// pending: segments were decoded since the last round. Before a read that waits for
	// data they are sent at once, so that live input is analysed as it comes.
	round, pending := 0, false
	sendAll := func() {
		for k := range shards {
			b := get(k)
			b.now = now
			shards[k].in <- b
			cur[k] = nil
		}
		round, pending = 0, false
	}
	if wr != nil {
		defer func() { wr.wait = nil }()
		wr.wait = func() {
			if !pending {
				return
			}
			for k := range shards {
				get(k).idle = true
			}
			sendAll()
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
		if seg.Time.After(latest) {
			latest = seg.Time
		}
		if earliest.IsZero() || seg.Time.Before(earliest) {
			earliest = seg.Time
		}
		flow := reassembly.FlowHash(seg.Src, seg.Dst)
		k := shardOf(flow, len(shards))
		b := get(k)
		buf, n := r.PayloadBuffer(), len(seg.Payload)
		if buf == nil && n > 0 && !b.fits(n) {
			if len(b.segs) > 0 {
				sendAll()
				b = get(k)
			}
			if !b.fits(n) {
				b.arena = make([]byte, 0, n)
			}
		}
		b.add(&seg, flow, buf, now)
		pending = true
		if round += n; len(b.segs) == cap(b.segs) || round >= roundBytes {
			sendAll()
		}
	}
	for k := range shards {
		get(k).last = true
	}
	sendAll()
	return now, earliest, latest, err
}

// shardOf picks the shard of a connection from the high half of its flow hash, which is
// the same in both directions (the assemblers index their tables with the low bits).
func shardOf(flow uint64, n int) int {
	return int((flow >> 32 * uint64(n)) >> 32)
}
