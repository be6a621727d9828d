// Package scan runs the whole analysis pipeline: capture bytes are decoded into TCP
// segments (capture), reassembled into ordered streams (reassembly), decoded and judged
// per connection (analyze, wsparse), and handed out as report records.
//
// # Output order
//
// With Options.Order OrderEnd, records are emitted in the order their connections are
// released, by reassembly.ConnStats.At (ties by start, client and server), as soon as the
// capture time has moved past it in every shard; nothing else waits. The rest of this
// section is about OrderStart, the default.
//
// Records are emitted in final output order: by start time (the capture time of the
// connection's first segment), then by client address, then by server address (compared
// as the strings of report.Record.Client and Server), ties in the order the connections
// were released. Emission is streaming: a finished connection's record is emitted as soon
// as no connection still tracked, and no connection not yet seen, can sort before it.
// Tracked connections are bounded by the earliest start among them; connections not yet
// seen by the capture time of the latest segment processed, as a connection starts at its
// first segment and capture times do not decrease within a capture. Records that must
// wait are held in a heap, so memory grows with the number of records finished after the
// start of the oldest connection still open (all of them while one connection stays open
// from the start of the capture to its end). Flush emits the rest in order.
//
// Capture times that go backwards break the "not yet seen" bound: a connection starting
// before an already emitted record is then emitted after it. So can files read one after
// the other without Flush (Read, Read, Flush) whose time ranges overlap.
//
// # Concurrency
//
// Read decodes the capture on one goroutine, which hands batches of segments to
// Options.Workers shards by a hash of the connection's addresses. Payloads are not
// copied: the batches retain the capture reader's buffers they point into
// (capture.Buffer) until their shard is done with them. Each shard runs on its own
// goroutine with its own assembler and analyzer and releases its records in output
// order; the goroutine that called Read merges the shards' streams and calls emit. Every
// shard is told the latest capture time of the whole capture with each segment, so that
// time-based decisions (closed connections lingering, port reuse, idle timeouts) are the
// ones a single assembler would make, and the records do not depend on the number of
// shards (see Options.Workers for the limits that are divided between them). Flush
// flushes the shards in parallel. Nothing else is shared, and emit is only ever called
// from the goroutine that calls Read and Flush.
package scan

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/wsclosescan/wsclosescan/analyze"
	"github.com/wsclosescan/wsclosescan/capture"
	"github.com/wsclosescan/wsclosescan/layers"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
)

// Options configures every stage of the pipeline.
type Options struct {
	Capture    capture.Options
	Reassembly reassembly.Options
	Layers     layers.Options
	Analyze    analyze.Options
	// Workers is the number of shards connections are split between (by a hash of their
	// addresses), each reassembled and analysed on its own goroutine while another decodes
	// the capture. 0 means DefaultWorkers, whatever the number of processors, so that the
	// output is the same on every machine. The records do not depend on it, except that
	// Reassembly.MaxBufferedTotal, Reassembly.MaxConns, Reassembly.MaxMemory, Reassembly.SleepFrom and MaxWaiting are divided evenly
	// between the shards, so their limits are reached per shard: which records come out
	// late (see MaxWaiting) depends on the number of shards.
	Workers int
	// MaxWaiting bounds the finished records a shard holds back to emit them in start-time
	// order while an earlier connection is still open (divided between the shards like the
	// limits above). Past it the earliest is emitted at once, and connections that started
	// before it come out late, counted by Late. 0 means DefaultMaxWaiting; negative, no
	// bound. With several shards the merger may still hold the records of the other shards
	// until the shard with the old connection has moved on.
	MaxWaiting int
	// Secrets, when set, is called with the TLS key log (NSS key log text) of each pcapng
	// Decryption Secrets Block of type capture.SecretsTLSKeyLog, with the name of the file
	// it is in (as given to Read); data is only valid during the call. It is called on
	// the goroutine that decodes the capture, not the one that calls Read, during Read:
	// before any segment after the block is handed to a shard, while the shards may still
	// be analysing the segments before it (editcap --inject-secrets puts the block first,
	// before any packet). Capture.Secrets, if set, is called too, for blocks of every type.
	Secrets func(file string, data []byte)
	// SortWait bounds, in capture time, how long the start of a connection still open
	// holds back the records of connections that started after it: once the capture has
	// got SortWait past its start, later records are emitted as their connections end,
	// and its own record comes out late, counted by Late. A record so waits at most
	// SortWait after its connection ended (plus the reassembler's linger). 0 means no
	// bound in time (MaxWaiting still applies).
	SortWait time.Duration
	// Order is the output order: OrderStart (the default) or OrderEnd.
	Order Order
	// SkipHalfOpen gives no record to a connection released half-open (it only exchanged
	// SYNs, so it never carried a byte and is not WebSocket: its record would say
	// not_websocket): such connections are only counted, by SkippedHalfOpen. For a caller
	// that does not list connections that are not WebSocket; a SYN flood has millions.
	SkipHalfOpen bool
	// Idle, when set, is called on the goroutine that calls Read whenever the source has
	// no more data for the moment (a pipe from a live capture) and the records that the
	// segments read so far allowed have been emitted: the time to flush buffered output.
	Idle func()
}

