package scan

import (
	"bytes"
	"encoding/json"
	"io"
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/gencap"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
)

// scanJSON runs the pipeline over data and returns every record as a JSON line, in
// emission order.
func scanJSON(t *testing.T, data []byte, opts Options) []string {
	t.Helper()
	var out []string
	s := New(opts, func(r *report.Record) {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		out = append(out, string(b))
	})
	if _, err := s.Read("g.pcap", onlyReader{bytes.NewReader(data)}); err != nil {
		t.Fatalf("Read: %v", err)
	}
	s.Flush()
	return out
}

// TestWorkersDoNotChangeOutput: the records, and their order, are the same whatever the
// number of shards, and they come in output order (start, client, server).
func TestWorkersDoNotChangeOutput(t *testing.T) {
	conns := 600
	if testing.Short() { // as under the race detector in CI
		conns = 200
	}
	var buf bytes.Buffer
	st, err := gencap.Generate(&buf, io.Discard, gencap.Options{Seed: 7, Connections: conns, Concurrency: 120})
	if err != nil {
		t.Fatalf("gencap: %v", err)
	}
	var want []string
	for _, workers := range []int{1, 2, 3, 4} {
		opts := DefaultOptions()
		opts.Workers = workers
		got := scanJSON(t, buf.Bytes(), opts)
		if len(got) != st.Connections {
			t.Errorf("workers %d: got %d records, want %d", workers, len(got), st.Connections)
		}
		if want == nil {
			want = got
			continue
		}
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("workers %d: record %d differs:\ngot  %s\nwant %s", workers, i, got[i], want[i])
			}
		}
	}
	checkOrder(t, want)
}

// TestOutputDoesNotDependOnProcessors: with the default shard count the output, late
// records included, is the same whatever GOMAXPROCS is, so that a capture gives the same
// lines on every machine. A small MaxWaiting makes records come out late.
func TestOutputDoesNotDependOnProcessors(t *testing.T) {
	var buf bytes.Buffer
	if _, err := gencap.Generate(&buf, io.Discard, gencap.Options{Seed: 5, Connections: 800, Concurrency: 150}); err != nil {
		t.Fatalf("gencap: %v", err)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	procsList := []int{1, 2, 3, 8}
	if testing.Short() { // as under the race detector in CI
		procsList = []int{1, 8}
	}
	var want []string
	for _, procs := range procsList {
		runtime.GOMAXPROCS(procs)
		opts := DefaultOptions()
		opts.MaxWaiting = 40
		var got []string
		s := New(opts, func(r *report.Record) {
			b, _ := json.Marshal(r)
			got = append(got, string(b))
		})
		if _, err := s.Read("g.pcap", onlyReader{bytes.NewReader(buf.Bytes())}); err != nil {
			t.Fatalf("Read: %v", err)
		}
		s.Flush()
		if s.Late() == 0 {
			t.Fatalf("GOMAXPROCS %d: no record came out late; the test needs some", procs)
		}
		if want == nil {
			want = got
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("GOMAXPROCS %d: the output differs from GOMAXPROCS 1 (%d and %d records)", procs, len(got), len(want))
		}
	}
}

// checkOrder checks that JSON records are in output order.
func checkOrder(t *testing.T, lines []string) {
	t.Helper()
	var prev *report.Record
	for i, line := range lines {
		var r report.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("unmarshal: %v", err)
		}
		if prev != nil && compareRecords(prev, &r) > 0 {
			t.Errorf("record %d (%s %s %s) sorts before the previous one (%s %s %s)", i,
				r.Start, r.Client, r.Server, prev.Start, prev.Client, prev.Server)
		}
		prev = &r
	}
}

