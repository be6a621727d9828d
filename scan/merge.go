package scan

import (
	"github.com/wsclosescan/wsclosescan/report"
)

// merger merges the shards' record streams, each already in output order, into one,
// emitting a record once no shard can still produce one that sorts before it: a shard
// with records queued will only produce later ones, and one with none queued will only
// produce records starting at or after its last reported bound.
//
// late counts the records emitted after one that starts later: the shards emit early when
// more than Options.MaxWaiting records wait (the merger itself never does, as that would
// depend on the timing of the shards' goroutines).
type merger struct {
	emit   func(*report.Record)
	queues [][]outRec
	heads  []int
	bounds []outKey
	final  []bool // the shard produces nothing more until the next Read
	last   outRec // the last record emitted
	late   int64
}

func newMerger(n int, emit func(*report.Record)) *merger {
	return &merger{emit: emit, queues: make([][]outRec, n), heads: make([]int, n),
		bounds: make([]outKey, n), final: make([]bool, n)}
}

// restart forgets the shards' bounds before a Read: until a shard reports, it may still
// produce any record (after Flush it was marked final).
func (m *merger) restart() {
	m.last = outRec{}
	for k := range m.bounds {
		m.bounds[k], m.final[k] = outKey{}, false
	}
}

// take queues a shard's report and emits what it can.
func (m *merger) take(r shardReport) {
	k := r.shard
	if m.heads[k] == len(m.queues[k]) {
		m.queues[k], m.heads[k] = m.queues[k][:0], 0
	}
	if len(m.queues[k]) == 0 {
		m.queues[k] = r.recs // take the slice over instead of copying it
	} else {
		m.queues[k] = append(m.queues[k], r.recs...)
	}
	m.bounds[k], m.final[k] = r.bound, r.final
	m.drain()
}

// drain emits queued records while the smallest one is safe to emit.
func (m *merger) drain() {
	for {
		best := -1
		for k, q := range m.queues {
			if m.heads[k] < len(q) && (best < 0 ||
				compareOut(&q[m.heads[k]], &m.queues[best][m.heads[best]]) < 0) {
				best = k
			}
		}
		if best < 0 {
			return
		}
		r := m.queues[best][m.heads[best]]
		for k, q := range m.queues {
			if m.heads[k] == len(q) && !m.final[k] && !r.before(m.bounds[k]) {
				return // shard k may still produce a record sorting before r
			}
		}
		m.queues[best][m.heads[best]] = outRec{}
		m.heads[best]++
		if m.last.rec != nil && compareOut(&r, &m.last) < 0 {
			m.late++
		} else {
			m.last = r
		}
		m.emit(r.rec)
	}
}
