package reassembly

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestShuffledStream sends one direction's bytes as segments in a shuffled order, with
// duplicates and overlapping resends, and checks that exactly the original bytes come out,
// without gaps, whatever the order.
func TestShuffledStream(t *testing.T) {
	tests := []struct {
		name    string
		seed    uint64
		isn     uint32
		window  int // how far a segment may move from its place
		dupRate int // one duplicate per dupRate segments
	}{
		{"in order", 1, 1000, 0, 0},
		{"local reordering", 2, 1000, 3, 0},
		{"heavy reordering with duplicates", 3, 1000, 20, 4},
		{"reordering across wraparound", 4, 0xFFFFF000, 10, 3},
		{"everything reversed-ish", 5, 77, 200, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(tt.seed, 0))
			want := make([]byte, 20000)
			for i := range want {
				want[i] = byte(rng.IntN(256))
			}
			var segs []Segment
			segs = append(segs, c(0, "S", tt.isn, 0, ""), s(1, "SA", 5000, tt.isn+1, ""))
			var body []Segment
			for off := 0; off < len(want); {
				n := min(1+rng.IntN(700), len(want)-off)
				if tt.dupRate > 0 && rng.IntN(tt.dupRate) == 0 && off > 0 {
					back := rng.IntN(min(off, 300))
					body = append(body, c(0, "PA", tt.isn+1+uint32(off-back), 5001, string(want[off-back:off+n])))
				}
				body = append(body, c(0, "PA", tt.isn+1+uint32(off), 5001, string(want[off:off+n])))
				off += n
			}
			for i := range body {
				if tt.window > 0 {
					j := min(len(body)-1, i+rng.IntN(tt.window+1))
					body[i], body[j] = body[j], body[i]
				}
			}
			for i := range body {
				body[i].Time = at(10 + i)
			}
			segs = append(segs, body...)
			r, _ := runChecked(t, Options{}, segs, false, false)
			st := r.streams[0]
			if !bytes.Equal(st.data[ClientToServer], want) {
				t.Errorf("got %d bytes, want the %d bytes sent", len(st.data[ClientToServer]), len(want))
			}
			if got := st.stats.Dirs[ClientToServer].MissingBytes; got != 0 {
				t.Errorf("got %d missing bytes, want 0", got)
			}
		})
	}
}

// TestLostSegmentsAcked drops segments from the capture; the receiver's ACKs show they
// arrived. The stream must hold every captured byte at its offset and gaps exactly where
// the dropped segments were.
func TestLostSegmentsAcked(t *testing.T) {
	tests := []struct {
		name string
		seed uint64
		drop int // one segment in drop is not captured
	}{
		{"few losses", 1, 10},
		{"many losses", 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(tt.seed, 0))
			sent := make([]byte, 30000)
			for i := range sent {
				sent[i] = byte(1 + rng.IntN(255)) // never 0, the filler for gaps
			}
			segs := handshake()
			want := make([]byte, len(sent))
			wantMissing := int64(0)
			for off, i := 0, 0; off < len(sent); i++ {
				n := min(1+rng.IntN(1400), len(sent)-off)
				if rng.IntN(tt.drop) != 0 || off+n == len(sent) {
					segs = append(segs, c(10+i, "PA", 1001+uint32(off), 5001, string(sent[off:off+n])))
					copy(want[off:], sent[off:off+n])
				} else {
					wantMissing += int64(n)
				}
				off += n
				if i%3 == 2 {
					segs = append(segs, s(10+i, "A", 5001, 1001+uint32(off), ""))
				}
			}
			gapFill := &gapFiller{}
			a := NewAssembler(gapFill, Options{})
			for i := range segs {
				a.Add(&segs[i])
			}
			a.Flush()
			if !bytes.Equal(gapFill.buf, want) {
				t.Errorf("got a stream of %d bytes that differs from the %d bytes expected", len(gapFill.buf), len(want))
			}
			if gapFill.missing != wantMissing {
				t.Errorf("got %d missing bytes, want %d", gapFill.missing, wantMissing)
			}
		})
	}
}

// gapFiller rebuilds the client stream with zero bytes in place of gaps.
type gapFiller struct {
	buf     []byte
	missing int64
}

func (g *gapFiller) NewStream(ConnInfo) Stream { return g }
func (g *gapFiller) Event(Event)               {}
func (g *gapFiller) End(ConnStats)             {}
func (g *gapFiller) Data(d Dir, b []byte, _ Stamp) {
	if d == ClientToServer {
		g.buf = append(g.buf, b...)
	}
}
func (g *gapFiller) Gap(d Dir, _, n int64, _ GapCause, _ Stamp) {
	if d == ClientToServer {
		g.buf = append(g.buf, make([]byte, n)...)
		g.missing += n
	}
}