// Order is an output order of records.
type Order uint8

const (
	// OrderStart: by start time, then client, then server (see the package documentation).
	// Records wait for the connections that started before them, within MaxWaiting and
	// SortWait.
	OrderStart Order = iota
	// OrderEnd: in the order connections are released, as Zeek's conn.log: by the capture
	// time at which the reassembler let the connection go (ClosedLinger after a close, at
	// an idle timeout, a port reuse, an eviction, or the end of the capture), ties by start,
	// client and server. Nothing waits beyond the capture time moving on, and the order
	// does not depend on the number of shards or processors.
	OrderEnd
)

// String returns "start" or "end".
func (o Order) String() string {
	if o == OrderEnd {
		return "end"
	}
	return "start"
}

// DefaultMaxWaiting is the default of Options.MaxWaiting: about 6 MB of records.
const DefaultMaxWaiting = 4_000

// DefaultWorkers is the default of Options.Workers. It does not follow the number of
// processors, because the shard count decides which records come out late: fixed, it
// keeps the output identical on every machine. On 2 processors 2, 3 and 4 shards run the
// 1.5 GB benchmark capture equally fast (8 about 4% slower); with the decoding goroutine
// and the merger, 4 also keep a larger machine busy.
const DefaultWorkers = 4

// DefaultOptions returns the defaults of every stage.
func DefaultOptions() Options {
	return Options{Reassembly: reassembly.DefaultOptions()}
}

// Scanner analyses one or more captures. Connections stay tracked across Read calls, so
// that files read one after the other form one capture, until Flush.
type Scanner struct {
	opts   Options
	shards []*shard
	merge  *merger
	now    time.Time // latest capture time read
	// damage is what ended the file last read (damageFile) early, "" for nothing.
	damage, damageFile string
	// fileEarliest and fileLatest are the capture times of the file last read.
	fileEarliest, fileLatest time.Time
}

