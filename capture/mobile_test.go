package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/reassembly"
)

// pduSession is a GTP-U PDU session container extension header (type 0x85), QFI 9.
var pduSession = pcapgen.GTPExt{Type: 0x85, Content: []byte{0x10, 0x09}}

func gtpu(g pcapgen.GTPU) func([]byte) [][]byte {
	return func(ip []byte) [][]byte { return [][]byte{g.Wrap(ip)} }
}

// etypeOf is the EtherType of the IP packet ip.
func etypeOf(ip []byte) uint16 {
	if len(ip) > 0 && ip[0]>>4 == 6 {
		return pcapgen.EtherTypeIPv6
	}
	return pcapgen.EtherTypeIPv4
}

// outer returns an Encap that puts hdr(ip) in an IPv4 packet of protocol proto.
func outer(proto uint8, hdr func(ip []byte) []byte) func([]byte) [][]byte {
	return func(ip []byte) [][]byte {
		return [][]byte{pcapgen.IP{Src: outer4a, Dst: outer4b, Proto: proto}.Packet(hdr(ip))}
	}
}

// overUDP returns an Encap that puts hdr(ip) in UDP from port sp to port dp.
func overUDP(sp, dp uint16, hdr func(ip []byte) []byte) func([]byte) [][]byte {
	return outer(pcapgen.ProtoUDP, func(ip []byte) []byte {
		return pcapgen.UDP(netip.AddrPortFrom(outer4a, sp), netip.AddrPortFrom(outer4b, dp), hdr(ip))
	})
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// relink rebuilds the link layer of Ethernet frames without VLAN tags: frame gets the IP
// packet behind the Ethernet header.
func relink(pkts []pcapgen.Packet, frame func(ip []byte) []byte) {
	for i := range pkts {
		pkts[i].Data = frame(pkts[i].Data[14:])
	}
}

func TestMobileEncapsulations(t *testing.T) {
	enb := outer4a
	tests := []struct {
		name  string
		fam   netipAddrPort
		vlans []uint16
		encap func([]byte) [][]byte
		frame func(ip []byte) []byte // replaces the Ethernet frame
		lt    pcapgen.LinkType
		frags int64
	}{
		{name: "GTP-U QinQ", fam: v4, vlans: []uint16{100, 200}, encap: gtpu(pcapgen.GTPU{Src: enb, Dst: outer4b, TEID: 1})},
		{name: "GTP-U sequence number", fam: v4, encap: gtpu(pcapgen.GTPU{Src: enb, Dst: outer4b, Seq: true})},
		{name: "GTP-U N-PDU number", fam: v6, encap: gtpu(pcapgen.GTPU{Src: enb, Dst: outer4b, NPDU: true})},
		{name: "GTP-U extension header", fam: v4, vlans: []uint16{5, 6}, encap: gtpu(pcapgen.GTPU{Src: enb, Dst: outer4b, Ext: []pcapgen.GTPExt{pduSession}})},
		{name: "GTP-U two extension headers, v6 outer", fam: v6, encap: gtpu(pcapgen.GTPU{Src: outer6a, Dst: outer6b,
			Ext: []pcapgen.GTPExt{pduSession, {Type: 0xc0, Content: make([]byte, 10)}}})},
		{name: "GTP-U source port only", fam: v4, encap: gtpu(pcapgen.GTPU{Src: enb, Dst: outer4b, DstPort: 40000})},
		{name: "GTP-U destination port only", fam: v4, encap: gtpu(pcapgen.GTPU{Src: enb, Dst: outer4b, SrcPort: 40000})},
		{name: "GTP-U fragmented outer", fam: v4, encap: then(gtpu(pcapgen.GTPU{Src: enb, Dst: outer4b, Seq: true}), pcapgen.Fragmenter4(128)), frags: 3},
		{name: "QinQ 0x9100", fam: v4, frame: func(ip []byte) []byte {
			return pcapgen.EthernetFrameTagged(etypeOf(ip), []pcapgen.VLANTag{{TPID: pcapgen.EtherTypeQinQ9100, ID: 1}, {TPID: pcapgen.EtherTypeVLAN, ID: 2}}, ip)
		}},
		{name: "three tags 0x88a8 0x9100 0x8100", fam: v6, frame: func(ip []byte) []byte {
			return pcapgen.EthernetFrameTagged(etypeOf(ip), []pcapgen.VLANTag{
				{TPID: pcapgen.EtherTypeQinQ, ID: 1}, {TPID: pcapgen.EtherTypeQinQ9100, ID: 2}, {TPID: pcapgen.EtherTypeVLAN, ID: 3}}, ip)
		}},
		{name: "SLL with a VLAN tag", fam: v4, lt: pcapgen.LinkSLL, frame: func(ip []byte) []byte {
			f := pcapgen.Link{Type: pcapgen.LinkSLL}.Frame(cat([]byte{0, 7, 0, 0}, ip))
			binary.BigEndian.PutUint16(f[14:], pcapgen.EtherTypeVLAN)
			binary.BigEndian.PutUint16(f[18:], etypeOf(ip))
			return f
		}},
		{name: "MPLS", fam: v4, frame: func(ip []byte) []byte {
			return pcapgen.EthernetFrame(pcapgen.EtherTypeMPLS, nil, pcapgen.MPLS([]uint32{16, 17, 3}, ip))
		}},
		{name: "MPLS v6 in QinQ", fam: v6, frame: func(ip []byte) []byte {
			return pcapgen.EthernetFrame(pcapgen.EtherTypeMPLS, []uint16{1, 2}, pcapgen.MPLS([]uint32{2}, ip))
		}},
		{name: "MPLS Ethernet pseudowire", fam: v4, frame: func(ip []byte) []byte {
			pw := cat([]byte{0, 0, 0, 1}, pcapgen.EthernetFrame(etypeOf(ip), []uint16{9}, ip))
			return pcapgen.EthernetFrame(pcapgen.EtherTypeMPLS, nil, pcapgen.MPLS([]uint32{30, 31}, pw))
		}},
		{name: "MPLS Ethernet pseudowire without control word", fam: v6, frame: func(ip []byte) []byte {
			return pcapgen.EthernetFrame(pcapgen.EtherTypeMPLS, nil, pcapgen.MPLS([]uint32{30}, pcapgen.EthernetFrame(etypeOf(ip), nil, ip)))
		}},
		{name: "PPPoE", fam: v4, frame: func(ip []byte) []byte {
			return pcapgen.EthernetFrame(pcapgen.EtherTypePPPoES, nil, pcapgen.PPPoESession(1, ip))
		}},
		{name: "PPPoE v6 VLAN", fam: v6, frame: func(ip []byte) []byte {
			return pcapgen.EthernetFrame(pcapgen.EtherTypePPPoES, []uint16{7}, pcapgen.PPPoESession(1, ip))
		}},
		{name: "802.1ah MAC-in-MAC", fam: v4, frame: func(ip []byte) []byte {
			return pcapgen.EthernetFrame(0x88e7, []uint16{10}, cat([]byte{0, 1, 2, 3}, pcapgen.EthernetFrame(etypeOf(ip), nil, ip)))
		}},
		{name: "LLC/SNAP", fam: v4, frame: func(ip []byte) []byte {
			f := pcapgen.EthernetFrame(uint16(8+len(ip)), nil, cat([]byte{0xaa, 0xaa, 3, 0, 0, 0, 8, 0}, ip))
			return f
		}},
		{name: "MPLS in GRE", fam: v6, encap: outer(pcapgen.ProtoGRE, func(ip []byte) []byte {
			return cat([]byte{0, 0, 0x88, 0x47}, pcapgen.MPLS([]uint32{100}, ip))
		})},
		{name: "MPLS in IP", fam: v4, encap: outer(pcapgen.ProtoMPLS, func(ip []byte) []byte { return pcapgen.MPLS([]uint32{100}, ip) })},
		{name: "MPLS in UDP", fam: v4, encap: overUDP(49152, 6635, func(ip []byte) []byte { return pcapgen.MPLS([]uint32{100}, ip) })},
		{name: "WCCP v2 in GRE", fam: v4, encap: outer(pcapgen.ProtoGRE, func(ip []byte) []byte { return cat([]byte{0, 0, 0x88, 0x3e, 0, 0, 0, 0}, ip) })},
		{name: "PPTP", fam: v4, encap: outer(pcapgen.ProtoGRE, func(ip []byte) []byte {
			ppp := cat([]byte{0xff, 0x03, 0x00, 0x21}, ip)
			h := []byte{0x30, 0x81, 0x88, 0x0b, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 1} // K S A, version 1
			binary.BigEndian.PutUint16(h[4:], uint16(len(ppp)))
			return cat(h, ppp)
		})},
		{name: "L2TPv2", fam: v6, encap: overUDP(1701, 1701, func(ip []byte) []byte {
			ppp := cat([]byte{0xff, 0x03, 0x00, 0x57}, ip)
			h := []byte{0x4a, 0x02, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 2, 0xee, 0xee} // L S O, version 2, offset 2
			binary.BigEndian.PutUint16(h[2:], uint16(len(h)+len(ppp)))
			return cat(h, ppp)
		})},
		{name: "Geneve with an option", fam: v4, encap: overUDP(49152, 6081, func(ip []byte) []byte {
			return cat([]byte{0x02, 0, 0x65, 0x58, 0, 0, 42, 0, 0x01, 0x02, 0x80, 0x01, 1, 2, 3, 4}, pcapgen.EthernetFrame(etypeOf(ip), nil, ip))
		})},
		{name: "Geneve IPv6", fam: v6, encap: overUDP(49152, 6081, func(ip []byte) []byte { return cat([]byte{0, 0, 0x86, 0xdd, 0, 0, 42, 0}, ip) })},
		{name: "VXLAN-GPE IPv4", fam: v4, encap: overUDP(49152, 4790, func(ip []byte) []byte { return cat([]byte{0x0c, 0, 0, 1, 0, 0, 1, 0}, ip) })},
		{name: "VXLAN-GPE Ethernet, source port", fam: v6, encap: overUDP(4790, 49152, func(ip []byte) []byte {
			return cat([]byte{0x0c, 0, 0, 3, 0, 0, 1, 0}, pcapgen.EthernetFrame(etypeOf(ip), nil, ip))
		})},
		{name: "VXLAN-GPE NSH with metadata, Ethernet", fam: v4, encap: overUDP(49152, 4790, func(ip []byte) []byte {
			return cat([]byte{0x0c, 0, 0, 4, 0, 0, 1, 0}, []byte{0, 4, 2, 3, 0, 0, 1, 255, 0, 1, 2, 4, 1, 2, 3, 4}, pcapgen.EthernetFrame(etypeOf(ip), nil, ip))
		})},
		{name: "NSH IPv6", fam: v6, frame: func(ip []byte) []byte {
			return pcapgen.EthernetFrame(0x894f, nil, cat([]byte{0, 2, 1, 2, 0, 0, 1, 255}, ip))
		}},
		{name: "EtherIP", fam: v4, encap: outer(97, func(ip []byte) []byte { return cat([]byte{0x30, 0}, pcapgen.EthernetFrame(etypeOf(ip), nil, ip)) })},
		{name: "AH tunnel mode", fam: v4, encap: outer(51, func(ip []byte) []byte {
			return cat([]byte{pcapgen.ProtoIPIP, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}, make([]byte, 12), ip)
		})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newConn(tc.fam)
			c.Link.VLANs = tc.vlans
			c.Encap = tc.encap
			pkts := conversation(c)
			if tc.frame != nil {
				relink(pkts, tc.frame)
			}
			lt := tc.lt
			if lt == 0 {
				lt = pcapgen.LinkEthernet
			}
			segs, st, err := readAll(t, mustCapture(t, pcapgen.Options{LinkType: lt}, pkts), Options{})
			wantEOF(t, err)
			compareSegs(t, segs, wantSegs(pkts))
			if len(st.Skipped) != 0 || st.NonTCP != 0 {
				t.Errorf("got skipped %v, non-TCP %d, want none", st.Skipped, st.NonTCP)
			}
			if want := fragmentCount(pkts); st.Fragments != want {
				t.Errorf("got %d fragments, want %d", st.Fragments, want)
			}
			if st.Fragments != tc.frags {
				t.Errorf("got %d fragments, want %d", st.Fragments, tc.frags)
			}
		})
	}
}

