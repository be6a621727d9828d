package capture

import (
	"bytes"
	"errors"
	"flag"
	"github.com/wsclosescan/wsclosescan/internal/fuzzseed"
	"io"
	"path/filepath"
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/reassembly"
)

var updateSeeds = flag.Bool("update", false, "rewrite testdata/fuzz/FuzzReader seeds")

// fuzzSeeds returns one small capture per format and link type / encapsulation.
func fuzzSeeds(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{}
	small := func(c *pcapgen.Conn) []pcapgen.Packet {
		p := c.Handshake()
		p = append(p, c.Send(reassembly.ClientToServer, []byte("GET / HTTP/1.1\r\n\r\n"), 8)...)
		return append(p, c.Close(reassembly.ServerToClient)...)
	}
	links := map[string]pcapgen.Link{
		"eth":   {Type: pcapgen.LinkEthernet, VLANs: []uint16{1, 2}},
		"sll":   {Type: pcapgen.LinkSLL},
		"sll2":  {Type: pcapgen.LinkSLL2},
		"raw":   {Type: pcapgen.LinkRaw},
		"ipv4":  {Type: pcapgen.LinkIPv4},
		"ipv6":  {Type: pcapgen.LinkIPv6},
		"null":  {Type: pcapgen.LinkNull},
		"loop":  {Type: pcapgen.LinkLoop},
		"nullb": {Type: pcapgen.LinkNull, BigEndian: true, Family6: pcapgen.AFInet6FBSD},
	}
	for name, l := range links {
		fam := v4
		if l.Type == pcapgen.LinkIPv6 || l.Type == pcapgen.LinkLoop || name == "nullb" {
			fam = v6
		}
		c := newConn(fam)
		c.Link = l
		seeds["pcap-"+name] = mustCapture(t, pcapgen.Options{LinkType: l.Type}, small(c))
	}
	encaps := map[string]func([]byte) [][]byte{
		"frag4":  pcapgen.Fragmenter4(16),
		"vxlan":  tunnel(pcapgen.Tunnel{Kind: pcapgen.TunnelVXLAN, Src: outer4a, Dst: outer4b}),
		"gre":    tunnel(pcapgen.Tunnel{Kind: pcapgen.TunnelGRE, Src: outer4a, Dst: outer4b, GREKey: true}),
		"erspan": tunnel(pcapgen.Tunnel{Kind: pcapgen.TunnelERSPAN3, Src: outer4a, Dst: outer4b}),
		"gtpu":   gtpu(pcapgen.GTPU{Src: outer4a, Dst: outer4b, Seq: true}),
		"geneve": overUDP(49152, 6081, func(ip []byte) []byte { return cat([]byte{0, 0, 8, 0, 0, 0, 1, 0}, ip) }),
		"l2tp": overUDP(1701, 1701, func(ip []byte) []byte {
			return cat([]byte{0x00, 0x02, 0, 1, 0, 2, 0xff, 0x03, 0x00, 0x21}, ip)
		}),
	}
	for name, e := range encaps {
		c := newConn(v4)
		c.Encap = e
		c.IP.Options = []byte{1, 1, 1, 1}
		seeds["pcap-"+name] = mustCapture(t, pcapgen.Options{LinkType: pcapgen.LinkEthernet}, small(c))
	}
	// GTP-U with an extension header behind QinQ, as in mobile-core captures; MPLS and PPPoE.
	g := newConn(v6)
	g.Link.VLANs = []uint16{100, 200}
	g.Encap = gtpu(pcapgen.GTPU{Src: outer4a, Dst: outer4b, SrcPort: 40000, Ext: []pcapgen.GTPExt{pduSession}})
	seeds["pcap-gtpu-ext-qinq"] = mustCapture(t, pcapgen.Options{LinkType: pcapgen.LinkEthernet}, small(g))
	for name, frame := range map[string]func([]byte) []byte{
		"mpls": func(ip []byte) []byte {
			return pcapgen.EthernetFrame(pcapgen.EtherTypeMPLS, nil, pcapgen.MPLS([]uint32{16, 17}, ip))
		},
		"pppoe": func(ip []byte) []byte {
			return pcapgen.EthernetFrame(pcapgen.EtherTypePPPoES, nil, pcapgen.PPPoESession(1, ip))
		},
	} {
		pkts := small(newConn(v4))
		relink(pkts, frame)
		seeds["pcap-"+name] = mustCapture(t, pcapgen.Options{LinkType: pcapgen.LinkEthernet}, pkts)
	}
	c6 := newConn(v6)
	c6.IP.Ext = []pcapgen.Ext{{Type: pcapgen.ProtoHopByHop}, {Type: pcapgen.ProtoDestOpts}}
	c6.Encap = pcapgen.Fragmenter6(16)
	seeds["pcap-frag6"] = mustCapture(t, pcapgen.Options{LinkType: pcapgen.LinkEthernet}, small(c6))
	ng := pcapgen.Options{Format: pcapgen.FormatPcapNG, BigEndian: true, Snaplen: 60, Interfaces: []pcapgen.Interface{
		{LinkType: pcapgen.LinkEthernet, Snaplen: 60}, {LinkType: pcapgen.LinkSLL2, Nano: true}}}
	a, b := newConn(v4), newConn(v6)
	b.Link, b.Iface = pcapgen.Link{Type: pcapgen.LinkSLL2}, 1
	seeds["pcapng-2if-snaplen"] = mustCapture(t, ng, interleave(small(a), small(b)))
	seeds["pcap-ns-be-gzip"] = mustCapture(t, pcapgen.Options{Format: pcapgen.FormatPcapNano, BigEndian: true, Gzip: true,
		LinkType: pcapgen.LinkEthernet}, small(newConn(v4)))
	seeds["pcapng-gzip"] = mustCapture(t, pcapgen.Options{Format: pcapgen.FormatPcapNG, Gzip: true,
		LinkType: pcapgen.LinkEthernet}, small(newConn(v6)))
	// Decryption secrets blocks: a key log before the packets (as editcap --inject-secrets
	// writes it), an odd-length one of an unknown type between them.
	var dsb bytes.Buffer
	w, err := pcapgen.NewWriter(&dsb, pcapgen.Options{Format: pcapgen.FormatPcapNG, LinkType: pcapgen.LinkEthernet})
	if err != nil {
		t.Fatal(err)
	}
	p := small(newConn(v4))
	if err := w.Secrets(pcapgen.SecretsTLSKeyLog, keyLog(1)); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteAll(p[:3]); err != nil {
		t.Fatal(err)
	}
	if err := w.Secrets(0x57474b4c, []byte("odd")); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteAll(p[3:]); err != nil {
		t.Fatal(err)
	}
	seeds["pcapng-dsb"] = dsb.Bytes()
	return seeds
}

