package gencap

import (
	"io"
	"testing"
)

// BenchmarkGenerate measures generation speed; SetBytes makes -bench report MB/s of
// capture written.
func BenchmarkGenerate(b *testing.B) {
	for _, f := range []struct {
		name string
		opts Options
	}{
		{"pcap", Options{Seed: 1, TargetSize: 50e6}},
		{"pcapng", Options{Seed: 1, TargetSize: 50e6, Format: FormatPcapNG}},
		{"busy", Options{Seed: 1, Shape: ShapeBusy, TargetSize: 50e6}},
		{"mass", Options{Seed: 1, Shape: ShapeMass, Connections: 20_000}},
		{"synflood", Options{Seed: 1, Shape: ShapeSYNFlood, SYNs: 500_000}},
	} {
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			var n int64
			for b.Loop() {
				st, err := Generate(io.Discard, io.Discard, f.opts)
				if err != nil {
					b.Fatal(err)
				}
				n = st.Bytes
			}
			b.SetBytes(n)
		})
	}
}
