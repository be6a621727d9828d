package scan

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"github.com/wsclosescan/wsclosescan/internal/wstest"
	"io"
	"math/rand"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/internal/wsframe"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
)

const mib = 1 << 20

var bigMiB = flag.Int("big-mib", 256, "size in MiB of TestOutOfOrderFlood's stream and TestGzipBomb's expansion (1024 for the full gigabyte)")

// allocsDuring returns the bytes allocated while f ran.
func allocsDuring(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

func hasProblem(r *report.Record, sub string) bool {
	for _, p := range r.Problems {
		if strings.Contains(p, sub) {
			return true
		}
	}
	return false
}

// TestAbsurdFrameLengths: frames announcing lengths no capture can hold are counted and
// skipped, never buffered, and the other side is still decoded.
func TestAbsurdFrameLengths(t *testing.T) {
	tests := []struct {
		name    string
		frame   []byte
		problem string
		want    closeView
	}{
		{
			name:    "2^63-byte payload",
			frame:   wsframe.Concat(wsframe.Frame{Fin: true, Op: wsframe.OpBinary, Length: 1 << 63, SetLength: true}.Header(), make([]byte, 1000)),
			problem: "server binary frame (its WebSocket frame #1) has a 64-bit length with the most significant bit set",
			want:    closeView{Verdict: report.VerdictHalfClosed, ClientClose: "1000", ServerClose: "-", TCPEnd: "fin client"},
		},
		{
			name:    "2^63-1-byte payload",
			frame:   wsframe.Concat(wsframe.Frame{Fin: true, Op: wsframe.OpBinary, Length: 1<<63 - 1, SetLength: true}.Header(), make([]byte, 1000)),
			problem: "server binary frame (its WebSocket frame #1)",
			want:    closeView{Verdict: report.VerdictHalfClosed, ClientClose: "1000", ServerClose: "-", TCPEnd: "fin client"},
		},
		{
			name: "ping announcing 65535 bytes",
			frame: wsframe.Concat(wsframe.Frame{Fin: true, Op: wsframe.OpPing, Payload: bytes.Repeat([]byte{'p'}, 65535)}.Bytes(),
				wstest.Frame(s2c, wsframe.OpClose, wsframe.Close(1000, ""))),
			problem: "server ping frame (its WebSocket frame #1) has a 65535-byte payload (control frames are limited to 125)",
			want:    closeView{Verdict: report.VerdictClean, ClientClose: "1000", ServerClose: "1000", TCPEnd: "fin client"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := wstest.NewConv("10.0.0.1:50000", "10.0.0.2:80").Upgraded().Send(s2c, tt.frame, 1400, 1400, 1400, 30000).
				Close(c2s, 1000, "").FIN(c2s).FIN(s2c)
			data := mkCapture(t, pcapgen.Options{}, c.Packets)
			var res result
			alloc := allocsDuring(func() { res = scanBytes("f.pcap", data, DefaultOptions()) })
			if len(res.recs) != 1 {
				t.Fatalf("got %d records, want 1", len(res.recs))
			}
			r := &res.recs[0]
			if got := viewOf(r); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if !hasProblem(r, tt.problem) {
				t.Errorf("problems %q lack %q", r.Problems, tt.problem)
			}
			// The capture is ~70 KB; the pipeline must not allocate per announced byte.
			if limit := uint64(len(data))*4 + 2*mib; alloc > limit {
				t.Errorf("allocated %d bytes, want at most %d", alloc, limit)
			}
			checkOutputs(t, res.recs, []report.FileInfo{res.info})
		})
	}
}

// TestMillionsOfTinyFrames: two million 2-byte unmasked client frames are one finding with
// a count, and the heap stays flat.
func TestMillionsOfTinyFrames(t *testing.T) {
	const frames, perSeg = 2_000_000, 5000
	tiny := bytes.Repeat([]byte{0x81, 0x00}, perSeg) // FIN text, unmasked, empty
	probe := newHeapProbe()
	r := scanFlood(t, DefaultOptions(), probe, 40, func(c *wstest.Conv, s *packetSink) error {
		for i := 0; i < frames/perSeg; i++ {
			if err := s.write(c.Conn.Send(c2s, tiny)); err != nil {
				return err
			}
		}
		return nil
	})
	if r.Frames.Client != frames+1 || r.Messages.Client != frames {
		t.Errorf("client frames %d, messages %d; want %d and %d", r.Frames.Client, r.Messages.Client, frames+1, frames)
	}
	want := fmt.Sprintf("client text frame (its WebSocket frame #1) is not masked (%d times)", frames)
	if !hasProblem(r, want) || len(r.Problems) != 1 {
		t.Errorf("problems: got %q, want [%q]", r.Problems, want)
	}
	// 4 MB of frames went through; the pipeline's buffers and one segment in flight are
	// all that may be held.
	if g, limit := probe.growth(), pipelineBuffers+1*mib; g > limit {
		t.Errorf("heap grew by %d bytes, want at most %d", g, limit)
	}
	t.Logf("heap growth %d KiB for %d frames", probe.growth()>>10, frames)
}

// addrFor returns a distinct client address for connection i.
func addrFor(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 14), byte(i >> 6)}), uint16(1024+i&63))
}

