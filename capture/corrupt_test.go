package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/reassembly"
)

// pcapRecords returns the offsets of the records of a little-endian pcap file.
func pcapRecords(data []byte) []int {
	var offs []int
	for off := 24; off+16 <= len(data); off += 16 + int(binary.LittleEndian.Uint32(data[off+8:])) {
		offs = append(offs, off)
	}
	return offs
}

// ngBlocks returns the offsets of the blocks of a little-endian pcapng file.
func ngBlocks(data []byte) []int {
	var offs []int
	for off := 0; off+8 <= len(data); off += int(binary.LittleEndian.Uint32(data[off+4:])) {
		offs = append(offs, off)
	}
	return offs
}

// smallConversation is a handshake, one data segment each way and a FIN.
func smallConversation() []pcapgen.Packet {
	c := newConn(v4)
	p := c.Handshake()
	p = append(p, c.Send(reassembly.ClientToServer, []byte("hello"))...)
	p = append(p, c.Send(reassembly.ServerToClient, []byte("world!"))...)
	return append(p, c.Close(reassembly.ClientToServer)...)
}

func TestHeaderErrors(t *testing.T) {
	valid := mustCapture(t, pcapgen.Options{LinkType: pcapgen.LinkEthernet}, smallConversation())
	tests := []struct {
		name string
		data []byte
		want string
		is   error
	}{
		{"html", []byte("<!DOCTYPE html><html>"), "capture: test.pcap: not a pcap or pcapng file (starts with 3c 21 44 4f)", ErrNotCapture},
		{"empty", nil, "capture: test.pcap: empty file", nil},
		{"two bytes", []byte{0xd4, 0xc3}, "capture: test.pcap: truncated file header at byte 0", ErrTruncated},
		{"short pcap header", valid[:10], "capture: test.pcap: truncated file header at byte 0", ErrTruncated},
		{"short pcapng header", []byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0}, "capture: test.pcap: truncated section header block at byte 0", ErrTruncated},
		{"pcapng bad byte order", []byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 1, 2, 3, 4}, "capture: test.pcap: corrupt section header block (byte-order magic 04030201) at byte 0", ErrCorrupt},
		{"gzip garbage", []byte{0x1f, 0x8b, 0, 0, 0}, "capture: test.pcap: truncated gzip header", ErrTruncated},
		{"gzip of html", gzipped([]byte("<!DOCTYPE")), "capture: test.pcap: not a pcap or pcapng file (starts with 3c 21 44 4f)", ErrNotCapture},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReader("test.pcap", bytes.NewReader(tc.data), Options{})
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got error %v, want %q", err, tc.want)
			}
			fileError(t, err)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("got error %v, want one wrapping %v", err, tc.is)
			}
		})
	}
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	w := gzipWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestCorruptPcapRecordHeader(t *testing.T) {
	pkts := smallConversation()
	data := mustCapture(t, pcapgen.Options{LinkType: pcapgen.LinkEthernet}, pkts)
	offs := pcapRecords(data)
	binary.LittleEndian.PutUint32(data[offs[2]+8:], 0xffffffff)
	segs, _, err := readAll(t, data, Options{})
	compareSegs(t, segs, wantSegs(pkts[:2]))
	fe := fileError(t, err)
	if fe.Offset != int64(offs[2]) || !errors.Is(err, ErrCorrupt) {
		t.Errorf("got %v, want corrupt record at byte %d", err, offs[2])
	}
	want := "capture: test.pcap: corrupt packet record header (captured length 4294967295) at byte 164"
	if err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
}

