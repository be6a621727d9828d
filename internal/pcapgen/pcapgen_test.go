package pcapgen

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/wsclosescan/wsclosescan/reassembly"
)

var (
	cli4 = netip.MustParseAddrPort("10.1.2.3:40000")
	srv4 = netip.MustParseAddrPort("10.9.8.7:8080")
	cli6 = netip.MustParseAddrPort("[2001:db8::a]:40001")
	srv6 = netip.MustParseAddrPort("[2001:db8::b]:443")
)

// decodeTCP decodes frame with gopacket (an independent decoder) and returns its innermost
// TCP layer after checking every checksum gopacket can verify.
func decodeTCP(t *testing.T, lt LinkType, frame []byte) *layers.TCP {
	t.Helper()
	p := gopacket.NewPacket(frame, layers.LinkType(lt), gopacket.Default)
	if el := p.ErrorLayer(); el != nil {
		t.Fatalf("gopacket: %v", el.Error())
	}
	var tcp *layers.TCP
	var network gopacket.NetworkLayer // the IP layer in front of the current transport
	for _, l := range p.Layers() {
		if n, ok := l.(gopacket.NetworkLayer); ok {
			network = n
		}
		switch l := l.(type) {
		case *layers.TCP:
			tcp = l
			l.SetNetworkLayerForChecksum(network)
			if err, r := l.VerifyChecksum(); err != nil || !r.Valid {
				t.Errorf("TCP checksum: got %#x, want %#x (%v)", r.Actual, r.Correct, err)
			}
		case *layers.IPv4:
			if err, r := l.VerifyChecksum(); err != nil || !r.Valid {
				t.Errorf("IPv4 checksum: got %#x, want %#x (%v)", r.Actual, r.Correct, err)
			}
		case *layers.UDP:
			l.SetNetworkLayerForChecksum(network)
			if err, r := l.VerifyChecksum(); err != nil || !r.Valid {
				t.Errorf("UDP checksum: got %#x, want %#x (%v)", r.Actual, r.Correct, err)
			}
		}
	}
	if tcp == nil {
		t.Fatalf("gopacket found no TCP layer in %v", p)
	}
	return tcp
}

func TestFramesDecodeWithGopacket(t *testing.T) {
	hbh := Ext{Type: ProtoHopByHop, Data: []byte{5, 2, 0, 0}}
	tests := []struct {
		name     string
		cli, srv netip.AddrPort
		link     Link
		ip       IP
		encap    func([]byte) [][]byte
	}{
		{name: "ethernet v4", cli: cli4, srv: srv4, link: Link{Type: LinkEthernet}},
		{name: "ethernet v6 hop-by-hop", cli: cli6, srv: srv6, link: Link{Type: LinkEthernet}, ip: IP{Ext: []Ext{hbh}}},
		{name: "QinQ", cli: cli4, srv: srv4, link: Link{Type: LinkEthernet, VLANs: []uint16{100, 200}}},
		{name: "SLL", cli: cli4, srv: srv4, link: Link{Type: LinkSLL}},
		{name: "raw v6", cli: cli6, srv: srv6, link: Link{Type: LinkRaw}},
		{name: "NULL v4", cli: cli4, srv: srv4, link: Link{Type: LinkNull}},
		{name: "IPv4 options", cli: cli4, srv: srv4, link: Link{Type: LinkEthernet}, ip: IP{Options: []byte{1, 1, 1, 0}}},
		{name: "VXLAN", cli: cli4, srv: srv4, link: Link{Type: LinkEthernet}, encap: func(b []byte) [][]byte {
			return [][]byte{Tunnel{Kind: TunnelVXLAN, Src: srv4.Addr(), Dst: cli4.Addr(), Key: 77}.Wrap(b)}
		}},
		{name: "GRE key csum", cli: cli6, srv: srv6, link: Link{Type: LinkEthernet}, encap: func(b []byte) [][]byte {
			return [][]byte{Tunnel{Kind: TunnelGRE, Src: srv4.Addr(), Dst: cli4.Addr(), GREKey: true, GRECsum: true}.Wrap(b)}
		}},
		{name: "GRE TEB", cli: cli4, srv: srv4, link: Link{Type: LinkEthernet}, encap: func(b []byte) [][]byte {
			return [][]byte{Tunnel{Kind: TunnelGRETEB, Src: srv4.Addr(), Dst: cli4.Addr()}.Wrap(b)}
		}},
		{name: "ERSPAN II", cli: cli4, srv: srv4, link: Link{Type: LinkEthernet}, encap: func(b []byte) [][]byte {
			return [][]byte{Tunnel{Kind: TunnelERSPAN2, Src: srv4.Addr(), Dst: cli4.Addr()}.Wrap(b)}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewConn(tc.cli, tc.srv)
			c.Link, c.IP, c.Encap = tc.link, tc.ip, tc.encap
			var pkts []Packet
			pkts = append(pkts, c.Handshake()...)
			pkts = append(pkts, c.Send(reassembly.ClientToServer, []byte("hello, world"), 5)...)
			pkts = append(pkts, c.Close(reassembly.ServerToClient)...)
			pkts = append(pkts, c.RSTACK(reassembly.ClientToServer)...)
			want := []struct {
				seq, ack uint32
				flags    string
				payload  string
			}{
				{1000, 0, "S", ""}, {5000, 1001, "SA", ""}, {1001, 5001, "A", ""},
				{1001, 5001, "A", "hello"}, {1006, 5001, "PA", ", world"},
				{5001, 1013, "FA", ""}, {1013, 5002, "RA", ""},
			}
			if len(pkts) != len(want) {
				t.Fatalf("got %d packets, want %d", len(pkts), len(want))
			}
			for i, p := range pkts {
				tcp := decodeTCP(t, tc.link.Type, p.Data)
				if tcp.Seq != want[i].seq || tcp.Ack != want[i].ack || flagString(tcp) != want[i].flags ||
					string(tcp.Payload) != want[i].payload {
					t.Errorf("packet %d: got seq %d ack %d flags %s payload %q, want %+v",
						i, tcp.Seq, tcp.Ack, flagString(tcp), tcp.Payload, want[i])
				}
				if p.Seg == nil || p.Seg.Seq != tcp.Seq || string(p.Seg.Payload) != string(tcp.Payload) || !p.Seg.Time.Equal(p.Time) {
					t.Errorf("packet %d: Seg %+v does not describe the packet", i, p.Seg)
				}
			}
		})
	}
}

