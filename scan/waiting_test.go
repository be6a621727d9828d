package scan

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/internal/wstest"
	"github.com/wsclosescan/wsclosescan/report"
)

// TestMaxWaitingBoundsHeldRecords: one connection stays open from the start of the
// capture while 600 short ones come and go. Sorted output would hold every record until
// the end; with MaxWaiting the records flow out during Read, and only the long connection
// comes out late.
func TestMaxWaitingBoundsHeldRecords(t *testing.T) {
	convs := []*wstest.Conv{wstest.NewConv("10.0.0.1:40000", "10.0.0.2:80").Upgraded()}
	for i := range 600 {
		c := wstest.NewConv(fmt.Sprintf("10.0.1.%d:%d", i%250+1, 41000+i), "10.0.0.2:80")
		convs = append(convs, c.Wait(time.Duration(i+1)*time.Second).Upgraded().
			Close(c2s, 1000, "").Close(s2c, 1000, "").FIN(s2c).FIN(c2s))
	}
	data := mkCapture(t, pcapgen.Options{}, wstest.Merge(convs...))
	tests := []struct {
		name        string
		workers     int
		maxWaiting  int
		minDuring   int // records emitted before Flush, at least
		late        int64
		firstClient string
	}{
		{"sorted, no bound", 1, -1, 0, 0, "10.0.0.1:40000"},
		{"bounded, one worker", 1, 50, 500, 1, "10.0.1.1:41000"},
		{"bounded, two workers", 2, 50, 500, 1, "10.0.1.1:41000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := DefaultOptions()
			opts.Workers, opts.MaxWaiting = tt.workers, tt.maxWaiting
			var recs []report.Record
			s := New(opts, func(r *report.Record) { recs = append(recs, *r) })
			if _, err := s.Read("w.pcap", bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			during := len(recs)
			s.Flush()
			if len(recs) != 601 || during < tt.minDuring || s.Late() != tt.late {
				t.Errorf("got %d records (%d before Flush), %d late; want 601, at least %d, %d late",
					len(recs), during, s.Late(), tt.minDuring, tt.late)
			}
			if len(recs) > 0 && recs[0].Client != tt.firstClient {
				t.Errorf("first record %s, want %s", recs[0].Client, tt.firstClient)
			}
			if tt.late == 0 && tt.maxWaiting < 0 && during != 0 {
				t.Errorf("unbounded: %d records emitted before the long connection ended", during)
			}
		})
	}
}
