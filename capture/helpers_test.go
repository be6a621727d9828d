package capture

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/reassembly"
)

var (
	client4 = netip.MustParseAddrPort("10.0.0.1:50000")
	server4 = netip.MustParseAddrPort("192.168.1.2:80")
	client6 = netip.MustParseAddrPort("[2001:db8::1]:50001")
	server6 = netip.MustParseAddrPort("[2001:db8::2]:443")
)

// conversation returns the packets of a short connection: handshake, client data in two
// segments, server data, FIN both ways and a RST+ACK.
func conversation(c *pcapgen.Conn) []pcapgen.Packet {
	var p []pcapgen.Packet
	p = append(p, c.Handshake()...)
	p = append(p, c.Send(reassembly.ClientToServer, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 10)...)
	p = append(p, c.Send(reassembly.ServerToClient, bytes.Repeat([]byte("abcdefgh"), 40))...)
	p = append(p, c.KeepAlive(reassembly.ClientToServer, false)...)
	p = append(p, c.Close(reassembly.ClientToServer)...)
	p = append(p, c.Close(reassembly.ServerToClient)...)
	p = append(p, c.RSTACK(reassembly.ClientToServer)...)
	return p
}

// wantSegs returns the segments the packets should decode to.
func wantSegs(pkts []pcapgen.Packet) []reassembly.Segment {
	var out []reassembly.Segment
	for _, p := range pkts {
		if p.Seg != nil {
			out = append(out, *p.Seg)
		}
	}
	return out
}

// readAll decodes every segment of data (copying payloads) until Next fails.
func readAll(t testing.TB, data []byte, opts Options) ([]reassembly.Segment, Stats, error) {
	t.Helper()
	r, err := NewReader("test.pcap", bytes.NewReader(data), opts)
	if err != nil {
		return nil, Stats{}, err
	}
	var segs []reassembly.Segment
	for {
		var s reassembly.Segment
		if err := r.Next(&s); err != nil {
			return segs, r.Stats(), err
		}
		s.Payload = append([]byte(nil), s.Payload...)
		segs = append(segs, s)
	}
}

func segString(s reassembly.Segment) string {
	return fmt.Sprintf("{%s %v->%v seq=%d ack=%d flags=%#02x win=%d len=%d missing=%d payload=%q}",
		s.Time.Format("15:04:05.000000000"), s.Src, s.Dst, s.Seq, s.Ack, uint8(s.Flags), s.Window, len(s.Payload), s.Missing, s.Payload)
}

// compareSegs reports every difference between got and want.
func compareSegs(t *testing.T, got, want []reassembly.Segment) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d segments, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if !g.Time.Equal(w.Time) || g.Src != w.Src || g.Dst != w.Dst || g.Seq != w.Seq || g.Ack != w.Ack ||
			g.Flags != w.Flags || g.Window != w.Window || !bytes.Equal(g.Payload, w.Payload) || g.Missing != w.Missing {
			t.Errorf("segment %d:\ngot  %s\nwant %s", i, segString(g), segString(w))
		}
	}
}

func mustCapture(t testing.TB, opts pcapgen.Options, pkts ...[]pcapgen.Packet) []byte {
	t.Helper()
	b, err := pcapgen.Capture(opts, pkts...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantEOF fails unless err is io.EOF.
func wantEOF(t *testing.T, err error) {
	t.Helper()
	if err != io.EOF {
		t.Errorf("got error %v, want io.EOF", err)
	}
}

// fileError returns err as a *FileError or fails.
func fileError(t *testing.T, err error) *FileError {
	t.Helper()
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("got error %v (%T), want *FileError", err, err)
	}
	return fe
}

func skipCount(s Stats, k SkipKind) (int64, string) {
	for _, c := range s.Skipped {
		if c.Kind == k {
			return c.Count, c.First
		}
	}
	return 0, ""
}

func gzipWriter(w io.Writer) *gzip.Writer { return gzip.NewWriter(w) }