var serverAddr = netip.MustParseAddrPort("10.0.0.2:443")

// TestManySYNs: a SYN flood to distinct ports costs bounded memory per connection and
// yields one record per connection, in either order; Flush streams their records
// instead of holding them.
func TestManySYNs(t *testing.T) {
	for _, order := range []Order{OrderStart, OrderEnd} {
		t.Run(fmt.Sprint(order), func(t *testing.T) { testManySYNs(t, order) })
	}
}

func testManySYNs(t *testing.T, order Order) {
	n := 50_000
	if testing.Short() {
		n = 10_000
	}
	opts := DefaultOptions()
	opts.Order = order
	probe := newHeapProbe()
	var live int64
	count, notWS := 0, 0
	start := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	streamScan(t, pcapgen.Options{}, opts, probe, 20000, func(s *packetSink) error {
		for i := 0; i < n; i++ {
			c := pcapgen.NewConn(addrFor(i), serverAddr)
			c.Time = start.Add(time.Duration(i) * time.Microsecond)
			if err := s.write(c.Segment(c2s, reassembly.FlagSYN, uint32(i), 0, nil)); err != nil {
				return err
			}
		}
		return nil
	}, func(r *report.Record) {
		count++
		if r.Verdict == report.VerdictNotWebSocket {
			notWS++
		}
		if count%10000 == 0 {
			probe.sample() // while Flush releases the connections
		}
	}, func() { live = probe.live() })
	if count != n || notWS != n {
		t.Errorf("got %d records (%d not_websocket), want %d", count, notWS, n)
	}
	if after := probe.live(); after > 8*mib {
		t.Errorf("after Flush %d bytes are still live, want at most %d", after, 8*mib)
	}
	perConn := live / int64(n)
	t.Logf("%d half-open connections: %d bytes live, %d bytes per connection, peak growth %d MiB", n, live, perConn, probe.growth()>>20)
	// Half-open connections live outside the heap but for their index (16-32 B).
	if perConn > 256 {
		t.Errorf("%d bytes of heap per SYN-only connection, want at most 256", perConn)
	}
	if g := probe.growth(); g > int64(n)*1024+16*mib {
		t.Errorf("heap peak grew by %d bytes, want at most %d", g, int64(n)*1024+16*mib)
	}
}