// TestMalformedPackets patches one packet of a capture and checks that it alone is skipped
// and counted with the right description.
func TestMalformedPackets(t *testing.T) {
	const eth = 14 // IPv4 header starts here in each frame
	tests := []struct {
		name  string
		patch func(frame []byte) []byte
		kind  SkipKind
		first string
	}{
		{"IPv4 header length 3", func(f []byte) []byte { f[eth] = 0x43; return f }, SkipBadIPv4, "packet 2: bad IPv4 header length 3"},
		{"IPv4 version 5", func(f []byte) []byte { f[eth] = 0x55; return f }, SkipBadIPv4, "packet 2: bad IPv4 version 5"},
		{"IPv4 header length past packet", func(f []byte) []byte { f[eth] = 0x4f; return f[:eth+40] }, SkipBadIPv4, "packet 2: truncated IPv4 header (40 bytes)"},
		{"IPv4 total length past packet", func(f []byte) []byte { binary.BigEndian.PutUint16(f[eth+2:], 1000); return f }, SkipBadIPv4, "packet 2: IPv4 total length 1000 past the packet (40 bytes)"},
		{"IPv4 total length under header", func(f []byte) []byte { binary.BigEndian.PutUint16(f[eth+2:], 12); return f }, SkipBadIPv4, "packet 2: bad IPv4 total length 12 (header 20)"},
		{"TCP data offset past packet", func(f []byte) []byte { f[eth+20+12] = 0xf0; return f }, SkipBadTCP, "packet 2: TCP data offset 60 past the segment (20 bytes)"},
		{"TCP data offset under 20", func(f []byte) []byte { f[eth+20+12] = 0x40; return f }, SkipBadTCP, "packet 2: TCP data offset 16 past the segment (20 bytes)"},
		{"TCP segment short", func(f []byte) []byte {
			binary.BigEndian.PutUint16(f[eth+2:], 30)
			return f[:eth+30]
		}, SkipBadTCP, "packet 2: TCP segment of 10 bytes"},
		{"Ethernet short", func(f []byte) []byte { return f[:10] }, SkipBadLinkHeader, "packet 2: Ethernet header truncated (10 bytes)"},
		{"VLAN short", func(f []byte) []byte { return []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x81, 0, 0, 1} }, SkipBadLinkHeader, "packet 2: VLAN header truncated (16 bytes)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pkts := smallConversation()
			want := wantSegs(pkts)
			pkts[1].Data = tc.patch(append([]byte(nil), pkts[1].Data...))
			want = append(want[:1], want[2:]...)
			segs, st, err := readAll(t, mustCapture(t, pcapgen.Options{LinkType: pcapgen.LinkEthernet}, pkts), Options{})
			wantEOF(t, err)
			compareSegs(t, segs, want)
			n, first := skipCount(st, tc.kind)
			if n != 1 || first != tc.first || len(st.Skipped) != 1 {
				t.Errorf("got skipped %+v, want 1 %v: %q", st.Skipped, tc.kind, tc.first)
			}
		})
	}
}

func TestNonTCP(t *testing.T) {
	c := newConn(v4)
	pkts := c.Handshake()
	arp := pcapgen.EthernetFrame(pcapgen.EtherTypeARP, nil, make([]byte, 28))
	udp := pcapgen.Link{Type: pcapgen.LinkEthernet}.Frame(pcapgen.IP{Src: client4.Addr(), Dst: server4.Addr(), Proto: pcapgen.ProtoUDP}.
		Packet(pcapgen.UDP(client4, server4, []byte("dns?"))))
	icmp6 := pcapgen.Link{Type: pcapgen.LinkEthernet}.Frame(pcapgen.IP{Src: client6.Addr(), Dst: server6.Addr(), Proto: 58}.Packet(make([]byte, 8)))
	noNext := pcapgen.Link{Type: pcapgen.LinkEthernet}.Frame(pcapgen.IP{Src: client6.Addr(), Dst: server6.Addr(), Proto: pcapgen.ProtoNoNext}.Packet(nil))
	ip4 := func(proto uint8, b []byte) []byte {
		return pcapgen.Link{Type: pcapgen.LinkEthernet}.Frame(pcapgen.IP{Src: client4.Addr(), Dst: server4.Addr(), Proto: proto}.Packet(b))
	}
	udpTo := func(port uint16, b []byte) []byte {
		return ip4(pcapgen.ProtoUDP, pcapgen.UDP(client4, netip.AddrPortFrom(server4.Addr(), port), b))
	}
	// Signalling of the tunnels and PPP: no user data, so not TCP, and nothing to warn about.
	pptpLCP := ip4(pcapgen.ProtoGRE, []byte{0x30, 0x01, 0x88, 0x0b, 0, 6, 0, 1, 0, 0, 0, 1, 0xff, 0x03, 0xc0, 0x21, 1, 1})
	pptpAck := ip4(pcapgen.ProtoGRE, []byte{0x20, 0x81, 0x88, 0x0b, 0, 0, 0, 1, 0, 0, 0, 1})
	greKeepalive := ip4(pcapgen.ProtoGRE, []byte{0, 0, 0, 0})
	gtpEcho := udpTo(pcapgen.GTPUPort, []byte{0x32, 1, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0})
	l2tpHello := udpTo(1701, []byte{0xc8, 0x02, 0, 12, 0, 1, 0, 0, 0, 0, 0, 0})
	ike := udpTo(4500, make([]byte, 40))
	pppoeLCP := pcapgen.EthernetFrame(pcapgen.EtherTypePPPoES, nil, []byte{0x11, 0, 0, 1, 0, 4, 0xc0, 0x21, 9, 1})
	lldp := pcapgen.EthernetFrame(0x88cc, nil, make([]byte, 30))
	all := [][]byte{arp, udp, icmp6, noNext, pptpLCP, pptpAck, greKeepalive, gtpEcho, l2tpHello, ike, pppoeLCP, lldp}
	for _, d := range all {
		pkts = append(pkts, pcapgen.Packet{Time: c.Time, Data: d})
	}
	segs, st, err := readAll(t, mustCapture(t, pcapgen.Options{LinkType: pcapgen.LinkEthernet}, pkts), Options{})
	wantEOF(t, err)
	compareSegs(t, segs, wantSegs(pkts))
	if st.NonTCP != int64(len(all)) || st.Packets != int64(len(pkts)) || len(st.Skipped) != 0 {
		t.Errorf("got %d non-TCP of %d packets, skipped %v, want %d of %d, none", st.NonTCP, st.Packets, st.Skipped, len(all), len(pkts))
	}
}

