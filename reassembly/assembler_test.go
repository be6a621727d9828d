package reassembly

import (
	"net/netip"
	"testing"
	"time"
)

// handshake: client ISN 1000 (data from 1001), server ISN 5000 (data from 5001).
func handshake() []Segment {
	return []Segment{c(0, "S", 1000, 0, ""), s(1, "SA", 5000, 1001, ""), c(2, "A", 1001, 5001, "")}
}

func hs(more ...Segment) []Segment { return append(handshake(), more...) }

var hsLog = []string{
	"1: new client=10.0.0.1:50000 by=SYN t=0",
	"1: client SYN @0 t=0",
	"1: server SYN-ACK @0 t=1",
}

func logWith(lines ...string) []string { return append(append([]string{}, hsLog...), lines...) }

// other builds a segment of a second, unrelated connection.
func other(ms int, flags string, seq, ack uint32, payload string) Segment {
	g := c(ms, flags, seq, ack, payload)
	g.Src = netip.MustParseAddrPort("10.0.0.3:40000")
	return g
}

// mapped rewrites a segment's source address to its IPv4-mapped IPv6 form.
func mapped(g Segment) Segment {
	g.Src = netip.AddrPortFrom(netip.AddrFrom16(g.Src.Addr().As16()), g.Src.Port())
	return g
}