func flagString(t *layers.TCP) string {
	s := ""
	for _, f := range []struct {
		set bool
		c   string
	}{{t.FIN, "F"}, {t.SYN, "S"}, {t.RST, "R"}, {t.PSH, "P"}, {t.ACK, "A"}} {
		if f.set {
			s += f.c
		}
	}
	return s
}

func TestKeepAliveAndRSTAt(t *testing.T) {
	c := NewConn(cli4, srv4)
	c.Handshake()
	ka := c.KeepAlive(reassembly.ClientToServer, true)[0].Seg
	if ka.Seq != 1000 || len(ka.Payload) != 1 || ka.Flags != reassembly.FlagACK {
		t.Errorf("keep-alive: got seq %d, %d bytes, flags %#x, want 1000, 1, ACK", ka.Seq, len(ka.Payload), ka.Flags)
	}
	rst := c.RSTAt(reassembly.ServerToClient, 99, false)[0].Seg
	if rst.Seq != 99 || rst.Flags != reassembly.FlagRST || rst.Ack != 0 {
		t.Errorf("RSTAt: got seq %d flags %#x ack %d, want 99, RST, 0", rst.Seq, rst.Flags, rst.Ack)
	}
}

func TestFragments(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 10)
	tcp := TCP{Src: cli4, Dst: srv4, Seq: 1, Flags: reassembly.FlagACK, Payload: payload}
	pkt := tcp.Packet(IP{ID: 0x1234, Options: []byte{1, 1, 1, 1}})
	frags, err := FragmentIPv4(pkt, 50) // 48 bytes per fragment
	if err != nil {
		t.Fatal(err)
	}
	if len(frags) != 4 {
		t.Fatalf("got %d fragments, want 4", len(frags))
	}
	var joined []byte
	for i, f := range frags {
		p := gopacket.NewPacket(f, layers.LayerTypeIPv4, gopacket.Default)
		ip := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		if err, r := ip.VerifyChecksum(); err != nil || !r.Valid {
			t.Errorf("fragment %d: bad checksum", i)
		}
		more := ip.Flags&layers.IPv4MoreFragments != 0
		if int(ip.FragOffset)*8 != i*48 || more != (i < 3) || ip.Id != 0x1234 || len(ip.Options) == 0 {
			t.Errorf("fragment %d: got offset %d more %v id %#x, want %d %v 0x1234", i, ip.FragOffset*8, more, ip.Id, i*48, i < 3)
		}
		joined = append(joined, ip.Payload...)
	}
	if !bytes.Equal(joined, tcp.Bytes()) {
		t.Errorf("fragments joined: got %x, want %x", joined, tcp.Bytes())
	}

	tcp6 := TCP{Src: cli6, Dst: srv6, Payload: payload}
	pkt6 := tcp6.Packet(IP{Ext: []Ext{{Type: ProtoHopByHop}, {Type: ProtoDestOpts}}})
	frags6, err := FragmentIPv6(pkt6, 64, 7)
	if err != nil {
		t.Fatal(err)
	}
	joined = nil
	for i, f := range frags6 {
		p := gopacket.NewPacket(f, layers.LayerTypeIPv6, gopacket.Default)
		fh, ok := p.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment)
		if !ok || p.Layer(layers.LayerTypeIPv6HopByHop) == nil {
			t.Fatalf("fragment %d: gopacket found no hop-by-hop + fragment header: %v", i, p)
		}
		if int(fh.FragmentOffset)*8 != i*64 || fh.MoreFragments != (i < len(frags6)-1) || fh.Identification != 7 {
			t.Errorf("fragment %d: got offset %d more %v id %d", i, fh.FragmentOffset*8, fh.MoreFragments, fh.Identification)
		}
		joined = append(joined, fh.Payload...)
	}
	// The fragmentable part is the destination options header (8 bytes) plus TCP.
	if !bytes.Equal(joined[8:], tcp6.Bytes()) {
		t.Errorf("IPv6 fragments joined: got %x, want dest opts + %x", joined, tcp6.Bytes())
	}
}