func TestUnknownLinkType(t *testing.T) {
	pkts := smallConversation()
	segs, st, err := readAll(t, mustCapture(t, pcapgen.Options{LinkType: 147}, pkts), Options{})
	wantEOF(t, err)
	n, first := skipCount(st, SkipUnknownLinkType)
	if len(segs) != 0 || n != int64(len(pkts)) || first != "packet 1: link type 147" {
		t.Errorf("got %d segments, %d skipped (%q), want 0, %d (\"packet 1: link type 147\")", len(segs), n, first, len(pkts))
	}
}

func TestCorruptPcapNG(t *testing.T) {
	tests := []struct {
		name    string
		patch   func(data []byte, blocks []int) []byte
		drop    int // index of the packet expected to be skipped, -1 for none
		kind    SkipKind
		first   string
		errAt   int // block index of a FileError, -1 for io.EOF
		errText string
	}{
		{"EPB captured length past block", func(d []byte, b []int) []byte {
			binary.LittleEndian.PutUint32(d[b[3]+20:], 5000)
			return d
		}, 1, SkipBadRecord, "packet 2: pcapng captured length 5000 past its block (56 bytes)", -1, ""},
		{"EPB unknown interface", func(d []byte, b []int) []byte {
			binary.LittleEndian.PutUint32(d[b[3]+8:], 5)
			return d
		}, 1, SkipUnknownInterface, "packet 2: pcapng packet on interface 5, section has 1", -1, ""},
		{"trailing length mismatch", func(d []byte, b []int) []byte {
			binary.LittleEndian.PutUint32(d[b[4]-4:], 12)
			return d
		}, 1, SkipBadRecord, "packet 2: pcapng trailing block length 12, leading 88", -1, ""},
		{"EPB too short for its fields", func(d []byte, b []int) []byte {
			// Turn packet 2's block into a 24-byte EPB followed by a 64-byte unknown block.
			binary.LittleEndian.PutUint32(d[b[3]+4:], 24)
			binary.LittleEndian.PutUint32(d[b[3]+20:], 24)
			binary.LittleEndian.PutUint32(d[b[3]+24:], 0xbad)
			binary.LittleEndian.PutUint32(d[b[3]+28:], 64)
			binary.LittleEndian.PutUint32(d[b[4]-4:], 64)
			return d
		}, 1, SkipBadRecord, "packet 2: pcapng packet block too short (24 bytes)", -1, ""},
		{"block length under 12", func(d []byte, b []int) []byte {
			binary.LittleEndian.PutUint32(d[b[4]+4:], 8)
			return d
		}, -1, 0, "", 4, "capture: test.pcap: corrupt block length 8 (block type 0x6) at byte 224"},
		{"block length not a multiple of 4", func(d []byte, b []int) []byte {
			binary.LittleEndian.PutUint32(d[b[4]+4:], 90)
			return d
		}, -1, 0, "", 4, "capture: test.pcap: corrupt block length 90 (block type 0x6) at byte 224"},
		{"block past the end", func(d []byte, b []int) []byte {
			binary.LittleEndian.PutUint32(d[b[4]+4:], 1<<30)
			return d
		}, -1, 0, "", 4, "capture: test.pcap: truncated block at byte 224"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pkts := smallConversation()
			data := mustCapture(t, pcapgen.Options{Format: pcapgen.FormatPcapNG, LinkType: pcapgen.LinkEthernet}, pkts)
			blocks := ngBlocks(data) // SHB, IDB, then one EPB per packet
			data = tc.patch(data, blocks)
			want := wantSegs(pkts)
			if tc.errAt >= 0 {
				want = want[:tc.errAt-2]
			} else if tc.drop >= 0 {
				want = append(want[:tc.drop:tc.drop], want[tc.drop+1:]...)
			}
			segs, st, err := readAll(t, data, Options{})
			compareSegs(t, segs, want)
			if tc.errAt >= 0 {
				fe := fileError(t, err)
				if fe.Offset != int64(blocks[tc.errAt]) || err.Error() != tc.errText {
					t.Errorf("got %q, want %q", err, tc.errText)
				}
				return
			}
			wantEOF(t, err)
			if n, first := skipCount(st, tc.kind); n != 1 || first != tc.first {
				t.Errorf("got skipped %+v, want 1 %v: %q", st.Skipped, tc.kind, tc.first)
			}
		})
	}
}

