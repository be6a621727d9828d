package layers

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/reassembly"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestStampRing(t *testing.T) {
	var r stampRing
	for i := range 20 {
		r.add(reassembly.Stamp{Time: t0.Add(ms(i / 2)), Frame: uint64(i + 1)})
	}
	tests := []struct {
		name string
		ms   int
		want uint64
	}{
		{"latest", 9, 20},
		{"shared time keeps the last frame", 8, 18},
		{"oldest kept", 2, 6},
		{"forgotten", 1, 0},
		{"never seen", 100, 0},
	}
	for _, tt := range tests {
		if got := r.find(t0.Add(ms(tt.ms))); got != tt.want {
			t.Errorf("%s: got frame %d, want %d", tt.name, got, tt.want)
		}
	}
}

// refRing is the fixed ring of ringSize stamps that stampRing grows into.
type refRing struct {
	unix  [ringSize]int64
	frame [ringSize]uint64
	next  uint8
}

func (r *refRing) add(at reassembly.Stamp) {
	t := at.Time.UnixNano()
	last := (r.next + ringSize - 1) % ringSize
	if r.frame[last] != 0 && r.unix[last] == t {
		r.frame[last] = at.Frame
		return
	}
	r.unix[r.next], r.frame[r.next] = t, at.Frame
	r.next = (r.next + 1) % ringSize
}

func (r *refRing) find(t time.Time) uint64 {
	u := t.UnixNano()
	for i := range uint8(ringSize) {
		k := (r.next + ringSize - 1 - i) % ringSize
		if r.frame[k] != 0 && r.unix[k] == u {
			return r.frame[k]
		}
	}
	return 0
}

// TestStampRingGrows checks that the growing ring finds what a full ring of ringSize
// stamps finds, after every segment of sequences with repeated times, frame 0 and reuse
// after reset, and holds no more stamps than segments while it grows.
func TestStampRingGrows(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var r stampRing
	for seq := range 200 {
		var ref refRing
		fresh := seq%2 == 0 // else reused, as the Factory reuses rings: its array stays
		if fresh {
			r = stampRing{}
		} else {
			r.reset()
		}
		n := rng.IntN(30)
		for i := range n {
			at := reassembly.Stamp{Time: t0.Add(ms(rng.IntN(10 + i))), Frame: uint64(rng.IntN(50))}
			r.add(at)
			ref.add(at)
			if int(r.n) > i+1 || fresh && int(r.c) > int(r.n)+max(1, int(r.n)/2) || r.c > ringSize {
				t.Fatalf("sequence %d: %d stamps in an array of %d after %d segments", seq, r.n, r.c, i+1)
			}
			for q := range 40 {
				if got, want := r.find(t0.Add(ms(q))), ref.find(t0.Add(ms(q))); got != want {
					t.Fatalf("sequence %d, segment %d: find(%d ms) = %d, want %d", seq, i, q, got, want)
				}
			}
		}
	}
}
