package scan

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/internal/wsframe"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
)

// shortConnsCapture writes n short WebSocket connections (SYN, upgrade, one message each
// way, a clean close, FINs), open at most open at a time: connection i starts once
// connection i-open has ended.
func shortConnsCapture(tb testing.TB, n, open int) []byte {
	tb.Helper()
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	req := wsframe.Request("/ws", key, "Origin: https://app.example.com",
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
	resp := wsframe.Response101(key)
	msg := []byte(`{"type":"subscribe","channel":"BTC-USD","seq":1}`)
	frames := [2][]byte{
		wsframe.Frame{Fin: true, Op: wsframe.OpText, Masked: true, Key: [4]byte{1, 2, 3, 4}, Payload: msg}.Bytes(),
		wsframe.Frame{Fin: true, Op: wsframe.OpText, Payload: msg}.Bytes(),
	}
	closes := [2][]byte{
		wsframe.Frame{Fin: true, Op: wsframe.OpClose, Masked: true, Key: [4]byte{5, 6, 7, 8}, Payload: wsframe.Close(1000, "bye")}.Bytes(),
		wsframe.Frame{Fin: true, Op: wsframe.OpClose, Payload: wsframe.Close(1000, "")}.Bytes(),
	}
	c2s, s2c := reassembly.ClientToServer, reassembly.ServerToClient
	server := netip.MustParseAddrPort("203.0.113.10:80")
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	// Each connection is 14 packets; the connections in a group of open ones interleave
	// packet by packet.
	var buf bytes.Buffer
	w, err := pcapgen.NewWriter(&buf, pcapgen.Options{LinkType: pcapgen.LinkEthernet})
	if err != nil {
		tb.Fatal(err)
	}
	at := start
	for first := 0; first < n; first += open {
		var conns [][]pcapgen.Packet
		for i := first; i < min(first+open, n); i++ {
			client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{100, 64, byte(i >> 16), byte(i >> 8)}), uint16(10000+i&0xff))
			c := pcapgen.NewConn(client, server)
			c.Time, c.Step = at, time.Microsecond
			p := c.Handshake()
			p = append(p, c.Send(c2s, req)...)
			p = append(p, c.Send(s2c, resp)...)
			p = append(p, c.Send(c2s, frames[0])...)
			p = append(p, c.Send(s2c, frames[1])...)
			p = append(p, c.Send(c2s, closes[0])...)
			p = append(p, c.Send(s2c, closes[1])...)
			p = append(p, c.Close(s2c)...)
			p = append(p, c.Close(c2s)...)
			p = append(p, c.Ack(s2c)...)
			conns = append(conns, p)
		}
		for k := 0; ; k++ {
			wrote := false
			for _, p := range conns {
				if k < len(p) {
					p[k].Time = at
					at = at.Add(time.Microsecond)
					if err := w.Write(p[k]); err != nil {
						tb.Fatal(err)
					}
					wrote = true
				}
			}
			if !wrote {
				break
			}
		}
	}
	return buf.Bytes()
}

// BenchmarkConnSetupTeardown feeds short connections (SYN, upgrade, a message each way,
// a clean close, FINs) through the whole pipeline (scan.New, Read, Flush) and reports the
// cost of setting up, analysing and tearing down one connection: time, allocations and
// bytes allocated per connection. "open" is how many are open at once.
func BenchmarkConnSetupTeardown(b *testing.B) {
	for _, bc := range []struct{ n, open int }{{10_000, 1}, {10_000, 100}, {10_000, 10_000}} {
		b.Run(fmt.Sprintf("conns=%d/open=%d", bc.n, bc.open), func(b *testing.B) {
			data := shortConnsCapture(b, bc.n, bc.open)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			records := 0
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				records = 0
				s := New(DefaultOptions(), func(r *report.Record) {
					if r.Verdict == report.VerdictClean {
						records++
					}
				})
				if _, err := s.Read("short.pcap", connBenchReader{bytes.NewReader(data)}); err != nil {
					b.Fatal(err)
				}
				s.Flush()
			}
			runtime.ReadMemStats(&after)
			if records != bc.n {
				b.Fatalf("got %d clean records, want %d", records, bc.n)
			}
			conns := float64(b.N) * float64(bc.n)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/conns, "ns/conn")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/conns, "allocs/conn")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/conns, "B/conn")
		})
	}
}

// connBenchReader hides the Len method of a bytes.Reader, so that the capture reader
// uses its normal buffer size as it does for a file.
type connBenchReader struct{ io.Reader }