// gtpConversation is smallConversation over GTP-U in Ethernet / IPv4 / UDP: the GTP-U
// header starts at byte gtpOff of every frame.
func gtpConversation(g pcapgen.GTPU) []pcapgen.Packet {
	c := newConn(v4)
	g.Src, g.Dst = outer4a, outer4b
	c.Encap = gtpu(g)
	p := c.Handshake()
	p = append(p, c.Send(reassembly.ClientToServer, []byte("hello"))...)
	p = append(p, c.Send(reassembly.ServerToClient, []byte("world!"))...)
	return append(p, c.Close(reassembly.ClientToServer)...)
}

const gtpOff = 14 + 20 + 8

// cutFrame shortens an Ethernet / IPv4 frame to n bytes and fixes the IPv4 total length.
func cutFrame(f []byte, n int) []byte {
	f = f[:n]
	binary.BigEndian.PutUint16(f[14+2:], uint16(n-14))
	return f
}

// TestGTPUMalformed patches the GTP-U header of one packet and checks that that packet
// alone is skipped (or, for signalling, counted as non-TCP) with the right description.
func TestGTPUMalformed(t *testing.T) {
	plain, seq, ext := pcapgen.GTPU{}, pcapgen.GTPU{Seq: true}, pcapgen.GTPU{Ext: []pcapgen.GTPExt{pduSession}}
	tests := []struct {
		name   string
		g      pcapgen.GTPU
		patch  func(f []byte) []byte
		kind   SkipKind // with nonTCP, no kind
		first  string
		nonTCP bool
	}{
		{"truncated header", plain, func(f []byte) []byte { return cutFrame(f, gtpOff+5) },
			SkipBadTunnel, "packet 2: truncated GTP-U header (5 bytes)", false},
		{"optional fields past the datagram", seq, func(f []byte) []byte {
			binary.BigEndian.PutUint16(f[gtpOff+2:], 4)
			return cutFrame(f, gtpOff+11)
		}, SkipBadTunnel, "packet 2: GTP-U length 4 past the datagram (3 bytes)", false},
		{"version 2", plain, func(f []byte) []byte { f[gtpOff] = 0x50; return f },
			SkipBadTunnel, "packet 2: GTP-U flags 0x50: not GTPv1", false},
		{"GTP prime", plain, func(f []byte) []byte { f[gtpOff] = 0x20; return f },
			SkipBadTunnel, "packet 2: GTP-U flags 0x20: not GTPv1", false},
		{"length past the datagram", plain, func(f []byte) []byte { binary.BigEndian.PutUint16(f[gtpOff+2:], 1000); return f },
			SkipBadTunnel, "packet 2: GTP-U length 1000 past the datagram (%d bytes)", false},
		{"length too short for the optional fields", seq, func(f []byte) []byte { binary.BigEndian.PutUint16(f[gtpOff+2:], 2); return f },
			SkipBadTunnel, "packet 2: GTP-U length 2 too short for its optional fields", false},
		{"extension header length 0", ext, func(f []byte) []byte { f[gtpOff+12] = 0; return f },
			SkipBadTunnel, "packet 2: GTP-U extension header 0x85 with length 0", false},
		{"extension header past the message", ext, func(f []byte) []byte { f[gtpOff+12] = 0xff; return f },
			SkipBadTunnel, "packet 2: GTP-U extension header 0x85 of 1020 bytes past the message", false},
		{"extension header chain past the message", ext, func(f []byte) []byte {
			f[gtpOff+15] = 0xc0 // another header follows, but the message ends
			binary.BigEndian.PutUint16(f[gtpOff+2:], 8)
			return cutFrame(f, gtpOff+16)
		}, SkipBadTunnel, "packet 2: GTP-U extension header 0xc0 past the message", false},
		{"extension header truncated", ext, func(f []byte) []byte {
			binary.BigEndian.PutUint16(f[gtpOff+2:], 6)
			return cutFrame(f, gtpOff+14)
		}, SkipBadTunnel, "packet 2: GTP-U extension header 0x85 of 4 bytes past the message", false},
		{"E flag without a payload", ext, func(f []byte) []byte {
			binary.BigEndian.PutUint16(f[gtpOff+2:], 8)
			return cutFrame(f, gtpOff+16)
		}, SkipBadTunnel, "packet 2: G-PDU without a payload", false},
		{"payload not IP", plain, func(f []byte) []byte { f[gtpOff+8] = 0x02; return f },
			SkipUnsupportedEncap, "packet 2: G-PDU that is not IP (first byte 0x02): an Ethernet or unstructured PDU session?", false},
		{"echo request", seq, func(f []byte) []byte { f[gtpOff+1] = 1; return f }, 0, "", true},
		{"end marker", plain, func(f []byte) []byte { f[gtpOff+1] = 254; return f }, 0, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pkts := gtpConversation(tc.g)
			want := wantSegs(pkts)
			orig := pkts[1].Data
			pkts[1].Data = tc.patch(append([]byte(nil), orig...))
			want = append(want[:1], want[2:]...)
			segs, st, err := readAll(t, mustCapture(t, pcapgen.Options{LinkType: pcapgen.LinkEthernet}, pkts), Options{})
			wantEOF(t, err)
			compareSegs(t, segs, want)
			if tc.nonTCP {
				if st.NonTCP != 1 || len(st.Skipped) != 0 {
					t.Errorf("got non-TCP %d, skipped %+v, want 1, none", st.NonTCP, st.Skipped)
				}
				return
			}
			first := tc.first
			if bytes.Contains([]byte(first), []byte("%d")) {
				first = fmt.Sprintf(first, len(orig)-gtpOff-8)
			}
			n, got := skipCount(st, tc.kind)
			if n != 1 || got != first || len(st.Skipped) != 1 || st.NonTCP != 0 {
				t.Errorf("got skipped %+v, non-TCP %d, want 1 %v: %q", st.Skipped, st.NonTCP, tc.kind, first)
			}
		})
	}
}

