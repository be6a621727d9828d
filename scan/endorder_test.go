package scan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/gencap"
	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/internal/wstest"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
)

// TestOrderEnd: by end, records come as their connections are released: never before a
// record released earlier, nothing late however small MaxWaiting is, and the same output
// whatever the number of shards.
func TestOrderEnd(t *testing.T) {
	var buf bytes.Buffer
	if _, err := gencap.Generate(&buf, io.Discard, gencap.Options{Seed: 5, Connections: 300, Concurrency: 80}); err != nil {
		t.Fatalf("gencap: %v", err)
	}
	var want []string
	for _, workers := range []int{1, 2, 4} {
		var got []string
		opts := DefaultOptions()
		opts.Workers, opts.Order, opts.MaxWaiting = workers, OrderEnd, 1
		s := New(opts, func(r *report.Record) {
			b, _ := json.Marshal(r)
			got = append(got, string(b))
		})
		if _, err := s.Read("g.pcap", onlyReader{bytes.NewReader(buf.Bytes())}); err != nil {
			t.Fatalf("Read: %v", err)
		}
		s.Flush()
		if len(got) != 300 || s.Late() != 0 {
			t.Fatalf("workers %d: %d records, %d late; want 300, 0", workers, len(got), s.Late())
		}
		if want == nil {
			want = got
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("workers %d: the output differs from 1 worker's", workers)
		}
	}
}

// TestOrderEndReleaseOrder: a connection open from the start comes after the short ones
// that ended while it was open (by start it comes first), each short one 10 s (the linger)
// after its end.
func TestOrderEndReleaseOrder(t *testing.T) {
	long := wstest.NewConv("10.0.0.1:40000", "10.0.0.2:80").Upgraded()
	for range 3 {
		long = long.Wait(20*time.Second).Text(c2s, "still here")
	}
	convs := []*wstest.Conv{long}
	for i := range 3 {
		convs = append(convs, wstest.NewConv(fmt.Sprintf("10.0.1.1:%d", 41000+i), "10.0.0.2:80").
			Wait(time.Duration(i+1)*5*time.Second).Upgraded().Close(c2s, 1000, "").Close(s2c, 1000, "").FIN(s2c).FIN(c2s))
	}
	data := mkCapture(t, pcapgen.Options{}, wstest.Merge(convs...))
	for _, order := range []Order{OrderStart, OrderEnd} {
		opts := DefaultOptions()
		opts.Order = order
		res := scanBytes("o.pcap", data, opts)
		var got []string
		for _, r := range res.recs {
			got = append(got, r.Client)
		}
		want := []string{"10.0.0.1:40000", "10.0.1.1:41000", "10.0.1.1:41001", "10.0.1.1:41002"}
		if order == OrderEnd {
			want = append(want[1:], want[0])
		}
		if !slices.Equal(got, want) {
			t.Errorf("order %d: got %v, want %v", order, got, want)
		}
	}
}

// TestHalfOpenHoldsBackLaterRecords: by start, an unanswered SYN (kept half-open, with no
// Stream until the end) still comes before the connections that started after it, and
// none is late.
func TestHalfOpenHoldsBackLaterRecords(t *testing.T) {
	syn := pcapgen.NewConn(netip.MustParseAddrPort("10.0.9.9:40000"), netip.MustParseAddrPort("10.0.0.2:80"))
	syn.Time = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pkts := syn.Segment(c2s, reassembly.FlagSYN, 1, 0, nil)
	var convs []*wstest.Conv
	for i := range 20 {
		convs = append(convs, wstest.NewConv(fmt.Sprintf("10.0.1.1:%d", 41000+i), "10.0.0.2:80").
			Wait(time.Duration(i+1)*time.Second).Upgraded().Close(c2s, 1000, "").Close(s2c, 1000, "").FIN(s2c).FIN(c2s))
	}
	later := wstest.Merge(convs...)
	base := later[0].Time
	for i := range later {
		later[i].Time = syn.Time.Add(later[i].Time.Sub(base) + time.Millisecond)
	}
	data := mkCapture(t, pcapgen.Options{}, append(pkts, later...))
	for _, workers := range []int{1, 4} {
		opts := DefaultOptions()
		opts.Workers = workers
		var got []string
		s := New(opts, func(r *report.Record) { got = append(got, r.Client) })
		if _, err := s.Read("h.pcap", bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		s.Flush()
		if len(got) != 21 || got[0] != "10.0.9.9:40000" || s.Late() != 0 {
			t.Errorf("workers %d: got %d records, %d late, %v; want 21, none late, the SYN first", workers, len(got), s.Late(), got)
		}
	}
}
