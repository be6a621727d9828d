package scan

import (
	"bytes"
	"flag"
	"os"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/internal/wsframe"
	"github.com/wsclosescan/wsclosescan/internal/wstest"
	"github.com/wsclosescan/wsclosescan/report"
)

var openConns = flag.Int("open-conns", 20000, "connections held open by TestOpenWebSocketConnections")

// writeOpenConns writes n WebSocket connections that complete the upgrade and stay open,
// one after the other, 10 µs apart.
func writeOpenConns(write func([]pcapgen.Packet) error, n int) error {
	return writeConns(write, n, wsframe.Request("/chat", wstest.Key), wsframe.Response101(wstest.Key))
}

// writeConns writes n connections, 10 µs apart, that send req and resp, then the frames
// in turn from the client and the server, and stay open.
func writeConns(write func([]pcapgen.Packet) error, n int, req, resp []byte, frames ...[]byte) error {
	start := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := 0; i < n; i++ {
		c := pcapgen.NewConn(addrFor(i), serverAddr)
		c.Time, c.Step = start.Add(time.Duration(i)*10*time.Microsecond), time.Microsecond
		p := c.Handshake()
		p = append(p, c.Send(c2s, req)...)
		p = append(p, c.Send(s2c, resp)...)
		for j, f := range frames {
			dir := c2s
			if j%2 == 1 {
				dir = s2c
			}
			p = append(p, c.Send(dir, f)...)
		}
		if err := write(p); err != nil {
			return err
		}
	}
	return nil
}

// TestOpenWebSocketConnections holds -open-conns upgraded connections open until the end
// of the capture and measures the live heap per connection before Flush.
func TestOpenWebSocketConnections(t *testing.T) {
	measureOpenHeap(t, "open WebSocket connections", writeOpenConns, "")
}

// measureOpenHeap scans the -open-conns connections write writes (-short: at most 5,000),
// checks that each is an open_at_end record with a completed handshake, and logs the live
// heap per connection before Flush, failing above 2,600 B (about 2,050 B with 20,000
// browser-like connections, 2,350 B with the 5,000 of -short, whose baseline weighs
// more); with profile set, it writes a heap profile there at that moment.
func measureOpenHeap(t *testing.T, what string, write func(func([]pcapgen.Packet) error, int) error, profile string) {
	t.Helper()
	n := *openConns
	if testing.Short() {
		n = min(n, 5000)
	}
	probe := newHeapProbe()
	var live int64
	open := 0
	streamScan(t, pcapgen.Options{}, DefaultOptions(), probe, 0, func(s *packetSink) error {
		return write(s.write, n)
	}, func(r *report.Record) {
		if r.Verdict == report.VerdictOpenAtEnd && r.Handshake == report.HandshakeCompleted {
			open++
		}
	}, func() {
		live = probe.live()
		if profile == "" {
			return
		}
		f, err := os.Create(profile)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := pprof.WriteHeapProfile(f); err != nil {
			t.Fatal(err)
		}
	})
	if open != n {
		t.Errorf("got %d open_at_end records with a completed handshake, want %d", open, n)
	}
	perConn := live / int64(n)
	t.Logf("%d %s: %d MiB live, %d bytes per connection", n, what, live>>20, perConn)
	// 2.8 KB after a browser's upgrade, a message each way and a ping, 2.3 KB after a
	// plain upgrade (BENCHMARKS.md): a sixth more than the larger fails.
	if perConn > 2600 {
		t.Errorf("%d bytes per open connection, want at most 2600", perConn)
	}
}

// BenchmarkOpenConnections scans 10,000 upgraded connections that stay open and reports
// the live heap per connection before Flush.
func BenchmarkOpenConnections(b *testing.B) {
	const n = 10_000
	var buf bytes.Buffer
	w, err := pcapgen.NewWriter(&buf, pcapgen.Options{LinkType: pcapgen.LinkEthernet})
	if err != nil {
		b.Fatal(err)
	}
	if err := writeOpenConns(w.WriteAll, n); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var perConn int64
	for i := 0; i < b.N; i++ {
		s := New(DefaultOptions(), func(*report.Record) {})
		b.StopTimer()
		probe := newHeapProbe()
		b.StartTimer()
		if _, err := s.Read("open.pcap", bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		perConn = probe.live() / n
		b.StartTimer()
		s.Flush()
	}
	b.ReportMetric(float64(perConn), "bytes/conn")
}
