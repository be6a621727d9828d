package reassembly

import (
	"testing"
	"time"
)

func TestBytePool(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		wantCap int
		pooled  bool
	}{
		{"tiny", 1, 512, true},
		{"class boundary", 512, 512, true},
		{"next class", 513, 1024, true},
		{"segment", 1400, 2048, true},
		{"largest class", 128 << 10, 128 << 10, true},
		{"too large to pool", 128<<10 + 1, 128<<10 + 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p bytePool
			b := p.get(tt.n)
			if len(b) != tt.n || cap(b) != tt.wantCap {
				t.Fatalf("got len %d cap %d, want %d, %d", len(b), cap(b), tt.n, tt.wantCap)
			}
			p.put(b)
			if got := p.held; got != map[bool]int{true: tt.wantCap}[tt.pooled] {
				t.Errorf("got %d bytes held, want %d", got, map[bool]int{true: tt.wantCap}[tt.pooled])
			}
			if !tt.pooled {
				return
			}
			if b2 := p.get(tt.n); &b2[:1][0] != &b[:1][0] {
				t.Errorf("got a new buffer, want the recycled one")
			}
		})
	}
}

func TestFirstDiff(t *testing.T) {
	tests := []struct {
		name   string
		aSeq   uint32
		a      string
		bSeq   uint32
		b      string
		at     uint32
		differ bool
	}{
		{"equal overlap", 10, "abcdef", 12, "cd", 0, false},
		{"differ inside", 10, "abcdef", 12, "cX", 13, true},
		{"no overlap", 10, "abc", 13, "xyz", 0, false},
		{"across wraparound", 0xFFFFFFFE, "abcd", 0, "cX", 1, true},
		{"b before a", 12, "cd", 10, "abXd", 12, true},
		{"empty", 10, "", 10, "abc", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, differ := firstDiff(tt.aSeq, []byte(tt.a), tt.bSeq, []byte(tt.b))
			if at != tt.at || differ != tt.differ {
				t.Errorf("got %d, %v, want %d, %v", at, differ, tt.at, tt.differ)
			}
		})
	}
}

func TestSeqArithmetic(t *testing.T) {
	tests := []struct {
		name           string
		a, b           uint32
		lt, le, gt, ge bool
		diff           int32
	}{
		{"equal", 5, 5, false, true, false, true, 0},
		{"before", 5, 6, true, true, false, false, -1},
		{"after across wrap", 2, 0xFFFFFFFE, false, false, true, true, 4},
		{"before across wrap", 0xFFFFFFFE, 2, true, true, false, false, -4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := [4]bool{seqLT(tt.a, tt.b), seqLE(tt.a, tt.b), seqGT(tt.a, tt.b), seqGE(tt.a, tt.b)}
			if want := [4]bool{tt.lt, tt.le, tt.gt, tt.ge}; got != want || seqDiff(tt.a, tt.b) != tt.diff {
				t.Errorf("got %v diff %d, want %v diff %d", got, seqDiff(tt.a, tt.b), want, tt.diff)
			}
		})
	}
}

func TestSteadyStateAllocs(t *testing.T) {
	tests := []struct {
		name string
		ooo  bool
	}{
		{"in order", false},
		{"swapped pairs", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAssembler(nopFactory{}, Options{})
			for _, g := range handshake() {
				a.Add(&g)
			}
			seg := c(3, "PA", 1001, 5001, string(make([]byte, 1400)))
			step := func() {
				seg.Time = seg.Time.Add(time.Millisecond)
				if tt.ooo {
					seg.Seq += 1400
					a.Add(&seg)
					seg.Seq -= 1400
					a.Add(&seg)
					seg.Seq += 1400
				} else {
					a.Add(&seg)
				}
				seg.Seq += 1400
			}
			for range 10 {
				step() // warm the pool and the chunk slice
			}
			if got := testing.AllocsPerRun(1000, step); got != 0 {
				t.Errorf("got %v allocations per step, want 0", got)
			}
		})
	}
}
