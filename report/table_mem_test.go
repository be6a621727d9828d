package report

import (
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"
)

// BenchmarkTableRows writes 20,000 records into the table writer, which holds a row per
// record until Finish, and reports the live heap per row held (the table is the default
// format, so a capture of many connections costs this much per WebSocket connection).
func BenchmarkTableRows(b *testing.B) {
	const n = 20_000
	samples := sampleRecords()
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = samples[i%len(samples)]
		// distinct addresses, as on a busy server
		recs[i].Client = fmt.Sprintf("10.%d.%d.%d:%d", i>>16&255, i>>8&255, i&255, 30000+i%30000)
		recs[i].Server = "10.0.0.2:443"
		recs[i].Start = Time{recs[i].Start.Add(time.Duration(i) * time.Millisecond)}
	}
	b.ReportAllocs()
	var perRow int64
	for b.Loop() {
		w, err := NewWriter("table", io.Discard, TableOptions{}, false)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		for i := range recs {
			if err := w.Write(&recs[i]); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		perRow = (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
		b.StartTimer()
		if err := w.Finish(nil, Summary{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(perRow), "bytes/row")
}