func TestAssemblerDelivery(t *testing.T) {
	tests := []struct {
		name string
		segs []Segment
		want []string
	}{
		{
			name: "in order with FIN both ways",
			segs: hs(c(3, "PA", 1001, 5001, "hello"), s(4, "PA", 5001, 1006, "world!"),
				c(5, "FA", 1006, 5007, ""), s(6, "FA", 5007, 1007, ""), c(7, "A", 1007, 5008, "")),
			want: logWith(`1: client data "hello" t=3`, `1: server data "world!" t=4`,
				"1: client FIN @5 t=5", "1: server FIN @6 t=6", "1: end flushed"),
		},
		{
			name: "out of order delivered when the hole fills",
			segs: hs(c(3, "PA", 1006, 5001, "world"), c(4, "PA", 1001, 5001, "hello")),
			want: logWith(`1: client data "hello" t=4`, `1: client data "world" t=3`, "1: end flushed"),
		},
		{
			name: "retransmission not redelivered",
			segs: hs(c(3, "PA", 1001, 5001, "hello"), c(4, "PA", 1001, 5001, "hello")),
			want: logWith(`1: client data "hello" t=3`, "1: end flushed"),
		},
		{
			name: "partial overlap delivers only new bytes",
			segs: hs(c(3, "PA", 1001, 5001, "hello"), c(4, "PA", 1004, 5001, "loXYZ")),
			want: logWith(`1: client data "hello" t=3`, `1: client data "XYZ" t=4`, "1: end flushed"),
		},
		{
			name: "overlap with different buffered bytes",
			segs: hs(c(3, "PA", 1006, 5001, "world"), c(4, "PA", 1004, 5001, "loWOr"), c(5, "PA", 1001, 5001, "hel")),
			want: logWith("1: client retransmission with different bytes @5 t=4",
				`1: client data "hel" t=5`, `1: client data "loWOr" t=4`, `1: client data "ld" t=3`, "1: end flushed"),
		},
		{
			name: "in-order segment differing from buffered bytes",
			segs: hs(c(3, "PA", 1004, 5001, "lo"), c(4, "PA", 1001, 5001, "helLO")),
			want: logWith("1: client retransmission with different bytes @3 t=4",
				`1: client data "helLO" t=4`, "1: end flushed"),
		},
		{
			name: "keep-alives are not data",
			segs: hs(c(3, "PA", 1001, 5001, "hello"), c(4, "A", 1005, 5001, "\x00"), c(5, "A", 1005, 5001, ""),
				c(6, "PA", 1006, 5001, "!")),
			want: logWith(`1: client data "hello" t=3`, `1: client data "!" t=6`, "1: end flushed"),
		},
		{
			name: "zero-window probe byte is delivered once",
			segs: hs(c(3, "PA", 1001, 5001, "hello"), withWindow(s(4, "A", 5001, 1006, ""), 0),
				c(5, "A", 1005, 5001, ""), c(6, "A", 1006, 5001, "x"), s(7, "A", 5001, 1007, ""),
				c(8, "PA", 1006, 5001, "xyz")),
			want: logWith(`1: client data "hello" t=3`, `1: client data "x" t=6`, `1: client data "yz" t=8`, "1: end flushed"),
		},
		{
			name: "sequence wraparound",
			segs: []Segment{c(0, "S", 0xFFFFFFF0, 0, ""), s(1, "SA", 5000, 0xFFFFFFF1, ""),
				c(2, "PA", 0xFFFFFFFB, 5001, "ABCDEFGHIJ"), c(3, "PA", 0xFFFFFFF1, 5001, "0123456789"),
				c(4, "PA", 0x00000005, 5001, "KL"), s(5, "A", 5001, 0x00000007, "")},
			want: logWith(`1: client data "0123456789" t=3`, `1: client data "ABCDEFGHIJ" t=2`,
				`1: client data "KL" t=4`, "1: end flushed"),
		},
		{
			name: "SYN carrying data",
			segs: []Segment{c(0, "S", 1000, 0, "hi"), s(1, "SA", 5000, 1003, ""), c(2, "PA", 1003, 5001, "!")},
			want: []string{"1: new client=10.0.0.1:50000 by=SYN t=0", "1: client SYN @0 t=0",
				`1: client data "hi" t=0`, "1: server SYN-ACK @0 t=1", `1: client data "!" t=2`, "1: end flushed"},
		},
		{
			name: "SYN retransmitted",
			segs: []Segment{c(0, "S", 1000, 0, ""), c(1000, "S", 1000, 0, ""), s(1001, "SA", 5000, 1001, "")},
			want: []string{"1: new client=10.0.0.1:50000 by=SYN t=0", "1: client SYN @0 t=0",
				"1: server SYN-ACK @0 t=1001", "1: end flushed"},
		},
		{
			name: "snaplen in order",
			segs: hs(withMissing(c(3, "PA", 1001, 5001, "hel"), 2), c(4, "PA", 1006, 5001, "world")),
			want: logWith(`1: client data "hel" t=3`, "1: client gap 3+2 snaplen t=3",
				`1: client data "world" t=4`, "1: end flushed"),
		},
		{
			name: "snaplen out of order",
			segs: hs(withMissing(c(3, "PA", 1006, 5001, "wor"), 2), c(4, "PA", 1001, 5001, "hello")),
			want: logWith(`1: client data "hello" t=4`, `1: client data "wor" t=3`,
				"1: client gap 8+2 snaplen t=3", "1: end flushed"),
		},
		{
			name: "capture started mid-stream",
			segs: []Segment{c(0, "PA", 7000, 9000, "abc"), s(1, "PA", 9000, 7003, "xyz")},
			want: []string{"1: new client=10.0.0.1:50000 by=port heuristic t=0",
				"1: client gap 0+0 capture started mid-stream t=0", "1: server gap 0+0 capture started mid-stream t=0",
				`1: client data "abc" t=0`, `1: server data "xyz" t=1`, "1: end flushed"},
		},
		{
			name: "only the SYN-ACK captured",
			segs: []Segment{s(1, "SA", 5000, 1001, ""), c(2, "PA", 1001, 5001, "hi")},
			want: []string{"1: new client=10.0.0.1:50000 by=SYN-ACK t=1", "1: server SYN-ACK @0 t=1",
				`1: client data "hi" t=2`, "1: end flushed"},
		},
		{
			name: "peer ACK past a hole",
			segs: hs(c(3, "PA", 1001, 5001, "hello"), c(5, "PA", 1011, 5001, "!!"), s(6, "A", 5001, 1011, "")),
			want: logWith(`1: client data "hello" t=3`, "1: client gap 5+5 lost t=6", `1: client data "!!" t=5`, "1: end flushed"),
		},
		{
			name: "peer ACK past lost tail",
			segs: hs(c(3, "PA", 1001, 5001, "hello"), s(6, "A", 5001, 1011, ""), c(7, "PA", 1011, 5001, "!!")),
			want: logWith(`1: client data "hello" t=3`, "1: client gap 5+5 lost t=6", `1: client data "!!" t=7`, "1: end flushed"),
		},
		{
			name: "hole before FIN resolved at flush",
			segs: hs(c(3, "PA", 1001, 5001, "hello"), c(5, "FA", 1011, 5001, "!!")),
			want: logWith(`1: client data "hello" t=3`, "1: client gap 5+5 lost t=5", `1: client data "!!" t=5`,
				"1: client FIN @12 t=5", "1: end flushed"),
		},
		{
			name: "FIN waits for the data before it",
			segs: hs(c(3, "FA", 1006, 5001, ""), c(4, "PA", 1001, 5001, "hello")),
			want: logWith(`1: client data "hello" t=4`, "1: client FIN @5 t=3", "1: end flushed"),
		},
		{
			name: "ACK of a FIN behind a hole",
			segs: hs(c(3, "PA", 1001, 5001, "hello"), c(5, "FA", 1011, 5001, ""), s(6, "A", 5001, 1012, "")),
			want: logWith(`1: client data "hello" t=3`, "1: client gap 5+5 lost t=6", "1: client FIN @10 t=5", "1: end flushed"),
		},
		{
			name: "ACK of a FIN the capture lacks",
			segs: hs(c(3, "PA", 1001, 5001, "hello"), s(4, "A", 5001, 1007, ""), c(5, "A", 1007, 5001, "")),
			want: logWith(`1: client data "hello" t=3`, "1: end flushed"),
		},
		{
			name: "ACK one past a lost byte with data after it",
			segs: hs(c(3, "PA", 1001, 5001, "hello"), s(4, "A", 5001, 1007, ""), c(5, "PA", 1007, 5001, "!"),
				s(6, "A", 5001, 1008, "")),
			want: logWith(`1: client data "hello" t=3`, "1: client gap 5+1 lost t=6", `1: client data "!" t=5`, "1: end flushed"),
		},
		{
			name: "RST+ACK after data",
			segs: hs(c(3, "PA", 1001, 5001, "hello"), s(4, "RA", 5001, 1006, "")),
			want: logWith(`1: client data "hello" t=3`, "1: server RST @0 t=4 ack", "1: end flushed"),
		},
		{
			name: "RST out of window",
			segs: hs(s(4, "R", 5001+(1<<32-70000), 0, "")),
			want: logWith("1: server RST @-70000 t=4 oow", "1: end flushed"),
		},
		{
			name: "RST before the window",
			segs: hs(c(3, "PA", 1001, 5001, "hello"), s(4, "A", 5001, 1006, ""), c(5, "R", 1002, 0, "")),
			want: logWith(`1: client data "hello" t=3`, "1: client RST @1 t=5 oow", "1: end flushed"),
		},
		{
			name: "RST behind delivered data but inside the last advertised window",
			segs: hs(c(3, "PA", 1001, 5001, "hello"), c(5, "R", 1002, 0, "")),
			want: logWith(`1: client data "hello" t=3`, "1: client RST @1 t=5", "1: end flushed"),
		},
		{
			name: "RST flushes buffered data first",
			segs: hs(c(3, "PA", 1001, 5001, "hello"), c(5, "PA", 1011, 5001, "!!"), c(6, "R", 1013, 0, "")),
			want: logWith(`1: client data "hello" t=3`, "1: client gap 5+5 lost t=6", `1: client data "!!" t=5`,
				"1: client RST @12 t=6", "1: end flushed"),
		},
		{
			name: "RST beyond unseen data",
			segs: hs(c(3, "PA", 1001, 5001, "hello"), c(6, "R", 1011, 0, "")),
			want: logWith(`1: client data "hello" t=3`, "1: client gap 5+5 lost t=6", "1: client RST @10 t=6", "1: end flushed"),
		},
		{
			name: "data after FIN",
			segs: hs(c(3, "FA", 1001, 5001, "bye"), c(4, "PA", 1005, 5001, "more")),
			want: logWith(`1: client data "bye" t=3`, "1: client FIN @3 t=3", "1: client data after FIN @3 t=4", "1: end flushed"),
		},
		{
			name: "buffered data beyond a later FIN",
			segs: hs(c(3, "PA", 1006, 5001, "world"), c(4, "FA", 1001, 5001, "hel")),
			want: logWith(`1: client data "hel" t=4`, "1: client data after FIN @3 t=4", "1: client FIN @3 t=4", "1: end flushed"),
		},
		{
			name: "new SYN after close reuses the 4-tuple",
			segs: hs(c(3, "FA", 1001, 5001, ""), s(4, "FA", 5001, 1002, ""), c(5, "A", 1002, 5002, ""),
				c(100, "S", 3000, 0, "")),
			want: logWith("1: client FIN @0 t=3", "1: server FIN @0 t=4", "1: end port reused",
				"2: new client=10.0.0.1:50000 by=SYN t=100", "2: client SYN @0 t=100", "2: end flushed"),
		},
		{
			name: "new SYN on a live connection ignored",
			segs: hs(c(3, "PA", 1001, 5001, "hello"), c(4, "S", 777, 0, ""), c(5, "PA", 1006, 5001, "!")),
			want: logWith(`1: client data "hello" t=3`, `1: client data "!" t=5`, "1: end flushed"),
		},
		{
			name: "new SYN after a long silence",
			segs: hs(c(3, "PA", 1001, 5001, "hello"), c(10003, "S", 777, 0, "")),
			want: logWith(`1: client data "hello" t=3`, "1: end port reused",
				"2: new client=10.0.0.1:50000 by=SYN t=10003", "2: client SYN @0 t=10003", "2: end flushed"),
		},
		{
			name: "new SYN after an unanswered SYN",
			segs: []Segment{c(0, "S", 1000, 0, ""), c(3000, "S", 2000, 0, "")},
			want: []string{"1: new client=10.0.0.1:50000 by=SYN t=0", "1: client SYN @0 t=0", "1: end port reused",
				"2: new client=10.0.0.1:50000 by=SYN t=3000", "2: client SYN @0 t=3000", "2: end flushed"},
		},
		{
			name: "IPv4-mapped address keys the same connection",
			segs: hs(mapped(c(3, "PA", 1001, 5001, "hello")), s(4, "PA", 5001, 1006, "hi")),
			want: logWith(`1: client data "hello" t=3`, `1: server data "hi" t=4`, "1: end flushed"),
		},
		{
			name: "flush in first-seen order",
			segs: []Segment{other(0, "PA", 1, 1, "a"), c(1, "PA", 1, 1, "b"), other(2, "PA", 2, 1, "c")},
			want: []string{"1: new client=10.0.0.3:40000 by=port heuristic t=0",
				"1: client gap 0+0 capture started mid-stream t=0", "1: server gap 0+0 capture started mid-stream t=0",
				`1: client data "a" t=0`, "2: new client=10.0.0.1:50000 by=port heuristic t=1",
				"2: client gap 0+0 capture started mid-stream t=1", "2: server gap 0+0 capture started mid-stream t=1",
				`2: client data "b" t=1`, `1: client data "c" t=2`, "1: end flushed", "2: end flushed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := run(t, Options{}, tt.segs, false)
			checkLog(t, r.log, tt.want)
		})
	}
}

