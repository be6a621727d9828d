package scan

import (
	"bytes"
	"fmt"
	"github.com/wsclosescan/wsclosescan/internal/wstest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/report"
)

// twoConns returns a clean connection A (client 10.0.0.1:50000), then, starting after
// it, a connection B (client 10.0.0.1:50001) that upgrades, exchanges frames and closes;
// first is the index in the merged packets of B's first frame after the 101, and fin the
// index of B's first FIN.
func twoConns() (pkts []pcapgen.Packet, first, fin int) {
	a := cleanConv("10.0.0.1:50000")
	b := wstest.NewConv("10.0.0.1:50001", "10.0.0.2:80")
	b.Conn.Time = a.Conn.Time.Add(time.Second)
	b.Upgraded()
	first = len(a.Packets) + len(b.Packets)
	b.Text(c2s, "one").Text(s2c, "two").Text(c2s, "three").Close(s2c, 1001, "bye")
	fin = len(a.Packets) + len(b.Packets)
	b.FIN(s2c).FIN(c2s)
	return wstest.Merge(a, b), first, fin
}

// offsets returns the byte offset of every packet in the uncompressed capture, and the
// capture's total length as the last element.
func offsets(t testing.TB, opts pcapgen.Options, pkts []pcapgen.Packet) []int {
	t.Helper()
	offs := make([]int, len(pkts)+1)
	for i := range offs {
		offs[i] = len(mkCapture(t, opts, pkts[:i]))
	}
	return offs
}

// gzipTruncErr is truncErr for a gzip-compressed file, whose offsets are into the
// decompressed data.
var gzipTruncErr = regexp.MustCompile(`^(.+): truncated (packet record|block header|block) at byte (\d+) of the decompressed data; analysed the (\d+) packets before it$`)

var truncErr = regexp.MustCompile(`^(.+): truncated (packet record|block header|block) at byte (\d+); analysed the (\d+) packets before it$`)

func TestTruncatedCaptures(t *testing.T) {
	pkts, first, fin := twoConns()
	formats := []struct {
		name string
		opts pcapgen.Options
	}{
		{"pcap", pcapgen.Options{}},
		{"pcapng", pcapgen.Options{Format: pcapgen.FormatPcapNG}},
	}
	for _, f := range formats {
		offs := offsets(t, f.opts, pkts)
		data := mkCapture(t, f.opts, pkts)
		for k := first; k < fin; k++ {
			size := offs[k+1] - offs[k]
			for _, in := range []int{1, 7, 8, 16, 20, size / 2, size - 1} {
				cut := offs[k] + in
				name := fmt.Sprintf("%s cut at %d (%d into packet %d)", f.name, cut, in, k)
				t.Run(name, func(t *testing.T) {
					res := scanBytes("x\ty.cap", data[:cut], DefaultOptions())
					if res.err != nil {
						t.Fatalf("got error %v, want a FileInfo.Error", res.err)
					}
					what := "packet record"
					if f.opts.Format == pcapgen.FormatPcapNG {
						what = "block"
						if in < 8 {
							what = "block header"
						}
					}
					want := fmt.Sprintf("x\ty.cap: truncated %s at byte %d; analysed the %d packets before it", what, offs[k], k)
					if res.info.Error == nil || *res.info.Error != want {
						t.Errorf("got error %v, want %q", strPtr(res.info.Error), want)
					}
					checkTruncatedRecords(t, res.recs)
				})
			}
		}
		// A cut exactly between two records is a clean end.
		res := scanBytes("x.cap", data[:offs[fin]], DefaultOptions())
		if res.info.Error != nil {
			t.Errorf("%s cut between records: got error %q, want none", f.name, *res.info.Error)
		}
		checkTruncatedRecords(t, res.recs)
	}
}

// checkTruncatedRecords wants A clean and B open at the end, with both its frames counted.
func checkTruncatedRecords(t *testing.T, recs []report.Record) {
	t.Helper()
	if len(recs) != 2 {
		t.Fatalf("got %d records, want 2", len(recs))
	}
	if a := byClient(recs, "10.0.0.1:50000"); a == nil || viewOf(a) != cleanView {
		t.Errorf("connection A: got %+v, want %+v", a, cleanView)
	}
	b := byClient(recs, "10.0.0.1:50001")
	if b == nil || b.Verdict != report.VerdictOpenAtEnd || b.Handshake != report.HandshakeCompleted || b.TCPEnd.How != nil {
		t.Fatalf("connection B: got %+v, want open_at_end after a completed handshake", b)
	}
}

func strPtr(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return strconv.Quote(*s)
}