// TestFuzzSeeds checks that the committed seed corpus matches fuzzSeeds (-update rewrites it).
func TestFuzzSeeds(t *testing.T) {
	fuzzseed.Check(t, filepath.Join("testdata", "fuzz", "FuzzReader"), fuzzSeeds(t), *updateSeeds,
		"go test ./capture -run TestFuzzSeeds -update")
}

// FuzzReader feeds arbitrary bytes to the whole reader and checks that it never panics,
// ends with io.EOF or a *FileError, and returns sane segments.
func FuzzReader(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		secrets := 0
		r, err := NewReader("fuzz", bytes.NewReader(data), Options{MaxFragmentBuffers: 4,
			Secrets: func(kind uint32, s []byte) {
				if secrets += len(s); secrets > len(data) {
					t.Fatalf("got %d bytes of secrets from %d bytes", secrets, len(data))
				}
			}})
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("NewReader: got %T %v, want *FileError", err, err)
			}
			return
		}
		var s reassembly.Segment
		for i := 0; ; i++ {
			err := r.Next(&s)
			if err == io.EOF {
				break
			}
			if err != nil {
				var fe *FileError
				if !errors.As(err, &fe) || fe.Offset < 0 {
					t.Fatalf("Next: got %T %v, want *FileError with an offset", err, err)
				}
				break
			}
			if s.Missing < 0 || len(s.Payload) > 65535 || !s.Src.IsValid() || !s.Dst.IsValid() {
				t.Fatalf("bad segment %s", segString(s))
			}
		}
		st := r.Stats()
		if st.BadSecrets > st.SecretsBlocks || st.UnknownSecrets > st.SecretsBlocks {
			t.Fatalf("got stats %+v", st)
		}
		if st.TCPSegments > st.Packets+st.Reassembled {
			t.Fatalf("got %d segments from %d packets", st.TCPSegments, st.Packets)
		}
	})
}
