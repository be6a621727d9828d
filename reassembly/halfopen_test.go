package reassembly

import (
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"time"
	"unsafe"
)

// TestHalfOpenReplay: a connection kept half-open (SYN, SYN retransmitted, SYN-ACK) gets
// its Stream at the first other segment, and the Stream sees the stored segments with
// their own times before that segment, as it would have without the half-open table.
func TestHalfOpenReplay(t *testing.T) {
	segs := []Segment{
		c(0, "S", 100, 0, ""),
		c(1000, "S", 100, 0, ""), // retransmission
		s(1001, "SA", 500, 101, ""),
		c(1002, "A", 101, 501, "hi"),
	}
	rec, a := run(t, Options{}, segs[:3], true)
	if len(rec.streams) != 0 {
		t.Fatalf("got %d streams after the handshake's SYNs, want 0 (half-open)", len(rec.streams))
	}
	if st := a.Stats(); st.Tracked != 1 || st.Connections != 1 {
		t.Errorf("got %d tracked, %d connections, want 1, 1", st.Tracked, st.Connections)
	}
	rec, _ = run(t, Options{}, segs, false)
	checkLog(t, rec.log, []string{
		"1: new client=10.0.0.1:50000 by=SYN t=0",
		"1: client SYN @0 t=0",
		"1: server SYN-ACK @0 t=1001",
		"1: client data \"hi\" t=1002",
		"1: end flushed",
	})
	got := rec.streams[0].stats.Dirs
	if got[0].Packets != 3 || got[0].Retransmitted != 1 || got[0].Bytes != 2 || got[1].Packets != 1 {
		t.Errorf("got stats %+v, want 3 client packets (1 retransmitted, 2 bytes), 1 server packet", got)
	}
}

// TestHalfOpenNotPromoted: segments that do not fit the half-open table (a SYN-ACK before
// the SYN, a second SYN with another sequence number, an RST) give the connection its
// Stream, and Flush releases the rest, each once, with its SYN.
func TestHalfOpenNotPromoted(t *testing.T) {
	tests := []struct {
		name    string
		segs    []Segment
		streams int
	}{
		{"SYN-ACK first, then a SYN", []Segment{s(0, "SA", 500, 101, ""), c(1, "S", 100, 0, "")}, 1},
		{"a new SYN: port reuse", []Segment{c(0, "S", 100, 0, ""), c(1, "S", 900, 0, "")}, 2},
		{"RST", []Segment{c(0, "S", 100, 0, ""), s(1, "RA", 0, 101, "")}, 1},
		{"SYN with data", []Segment{c(0, "S", 100, 0, "x")}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, _ := run(t, Options{}, tt.segs, false)
			if len(rec.streams) != tt.streams {
				t.Errorf("got %d streams, want %d\n%s", len(rec.streams), tt.streams, rec.log)
			}
		})
	}
}

// synFlood returns n SYNs from distinct ports and addresses, 1 ms apart.
func synFlood(n int) []Segment {
	segs := make([]Segment, n)
	for i := range segs {
		g := c(i, "S", uint32(i), 0, "")
		g.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 16), byte(i >> 8)}), uint16(i))
		segs[i] = g
	}
	return segs
}

// TestHalfOpenFlood: unanswered SYNs create no Stream until Flush, then one each, in the
// order they came, each ended once (run checks) with its SYN.
func TestHalfOpenFlood(t *testing.T) {
	const n = 5000
	segs := synFlood(n)
	r := &recorder{t: t}
	a := NewAssembler(r, Options{})
	for i := range segs {
		a.Add(&segs[i])
	}
	if len(r.streams) != 0 || a.Stats().Tracked != n {
		t.Fatalf("before Flush got %d streams, %d tracked, want 0, %d", len(r.streams), a.Stats().Tracked, n)
	}
	if got, ok := a.HalfOpenStart(); !ok || !got.Equal(at(0)) {
		t.Errorf("HalfOpenStart = %v, %v, want %v, true", got, ok, at(0))
	}
	a.Flush()
	if len(r.streams) != n || a.Stats().Tracked != 0 {
		t.Fatalf("after Flush got %d streams, %d tracked, want %d, 0", len(r.streams), a.Stats().Tracked, n)
	}
	for i, st := range r.streams {
		if st.info.Client != segs[i].Src || st.ends != 1 {
			t.Fatalf("stream %d: client %v, ends %d, want %v, 1", i, st.info.Client, st.ends, segs[i].Src)
		}
	}
}