// New returns a Scanner that calls emit with the record of every connection, in output
// order (see the package documentation), from the goroutine that calls Read and Flush.
// The record is emit's to keep.
func New(opts Options, emit func(*report.Record)) *Scanner {
	n := opts.Workers
	if n <= 0 {
		n = DefaultWorkers
	}
	sopts := opts
	total := opts.Reassembly.MaxBufferedTotal
	if total <= 0 {
		total = reassembly.DefaultMaxBufferedTotal
	}
	sopts.Reassembly.MaxBufferedTotal = max(total/n, 1)
	if opts.Reassembly.MaxConns > 0 {
		sopts.Reassembly.MaxConns = max(opts.Reassembly.MaxConns/n, 1)
	}
	if opts.Reassembly.MaxMemory > 0 {
		sopts.Reassembly.MaxMemory = max(opts.Reassembly.MaxMemory/int64(n), 1)
	}
	switch from := opts.Reassembly.SleepFrom; {
	case from == 0:
		sopts.Reassembly.SleepFrom = max(reassembly.DefaultSleepFrom/n, 1)
	case from > 0:
		sopts.Reassembly.SleepFrom = max(from/n, 1)
	}
	switch {
	case opts.MaxWaiting == 0:
		sopts.MaxWaiting = max(DefaultMaxWaiting/n, 1)
	case opts.MaxWaiting > 0:
		sopts.MaxWaiting = max(opts.MaxWaiting/n, 1)
	}
	s := &Scanner{opts: opts, merge: newMerger(n, emit)}
	for k := range n {
		s.shards = append(s.shards, newShard(k, sopts))
	}
	return s
}

// Read analyses the capture in src, naming it name in records and messages. It returns
// an error only when src cannot be read as a capture at all; damage later in the file
// (truncation, corrupt records) is described in the returned FileInfo, and everything
// before it is analysed.
func (s *Scanner) Read(name string, src io.Reader) (report.FileInfo, error) {
	info := report.FileInfo{Name: name, Warnings: []string{}}
	s.damage = ""
	copts := s.opts.Capture
	if want := s.opts.Secrets; want != nil {
		also := copts.Secrets
		copts.Secrets = func(kind uint32, data []byte) {
			if also != nil {
				also(kind, data)
			}
			if kind == capture.SecretsTLSKeyLog {
				want(name, data)
			}
		}
	}
	wr, src := newWaitReader(src)
	r, err := capture.NewReader(name, src, copts)
	if err != nil {
		return info, newError(name, err, wr.gzip)
	}
	for _, sh := range s.shards {
		sh.layers.SetFile(name)
	}
	err = s.run(r, wr)
	st := r.Stats()
	info.Packets = st.Packets
	info.First, info.Last = s.fileEarliest, s.fileLatest
	if !errors.Is(err, io.EOF) {
		s.damage, s.damageFile = describeDamage(err, wr.gzip), name
		info.Error = new(describe(name, err, wr.gzip) + fmt.Sprintf("; analysed the %d packets before it", st.Packets))
	}
	for _, sk := range st.Skipped {
		info.Warnings = append(info.Warnings, fmt.Sprintf("%s: skipped %d packet(s): %s (first: %s)", name, sk.Count, sk.Kind, sk.First))
	}
	if st.Clamped > 0 {
		info.Warnings = append(info.Warnings, fmt.Sprintf("%s: %d packet(s) have a timestamp outside the years 1678-2262 "+
			"(first: %s): a broken clock or a damaged interface block; they are analysed at the nearest of those bounds, "+
			"so their times, and the durations measured with them, are not the capture's", name, st.Clamped, st.FirstClamped))
	}
	if st.BadSecrets > 0 {
		info.Warnings = append(info.Warnings, fmt.Sprintf("%s: %d pcapng decryption secrets block(s) are damaged; "+
			"their keys were not read", name, st.BadSecrets))
	}
	if st.SnaplenCut > 0 {
		info.Warnings = append(info.Warnings, fmt.Sprintf("%s: %d packet(s) were cut by the snapshot length; "+
			"the missing bytes are counted in missing_bytes (capture with -s 0)", name, st.SnaplenCut))
	}
	return info, nil
}

// Damaged says that the damage that ended the file just read (its FileInfo.Error) is
// damage indeed: the caller decides, as input cut by the user is none. The records of
// connections still open then, and never seen again before Flush, say that how they ended
// may be in the part that could not be read, instead of suggesting to capture for longer.
func (s *Scanner) Damaged() {
	if s.damage == "" {
		return
	}
	for _, sh := range s.shards {
		sh.layers.AddDamage(s.fileLatest, s.damageFile, s.damage)
	}
}