// TestTruncatedGzip cuts gzip-compressed captures at many offsets: the error names the
// file and the uncompressed offset of a record, saying that it is one, and every record
// before it is analysed.
func TestTruncatedGzip(t *testing.T) {
	pkts, _, _ := twoConns()
	for _, opts := range []pcapgen.Options{{Gzip: true}, {Gzip: true, Format: pcapgen.FormatPcapNG}} {
		plain := opts
		plain.Gzip = false
		offs := offsets(t, plain, pkts)
		recAt := map[int]int{}
		for i, o := range offs {
			recAt[o] = i
		}
		data := mkCapture(t, opts, pkts)
		for cut := 20; cut < len(data); cut += 7 {
			res := scanBytes("g.pcap.gz", data[:cut], DefaultOptions())
			if res.err != nil {
				continue // cut inside the gzip or file header: nothing to analyse
			}
			if res.info.Error == nil {
				t.Errorf("format %d cut at %d of %d: no error", opts.Format, cut, len(data))
				continue
			}
			m := gzipTruncErr.FindStringSubmatch(*res.info.Error)
			if m == nil || m[1] != "g.pcap.gz" {
				t.Errorf("cut at %d: got error %q, want %v", cut, *res.info.Error, gzipTruncErr)
				continue
			}
			off, _ := strconv.Atoi(m[3])
			n, _ := strconv.Atoi(m[4])
			k, ok := recAt[off]
			if off < offs[0] && n == 0 {
				k, ok = 0, true // inside a pcapng interface description block
			}
			if !ok || k != n {
				t.Errorf("cut at %d: error at byte %d, %d packets: want a record offset and its index (%d)", cut, off, n, k)
				continue
			}
			if int64(n) != res.info.Packets {
				t.Errorf("cut at %d: FileInfo.Packets %d, message says %d", cut, res.info.Packets, n)
			}
			// Everything before the cut is analysed: A is clean once its last packet was read.
			if a := byClient(res.recs, "10.0.0.1:50000"); n >= len(cleanConv("10.0.0.1:50000").Packets) && (a == nil || viewOf(a) != cleanView) {
				t.Errorf("cut at %d (%d packets): connection A got %+v, want %+v", cut, n, a, cleanView)
			}
		}
	}
}

// corruptCase builds a capture with a damaged record among good connections.
type corruptCase struct {
	name string
	data []byte
	// wantErr is the exact FileInfo.Error ("" for none); wantWarn the exact warnings.
	wantErr  string
	wantWarn []string
	// want maps clients to the expected view of their connection.
	want map[string]closeView
}

// mangle returns a copy of p with f applied to its bytes.
func mangle(p pcapgen.Packet, f func(b []byte)) pcapgen.Packet {
	p.Data = bytes.Clone(p.Data)
	p.Seg = nil
	f(p.Data)
	return p
}

// withBad returns the packets of cleanConv(client) with bad inserted before its request.
func withBad(client string, bad func(p pcapgen.Packet) pcapgen.Packet) []pcapgen.Packet {
	c := cleanConv(client).Packets
	out := append([]pcapgen.Packet(nil), c[:3]...)
	out = append(out, bad(c[3]))
	return append(out, c[3:]...)
}

