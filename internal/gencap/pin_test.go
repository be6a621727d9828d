package gencap

import "testing"

// TestDefaultShapePinned pins the bytes of the default (mixed) shape, so that adding the
// other shapes leaves the captures that BENCHMARKS.md and the other packages' tests use
// unchanged. If a change to the default shape is deliberate, update the digests here.
func TestDefaultShapePinned(t *testing.T) {
	tests := []struct {
		name           string
		opts           Options
		capture, truth string
	}{
		{"conns", Options{Seed: 1, Connections: 200}, "0186d898e85b9638", "0bd0358ab0e1d924"},
		{"size-pcapng", Options{Seed: 2, TargetSize: 3e6, Format: FormatPcapNG, Concurrency: 40}, "da31a4a847db6204", "7df90db4d58b5b1b"},
		{"lenient-off", Options{Seed: 3, Connections: 100, LenientProto: -1}, "f5c6d9635dd4d828", "3f238ead4ea03ea4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := generate(t, tt.opts)
			if got := digest(g.capture); got != tt.capture {
				t.Errorf("capture digest: got %v, want %v", got, tt.capture)
			}
			if got := digest(g.truth); got != tt.truth {
				t.Errorf("truth digest: got %v, want %v", got, tt.truth)
			}
		})
	}
}