// TestWriterLayout checks the exact bytes the Writer produces for one 60-byte packet cut
// to a snapshot length of 40.
func TestWriterLayout(t *testing.T) {
	p := Packet{Time: time.Unix(0x01020304, 5006007).UTC(), Data: bytes.Repeat([]byte{0xee}, 60)}
	cut := bytes.Repeat([]byte{0xee}, 40)
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name string
		opts Options
		want []byte
	}{
		{"pcap µs LE", Options{LinkType: LinkSLL2, Snaplen: 40}, cat(
			[]byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0, 0x14, 0x01, 0, 0},
			[]byte{4, 3, 2, 1, 0x8e, 0x13, 0, 0, 40, 0, 0, 0, 60, 0, 0, 0}, cut)},
		{"pcap ns BE", Options{Format: FormatPcapNano, BigEndian: true, LinkType: LinkEthernet, Snaplen: 40}, cat(
			[]byte{0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0, 1},
			[]byte{1, 2, 3, 4, 0, 0x4c, 0x62, 0xb7, 0, 0, 0, 40, 0, 0, 0, 60}, cut)},
		{"pcapng LE", Options{Format: FormatPcapNG, Interfaces: []Interface{{LinkType: LinkRaw, Snaplen: 40}}}, cat(
			[]byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0,
				0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0},
			[]byte{1, 0, 0, 0, 20, 0, 0, 0, 101, 0, 0, 0, 40, 0, 0, 0, 20, 0, 0, 0},
			[]byte{6, 0, 0, 0, 72, 0, 0, 0, 0, 0, 0, 0}, le32(uint32(usec(p.Time)>>32)), le32(uint32(usec(p.Time))),
			[]byte{40, 0, 0, 0, 60, 0, 0, 0}, cut, []byte{72, 0, 0, 0})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Capture(tc.opts, []Packet{p})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("got  % x\nwant % x", got, tc.want)
			}
		})
	}
}

func usec(t time.Time) uint64 { return uint64(t.UnixMicro()) }

func le32(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }

// TestWriterGzip checks that Gzip output decompresses to the plain output.
func TestWriterGzip(t *testing.T) {
	c := NewConn(cli4, srv4)
	pkts := c.Handshake()
	plain, err := Capture(Options{Format: FormatPcapNG, LinkType: LinkEthernet}, pkts)
	if err != nil {
		t.Fatal(err)
	}
	gz, err := Capture(Options{Format: FormatPcapNG, LinkType: LinkEthernet, Gzip: true}, pkts)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(got, plain) {
		t.Errorf("got %d bytes (err %v), want the %d plain bytes", len(got), err, len(plain))
	}
}

func TestWriterErrors(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Options{LinkType: LinkEthernet})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.NewSection(); err == nil {
		t.Errorf("NewSection on pcap: got nil error, want one")
	}
	ng, _ := NewWriter(&buf, Options{Format: FormatPcapNG, LinkType: LinkEthernet})
	if err := ng.Write(Packet{Iface: 3, Data: []byte{1}}); err == nil || err.Error() != "pcapgen: packet on interface 3, section has 1" {
		t.Errorf("got %v, want interface error", err)
	}
}

// TestWriterSecrets checks the exact bytes of a decryption secrets block, in both byte
// orders: secrets type, length, the secrets padded to 4 bytes, no options.
func TestWriterSecrets(t *testing.T) {
	keys := []byte("CLIENT_RANDOM a b\n") // 18 bytes, padded to 20
	for _, be := range []bool{false, true} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, Options{Format: FormatPcapNG, BigEndian: be, LinkType: LinkRaw})
		if err != nil {
			t.Fatal(err)
		}
		head := buf.Len()
		if err := w.Secrets(SecretsTLSKeyLog, keys); err != nil {
			t.Fatal(err)
		}
		want := bytes.Join([][]byte{{10, 0, 0, 0, 40, 0, 0, 0, 'K', 'S', 'L', 'T', 18, 0, 0, 0}, keys,
			{0, 0, 40, 0, 0, 0}}, nil)
		if be {
			want = bytes.Join([][]byte{{0, 0, 0, 10, 0, 0, 0, 40, 'T', 'L', 'S', 'K', 0, 0, 0, 18}, keys,
				{0, 0, 0, 0, 0, 40}}, nil)
		}
		if got := buf.Bytes()[head:]; !bytes.Equal(got, want) {
			t.Errorf("big-endian %v:\ngot  % x\nwant % x", be, got, want)
		}
	}
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, Options{LinkType: LinkRaw})
	if err := w.Secrets(SecretsTLSKeyLog, keys); err == nil {
		t.Errorf("Secrets on pcap: got nil error, want one")
	}
}