// TestOutOfOrderFlood streams a long client message with a lost segment every 20: with
// 1 MiB per connection and 2 MiB in total, every hole is declared a buffer-limit gap, the
// heap stays within a few times the limits, and the close frame after it is still decoded.
func TestOutOfOrderFlood(t *testing.T) {
	total := *bigMiB * mib
	if testing.Short() {
		total = 32 * mib
	}
	const seg = 60000
	nseg := total / seg
	opts := DefaultOptions()
	opts.Reassembly.MaxBufferedPerConn = 1 * mib
	opts.Reassembly.MaxBufferedTotal = 2 * mib
	probe := newHeapProbe()
	lost := int64(0)
	chunk := make([]byte, seg)
	r := scanFlood(t, opts, probe, 50, func(c *wstest.Conv, s *packetSink) error {
		hdr := wsframe.Frame{Fin: true, Op: wsframe.OpBinary, Masked: true, Length: uint64(nseg * seg), SetLength: true}.Header()
		if err := s.write(c.Conn.Send(c2s, hdr)); err != nil {
			return err
		}
		for i := 0; i < nseg; i++ {
			p := c.Conn.Send(c2s, chunk) // masked payload bytes: any value will do
			if i%20 == 10 && i < nseg-40 {
				lost += seg
				continue
			}
			if err := s.write(p); err != nil {
				return err
			}
		}
		return nil
	})
	if r.MissingBytes.Client != lost || r.Bytes.Client != int64(nseg*seg)+0 {
		t.Errorf("missing %d, payload bytes %d; want %d and %d", r.MissingBytes.Client, r.Bytes.Client, lost, nseg*seg)
	}
	// Every hole is declared by the buffer limit; 8 are described, the rest counted.
	holes := int(lost / seg)
	for _, want := range []string{fmt.Sprintf("client: %d bytes missing at offset", seg), fmt.Sprintf("%d more gaps", holes-8)} {
		if !hasProblem(r, want) {
			t.Errorf("problems %q lack %q", r.Problems, want)
		}
	}
	for _, p := range r.Problems {
		if strings.Contains(p, "bytes missing at offset") && !strings.HasSuffix(p, "(buffer limit)") {
			t.Errorf("problem %q: want every hole declared by the buffer limit", p)
		}
	}
	if g := probe.growth(); g > 12*mib {
		t.Errorf("heap grew by %d bytes, want at most %d (limits 1 MiB per connection, 2 MiB total)", g, 12*mib)
	}
	t.Logf("%d MiB with %d holes: heap growth %d KiB", total>>20, lost/seg, probe.growth()>>10)
}

// TestHugeHeaderBlock: megabytes of request headers without a blank line are a finding, and
// only MaxHeaderBytes of them are kept.
func TestHugeHeaderBlock(t *testing.T) {
	const size = 8 * mib
	line := []byte("X-Filler: " + strings.Repeat("a", 1000) + "\r\n")
	probe := newHeapProbe()
	var recs []report.Record
	streamScan(t, pcapgen.Options{}, DefaultOptions(), probe, 10, func(s *packetSink) error {
		c := wstest.NewConv("10.0.0.1:50000", "10.0.0.2:80").SYN().Send(c2s, []byte("GET /chat HTTP/1.1\r\nUpgrade: websocket\r\n"))
		if err := s.write(c.Packets); err != nil {
			return err
		}
		block := bytes.Repeat(line, 60000/len(line))
		for sent := 0; sent < size; sent += len(block) {
			if err := s.write(c.Conn.Send(c2s, block)); err != nil {
				return err
			}
		}
		c.Packets = nil
		return s.write(c.FIN(c2s).FIN(s2c).Packets)
	}, func(r *report.Record) { recs = append(recs, *r) }, nil)
	if len(recs) != 1 {
		t.Fatalf("got %d records, want 1", len(recs))
	}
	want := fmt.Sprintf("client HTTP header block is larger than %d bytes; HTTP parsing stopped", 64<<10)
	if !hasProblem(&recs[0], want) {
		t.Errorf("problems %q lack %q", recs[0].Problems, want)
	}
	if g, limit := probe.growth(), pipelineBuffers+1*mib; g > limit {
		t.Errorf("heap grew by %d bytes for %d bytes of headers, want at most %d", g, size, limit)
	}
	t.Logf("verdict %s, heap growth %d KiB", recs[0].Verdict, probe.growth()>>10)
}