// TestHalfOpenSegmentsBetweenFlushSteps: FlushSome drops the half-open index while it
// releases the half-open connections; a segment that comes between two steps still finds
// its half-open connection (the index is rebuilt), and a new SYN is kept half-open.
func TestHalfOpenSegmentsBetweenFlushSteps(t *testing.T) {
	const n = 300
	segs := synFlood(n)
	r := &recorder{t: t}
	a := NewAssembler(r, Options{})
	for i := range segs {
		a.Add(&segs[i])
	}
	if !a.FlushSome(100) || len(r.streams) != 100 {
		t.Fatalf("after FlushSome(100): %d streams, want 100 and more to flush", len(r.streams))
	}
	// The SYN-ACK of connection 200 (still half-open), then a SYN of a new connection.
	sa := s(n+1, "SA", 7000, uint32(200)+1, "")
	sa.Src, sa.Dst = segs[200].Dst, segs[200].Src
	a.Add(&sa)
	syn := synFlood(n + 1)[n]
	syn.Time = at(n + 2)
	a.Add(&syn)
	if len(r.streams) != 100 || a.Stats().Tracked != n-100+1 {
		t.Fatalf("after the segments: %d streams, %d tracked, want 100, %d (the SYN-ACK absorbed, the SYN half-open)",
			len(r.streams), a.Stats().Tracked, n-100+1)
	}
	a.Flush()
	if len(r.streams) != n+1 {
		t.Fatalf("after Flush got %d streams, want %d", len(r.streams), n+1)
	}
	for i, st := range r.streams {
		if st.ends != 1 {
			t.Errorf("stream %d: ended %d times", i, st.ends)
		}
	}
	if got := r.streams[200].stats.Dirs[1].Packets; got != 1 {
		t.Errorf("connection 200: %d server packets, want its SYN-ACK", got)
	}
}

// BenchmarkHalfOpen measures the memory a half-open connection costs (B/halfopen: live
// heap after n SYNs plus the table's pages mapped outside the heap, divided by n) and the
// time to take a SYN.
func BenchmarkHalfOpen(b *testing.B) {
	const n = 200_000
	segs := synFlood(n)
	b.ReportAllocs()
	var per float64
	var took time.Duration
	for b.Loop() {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		a := NewAssembler(nil, Options{})
		start := time.Now()
		for i := range segs {
			a.Add(&segs[i])
		}
		took += time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&m1)
		pages := len(a.half.pages) * int(unsafe.Sizeof(*a.half.pages[0]))
		per = (float64(m1.HeapAlloc) - float64(m0.HeapAlloc) + float64(pages)) / n
		runtime.KeepAlive(a)
	}
	b.ReportMetric(per, "B/halfopen")
	b.ReportMetric(float64(took.Nanoseconds())/float64(b.N*n), "ns/SYN")
}

// TestPackedAddr: the half-open table's packed addresses give back the same AddrPort,
// zones and IPv4-mapped forms included.
func TestPackedAddr(t *testing.T) {
	var tab halfTable
	for _, s := range []string{"10.0.0.1:80", "[::ffff:10.0.0.1]:80", "[2001:db8::1]:443", "[fe80::1%eth0]:9", "[fe80::1%lo]:9", "[::]:0"} {
		ap := netip.MustParseAddrPort(s)
		p := tab.pack(ap)
		if got := tab.unpack(&p); got != ap {
			t.Errorf("%s: got %v back", s, got)
		}
	}
}

// taker is a recorder that takes the half-open connections it is offered (HalfOpenTaker),
// remembering their ConnInfo and reasons.
type taker struct {
	recorder
	took    []ConnInfo
	reasons []EndReason
}

// counter is a taker that is a HalfOpenCounter.
type counter struct {
	taker
	flushed int
}

func (k *counter) TakeHalfOpens(n int, reason EndReason) {
	if reason != EndFlushed {
		k.t.Errorf("TakeHalfOpens(%d, %v), want EndFlushed", n, reason)
	}
	k.flushed += n
}

func (k *taker) TakeHalfOpen(info ConnInfo, reason EndReason) bool {
	k.took = append(k.took, info)
	k.reasons = append(k.reasons, reason)
	return true
}

