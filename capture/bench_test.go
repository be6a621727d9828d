package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"runtime"
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/reassembly"
)

// benchPackets is a conversation of n data segments of size bytes each way.
func benchPackets(c *pcapgen.Conn, n, size int) []pcapgen.Packet {
	p := c.Handshake()
	payload := bytes.Repeat([]byte("x"), size)
	for range n {
		p = append(p, c.Send(reassembly.ClientToServer, payload)...)
		p = append(p, c.Send(reassembly.ServerToClient, payload)...)
	}
	return p
}

// loopReader serves a file header once, then the records forever.
type loopReader struct {
	header, records []byte
	off             int
}

func (l *loopReader) Read(p []byte) (int, error) {
	if len(l.header) > 0 {
		n := copy(p, l.header)
		l.header = l.header[n:]
		return n, nil
	}
	n := 0
	for n < len(p) {
		c := copy(p[n:], l.records[l.off:])
		n += c
		l.off = (l.off + c) % len(l.records)
	}
	return n, nil
}

// endless returns a Reader over a pcap whose records repeat forever.
func endless(t testing.TB, c *pcapgen.Conn, pkts []pcapgen.Packet) *Reader {
	data := mustCapture(t, pcapgen.Options{LinkType: c.Link.Type}, pkts)
	r, err := NewReader("bench", &loopReader{header: data[:24], records: data[24:]}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestZeroAllocs checks that decoding allocates nothing per packet in steady state, for
// every path of the decoder.
func TestZeroAllocs(t *testing.T) {
	tests := []struct {
		name string
		conn func() *pcapgen.Conn
	}{
		{"ethernet v4", func() *pcapgen.Conn { return newConn(v4) }},
		{"VLAN v6 ext", func() *pcapgen.Conn {
			c := newConn(v6)
			c.Link.VLANs = []uint16{1, 2}
			c.IP.Ext = []pcapgen.Ext{{Type: pcapgen.ProtoHopByHop}}
			return c
		}},
		{"SLL2", func() *pcapgen.Conn { c := newConn(v4); c.Link.Type = pcapgen.LinkSLL2; return c }},
		{"IPv4 fragments", func() *pcapgen.Conn { c := newConn(v4); c.Encap = pcapgen.Fragmenter4(256); return c }},
		{"IPv6 fragments", func() *pcapgen.Conn { c := newConn(v6); c.Encap = pcapgen.Fragmenter6(256); return c }},
		{"VXLAN", func() *pcapgen.Conn {
			c := newConn(v4)
			c.Encap = tunnel(pcapgen.Tunnel{Kind: pcapgen.TunnelVXLAN, Src: outer4a, Dst: outer4b})
			return c
		}},
		{"GTP-U QinQ extension header", func() *pcapgen.Conn {
			c := newConn(v4)
			c.Link.VLANs = []uint16{100, 200}
			c.Encap = gtpu(pcapgen.GTPU{Src: outer4a, Dst: outer4b, Seq: true, Ext: []pcapgen.GTPExt{pduSession}})
			return c
		}},
		{"GRE", func() *pcapgen.Conn {
			c := newConn(v6)
			c.Encap = tunnel(pcapgen.Tunnel{Kind: pcapgen.TunnelERSPAN2, Src: outer4a, Dst: outer4b})
			return c
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.conn()
			r := endless(t, c, benchPackets(c, 20, 1000))
			var s reassembly.Segment
			for range 200 { // warm up: buffers grow once
				if err := r.Next(&s); err != nil {
					t.Fatal(err)
				}
			}
			allocs := testing.AllocsPerRun(1000, func() {
				if err := r.Next(&s); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("got %v allocations per segment, want 0", allocs)
			}
		})
	}
}

// TestGzipBombStreams reads a small gzip file that expands to 64 MiB (one huge unknown
// pcapng block) and checks that memory use stays bounded.
func TestGzipBombStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("decompresses 64 MiB")
	}
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w, err := pcapgen.NewWriter(gz, pcapgen.Options{Format: pcapgen.FormatPcapNG, LinkType: pcapgen.LinkEthernet})
	if err != nil {
		t.Fatal(err)
	}
	c := newConn(v4)
	first := c.Handshake()
	w.WriteAll(first[:1])
	const size = 64 << 20
	hdr := make([]byte, 8)
	binary.LittleEndian.PutUint32(hdr, 0xbad)
	binary.LittleEndian.PutUint32(hdr[4:], size)
	gz.Write(hdr)
	zeros := make([]byte, 1<<20)
	for range size>>20 - 1 {
		gz.Write(zeros)
	}
	gz.Write(zeros[:1<<20-12])
	gz.Write(hdr[4:]) // trailing block length
	w.WriteAll(first[1:])
	gz.Close()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	segs, _, err := readAll(t, buf.Bytes(), Options{})
	runtime.ReadMemStats(&after)
	if err != io.EOF {
		t.Fatalf("got %v, want io.EOF", err)
	}
	compareSegs(t, segs, wantSegs(first))
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Errorf("got %d MiB allocated, want under 16", grew>>20)
	}
}

// BenchmarkNext measures decoding one Ethernet/IPv4 segment (1000-byte payload) from an
// in-memory pcap; allocs/op must be 0.
func BenchmarkNext(b *testing.B) {
	c := newConn(v4)
	r := endless(b, c, benchPackets(c, 50, 1000))
	var s reassembly.Segment
	b.ReportAllocs()
	b.SetBytes(16 + 54 + 1000)
	for b.Loop() {
		if err := r.Next(&s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadFile reads a whole 2000-packet capture per op, including NewReader.
func BenchmarkReadFile(b *testing.B) {
	c := newConn(v4)
	data := mustCapture(b, pcapgen.Options{LinkType: pcapgen.LinkEthernet}, benchPackets(c, 1000, 1000))
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var s reassembly.Segment
	for b.Loop() {
		r, err := NewReader("bench", bytes.NewReader(data), Options{})
		if err != nil {
			b.Fatal(err)
		}
		for r.Next(&s) == nil {
		}
	}
}