// TestGzipBomb: a small gzip file expanding to hundreds of MiB of zeros (empty pcap
// records) is read with flat memory and every record counted.
func TestGzipBomb(t *testing.T) {
	zeros := int64(*bigMiB) * mib
	if testing.Short() {
		zeros = 32 * mib
	}
	// A gzip file may hold several members; one member of 1 MiB of zeros is repeated.
	member := func(b []byte) []byte {
		var c bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&c, gzip.BestCompression)
		zw.Write(b)
		zw.Close()
		return c.Bytes()
	}
	comp := bytes.NewBuffer(member(mkCapture(t, pcapgen.Options{}, nil)))
	zero := member(make([]byte, mib))
	for left := zeros; left > 0; left -= mib {
		comp.Write(zero)
	}
	data := comp.Bytes()
	probe := newHeapProbe()
	var res result
	alloc := allocsDuring(func() {
		s := New(DefaultOptions(), func(r *report.Record) { res.recs = append(res.recs, *r) })
		res.info, res.err = s.Read("bomb.pcap.gz", io.MultiReader(bytes.NewReader(data)))
		s.Flush()
	})
	probe.sample()
	records := zeros / 16
	if res.err != nil || res.info.Error != nil || res.info.Packets != records || len(res.recs) != 0 {
		t.Fatalf("got err %v, info %+v, %d records; want %d packets, no error", res.err, res.info, len(res.recs), records)
	}
	want := []string{fmt.Sprintf("bomb.pcap.gz: skipped %d packet(s): bad link-layer header (first: packet 1: Ethernet header truncated (0 bytes))", records)}
	if fmt.Sprint(res.info.Warnings) != fmt.Sprint(want) {
		t.Errorf("warnings: got %q, want %q", res.info.Warnings, want)
	}
	if alloc > 8*mib {
		t.Errorf("allocated %d bytes while expanding %d compressed bytes to %d, want at most %d", alloc, len(data), zeros, 8*mib)
	}
	t.Logf("%d compressed bytes -> %d MiB: allocated %d KiB", len(data), zeros>>20, alloc>>10)
}

// TestPayloadBytesNeverNegative: a complete frame followed by one announcing 2^63-1 bytes
// (cut by the end of the capture) must not make the byte count wrap.
func TestPayloadBytesNeverNegative(t *testing.T) {
	c := wstest.NewConv("10.0.0.1:50000", "10.0.0.2:80").Upgraded().Text(s2c, "hello")
	c.Send(s2c, wsframe.Frame{Fin: true, Op: wsframe.OpBinary, Length: 1<<63 - 1, SetLength: true}.Header())
	c.Send(s2c, make([]byte, 500)).Close(c2s, 1000, "").FIN(c2s).FIN(s2c)
	res := scanBytes("b.pcap", mkCapture(t, pcapgen.Options{}, c.Packets), DefaultOptions())
	if len(res.recs) != 1 {
		t.Fatalf("got %d records, want 1", len(res.recs))
	}
	r := &res.recs[0]
	want := "server binary frame (its WebSocket frame #2) is incomplete: the capture ends after 500 of 9223372036854775807 payload bytes"
	if !hasProblem(r, want) {
		t.Errorf("problems %q lack %q", r.Problems, want)
	}
	// Only bytes that were on the wire count: the 5 of "hello" and the 500 captured.
	if r.Bytes.Server != 505 {
		t.Errorf("bytes.server = %d, want 505", r.Bytes.Server)
	}
}

// TestManySYNsWithIdleTimeout: with reassembly's IdleTimeout set, a long SYN flood keeps
// only the connections of the last timeout period tracked.
func TestManySYNsWithIdleTimeout(t *testing.T) {
	n := 50_000 // 50 timeout periods
	if testing.Short() {
		n = 10_000
	}
	opts := DefaultOptions()
	opts.Reassembly.IdleTimeout = time.Second
	probe := newHeapProbe()
	count, idle := 0, 0
	start := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	streamScan(t, pcapgen.Options{}, opts, probe, 10000, func(s *packetSink) error {
		for i := 0; i < n; i++ { // one SYN per millisecond: about 1000 within a timeout
			c := pcapgen.NewConn(addrFor(i), serverAddr)
			c.Time = start.Add(time.Duration(i) * time.Millisecond)
			if err := s.write(c.Segment(c2s, reassembly.FlagSYN, uint32(i), 0, nil)); err != nil {
				return err
			}
		}
		return nil
	}, func(r *report.Record) {
		count++
		if r.Verdict == report.VerdictNotWebSocket && r.TCPEnd.How == nil {
			idle++
		}
	}, nil)
	if count != n || idle != n {
		t.Errorf("got %d records (%d without a TCP end), want %d", count, idle, n)
	}
	// The slack covers the records waiting in the sort window (with frame numbers, the
	// Community ID, the display filter and keepalive figures, about 1.3 KB each).
	if g, limit := probe.growth(), int64(2000*4096+10*mib); g > limit {
		t.Errorf("heap grew by %d bytes, want at most %d (about 1000 connections tracked)", g, limit)
	}
	t.Logf("peak heap growth %d KiB", probe.growth()>>10)
}

