package layers

import (
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
