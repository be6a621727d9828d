package scan

import (
	"slices"
	"sync/atomic"
	"time"

	"github.com/wsclosescan/wsclosescan/analyze"
	"github.com/wsclosescan/wsclosescan/layers"
	"github.com/wsclosescan/wsclosescan/reassembly"
)

// shard reassembles and analyses the connections whose endpoints hash to it. During Read
// it runs on its own goroutine; each shard owns its Assembler, layers, Analyzer and orderer, so
// shards share nothing but the batches.
type shard struct {
	idx    int
	layers *layers.Factory
	asm    *reassembly.Assembler
	ord    orderer
	out    []outRec // records released since the last report
	in     chan *batch
	free   chan *batch
	quiet  int // batches since the last report
	// skipped counts the connections released half-open without a record
	// (Options.SkipHalfOpen)
	skipped atomic.Int64
}

// quietBatches is the most batches a shard processes without reporting.
const quietBatches = 4

// report is what a shard tells the merger after each batch: the records it released (in
// output order) and a bound: every record it releases later starts at or after bound.
type shardReport struct {
	shard int
	recs  []outRec
	bound outKey
	final bool // the shard holds nothing more (after Flush)
	last  bool // the shard processed the last batch of the Read
	idle  bool // the batch was sent because the source had no more data for now
}

func newShard(idx int, opts Options) *shard {
	sh := &shard{idx: idx, in: make(chan *batch, numBatches), free: make(chan *batch, numBatches)}
	sh.ord.emit = func(r outRec) { sh.out = append(sh.out, r) }
	sh.ord.byEnd = opts.Order == OrderEnd
	sh.ord.limit = max(opts.MaxWaiting, 0)
	sh.ord.wait, sh.ord.linger = opts.SortWait, opts.Reassembly.ClosedLinger
	if sh.ord.linger <= 0 {
		sh.ord.linger = reassembly.DefaultClosedLinger
	}
	sh.layers = layers.New(opts.Layers, analyze.New(opts.Analyze, sh.ord.add).Judge)
	var f reassembly.StreamFactory = &factory{layers: sh.layers, o: &sh.ord}
	if opts.SkipHalfOpen {
		f = &skipFactory{factory{layers: sh.layers, o: &sh.ord}, &sh.skipped}
	}
	sh.asm = reassembly.NewAssembler(f, opts.Reassembly)
	sh.ord.halfOpen = sh.asm.HalfOpenStart
	for range numBatches {
		sh.free <- newBatch()
	}
	return sh
}

// run processes batches until the last one of the Read, reporting after each.
func (sh *shard) run(reports chan<- shardReport) {
	for {
		b := <-sh.in
		sh.asm.Prefetch(b.flows)
		for i := range b.segs {
			seg := &b.segs[i]
			sh.ord.clock = b.nows[i]
			sh.asm.Advance(b.nows[i])
			sh.ord.now = seg.Time
			sh.asm.AddFlow(seg, b.flows[i])
		}
		// Every segment read so far has been processed: a connection this shard has not
		// seen yet starts at a later segment, so at or after the latest time read. The
		// clock moves on even for a shard without segments in the batch, so that its
		// closed connections are released when a single assembler would release them.
		sh.ord.clock = b.now
		sh.asm.Advance(b.now)
		sh.ord.now = b.now
		sh.ord.release()
		last, idle := b.last, b.idle
		b.release()
		sh.free <- b
		// Reports wake the merger; one without records only moves the bound, which can
		// wait a few batches.
		if sh.quiet++; len(sh.out) > 0 || last || idle || sh.quiet >= quietBatches {
			sh.quiet = 0
			rep := sh.report(false, last)
			rep.idle = idle
			reports <- rep
		}
		if last {
			return
		}
	}
}

// report hands over the released records.
func (sh *shard) report(final, last bool) shardReport {
	r := shardReport{shard: sh.idx, recs: sh.out, bound: sh.ord.bound(), final: final, last: last}
	sh.out = nil
	return r
}

// flushStep is how many connections a shard releases at Flush between two reports, so
// that the records of a capture's many connections still open at its end (a SYN flood's)
// stream to the merger instead of piling up.
const flushStep = 2048

// flushSome releases up to flushStep connections and reports their records; the report
// is final once the shard holds nothing more.
func (sh *shard) flushSome() shardReport {
	sh.ord.flushing = true
	if sh.asm.FlushSome(flushStep) {
		sh.ord.release()
		return sh.report(false, false)
	}
	sh.out = slices.Grow(sh.out, len(sh.ord.ready))
	sh.ord.now = time.Time{} // the next capture may start earlier
	sh.ord.flush()
	sh.ord.flushing = false
	return sh.report(true, false)
}
