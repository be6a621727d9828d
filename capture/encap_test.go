package capture

import (
	"net/netip"
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
)

var (
	outer4a = netip.MustParseAddr("172.16.0.1")
	outer4b = netip.MustParseAddr("172.16.0.2")
	outer6a = netip.MustParseAddr("fd00::1")
	outer6b = netip.MustParseAddr("fd00::2")
)

func wrapIn(proto uint8, src, dst netip.Addr) func([]byte) [][]byte {
	return func(ip []byte) [][]byte {
		return [][]byte{pcapgen.IP{Src: src, Dst: dst, Proto: proto}.Packet(ip)}
	}
}

func tunnel(t pcapgen.Tunnel) func([]byte) [][]byte {
	return func(ip []byte) [][]byte { return [][]byte{t.Wrap(ip)} }
}

// then applies a, then b to each packet a returned.
func then(a, b func([]byte) [][]byte) func([]byte) [][]byte {
	return func(ip []byte) [][]byte {
		var out [][]byte
		for _, p := range a(ip) {
			out = append(out, b(p)...)
		}
		return out
	}
}

// fragmentCount counts the packets that belong to segments sent in more than one packet.
func fragmentCount(pkts []pcapgen.Packet) int64 {
	var n, run int64
	for _, p := range pkts {
		run++
		if p.Seg != nil {
			if run > 1 {
				n += run
			}
			run = 0
		}
	}
	return n
}

func TestEncapsulations(t *testing.T) {
	hbh := pcapgen.Ext{Type: pcapgen.ProtoHopByHop, Data: []byte{5, 2, 0, 0}} // router alert + padding
	dst := pcapgen.Ext{Type: pcapgen.ProtoDestOpts, Data: make([]byte, 14)}
	rt := pcapgen.Ext{Type: pcapgen.ProtoRouting, Data: []byte{0, 0, 0, 0, 0, 0}}
	tests := []struct {
		name  string
		fam   netipAddrPort
		ip    pcapgen.IP
		encap func([]byte) [][]byte
		frags int64 // IP fragments expected
	}{
		{name: "IPv4 options", fam: v4, ip: pcapgen.IP{Options: []byte{7, 7, 4, 0, 0, 0, 0, 1}}}, // record route + NOP... padding
		{name: "IPv4 40 bytes of options", fam: v4, ip: pcapgen.IP{Options: make([]byte, 40)}},
		{name: "IPv6 hop-by-hop, dest opts, routing", fam: v6, ip: pcapgen.IP{Ext: []pcapgen.Ext{hbh, dst, rt}}},
		{name: "IPv4 fragments", fam: v4, encap: pcapgen.Fragmenter4(64), frags: 6},
		{name: "IPv4 fragments with options", fam: v4, ip: pcapgen.IP{Options: []byte{1, 1, 1, 1}}, encap: pcapgen.Fragmenter4(128), frags: 3},
		{name: "IPv6 fragments", fam: v6, encap: pcapgen.Fragmenter6(64), frags: 6},
		{name: "IPv6 fragments after hop-by-hop", fam: v6, ip: pcapgen.IP{Ext: []pcapgen.Ext{hbh, dst}}, encap: pcapgen.Fragmenter6(96), frags: 4},
		{name: "IPIP", fam: v4, encap: wrapIn(pcapgen.ProtoIPIP, outer4a, outer4b)},
		{name: "6in4", fam: v6, encap: wrapIn(pcapgen.ProtoIPv6, outer4a, outer4b)},
		{name: "VXLAN v4", fam: v4, encap: tunnel(pcapgen.Tunnel{Kind: pcapgen.TunnelVXLAN, Src: outer4a, Dst: outer4b, Key: 42})},
		{name: "VXLAN v6 outer, VLAN inner", fam: v6, encap: tunnel(pcapgen.Tunnel{Kind: pcapgen.TunnelVXLAN, Src: outer6a, Dst: outer6b, VLANs: []uint16{7}})},
		{name: "GRE v4 in v4", fam: v4, encap: tunnel(pcapgen.Tunnel{Kind: pcapgen.TunnelGRE, Src: outer4a, Dst: outer4b})},
		{name: "GRE v6 in v4 key csum", fam: v6, encap: tunnel(pcapgen.Tunnel{Kind: pcapgen.TunnelGRE, Src: outer4a, Dst: outer4b, GREKey: true, GRECsum: true, Key: 9})},
		{name: "GRE v4 in v6", fam: v4, encap: tunnel(pcapgen.Tunnel{Kind: pcapgen.TunnelGRE, Src: outer6a, Dst: outer6b})},
		{name: "GRE TEB", fam: v4, encap: tunnel(pcapgen.Tunnel{Kind: pcapgen.TunnelGRETEB, Src: outer4a, Dst: outer4b, VLANs: []uint16{5, 6}})},
		{name: "ERSPAN II", fam: v4, encap: tunnel(pcapgen.Tunnel{Kind: pcapgen.TunnelERSPAN2, Src: outer4a, Dst: outer4b})},
		{name: "ERSPAN III", fam: v6, encap: tunnel(pcapgen.Tunnel{Kind: pcapgen.TunnelERSPAN3, Src: outer4a, Dst: outer4b})},
		{name: "fragmented VXLAN", fam: v4, encap: then(
			tunnel(pcapgen.Tunnel{Kind: pcapgen.TunnelVXLAN, Src: outer4a, Dst: outer4b}), pcapgen.Fragmenter4(128)), frags: 4},
		{name: "fragments inside GRE", fam: v6, encap: then(
			pcapgen.Fragmenter6(128), tunnel(pcapgen.Tunnel{Kind: pcapgen.TunnelGRE, Src: outer4a, Dst: outer4b})), frags: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newConn(tc.fam)
			c.IP = tc.ip
			c.Encap = tc.encap
			pkts := conversation(c)
			opts := pcapgen.Options{LinkType: pcapgen.LinkEthernet}
			segs, st, err := readAll(t, mustCapture(t, opts, pkts), Options{})
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
