package scan

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/internal/wstest"
	"github.com/wsclosescan/wsclosescan/report"
)

// liveCapture is a connection that ends cleanly, then, past the reassembler's linger, one
// that stays open: the first record can be emitted before the capture ends. It returns
// the capture and the length of its prefix that holds every packet up to the first one
// of the second connection.
func liveCapture(t *testing.T) (data []byte, prefix int) {
	t.Helper()
	done := cleanConv("10.0.0.1:40000")
	open := wstest.NewConv("10.0.0.3:40001", "10.0.0.2:80").Wait(15*time.Second).Upgraded().Text(c2s, "still here")
	first := mkCapture(t, pcapgen.Options{}, wstest.Merge(done, &wstest.Conv{Packets: open.Packets[:1]}))
	data = mkCapture(t, pcapgen.Options{}, wstest.Merge(done, open))
	if !bytes.HasPrefix(data, first) {
		t.Fatal("the shorter capture is not a prefix of the longer one")
	}
	return data, len(first)
}

// TestLiveSourceEmitsBeforeEOF: from a pipe that has delivered only part of a capture, the
// record of a connection that ended (and whose linger passed in capture time) is emitted,
// and Idle is called, while Read still waits for more input.
func TestLiveSourceEmitsBeforeEOF(t *testing.T) {
	data, prefix := liveCapture(t)
	for _, workers := range []int{1, 4} {
		t.Run(fmt.Sprint(workers, " workers"), func(t *testing.T) {
			pr, pw := io.Pipe()
			got := make(chan string, 10)
			idle := make(chan struct{}, 100)
			opts := DefaultOptions()
			opts.Workers = workers
			opts.Idle = func() { idle <- struct{}{} }
			s := New(opts, func(r *report.Record) { got <- r.Client + " " + string(r.Verdict) })
			done := make(chan error, 1)
			go func() {
				_, err := s.Read("live.pcap", pr)
				s.Flush()
				done <- err
			}()
			if _, err := pw.Write(data[:prefix]); err != nil {
				t.Fatal(err)
			}
			select {
			case r := <-got:
				if r != "10.0.0.1:40000 clean" {
					t.Errorf("first record %q, want the clean connection", r)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no record while the pipe stays open")
			}
			select {
			case <-idle:
			case <-time.After(10 * time.Second):
				t.Error("Idle was not called")
			}
			pw.Write(data[prefix:])
			pw.Close()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if r := <-got; r != "10.0.0.3:40001 open_at_end" {
				t.Errorf("second record %q, want the open connection", r)
			}
		})
	}
}

// TestSortWaitBoundsTheWaitInCaptureTime: one connection stays open from the start while
// short ones come and go, a second apart. Without a bound every record waits for it; with
// SortWait 5s they flow out during Read and only the long one comes out late.
func TestSortWaitBoundsTheWaitInCaptureTime(t *testing.T) {
	convs := []*wstest.Conv{wstest.NewConv("10.0.0.1:40000", "10.0.0.2:80").Upgraded()}
	for i := range 40 {
		c := wstest.NewConv(fmt.Sprintf("10.0.1.1:%d", 41000+i), "10.0.0.2:80")
		convs = append(convs, c.Wait(time.Duration(i+1)*time.Second).Upgraded().
			Close(c2s, 1000, "").Close(s2c, 1000, "").FIN(s2c).FIN(c2s))
	}
	data := mkCapture(t, pcapgen.Options{}, wstest.Merge(convs...))
	for _, tt := range []struct {
		name      string
		wait      time.Duration
		minDuring int
		late      int64
	}{
		{"no bound", 0, 0, 0},
		{"5s", 5 * time.Second, 20, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := DefaultOptions()
			opts.SortWait = tt.wait
			var recs []report.Record
			s := New(opts, func(r *report.Record) { recs = append(recs, *r) })
			if _, err := s.Read("w.pcap", bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			during := len(recs)
			s.Flush()
			if len(recs) != 41 || during < tt.minDuring || s.Late() != tt.late {
				t.Errorf("got %d records (%d before Flush), %d late; want 41, at least %d, %d late",
					len(recs), during, s.Late(), tt.minDuring, tt.late)
			}
			if tt.wait == 0 && (during != 0 || recs[0].Client != "10.0.0.1:40000") {
				t.Errorf("unbounded: %d records before Flush, first %s", during, recs[0].Client)
			}
			var prev time.Time // every record but the long one comes in start order
			for i, r := range recs {
				if r.Client == "10.0.0.1:40000" {
					continue
				}
				if r.Start.Before(prev) {
					t.Errorf("record %d (%s) starts before the one before it", i, r.Client)
				}
				prev = r.Start.Time
			}
		})
	}
}