func TestAssemblerRelease(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		segs []Segment
		want []string
	}{
		{
			name: "closed connection lingers for a late RST",
			opts: Options{ClosedLinger: time.Second},
			segs: hs(c(3, "FA", 1001, 5001, ""), s(4, "FA", 5001, 1002, ""), c(5, "A", 1002, 5002, ""),
				s(500, "R", 5002, 0, ""), other(1499, "A", 1, 1, ""), other(1501, "A", 1, 1, "")),
			want: logWith("1: client FIN @0 t=3", "1: server FIN @0 t=4", "1: server RST @0 t=500",
				"2: new client=10.0.0.3:40000 by=port heuristic t=1499",
				"2: client gap 0+0 capture started mid-stream t=1499", "2: server gap 0+0 capture started mid-stream t=1499",
				"1: end closed"),
		},
		{
			name: "late segment extends the linger",
			opts: Options{ClosedLinger: time.Second},
			segs: hs(c(3, "FA", 1001, 5001, ""), s(4, "FA", 5001, 1002, ""), c(900, "FA", 1001, 5002, ""),
				other(1500, "A", 1, 1, ""), other(1901, "A", 1, 1, "")),
			want: logWith("1: client FIN @0 t=3", "1: server FIN @0 t=4",
				"2: new client=10.0.0.3:40000 by=port heuristic t=1500",
				"2: client gap 0+0 capture started mid-stream t=1500", "2: server gap 0+0 capture started mid-stream t=1500",
				"1: end closed"),
		},
		{
			name: "closed connections expire by last activity",
			opts: Options{ClosedLinger: time.Second},
			segs: []Segment{other(0, "R", 1, 0, ""), c(10, "R", 1, 0, ""), other(20, "A", 1, 1, ""), s(1015, "A", 1, 1, ""), s(1030, "A", 1, 1, "")},
			want: []string{"1: new client=10.0.0.3:40000 by=port heuristic t=0",
				"1: client gap 0+0 capture started mid-stream t=0", "1: client RST @0 t=0",
				"2: new client=10.0.0.1:50000 by=port heuristic t=10",
				"2: client gap 0+0 capture started mid-stream t=10", "2: client RST @0 t=10",
				"1: server gap 0+0 capture started mid-stream t=20",
				"2: end closed", // its last segment (t=10) is older than conn 1's (t=20)
				"3: new client=10.0.0.1:50000 by=port heuristic t=1015",
				"3: server gap 0+0 capture started mid-stream t=1015", "3: client gap 0+0 capture started mid-stream t=1015",
				"1: end closed"},
		},
		{
			name: "new SYN-ACK after close reuses the 4-tuple",
			opts: Options{ClosedLinger: time.Second},
			segs: hs(s(4, "RA", 5001, 1001, ""), s(100, "SA", 9000, 3001, ""), c(101, "PA", 3001, 9001, "hi")),
			want: logWith("1: server RST @0 t=4 ack", "1: end port reused",
				"2: new client=10.0.0.1:50000 by=SYN-ACK t=100", "2: server SYN-ACK @0 t=100", `2: client data "hi" t=101`),
		},
		{
			name: "RST closes the connection",
			opts: Options{ClosedLinger: time.Second},
			segs: hs(c(3, "PA", 1001, 5001, "hi"), s(4, "RA", 5001, 1003, ""), c(10, "PA", 1003, 5001, "late"),
				other(1011, "A", 1, 1, "")),
			want: logWith(`1: client data "hi" t=3`, "1: server RST @0 t=4 ack", `1: client data "late" t=10`,
				"1: end closed", "2: new client=10.0.0.3:40000 by=port heuristic t=1011",
				"2: client gap 0+0 capture started mid-stream t=1011", "2: server gap 0+0 capture started mid-stream t=1011"),
		},
		{
			name: "idle timeout",
			opts: Options{IdleTimeout: 2 * time.Second},
			segs: hs(c(3, "PA", 1001, 5001, "hi"), c(6, "PA", 1011, 5001, "!"), other(2007, "A", 1, 1, "")),
			want: logWith(`1: client data "hi" t=3`, "1: client gap 2+8 lost t=6", `1: client data "!" t=6`,
				"1: end idle", "2: new client=10.0.0.3:40000 by=port heuristic t=2007",
				"2: client gap 0+0 capture started mid-stream t=2007", "2: server gap 0+0 capture started mid-stream t=2007"),
		},
		{
			name: "no idle timeout by default",
			segs: hs(c(3, "PA", 1001, 5001, "hi"), c(100000, "PA", 1003, 5001, "!")),
			want: logWith(`1: client data "hi" t=3`, `1: client data "!" t=100000`),
		},
		{
			name: "per-connection buffer limit",
			opts: Options{MaxBufferedPerConn: 10},
			segs: hs(c(3, "PA", 1001, 5001, "hello"), c(4, "PA", 1011, 5001, "abcdef"), c(5, "PA", 1017, 5001, "ghijk")),
			want: logWith(`1: client data "hello" t=3`, "1: client gap 5+5 buffer limit t=5",
				`1: client data "abcdef" t=4`, `1: client data "ghijk" t=5`),
		},
		{
			name: "total buffer limit takes the oldest buffering connection",
			opts: Options{MaxBufferedTotal: 10},
			segs: hs(c(4, "PA", 1011, 5001, "abcdef"), other(5, "PA", 100, 1, "x"), other(6, "PA", 110, 1, "uvwxyz")),
			want: logWith("2: new client=10.0.0.3:40000 by=port heuristic t=5",
				"2: client gap 0+0 capture started mid-stream t=5", "2: server gap 0+0 capture started mid-stream t=5",
				`2: client data "x" t=5`, "1: client gap 0+10 buffer limit t=6", `1: client data "abcdef" t=4`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := run(t, tt.opts, tt.segs, true)
			checkLog(t, r.log, tt.want)
		})
	}
}