// TestOutOfOrderManyConnections: 300 WebSocket connections, each with a lost segment and
// 300 KB buffered behind it, stay within MaxBufferedTotal, and each reports the hole.
func TestOutOfOrderManyConnections(t *testing.T) {
	const conns, seg, segs = 300, 60000, 5
	opts := DefaultOptions()
	opts.Reassembly.MaxBufferedPerConn = 1 * mib
	opts.Reassembly.MaxBufferedTotal = 2 * mib
	probe := newHeapProbe()
	count := 0
	chunk := make([]byte, seg)
	streamScan(t, pcapgen.Options{}, opts, probe, 100, func(s *packetSink) error {
		start := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
		for i := 0; i < conns; i++ {
			c := wstest.NewConv(addrFor(i).String(), "10.0.0.2:80")
			c.Conn.Time = start.Add(time.Duration(i) * time.Millisecond)
			// One binary message spans the segments, so the hole falls inside a payload of
			// known length and the WebSocket decoder stays in sync (no resync lookahead).
			c.Upgraded().Send(c2s, wsframe.Frame{Fin: true, Op: wsframe.OpBinary, Masked: true,
				Length: (segs + 1) * seg, SetLength: true}.Header())
			c.Conn.Send(c2s, chunk) // lost
			for j := 0; j < segs; j++ {
				c.Send(c2s, chunk)
			}
			if err := s.write(c.Packets); err != nil {
				return err
			}
		}
		return nil
	}, func(r *report.Record) {
		count++
		if r.MissingBytes.Client != seg {
			t.Errorf("%s: missing %d bytes, want %d", r.Client, r.MissingBytes.Client, seg)
		}
	}, nil)
	if count != conns {
		t.Errorf("got %d records, want %d", count, conns)
	}
	if g := probe.growth(); g > 12*mib {
		t.Errorf("heap grew by %d bytes with %d bytes out of order, want at most %d (2 MiB total limit)", g, conns*segs*seg, 12*mib)
	}
	t.Logf("heap growth %d KiB", probe.growth()>>10)
}

// TestMidstreamConnectionsCost: connections whose capture starts mid-stream and that carry
// no WebSocket frames (TLS, say) must not each keep a large lookahead buffer.
func TestMidstreamConnectionsCost(t *testing.T) {
	if testing.Short() {
		t.Skip("70 MB of mid-stream connections; a memory bound, not a concurrency test")
	}
	const conns, size = 1000, 70000
	noise := make([]byte, size) // like TLS records: random bytes
	rand.New(rand.NewSource(1)).Read(noise)
	sizes := make([]int, size/1400)
	for i := range sizes {
		sizes[i] = 1400
	}
	probe := newHeapProbe()
	var live int64
	count := 0
	streamScan(t, pcapgen.Options{}, DefaultOptions(), nil, 0, func(s *packetSink) error {
		start := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
		for i := 0; i < conns; i++ {
			c := wstest.NewConv(addrFor(i).String(), "10.0.0.2:443")
			c.Conn.Time = start.Add(time.Duration(i) * time.Millisecond)
			if err := s.write(c.Send(s2c, noise, sizes...).Packets); err != nil {
				return err
			}
		}
		return nil
	}, func(r *report.Record) {
		if r.Verdict == report.VerdictNotWebSocket {
			count++
		}
	}, func() { live = probe.live() })
	if count != conns {
		t.Errorf("got %d not_websocket records, want %d", count, conns)
	}
	perConn := live / conns
	t.Logf("%d mid-stream connections with %d non-WebSocket bytes each: %d KiB live per connection", conns, size, perConn>>10)
	if perConn > 16<<10 {
		t.Errorf("%d KiB live per mid-stream connection that is not WebSocket, want at most 16: "+
			"a side with no frame boundary in its first 64 KiB must be given up and its buffer released", perConn>>10)
	}
}
