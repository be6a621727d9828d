package capture

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/reassembly"
)

// gopacketTCP decodes an Ethernet frame with gopacket and describes the innermost TCP
// segment it finds, or returns "" when it finds none or reports an error.
func gopacketTCP(frame []byte) string {
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	if p.ErrorLayer() != nil {
		return ""
	}
	var tcp *layers.TCP
	var src, dst string
	for _, l := range p.Layers() {
		switch l := l.(type) {
		case *layers.IPv4:
			src, dst = l.SrcIP.String(), l.DstIP.String()
		case *layers.IPv6:
			src, dst = l.SrcIP.String(), l.DstIP.String()
		case *layers.TCP:
			tcp = l
		}
	}
	if tcp == nil {
		return ""
	}
	return fmt.Sprintf("%s:%d>%s:%d seq=%d ack=%d flags=%#02x win=%d payload=%q", src, tcp.SrcPort, dst, tcp.DstPort,
		tcp.Seq, tcp.Ack, tcp.Contents[13], tcp.Window, tcp.Payload)
}

// ourTCP decodes the frame with this package, the same way.
func ourTCP(t *testing.T, frame []byte) string {
	t.Helper()
	data := mustCapture(t, pcapgen.Options{LinkType: pcapgen.LinkEthernet}, []pcapgen.Packet{{Data: frame}})
	segs, _, err := readAll(t, data, Options{})
	wantEOF(t, err)
	if len(segs) != 1 {
		return ""
	}
	s := segs[0]
	return fmt.Sprintf("%s:%d>%s:%d seq=%d ack=%d flags=%#02x win=%d payload=%q", s.Src.Addr(), s.Src.Port(), s.Dst.Addr(), s.Dst.Port(),
		s.Seq, s.Ack, uint8(s.Flags), s.Window, s.Payload)
}

// TestGTPUAgreesWithGopacket decodes GTP-U frames, well-formed and damaged, with gopacket's
// GTPv1U decoder and with this package: both must find the same TCP segment, or none.
func TestGTPUAgreesWithGopacket(t *testing.T) {
	seg := func(fam netipAddrPort) []byte {
		cli, srv := client4, server4
		if fam == v6 {
			cli, srv = client6, server6
		}
		return pcapgen.TCP{Src: cli, Dst: srv, Seq: 7, Ack: 9, Flags: reassembly.FlagPSH | reassembly.FlagACK, Window: 512,
			Payload: []byte("HTTP/1.1 101 Switching Protocols\r\n\r\n")}.Packet(pcapgen.IP{})
	}
	frames := map[string][]byte{}
	eth := pcapgen.Link{Type: pcapgen.LinkEthernet, VLANs: []uint16{100, 200}}
	gtps := map[string]pcapgen.GTPU{
		"plain":    {Src: outer4a, Dst: outer4b, TEID: 0xabcdef},
		"seq":      {Src: outer4a, Dst: outer4b, Seq: true},
		"npdu":     {Src: outer6a, Dst: outer6b, NPDU: true},
		"ext":      {Src: outer4a, Dst: outer4b, Ext: []pcapgen.GTPExt{pduSession}},
		"two ext":  {Src: outer4a, Dst: outer4b, Seq: true, Ext: []pcapgen.GTPExt{pduSession, {Type: 0xc0, Content: make([]byte, 6)}}},
		"downlink": {Src: outer4a, Dst: outer4b, DstPort: 51000},
	}
	for name, g := range gtps {
		for _, fam := range []netipAddrPort{v4, v6} {
			f := eth.Frame(g.Wrap(seg(fam)))
			frames[fmt.Sprintf("%s %v", name, fam == v6)] = f
		}
	}
	// Damage: the GTP-U header starts after Ethernet, two tags, IPv4 and UDP.
	const off = 14 + 8 + 20 + 8
	base := eth.Frame(gtps["two ext"].Wrap(seg(v4)))
	damage := func(name string, f func(b []byte) []byte) {
		frames[name] = f(bytes.Clone(base))
	}
	damage("cut in header", func(b []byte) []byte { return fixLen(b[:off+6], 22) })
	damage("cut in optional fields", func(b []byte) []byte { return fixLen(b[:off+10], 22) })
	damage("cut in extension header", func(b []byte) []byte { return fixLen(b[:off+14], 22) })
	damage("extension length 0", func(b []byte) []byte { b[off+12] = 0; return b })
	damage("second extension length 0", func(b []byte) []byte { b[off+16] = 0; return b })
	damage("extension past the end", func(b []byte) []byte { b[off+16] = 200; return b })
	damage("length past the end", func(b []byte) []byte { b[off+2]++; return b })
	damage("echo", func(b []byte) []byte { b[off+1] = 1; return b })
	for v := range 256 { // every extension length and every next-type of the last header
		damage(fmt.Sprintf("extension length %d", v), func(b []byte) []byte { b[off+12] = byte(v); return b })
		damage(fmt.Sprintf("last next type %d", v), func(b []byte) []byte { b[off+off2ext] = byte(v); return b })
	}
	found := 0
	for name, f := range frames {
		theirs, ours := gopacketTCP(f), ourTCP(t, f)
		if theirs != ours {
			t.Errorf("%s:\ngopacket %s\nours     %s", name, theirs, ours)
		}
		if ours != "" {
			found++
		}
	}
	if found < len(gtps)*2+1 { // the well-formed frames, and the undamaged next type 0
		t.Errorf("found TCP in only %d frames", found)
	}
}

// off2ext is the offset, from the GTP-U header, of the next-type byte of the second
// extension header in the "two ext" frame: 12 bytes of header, 4 of the first extension
// header, 8 of the second.
const off2ext = 12 + 4 + 8 - 1

// fixLen sets the outer IPv4 total length of a frame whose IPv4 header starts at byte ipOff.
func fixLen(b []byte, ipOff int) []byte {
	n := len(b) - ipOff
	b[ipOff+2], b[ipOff+3] = byte(n>>8), byte(n)
	return b
}
