package scan

import (
	"bytes"
	"github.com/wsclosescan/wsclosescan/internal/wstest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
)

// TestTCPEdgeCases: sequence numbers wrapping past 2^32 and capture clocks that jump
// backwards do not change what the report says.
func TestTCPEdgeCases(t *testing.T) {
	wrap := wstest.NewConv("10.0.0.1:50000", "10.0.0.2:80")
	wrap.Conn.SetNextSeq(c2s, 0xffffff00)
	wrap.Conn.SetNextSeq(s2c, 0xfffffff0)
	wrap.Upgraded().Text(c2s, string(make([]byte, 300))).Text(s2c, "ho").
		Close(c2s, 1000, "bye").Close(s2c, 1000, "bye").FIN(s2c).FIN(c2s)

	back := cleanConv("10.0.0.1:50001")
	for i := range back.Packets {
		if i%2 == 1 { // every other packet stamped an hour earlier
			back.Packets[i].Time = back.Packets[i].Time.Add(-time.Hour)
		}
	}
	tests := []struct {
		name string
		pkts []pcapgen.Packet
	}{
		{"sequence numbers wrap", wrap.Packets},
		{"clock jumps backwards", back.Packets},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := scanBytes("e.pcap", mkCapture(t, pcapgen.Options{}, tt.pkts), DefaultOptions())
			if len(res.recs) != 1 {
				t.Fatalf("got %d records, want 1", len(res.recs))
			}
			r := &res.recs[0]
			if got := viewOf(r); got != cleanView {
				t.Errorf("got %+v, want %+v", got, cleanView)
			}
			if r.MissingBytes != (report.PerSide{}) || len(r.Problems) != 0 {
				t.Errorf("missing %+v, problems %q; want none", r.MissingBytes, r.Problems)
			}
			if r.DurationS < 0 || r.End.Before(r.Start.Time) {
				t.Errorf("start %v, end %v, duration %v: want end after start", r.Start, r.End, r.DurationS)
			}
		})
	}
}

// TestPortReuseFlood: SYN after SYN on one 4-tuple, each with a new sequence number, is
// one connection each, with one tracked at a time.
func TestPortReuseFlood(t *testing.T) {
	const n = 100_000
	probe := newHeapProbe()
	count := 0
	streamScan(t, pcapgen.Options{}, DefaultOptions(), probe, 20000, func(s *packetSink) error {
		c := pcapgen.NewConn(addrFor(0), serverAddr)
		for i := 0; i < n; i++ {
			if err := s.write(c.Segment(c2s, reassembly.FlagSYN, uint32(i)*100_000, 0, nil)); err != nil {
				return err
			}
		}
		return nil
	}, func(*report.Record) { count++ }, nil)
	if count != n {
		t.Errorf("got %d records, want %d", count, n)
	}
	// Retained, the 100,000 records would take about 100 MB. What may be live at a sample,
	// besides the pipeline's buffers, is what is in flight between the goroutines: the
	// records of a few batches of 256 segments, queued for the merger.
	if g, limit := probe.growth(), pipelineBuffers+4*mib; g > limit {
		t.Errorf("heap grew by %d bytes, want at most %d", g, limit)
	}
}

// TestOutOfWindowRSTDoesNotEndTheConnection: an RST far outside the window (ignored by a
// receiver following RFC 5961, as the traffic after it shows) is not how TCP ended.
func TestOutOfWindowRSTDoesNotEndTheConnection(t *testing.T) {
	c := wstest.NewConv("10.0.0.1:50000", "10.0.0.2:80").Upgraded().Text(s2c, "hello")
	c.Add(c.Conn.RSTAt(s2c, c.Conn.NextSeq(s2c)+0x40000000, true))
	c.Text(c2s, "still here").Text(s2c, "me too").Close(c2s, 1000, "").Close(s2c, 1000, "").FIN(s2c).FIN(c2s)
	res := scanBytes("w.pcap", mkCapture(t, pcapgen.Options{}, c.Packets), DefaultOptions())
	if len(res.recs) != 1 {
		t.Fatalf("got %d records, want 1", len(res.recs))
	}
	r := &res.recs[0]
	want := "server: RST with a sequence number outside the window (a receiver following RFC 5961 ignores it)"
	if !hasProblem(r, want) {
		t.Errorf("problems %q lack %q", r.Problems, want)
	}
	if got := viewOf(r); got != cleanView {
		t.Errorf("an out-of-window RST must not count as how TCP ended: got %+v, want %+v", got, cleanView)
	}
}

// TestSnaplenCutCloseReason: a close frame whose reason is cut by the snapshot length must
// say so on the close, and a cut inside a UTF-8 sequence is not an encoding violation.
func TestSnaplenCutCloseReason(t *testing.T) {
	tests := []struct {
		name   string
		cut    int
		reason string // what was captured
	}{
		{"cut between characters", 5, "bye w"},
		{"cut inside a UTF-8 sequence", 4, "bye w\xc3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := wstest.NewConv("10.0.0.1:50000", "10.0.0.2:80").Upgraded().Close(s2c, 1001, "bye wörld").
				Close(c2s, 1001, "").FIN(s2c).FIN(c2s)
			i := slices.IndexFunc(c.Packets, func(p pcapgen.Packet) bool {
				return p.Seg != nil && bytes.Contains(p.Seg.Payload, []byte("bye"))
			})
			p := &c.Packets[i]
			p.OrigLen, p.Data = len(p.Data), p.Data[:len(p.Data)-tt.cut]
			res := scanBytes("s.pcap", mkCapture(t, pcapgen.Options{}, c.Packets), DefaultOptions())
			if len(res.recs) != 1 {
				t.Fatalf("got %d records, want 1", len(res.recs))
			}
			r := &res.recs[0]
			sc := r.ServerClose
			if sc == nil || sc.Code == nil || *sc.Code != 1001 || sc.Reason != tt.reason {
				t.Fatalf("server close: got %+v, want 1001 with reason %q", sc, tt.reason)
			}
			if r.MissingBytes.Server != int64(tt.cut) {
				t.Errorf("missing bytes: got %d, want %d", r.MissingBytes.Server, tt.cut)
			}
			for _, pr := range append(append([]string{}, sc.Problems...), r.Problems...) {
				if strings.Contains(pr, "UTF-8") {
					t.Errorf("problem %q: a reason cut by the capture is not invalid UTF-8", pr)
				}
			}
			// Cut is not invalid: valid says no violation was seen, and unknown says the
			// reason was not captured whole.
			if len(sc.Problems) == 0 || !sc.Valid || !r.IsUnknown("server_close_reason") {
				t.Errorf("a close reason cut by the capture must be flagged as unknown, not invalid: reason %q, valid %v, problems %q, unknown %v",
					sc.Reason, sc.Valid, sc.Problems, r.Unknown)
			}
		})
	}
}