// TestHalfOpenTaker: a factory that takes half-open connections gets no Stream for them,
// only TakeHalfOpen with the ConnInfo their Stream would have had and the reason End would
// have said; the counters (released by reason, tracked, memory, segments dropped after an
// early release) are those of an assembler whose Streams see everything; and a connection
// promoted before its release gets its Stream as usual.
func TestHalfOpenTaker(t *testing.T) {
	const n = 400
	flood := synFlood(n)
	// Connection 5 is answered and carries data (promoted); 7 and 9 send an ACK at the
	// end (promoted, or dropped and counted once released early); a late SYN-ACK answers
	// 300.
	var all []Segment
	for i, g := range flood {
		all = append(all, g)
		if i == 6 {
			sa, data := s(6, "SA", 900, 6, ""), c(6, "A", 6, 901, "hi")
			sa.Src, sa.Dst = flood[5].Dst, flood[5].Src
			data.Src, data.Dst = flood[5].Src, flood[5].Dst
			all = append(all, sa, data)
		}
	}
	for _, i := range []int{7, 9} {
		g := flood[i]
		g.Time, g.Flags = at(n+10+i), FlagACK
		all = append(all, g)
	}
	sa := s(n+30, "SA", 700, 301, "")
	sa.Src, sa.Dst = flood[300].Dst, flood[300].Src
	all = append(all, sa)
	for _, opts := range []Options{{}, {IdleTimeout: 200 * time.Millisecond}, {MaxConns: 150}, {MaxMemory: 100 * 200}} {
		r := &recorder{t: t}
		a := NewAssembler(r, opts)
		k := &taker{recorder: recorder{t: t}}
		b := NewAssembler(k, opts)
		for i := range all {
			x, y := all[i], all[i]
			a.Add(&x)
			b.Add(&y)
			if a.Stats() != b.Stats() {
				t.Fatalf("%+v: after segment %d: stats\n%+v\nwith a taker\n%+v", opts, i, a.Stats(), b.Stats())
			}
		}
		a.Flush()
		b.Flush()
		if a.Stats() != b.Stats() {
			t.Fatalf("%+v: after Flush: stats\n%+v\nwith a taker\n%+v", opts, a.Stats(), b.Stats())
		}
		// A counter takes them too, and at Flush all at once.
		cnt := &counter{taker: taker{recorder: recorder{t: t}}}
		c := NewAssembler(cnt, opts)
		for i := range all {
			x := all[i]
			c.Add(&x)
		}
		c.Flush()
		if c.Stats() != a.Stats() || len(cnt.took)+cnt.flushed != len(k.took) || len(cnt.streams) != len(k.streams) {
			t.Errorf("%+v: with a counter: stats\n%+v\n%d taken, %d counted at Flush, %d streams; want\n%+v\n%d in all, %d streams",
				opts, c.Stats(), len(cnt.took), cnt.flushed, len(cnt.streams), a.Stats(), len(k.took), len(k.streams))
		}
		if len(k.streams)+len(k.took) != len(r.streams) || len(k.streams) == 0 || len(k.took) < n/2 {
			t.Fatalf("%+v: %d streams and %d taken, want %d in all, some of each", opts, len(k.streams),
				len(k.took), len(r.streams))
		}
		took := map[netip.AddrPort]int{}
		for i, info := range k.took {
			took[info.Client] = i
		}
		j := 0
		for _, st := range r.streams {
			want := st.info
			want.Acks = nil
			if i, ok := took[want.Client]; ok {
				if k.took[i] != want || k.reasons[i] != st.stats.Reason || st.stats.Dirs[0].Packets+st.stats.Dirs[1].Packets > 2 {
					t.Errorf("%+v: took %+v (%v), its Stream had %+v (%v, %+v)", opts, k.took[i], k.reasons[i], want,
						st.stats.Reason, st.stats.Dirs)
				}
				continue
			}
			got := k.streams[j].info
			got.Acks = nil
			if got != want {
				t.Errorf("%+v: stream %d of the taker is %+v, want %+v", opts, j, got, want)
			}
			j++
		}
	}
}

// TestPrefetch: Prefetch, with flows of tracked, half-open and unknown connections, before
// and after Flush has dropped the half-open index, changes nothing an assembler reports.
func TestPrefetch(t *testing.T) {
	segs := synFlood(3000)
	more := []Segment{s(3000, "SA", 900, 6, ""), c(3000, "A", 6, 901, "hi")}
	more[0].Src, more[0].Dst = segs[5].Dst, segs[5].Src
	more[1].Src, more[1].Dst = segs[5].Src, segs[5].Dst
	segs = append(segs, more...)
	flows := make([]uint64, len(segs)+1)
	for i := range segs {
		flows[i] = FlowHash(segs[i].Src, segs[i].Dst)
	}
	flows[len(segs)] = 12345
	r1, r2 := &recorder{t: t}, &recorder{t: t}
	a, b := NewAssembler(r1, Options{}), NewAssembler(r2, Options{})
	for i := range segs {
		if i%256 == 0 {
			b.Prefetch(flows[i:min(i+256, len(flows))])
		}
		x, y := segs[i], segs[i]
		a.Add(&x)
		b.Add(&y)
	}
	b.Prefetch(flows)
	a.FlushSome(100)
	b.FlushSome(100)
	b.Prefetch(flows) // the half-open index is dropped now
	a.Flush()
	b.Flush()
	b.Prefetch(flows)
	if a.Stats() != b.Stats() || len(r1.streams) != len(r2.streams) || !slices.Equal(r1.log, r2.log) {
		t.Errorf("with Prefetch: %+v, %d streams; without: %+v, %d streams", b.Stats(), len(r2.streams), a.Stats(), len(r1.streams))
	}
}