// TestGTPUSnaplen cuts every packet inside the GTP-U extension header: each is counted as
// cut by the snapshot length, not as malformed.
func TestGTPUSnaplen(t *testing.T) {
	pkts := gtpConversation(pcapgen.GTPU{Ext: []pcapgen.GTPExt{pduSession}})
	opts := pcapgen.Options{LinkType: pcapgen.LinkEthernet, Snaplen: gtpOff + 14}
	segs, st, err := readAll(t, mustCapture(t, opts, pkts), Options{})
	wantEOF(t, err)
	n, first := skipCount(st, SkipHeaderCut)
	if len(segs) != 0 || n != int64(len(pkts)) || first != "packet 1: GTP-U extension header cut at 14 bytes" || len(st.Skipped) != 1 {
		t.Errorf("got %d segments, skipped %+v, want 0, %d cut in the extension header", len(segs), st.Skipped, len(pkts))
	}
}

// TestUnsupportedEncapsulations replaces one packet with an encapsulation that is not
// decoded and checks that it is counted as SkipUnsupportedEncap, not lost silently.
func TestUnsupportedEncapsulations(t *testing.T) {
	ip := func() []byte { // any IPv4 packet with TCP inside
		return pcapgen.TCP{Src: client4, Dst: server4, Flags: reassembly.FlagSYN}.Packet(pcapgen.IP{})
	}
	eth := func(ip []byte) []byte { return pcapgen.Link{Type: pcapgen.LinkEthernet}.Frame(ip) }
	in := func(e func([]byte) [][]byte) []byte { return eth(e(ip())[0]) }
	esp := make([]byte, 40)
	esp[3] = 1 // SPI 1
	tests := []struct {
		name  string
		frame []byte
		first string
	}{
		{"ESP", in(outer(pcapgen.ProtoESP, func([]byte) []byte { return esp })), "IPsec ESP (IP protocol 50), encrypted"},
		{"ESP in UDP", in(overUDP(4500, 4500, func([]byte) []byte { return esp })), "IPsec ESP in UDP (port 4500), encrypted"},
		{"L2TPv3 over IP", in(outer(115, func(ip []byte) []byte { return cat([]byte{0, 0, 0, 1}, eth(ip)) })), "L2TPv3 (IP protocol 115)"},
		{"L2TPv3 over UDP", in(overUDP(1701, 1701, func(ip []byte) []byte { return cat([]byte{0, 3, 0, 0, 0, 0, 0, 1}, eth(ip)) })), "L2TPv3 over UDP (version 3)"},
		{"GRE protocol", in(outer(pcapgen.ProtoGRE, func(ip []byte) []byte { return cat([]byte{0, 0, 0x12, 0x34}, ip) })), "GRE protocol 0x1234"},
		{"MACsec", pcapgen.EthernetFrame(0x88e5, []uint16{4}, cat(make([]byte, 16), ip())), "MACsec (EtherType 0x88e5), encrypted"},
		{"NSH next protocol", pcapgen.EthernetFrame(0x894f, nil, cat([]byte{0, 2, 1, 9, 0, 0, 1, 255}, ip())), "NSH next protocol 9"},
		{"MPLS not IP", pcapgen.EthernetFrame(pcapgen.EtherTypeMPLS, nil, pcapgen.MPLS([]uint32{20}, cat([]byte{0x52}, ip()))),
			"MPLS payload that is neither IP nor Ethernet (first byte 0x52)"},
		{"MPLS control word, not Ethernet", pcapgen.EthernetFrame(pcapgen.EtherTypeMPLS, nil, pcapgen.MPLS([]uint32{20}, cat([]byte{0, 0, 0, 1}, ip()))),
			"MPLS payload that is neither IP nor Ethernet (first byte 0x00)"},
		{"Geneve protocol", in(overUDP(1, 6081, func(ip []byte) []byte { return cat([]byte{0, 0, 0x89, 0x4f, 0, 0, 1, 0}, ip) })), "Geneve protocol 0x894f"},
		{"VXLAN-GPE next protocol", in(overUDP(1, 4790, func(ip []byte) []byte { return cat([]byte{0x0c, 0, 0, 0x7f, 0, 0, 1, 0}, ip) })), "VXLAN-GPE next protocol 127"},
		{"PPP compressed", pcapgen.EthernetFrame(pcapgen.EtherTypePPPoES, nil, []byte{0x11, 0, 0, 1, 0, 4, 0, 0xfd, 1, 2}), "PPP compressed or encrypted datagram (protocol 0x00fd)"},
		{"GTP-U Ethernet PDU", in(gtpu(pcapgen.GTPU{Src: outer4a, Dst: outer4b})), ""}, // patched below
	}
	// An Ethernet PDU session: GTP-U carrying an Ethernet frame.
	tests[len(tests)-1].frame = eth(pcapgen.IP{Src: outer4a, Dst: outer4b, Proto: pcapgen.ProtoUDP}.Packet(
		pcapgen.UDP(netip.AddrPortFrom(outer4a, 2152), netip.AddrPortFrom(outer4b, 2152), pcapgen.GTPU{}.Message(eth(ip())))))
	tests[len(tests)-1].first = "G-PDU that is not IP (first byte 0x02): an Ethernet or unstructured PDU session?"
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pkts := smallConversation()
			want := wantSegs(pkts)
			want = append(want[:1], want[2:]...)
			pkts[1].Data = tc.frame
			pkts = append(pkts, pcapgen.Packet{Time: pkts[len(pkts)-1].Time, Data: tc.frame}) // counted twice
			segs, st, err := readAll(t, mustCapture(t, pcapgen.Options{LinkType: pcapgen.LinkEthernet}, pkts), Options{})
			wantEOF(t, err)
			compareSegs(t, segs, want)
			n, first := skipCount(st, SkipUnsupportedEncap)
			if n != 2 || first != "packet 2: "+tc.first || len(st.Skipped) != 1 {
				t.Errorf("got skipped %+v, want 2 %v: %q", st.Skipped, SkipUnsupportedEncap, "packet 2: "+tc.first)
			}
		})
	}
	if s := SkipUnsupportedEncap.String(); s != "encapsulation not decoded" {
		t.Errorf("SkipUnsupportedEncap is %q", s)
	}
}

