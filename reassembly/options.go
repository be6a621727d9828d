package reassembly

import "time"

// Default limits used by DefaultOptions and for zero fields of Options.
const (
	DefaultMaxBufferedPerConn = 4 << 20
	DefaultMaxBufferedTotal   = 64 << 20
	DefaultClosedLinger       = 10 * time.Second
	// DefaultConnCost and DefaultHalfOpenCost are the defaults of Options.ConnCost and
	// Options.HalfOpenCost: what an open WebSocket connection costs the whole pipeline
	// (scripts/bench.sh mass: peak RSS per open connection, garbage collector headroom
	// included) and what a half-open one costs (BenchmarkHalfOpen, with headroom).
	DefaultConnCost     = 4 << 10
	DefaultHalfOpenCost = 200
	// DefaultSleepFrom and DefaultSleepIdle are the defaults of Options.SleepFrom and
	// Options.SleepIdle: a capture with thousands of connections open at once (a busy
	// server's) keeps them all awake; one with a hundred thousand (BENCHMARKS.md, the mass
	// shape) lets the idle ones sleep.
	DefaultSleepFrom = 16384
	DefaultSleepIdle = 4096
)

// maxSegmentSpan bounds the sequence space one segment may claim (payload plus Missing), so
// that a corrupt length cannot wrap the 32-bit sequence arithmetic.
const maxSegmentSpan = 1 << 24

// Options configures an Assembler. Zero fields take the defaults of DefaultOptions, except
// IdleTimeout, whose zero value means "never".
type Options struct {
	// MaxBufferedPerConn bounds the out-of-order bytes buffered for one connection (both
	// directions). Past it, the connection's oldest hole is declared a GapBufferLimit gap.
	MaxBufferedPerConn int
	// MaxBufferedTotal bounds the out-of-order bytes buffered across all connections. Past
	// it, the oldest hole of the connection that started buffering first is declared a
	// GapBufferLimit gap, until the total is under the limit again.
	MaxBufferedTotal int
	// ClosedLinger is how much capture time a closed connection (a FIN seen in both
	// directions, or an RST within the window) stays tracked after its last segment, so that
	// late retransmissions and RSTs still reach its Stream. Then End(EndClosed) is called.
	ClosedLinger time.Duration
	// IdleTimeout releases an open connection with End(EndIdle) after this much capture time
	// without a segment. Zero means never: open connections stay until Flush.
	IdleTimeout time.Duration
	// MaxConns bounds the connections tracked at once, half-open ones included. When a new
	// connection would exceed it, the closed connection idle the longest is released
	// (End(EndClosed)); failing that, with End(EndEvicted): the oldest half-open one, else,
	// among the oldest few, one that never carried a payload byte, then one whose Stream
	// does not keep (see Keeper), else the open one idle the longest. The 4-tuple of a
	// connection released early is remembered (see tomb.go). Zero means no bound.
	MaxConns int
	// MaxMemory bounds the connections tracked at once by their estimated memory:
	// ConnCost bytes for each connection tracked in full, HalfOpenCost for each half-open
	// one (see doc.go). Past it, connections are released as with MaxConns. Zero means no
	// bound; both bounds may apply.
	MaxMemory int64
	// ConnCost and HalfOpenCost are the estimates MaxMemory counts (0: the defaults).
	ConnCost, HalfOpenCost int
	// SleepFrom is how many connections must be tracked before idle Streams are put to
	// sleep (see Sleeper): 0 takes DefaultSleepFrom, a negative value means never.
	SleepFrom int
	// SleepIdle is how many segments (of any connection) must pass without one of a
	// connection before its Stream is put to sleep: 0 takes DefaultSleepIdle, a negative
	// value means none. The assembler looks at one connection per segment, in creation
	// order, so a connection also waits for its turn.
	SleepIdle int64
}

// DefaultOptions returns 4 MiB per connection, 64 MiB in total, a 10 s closed linger and no
// idle timeout.
func DefaultOptions() Options {
	return Options{
		MaxBufferedPerConn: DefaultMaxBufferedPerConn,
		MaxBufferedTotal:   DefaultMaxBufferedTotal,
		ClosedLinger:       DefaultClosedLinger,
	}
}

// withDefaults replaces zero or negative fields by their defaults.
func (o Options) withDefaults() Options {
	if o.MaxBufferedPerConn <= 0 {
		o.MaxBufferedPerConn = DefaultMaxBufferedPerConn
	}
	if o.MaxBufferedTotal <= 0 {
		o.MaxBufferedTotal = DefaultMaxBufferedTotal
	}
	if o.ClosedLinger <= 0 {
		o.ClosedLinger = DefaultClosedLinger
	}
	if o.IdleTimeout < 0 {
		o.IdleTimeout = 0
	}
	if o.MaxConns < 0 {
		o.MaxConns = 0
	}
	if o.MaxMemory < 0 {
		o.MaxMemory = 0
	}
	if o.ConnCost <= 0 {
		o.ConnCost = DefaultConnCost
	}
	if o.HalfOpenCost <= 0 {
		o.HalfOpenCost = DefaultHalfOpenCost
	}
	if o.SleepFrom == 0 {
		o.SleepFrom = DefaultSleepFrom
	}
	switch {
	case o.SleepIdle == 0:
		o.SleepIdle = DefaultSleepIdle
	case o.SleepIdle < 0:
		o.SleepIdle = 0
	}
	return o
}

// AssemblerStats counts what an Assembler has processed so far.
type AssemblerStats struct {
	Segments     int64 // segments passed to Add
	Connections  int64 // connections seen (half-open ones included; each gets one Stream)
	Tracked      int   // connections tracked now (half-open ones included)
	PeakTracked  int   // most connections tracked at once
	HalfOpen     int   // half-open connections tracked now
	PeakHalfOpen int   // most half-open connections tracked at once
	Memory       int64 // estimated memory of the connections tracked now (see MaxMemory)
	Buffered     int   // out-of-order bytes buffered now
	PeakBuffered int   // most out-of-order bytes buffered at once
	Slept        int64 // Sleeper.Sleep calls that reported true
	// ConnLimitGaps and TotalLimitGaps count the holes declared because of
	// MaxBufferedPerConn and MaxBufferedTotal.
	ConnLimitGaps  int64
	TotalLimitGaps int64
	// Ended counts End calls by reason (indexed by EndReason).
	Ended [5]int64
	// AfterRelease counts the segments dropped because their connection had been released
	// early (IdleTimeout, MaxConns) and was remembered by a tombstone (see tomb.go).
	AfterRelease int64
	// IgnoredSYNs counts SYNs with a new sequence number on a connection that was neither
	// closing nor empty, which were dropped instead of starting a new connection.
	IgnoredSYNs int64
}
