package scan

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/gencap"
	"github.com/wsclosescan/wsclosescan/report"
)

// scanJSON runs the pipeline over data and returns every record as a JSON line, in
// emission order.
func scanJSON(t *testing.T, data []byte, opts Options) []string {
	t.Helper()
	var out []string
	s := New(opts, func(r report.Record) {
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
	var buf bytes.Buffer
	st, err := gencap.Generate(&buf, io.Discard, gencap.Options{Seed: 7, Connections: 600, Concurrency: 120})
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
		s := New(opts, func(r report.Record) {
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
