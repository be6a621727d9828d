package scan

import (
	"bytes"
	"io"
	"sync"
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/gencap"
	"github.com/wsclosescan/wsclosescan/report"
)

// benchCapture generates (once per process) a pcap of about size bytes with gencap.
var benchCaptures sync.Map

func benchCapture(b *testing.B, size int64, format gencap.Format, shape gencap.Shape) []byte {
	b.Helper()
	key := [3]int64{size, int64(format), int64(shape)}
	if v, ok := benchCaptures.Load(key); ok {
		return v.([]byte)
	}
	var buf bytes.Buffer
	if _, err := gencap.Generate(&buf, io.Discard, gencap.Options{Seed: 1, TargetSize: size, Format: format, Shape: shape}); err != nil {
		b.Fatalf("gencap: %v", err)
	}
	benchCaptures.Store(key, buf.Bytes())
	return buf.Bytes()
}

// BenchmarkPipeline runs the whole pipeline (capture, reassembly, wsparse, analyze) over
// a generated 64 MB capture (gencap's mixed shape, and its busy one), emitting records in
// output order.
func BenchmarkPipeline(b *testing.B) {
	for _, bc := range []struct {
		name   string
		format gencap.Format
		shape  gencap.Shape
	}{{"pcap", gencap.FormatPcap, gencap.ShapeMixed}, {"pcapng", gencap.FormatPcapNG, gencap.ShapeMixed},
		{"busy", gencap.FormatPcap, gencap.ShapeBusy}} {
		b.Run(bc.name, func(b *testing.B) {
			data := benchCapture(b, 64<<20, bc.format, bc.shape)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var n int
			var packets int64
			for b.Loop() {
				n = 0
				s := New(DefaultOptions(), func(*report.Record) { n++ })
				info, err := s.Read("bench", onlyReader{bytes.NewReader(data)})
				if err != nil {
					b.Fatal(err)
				}
				packets = info.Packets
				s.Flush()
			}
			b.ReportMetric(float64(n), "records")
			b.ReportMetric(float64(packets), "packets")
			b.ReportMetric(float64(packets)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}

// onlyReader hides the Len method of a bytes.Reader, so that the capture reader uses its
// normal buffer size as it does for a file.
type onlyReader struct{ io.Reader }