// TestPcapNGTimeOutOfRange: a packet whose timestamp no time in nanoseconds can hold (a
// damaged clock, past 2262) is kept at the bound and counted; the others keep their times.
func TestPcapNGTimeOutOfRange(t *testing.T) {
	pkts := smallConversation()
	data := mustCapture(t, pcapgen.Options{Format: pcapgen.FormatPcapNG, LinkType: pcapgen.LinkEthernet}, pkts)
	blocks := ngBlocks(data)
	binary.LittleEndian.PutUint32(data[blocks[3]+12:], 0x7fffffff) // packet 2, microseconds: the year 294,247
	want := wantSegs(pkts)
	want[1].Time = MaxTime
	segs, st, err := readAll(t, data, Options{})
	wantEOF(t, err)
	compareSegs(t, segs, want)
	if st.Clamped != 1 || st.FirstClamped != "packet 2 at 294247-01-10T03:43:06.135336Z" || len(st.Skipped) != 0 {
		t.Errorf("clamped %d (%q), skipped %v; want 1 at packet 2, none skipped", st.Clamped, st.FirstClamped, st.Skipped)
	}
}

// TestGzipCorrupt flips a byte inside the compressed stream: packets before it come out,
// then a FileError that is not a truncation.
func TestGzipCorrupt(t *testing.T) {
	pkts := smallConversation()
	data := mustCapture(t, pcapgen.Options{LinkType: pcapgen.LinkEthernet, Gzip: true}, pkts)
	data[len(data)-6] ^= 0xff // inside the CRC/length trailer
	segs, _, err := readAll(t, data, Options{})
	compareSegs(t, segs, wantSegs(pkts))
	fileError(t, err)
	if errors.Is(err, ErrTruncated) || err == io.EOF || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("got %v, want a gzip checksum error", err)
	}
}

// TestPcapNGDamagedHeaderBlocks damages the trailing length of a section header or an
// interface description. The block is not trusted, but the numbering stays: the section
// still starts, and the interface keeps its place with an unknown link type, so that the
// packets of the other interfaces are still decoded with their own link type and clock.
// (Dropping the interface used to shift every later one down by one, and the stand-in for
// a large one had no clock: its packets divided by zero.)
func TestPcapNGDamagedHeaderBlocks(t *testing.T) {
	ifaces := []pcapgen.Interface{{LinkType: pcapgen.LinkEthernet}, {LinkType: pcapgen.LinkSLL2, Nano: true}}
	eth := onIface(v4, pcapgen.Link{Type: pcapgen.LinkEthernet}, 0, 0)
	sll2 := onIface(v6, pcapgen.Link{Type: pcapgen.LinkSLL2}, 1, 333*time.Nanosecond)
	two := mustCapture(t, pcapgen.Options{Format: pcapgen.FormatPcapNG, Interfaces: ifaces}, interleave(eth, sll2))
	// A first section with one Ethernet interface, then the two-interface section.
	first := mustCapture(t, pcapgen.Options{Format: pcapgen.FormatPcapNG, LinkType: pcapgen.LinkEthernet}, smallConversation())
	damage := func(data []byte, block int) []byte {
		d := bytes.Clone(data)
		b := ngBlocks(d)
		end := len(d)
		if block+1 < len(b) {
			end = b[block+1]
		}
		binary.LittleEndian.PutUint32(d[end-4:], 12)
		return d
	}
	// The first interface description made larger than a read buffer: not read either.
	b := ngBlocks(two)
	big := make([]byte, bufSize+16)
	binary.LittleEndian.PutUint32(big, 1)
	binary.LittleEndian.PutUint32(big[4:], uint32(len(big)))
	binary.LittleEndian.PutUint32(big[len(big)-4:], uint32(len(big)))
	large := slices.Concat(two[:b[1]], big, two[b[2]:])
	tests := []struct {
		name    string
		data    []byte
		want    []pcapgen.Packet
		skipped int64 // packets of an unknown link type
	}{
		{"first interface", damage(two, 1), sll2, int64(len(eth))},
		{"first interface too large", large, sll2, int64(len(eth))},
		{"second interface", damage(two, 2), eth, int64(len(sll2))},
		{"second section header", append(bytes.Clone(first), damage(two, 0)...),
			append(smallConversation(), interleave(eth, sll2)...), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			segs, st, err := readAll(t, tc.data, Options{})
			wantEOF(t, err)
			compareSegs(t, segs, wantSegs(tc.want))
			if n, _ := skipCount(st, SkipUnknownLinkType); n != tc.skipped || int64(len(st.Skipped)) != min(tc.skipped, 1) {
				t.Errorf("got skipped %+v, want %d of an unknown link type", st.Skipped, tc.skipped)
			}
		})
	}
}