// Released counts the connections the reassemblers let go, by why.
type Released struct {
	Flushed, Closed, Reused, Idle int64
	// Evicted counts the connections released early because of MaxConns.
	Evicted int64
	// AfterRelease counts the segments dropped because they came after their connection
	// was released early (idle or evicted).
	AfterRelease int64
}

// Released returns how many connections the reassemblers released, by reason. Call it
// after Flush.
func (s *Scanner) Released() Released {
	var n Released
	for _, sh := range s.shards {
		e := sh.asm.Stats().Ended
		n.Flushed += e[reassembly.EndFlushed]
		n.Closed += e[reassembly.EndClosed]
		n.Reused += e[reassembly.EndReused]
		n.Idle += e[reassembly.EndIdle]
		n.Evicted += e[reassembly.EndEvicted]
		n.AfterRelease += sh.asm.Stats().AfterRelease
	}
	return n
}

// Slept returns how many times a connection's state was packed while it was idle
// (reassembly.Options.SleepFrom). Call it after Flush.
func (s *Scanner) Slept() int64 {
	var n int64
	for _, sh := range s.shards {
		n += sh.asm.Stats().Slept
	}
	return n
}

// SkippedHalfOpen returns how many connections got no record because they were released
// half-open (Options.SkipHalfOpen). It may be called during Read, from any goroutine.
func (s *Scanner) SkippedHalfOpen() int64 {
	var n int64
	for _, sh := range s.shards {
		n += sh.skipped.Load()
	}
	return n
}

// Late returns how many records were emitted after a record that starts later, because
// more than Options.MaxWaiting records were waiting for an earlier connection to end.
func (s *Scanner) Late() int64 {
	return s.merge.late
}

// Flush ends the capture: every connection still tracked is analysed as it stands and
// its record emitted, all in output order. The Scanner can then read an unrelated capture.
func (s *Scanner) Flush() {
	// The shards flush in steps, in parallel, and in lock-step: each round releases a few
	// thousand connections of every shard, by start time, so that the merger, which must
	// wait for the slowest shard, holds about a round of records, not a shard's share of
	// the capture.
	active := slices.Clone(s.shards)
	for _, sh := range active {
		sh.ord.clock = s.now // by end, what Flush releases is released at the end of the capture
	}
	reps := make([]shardReport, len(active))
	for len(active) > 0 {
		var wg sync.WaitGroup
		for k, sh := range active {
			wg.Go(func() { reps[k] = sh.flushSome() }) // the shards share nothing
		}
		wg.Wait()
		next := active[:0]
		for k, r := range reps[:len(active)] {
			s.merge.take(r)
			if !r.final {
				next = append(next, active[k])
			}
		}
		active = next
	}
	for _, sh := range s.shards {
		sh.layers.ClearDamage()
	}
	s.now = time.Time{}
}

// run decodes r on one goroutine, reassembles and analyses on one goroutine per shard, and
// merges the records on the calling one. It returns the error that ended r (io.EOF at a
// clean end).
func (s *Scanner) run(r *capture.Reader, wr *waitReader) error {
	s.merge.restart()
	reports := make(chan shardReport, len(s.shards)*(numBatches+1))
	for _, sh := range s.shards {
		go sh.run(reports)
	}
	type result struct {
		err                   error
		now, earliest, latest time.Time
	}
	done := make(chan result, 1)
	go func() {
		live := wr
		if !wr.live {
			live = nil
		}
		now, earliest, latest, err := decode(r, live, s.shards, s.now)
		done <- result{err, now, earliest, latest}
	}()
	for running := len(s.shards); running > 0; {
		rep := <-reports
		s.merge.take(rep)
		if rep.idle && s.opts.Idle != nil {
			s.opts.Idle()
		}
		if rep.last {
			running--
		}
	}
	res := <-done
	s.now, s.fileEarliest, s.fileLatest = res.now, res.earliest, res.latest
	return res.err
}
