package reassembly

import (
	"testing"
	"time"
)

// TestTombstone: segments of a connection released by the idle timeout are dropped and
// counted, not made into another connection, until a new SYN; an RST ends the tombstone.
func TestTombstone(t *testing.T) {
	open := []Segment{
		c(0, "S", 100, 0, ""), s(1, "SA", 500, 101, ""), c(2, "A", 101, 501, "hi"),
	}
	tests := []struct {
		name    string
		later   []Segment
		streams int
		after   int64
	}{
		{"FINs after the release", []Segment{s(5000, "FA", 501, 103, ""), c(5001, "FA", 103, 502, ""), s(5002, "A", 502, 104, "")}, 1, 3},
		{"more data after the release", []Segment{c(5000, "PA", 103, 501, "again")}, 1, 1},
		{"a new SYN starts a new connection", []Segment{s(5000, "FA", 501, 103, ""), c(6000, "S", 9000, 0, ""), c(6001, "A", 9001, 0, "x")}, 2, 1},
		{"an RST ends the tombstone", []Segment{s(5000, "R", 501, 0, ""), s(5001, "A", 501, 103, "y")}, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, a := run(t, Options{IdleTimeout: time.Second}, append(append([]Segment{}, open...), tt.later...), false)
			if len(rec.streams) != tt.streams || a.Stats().AfterRelease != tt.after {
				t.Errorf("got %d streams, %d dropped after release; want %d, %d\n%s",
					len(rec.streams), a.Stats().AfterRelease, tt.streams, tt.after, rec.log)
			}
			if got := rec.streams[0].stats.Reason; got != EndIdle {
				t.Errorf("first connection ended %v, want idle", got)
			}
		})
	}
}

// TestTombstoneCap: past maxTombs tombstones the oldest is forgotten.
func TestTombstoneCap(t *testing.T) {
	var tt tombTable
	key := func(i uint64) uint64 { return i*0x9E3779B97F4A7C15 + 7 }
	for i := range uint64(maxTombs + 10) {
		tt.add(key(i))
	}
	if tt.n != maxTombs {
		t.Fatalf("got %d tombstones, want %d", tt.n, maxTombs)
	}
	if tt.has(key(0)) || !tt.has(key(maxTombs+9)) {
		t.Errorf("the oldest should be forgotten, the newest kept")
	}
}