// TestFlushThenEarlierCapture: after Flush, a capture whose times are earlier than the
// previous one's is still emitted in order, with every shard count.
func TestFlushThenEarlierCapture(t *testing.T) {
	gen := func(start time.Time) []byte {
		var buf bytes.Buffer
		if _, err := gencap.Generate(&buf, io.Discard, gencap.Options{Seed: 3, Connections: 200, Concurrency: 50, Start: start}); err != nil {
			t.Fatalf("gencap: %v", err)
		}
		return buf.Bytes()
	}
	late := gen(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	early := gen(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, workers := range []int{1, 2, 3} {
		var out []string
		opts := DefaultOptions()
		opts.Workers = workers
		s := New(opts, func(r *report.Record) {
			b, _ := json.Marshal(r)
			out = append(out, string(b))
		})
		for i, data := range [][]byte{late, early} {
			if _, err := s.Read("g.pcap", onlyReader{bytes.NewReader(data)}); err != nil {
				t.Fatalf("Read: %v", err)
			}
			s.Flush()
			if i == 0 {
				checkOrder(t, out)
				out = nil
			}
		}
		if len(out) != 200 {
			t.Errorf("workers %d: got %d records from the second capture, want 200", workers, len(out))
		}
		checkOrder(t, out)
	}
}

// TestMergerWaitsForEveryShard: the merger emits a record only once every shard has
// passed its start, also after a Flush marked the shards final.
func TestMergerWaitsForEveryShard(t *testing.T) {
	at := func(s int) time.Time { return time.Date(2026, 1, 1, 0, 0, s, 0, time.UTC) }
	rec := func(s int) outRec {
		return outRec{rec: &report.Record{Start: report.Time{Time: at(s)}, Client: "c", Server: "s"}, key: at(s)}
	}
	var got []int
	m := newMerger(2, func(r *report.Record) { got = append(got, r.Start.Second()) })
	m.take(shardReport{shard: 0, final: true})
	m.take(shardReport{shard: 1, final: true})
	m.restart() // a new Read
	steps := []struct {
		rep  shardReport
		want []int
	}{
		{shardReport{shard: 0, recs: []outRec{rec(5)}, bound: outKey{at(10), at(10)}}, nil},
		{shardReport{shard: 1, bound: outKey{at(3), at(3)}}, nil},
		{shardReport{shard: 1, recs: []outRec{rec(4)}, bound: outKey{at(20), at(20)}}, []int{4, 5}},
		{shardReport{shard: 1, recs: []outRec{rec(21)}, bound: outKey{at(30), at(30)}}, []int{4, 5}},
		{shardReport{shard: 0, bound: outKey{at(40), at(40)}}, []int{4, 5, 21}},
	}
	for i, st := range steps {
		m.take(st.rep)
		if !slices.Equal(got, st.want) {
			t.Errorf("step %d: got %v, want %v", i, got, st.want)
		}
	}
}

// TestShardOfIsSymmetricAndSpread: both directions of a connection go to one shard, the
// IPv4-mapped form of an address to the same shard as the address, and connections that
// differ only in the client port or only in the client address spread over the shards.
func TestShardOfIsSymmetricAndSpread(t *testing.T) {
	server := netip.MustParseAddrPort("10.0.0.2:443")
	for _, n := range []int{2, 3, 4} {
		for name, client := range map[string]func(i int) netip.AddrPort{
			"ports": func(i int) netip.AddrPort {
				return netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(40000+i))
			},
			"addresses": func(i int) netip.AddrPort {
				return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 40000)
			},
			"ipv6": func(i int) netip.AddrPort {
				return netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0xd, 0xb8, 14: byte(i >> 8), 15: byte(i)}), 40000)
			},
		} {
			count := make([]int, n)
			for i := range 1200 {
				c := client(i)
				k := shardOf(reassembly.FlowHash(c, server), n)
				if back := shardOf(reassembly.FlowHash(server, c), n); back != k {
					t.Fatalf("%s, %d shards: %v -> %v goes to shard %d, the reverse to %d", name, n, c, server, k, back)
				}
				if c.Addr().Is4() {
					mapped := netip.AddrPortFrom(netip.AddrFrom16(c.Addr().As16()), c.Port())
					if m := shardOf(reassembly.FlowHash(mapped, server), n); m != k {
						t.Fatalf("%s: IPv4-mapped %v goes to shard %d, %v to %d", name, mapped, m, c, k)
					}
				}
				count[k]++
			}
			for k, got := range count {
				if want := 1200 / n; got < want*3/4 || got > want*5/4 {
					t.Errorf("%s, %d shards: shard %d got %d of 1200 connections, want about %d", name, n, k, got, want)
				}
			}
		}
	}
}