func corruptCases(t *testing.T) []corruptCase {
	eth := pcapgen.Options{}
	ng := pcapgen.Options{Format: pcapgen.FormatPcapNG}
	before := cleanConv("10.0.0.1:50000").Packets
	after := cleanConv("10.0.0.1:50001")
	for i := range after.Packets {
		after.Packets[i].Time = after.Packets[i].Time.Add(time.Second)
	}
	good := map[string]closeView{"10.0.0.1:50000": cleanView, "10.0.0.1:50001": cleanView}
	var cases []corruptCase

	// Packet numbers in warnings count from 1.
	// pcap: an absurd captured length loses the framing; reading stops there.
	pc := mkCapture(t, eth, before)
	hdr := mangle(pcapgen.Packet{Time: before[len(before)-1].Time, Data: make([]byte, 40)}, func([]byte) {})
	bad := append(bytes.Clone(pc), mkCapture(t, eth, []pcapgen.Packet{hdr})[24:]...)
	copy(bad[len(pc)+8:], []byte{0xff, 0xff, 0xff, 0xff})
	bad = append(bad, mkCapture(t, eth, after.Packets)[24:]...)
	cases = append(cases, corruptCase{name: "pcap caplen 2^32-1", data: bad,
		wantErr: fmt.Sprintf("c: corrupt packet record header (captured length 4294967295) at byte %d; analysed the %d packets before it", len(pc), len(before)),
		want:    map[string]closeView{"10.0.0.1:50000": cleanView}})

	// pcapng: a block length below the 12-byte minimum loses the framing too.
	nc := mkCapture(t, ng, before)
	bad = bytes.Clone(nc)
	bad = append(bad, 6, 0, 0, 0, 8, 0, 0, 0)
	bad = append(bad, mkCapture(t, ng, after.Packets)[len(mkCapture(t, ng, nil)):]...)
	cases = append(cases, corruptCase{name: "pcapng block length 8", data: bad,
		wantErr: fmt.Sprintf("c: corrupt block length 8 (block type 0x6) at byte %d; analysed the %d packets before it", len(nc), len(before)),
		want:    map[string]closeView{"10.0.0.1:50000": cleanView}})

	// pcapng: a packet block whose captured length runs past the block is skipped.
	epb := mkCapture(t, ng, before[:1])[len(mkCapture(t, ng, nil)):]
	epb[20] = 0xf0 // low byte of the captured length field (little-endian, byte 20 of the block)
	bad = mkCapture(t, ng, before)
	bad = append(bad, epb...)
	bad = append(bad, mkCapture(t, ng, after.Packets)[len(mkCapture(t, ng, nil)):]...)
	cases = append(cases, corruptCase{name: "pcapng caplen past its block", data: bad,
		wantWarn: []string{fmt.Sprintf("c: skipped 1 packet(s): bad packet record (first: packet %d: pcapng captured length %d past its block (%d bytes))",
			len(before)+1, 0xf0, pad4(len(before[0].Data)))},
		want: good})

	// pcapng: an interface with a link type nobody decodes; the good connection is on the other.
	two := pcapgen.Options{Format: pcapgen.FormatPcapNG, Interfaces: []pcapgen.Interface{
		{LinkType: pcapgen.LinkType(4242)}, {LinkType: pcapgen.LinkEthernet}}}
	mixed := append([]pcapgen.Packet(nil), before...)
	for i := range mixed {
		mixed[i].Iface = 1
	}
	junk := pcapgen.Packet{Time: mixed[0].Time, Data: bytes.Repeat([]byte{0x1b}, 60), Iface: 0}
	mixed = append([]pcapgen.Packet{junk, junk}, mixed...)
	cases = append(cases, corruptCase{name: "unknown link type", data: mkCapture(t, two, mixed),
		wantWarn: []string{"c: skipped 2 packet(s): unsupported link type (first: packet 1: link type 4242)"},
		want:     map[string]closeView{"10.0.0.1:50000": cleanView}})

	// Bad IPv4 header length and TCP data offset, inserted as extra copies inside a good
	// connection; the real packets follow.
	ihl := withBad("10.0.0.1:50000", func(p pcapgen.Packet) pcapgen.Packet {
		return mangle(p, func(b []byte) { b[14] = 0x43 })
	})
	cases = append(cases, corruptCase{name: "IPv4 header length 3", data: mkCapture(t, eth, append(ihl, after.Packets...)),
		wantWarn: []string{"c: skipped 1 packet(s): bad IPv4 header (first: packet 4: bad IPv4 header length 3)"},
		want:     good})
	doff := withBad("10.0.0.1:50000", func(p pcapgen.Packet) pcapgen.Packet {
		p = mangle(p, func(b []byte) { b[46] = 0xf0 })
		p.Data = p.Data[:54] // the segment is 20 bytes; its data offset claims 60
		copy(p.Data[16:18], []byte{0, 40})
		return p
	})
	cases = append(cases, corruptCase{name: "TCP data offset past the segment", data: mkCapture(t, eth, append(doff, after.Packets...)),
		wantWarn: []string{"c: skipped 1 packet(s): bad TCP header (first: packet 4: TCP data offset 60 past the segment (20 bytes))"},
		want:     good})
	return cases
}

func pad4(n int) int { return (n + 3) &^ 3 }

func TestCorruptRecords(t *testing.T) {
	for _, tc := range corruptCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			res := scanBytes("c", tc.data, DefaultOptions())
			if res.err != nil {
				t.Fatalf("got error %v, want the capture read", res.err)
			}
			if got := strPtr(res.info.Error); (tc.wantErr == "" && res.info.Error != nil) || (tc.wantErr != "" && got != strconv.Quote(tc.wantErr)) {
				t.Errorf("error: got %s, want %q", got, tc.wantErr)
			}
			if fmt.Sprint(res.info.Warnings) != fmt.Sprint(nonNilStrings(tc.wantWarn)) {
				t.Errorf("warnings:\ngot  %q\nwant %q", res.info.Warnings, tc.wantWarn)
			}
			if len(res.recs) != len(tc.want) {
				t.Errorf("got %d records, want %d", len(res.recs), len(tc.want))
			}
			for client, want := range tc.want {
				if r := byClient(res.recs, client); r == nil || viewOf(r) != want {
					t.Errorf("%s: got %+v, want %+v", client, r, want)
				}
			}
			checkOutputs(t, res.recs, []report.FileInfo{res.info})
		})
	}
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// TestGzipCutInsideMagic cuts a gzip capture so that fewer than 4 bytes decompress.
func TestGzipCutInsideMagic(t *testing.T) {
	// Regression: the error of the second Peek was once shadowed (reported as io.ErrNoProgress).
	pkts, _, _ := twoConns()
	data := mkCapture(t, pcapgen.Options{Gzip: true}, pkts)
	res := scanBytes("g", data[:118], DefaultOptions())
	if want := "g: truncated file header at byte 0 of the decompressed data"; res.err == nil || res.err.Error() != want {
		t.Errorf("got error %v, want %q", res.err, want)
	}
}