// TestUnsupportedLoopbackFamily: a BSD loopback packet of an unknown address family.
func TestUnsupportedLoopbackFamily(t *testing.T) {
	c := newConn(v4)
	c.Link = pcapgen.Link{Type: pcapgen.LinkNull}
	pkts := c.Handshake()
	binary.LittleEndian.PutUint32(pkts[1].Data, 7)
	segs, st, err := readAll(t, mustCapture(t, pcapgen.Options{LinkType: pcapgen.LinkNull}, pkts), Options{})
	wantEOF(t, err)
	n, first := skipCount(st, SkipUnsupportedEncap)
	if len(segs) != 2 || n != 1 || first != "packet 2: loopback address family 7" {
		t.Errorf("got %d segments, skipped %+v, want 2 and the family counted", len(segs), st.Skipped)
	}
}

// TestZeroAllocsUnsupported checks that packets counted as not decoded cost no allocation
// after the first: a capture can be full of them.
func TestZeroAllocsUnsupported(t *testing.T) {
	c := newConn(v4)
	var pkts []pcapgen.Packet
	esp := pcapgen.Link{Type: pcapgen.LinkEthernet}.Frame(pcapgen.IP{Src: outer4a, Dst: outer4b, Proto: pcapgen.ProtoESP}.Packet(make([]byte, 64)))
	for _, p := range benchPackets(c, 20, 100) {
		pkts = append(pkts, p, pcapgen.Packet{Time: p.Time, Data: esp})
	}
	r := endless(t, c, pkts)
	var s reassembly.Segment
	for range 200 {
		if err := r.Next(&s); err != nil {
			t.Fatal(err)
		}
	}
	if allocs := testing.AllocsPerRun(1000, func() {
		if err := r.Next(&s); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("got %v allocations per segment, want 0", allocs)
	}
	if n, _ := skipCount(r.Stats(), SkipUnsupportedEncap); n < 1000 {
		t.Errorf("got %d packets counted as not decoded, want at least 1000", n)
	}
}
