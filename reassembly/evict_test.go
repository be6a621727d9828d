package reassembly

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// TestMaxConnsEvictsTheLongestIdle: with MaxConns 2, a third connection releases the one
// idle the longest (closed ones first, then half-open ones, then ones that never carried a
// byte). The third one is a bare SYN: it is kept half-open, without a Stream. Lines are
// "port: event", by the client's port.
func TestMaxConnsEvictsTheLongestIdle(t *testing.T) {
	from := func(port uint16, ms int, flags string, seq uint32, payload string) Segment {
		g := c(ms, flags, seq, 0, payload)
		g.Src = netip.AddrPortFrom(cli.Addr(), port)
		return g
	}
	tests := []struct {
		name    string
		segs    []Segment
		want    []string // "conn: event" lines of interest, in order
		evicted int64    // ends counted as EndEvicted
	}{
		{"open connections: the least recently active goes", []Segment{
			from(1001, 0, "S", 100, ""), from(1002, 1, "S", 200, ""),
			from(1001, 2, "A", 101, "x"), // 1002 is now the longest idle
			from(1003, 3, "S", 300, ""),
		}, []string{"1001 new", "1002 new", "1002 end evicted"}, 1},
		// A SYN flood's half-open connections go before a quiet connection that carried
		// data, though it is idle the longest.
		{"a connection that never carried a byte goes first", []Segment{
			from(1001, 0, "S", 100, ""), from(1001, 1, "A", 101, "x"),
			from(1002, 2, "S", 200, ""),
			from(1003, 3, "S", 300, ""),
		}, []string{"1001 new", "1002 new", "1002 end evicted"}, 1},
		// A closed connection goes first, as closed: only its linger is cut short.
		{"a closed connection goes before an open one", []Segment{
			from(1001, 0, "S", 100, ""), from(1002, 1, "S", 200, ""),
			from(1002, 2, "R", 201, ""), // closed by RST, lingering
			from(1001, 3, "A", 101, "x"),
			from(1003, 4, "S", 300, ""),
		}, []string{"1002 new", "1001 new", "1002 end closed"}, 0},
		{"a half-open connection goes before one that carried data", []Segment{
			from(1001, 0, "S", 100, ""), from(1001, 1, "A", 101, "x"),
			from(1002, 2, "S", 200, ""),
			from(1003, 3, "S", 300, ""),
			from(1003, 4, "A", 301, "y"),
		}, []string{"1001 new", "1002 new", "1002 end evicted", "1003 new"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, a := run(t, Options{MaxConns: 2}, tt.segs, true)
			var got []string
			for _, l := range rec.log {
				f := strings.Fields(l)
				n, _ := strconv.Atoi(strings.TrimSuffix(f[0], ":"))
				port := strconv.Itoa(int(rec.streams[n-1].info.Client.Port()))
				switch f[1] {
				case "new":
					got = append(got, port+" new")
				case "end":
					got = append(got, port+" end "+f[2])
				}
			}
			if strings.Join(got, ", ") != strings.Join(tt.want, ", ") {
				t.Errorf("got %q\nwant %q\nlog:\n%s", got, tt.want, strings.Join(rec.log, "\n"))
			}
			if st := a.Stats(); st.Tracked != 2 || st.Ended[EndEvicted] != tt.evicted {
				t.Errorf("tracked %d, evicted %d; want 2 and %d", st.Tracked, st.Ended[EndEvicted], tt.evicted)
			}
		})
	}
}

// keepStream is a recorded Stream that keeps (Keeper) as told.
type keepStream struct {
	Stream
	keep bool
}

func (k keepStream) Keep() bool { return k.keep }

// keepFactory makes recorded Streams that keep unless their client port is in drop.
type keepFactory struct {
	*recorder
	drop map[uint16]bool
}

func (f keepFactory) NewStream(info ConnInfo) Stream {
	return keepStream{f.recorder.NewStream(info), !f.drop[info.Client.Port()]}
}

// TestEvictionOrder: under MaxMemory, as under MaxConns, a connection whose Stream does
// not keep goes before the one idle the longest, and the budget counts half-open
// connections at their own cost.
func TestEvictionOrder(t *testing.T) {
	from := func(port uint16, ms int, flags string, seq uint32, payload string) Segment {
		g := c(ms, flags, seq, 0, payload)
		g.Src = netip.AddrPortFrom(cli.Addr(), port)
		return g
	}
	segs := []Segment{
		from(1001, 0, "S", 100, ""), from(1001, 1, "A", 101, "x"), // keeps, idle the longest
		from(1002, 2, "S", 200, ""), from(1002, 3, "A", 201, "y"), // does not keep
		from(1003, 4, "S", 300, ""), from(1003, 5, "A", 301, "z"),
	}
	r := &recorder{t: t}
	a := NewAssembler(keepFactory{r, map[uint16]bool{1002: true}}, Options{MaxMemory: 2 * DefaultConnCost})
	for i := range segs {
		a.Add(&segs[i])
	}
	if len(r.streams) != 3 || r.streams[1].stats.Reason != EndEvicted || r.streams[1].info.Client.Port() != 1002 {
		t.Fatalf("want 1002 evicted:\n%s", strings.Join(r.log, "\n"))
	}
	// The budget is full: the first SYN of a flood releases the connection idle the
	// longest, which leaves room for 20 half-open ones; from then on the oldest half-open
	// one makes room for the next.
	flood := synFlood(50)
	for i := range flood {
		a.Add(&flood[i])
	}
	if st := a.Stats(); st.HalfOpen != 20 || st.Memory > 2*DefaultConnCost || st.Ended[EndEvicted] != 32 {
		t.Errorf("got %d half-open, memory %d, %d evicted; want 20 within %d, 32", st.HalfOpen, st.Memory,
			st.Ended[EndEvicted], 2*DefaultConnCost)
	}
	if r.streams[0].stats.Reason != EndEvicted || r.streams[2].ended {
		t.Errorf("want 1001 evicted, 1003 kept:\n%s", strings.Join(r.log, "\n"))
	}
}
