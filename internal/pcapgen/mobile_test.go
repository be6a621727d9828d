package pcapgen

import (
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/wsclosescan/wsclosescan/reassembly"
)

// TestMobileFramesDecodeWithGopacket checks the GTP-U, MPLS and PPPoE builders against
// gopacket's decoders: the TCP segment inside must come out intact, with valid checksums,
// and the GTP-U header must say what was asked for.
func TestMobileFramesDecodeWithGopacket(t *testing.T) {
	enb, upf := netip.MustParseAddr("172.20.0.1"), netip.MustParseAddr("fd20::2")
	psc := GTPExt{Type: 0x85, Content: []byte{0x10, 0x09}} // PDU session container, QFI 9
	tests := []struct {
		name     string
		cli, srv netip.AddrPort
		frame    func(ip []byte) []byte
		gtp      *GTPU
	}{
		{name: "GTP-U v4 in v4 QinQ", cli: cli4, srv: srv4, gtp: &GTPU{Src: enb, Dst: enb.Next(), TEID: 0x1234}},
		{name: "GTP-U seq npdu", cli: cli4, srv: srv4, gtp: &GTPU{Src: enb, Dst: enb.Next(), Seq: true, NPDU: true}},
		{name: "GTP-U two extension headers", cli: cli6, srv: srv6, gtp: &GTPU{Src: enb, Dst: enb.Next(), SrcPort: 40000,
			Ext: []GTPExt{psc, {Type: 0xc0, Content: []byte{1, 2, 3, 4, 5, 6}}}}},
		{name: "GTP-U v6 outer", cli: cli4, srv: srv4, gtp: &GTPU{Src: upf, Dst: upf.Next(), Ext: []GTPExt{psc}}},
		{name: "MPLS two labels", cli: cli4, srv: srv4, frame: func(ip []byte) []byte {
			return EthernetFrame(EtherTypeMPLS, nil, MPLS([]uint32{16, 1048575}, ip))
		}},
		{name: "PPPoE v6", cli: cli6, srv: srv6, frame: func(ip []byte) []byte {
			return EthernetFrame(EtherTypePPPoES, []uint16{7}, PPPoESession(0x2a, ip))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seg := TCP{Src: tc.cli, Dst: tc.srv, Seq: 77, Ack: 88, Flags: reassembly.FlagACK | reassembly.FlagPSH,
				Window: 1000, Payload: []byte("GET /ws HTTP/1.1\r\n\r\n")}
			frame := tc.frame
			if tc.gtp != nil {
				frame = func(ip []byte) []byte {
					return Link{Type: LinkEthernet, VLANs: []uint16{100, 200}}.Frame(tc.gtp.Wrap(ip))
				}
			}
			data := frame(seg.Packet(IP{}))
			tcp := decodeTCP(t, LinkEthernet, data)
			if tcp.Seq != 77 || tcp.Ack != 88 || string(tcp.Payload) != string(seg.Payload) ||
				tcp.SrcPort != layers.TCPPort(tc.cli.Port()) {
				t.Errorf("got seq %d ack %d port %d payload %q", tcp.Seq, tcp.Ack, tcp.SrcPort, tcp.Payload)
			}
			if tc.gtp == nil {
				return
			}
			p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
			g, _ := p.Layer(layers.LayerTypeGTPv1U).(*layers.GTPv1U)
			if g == nil {
				t.Fatalf("no GTPv1U layer in %v", p)
			}
			if g.Version != 1 || g.ProtocolType != 1 || g.MessageType != 255 || g.TEID != tc.gtp.TEID ||
				g.SequenceNumberFlag != tc.gtp.Seq || g.NPDUFlag != tc.gtp.NPDU || len(g.GTPExtensionHeaders) != len(tc.gtp.Ext) {
				t.Errorf("got GTP-U header %+v, want %+v", g, tc.gtp)
			}
			for i, e := range g.GTPExtensionHeaders {
				if e.Type != tc.gtp.Ext[i].Type || string(e.Content[:len(tc.gtp.Ext[i].Content)]) != string(tc.gtp.Ext[i].Content) {
					t.Errorf("extension header %d: got %+v, want %+v", i, e, tc.gtp.Ext[i])
				}
			}
			if int(g.MessageLength) != len(g.Payload)+len(g.Contents)-8 {
				t.Errorf("GTP-U length %d, want %d", g.MessageLength, len(g.Payload)+len(g.Contents)-8)
			}
		})
	}
}

func TestEthernetFrameTagged(t *testing.T) {
	f := EthernetFrameTagged(EtherTypeIPv4, []VLANTag{{EtherTypeQinQ9100, 0x1005}, {EtherTypeVLAN, 6}}, []byte{0x45})
	want := []byte{0x91, 0x00, 0x00, 0x05, 0x81, 0x00, 0x00, 0x06, 0x08, 0x00, 0x45}
	if string(f[12:]) != string(want) {
		t.Errorf("got % x, want % x", f[12:], want)
	}
}
