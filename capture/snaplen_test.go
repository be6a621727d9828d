package capture

import (
	"bytes"
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/reassembly"
)

// cutSegs returns want with payloads cut as a snapshot length of snap bytes cuts frames
// whose headers take hdr bytes.
func cutSegs(want []reassembly.Segment, hdr, snap int) []reassembly.Segment {
	out := make([]reassembly.Segment, len(want))
	for i, s := range want {
		if keep := snap - hdr; len(s.Payload) > keep {
			s.Missing = len(s.Payload) - keep
			s.Payload = s.Payload[:keep]
		}
		out[i] = s
	}
	return out
}

func TestSnaplen(t *testing.T) {
	tests := []struct {
		name   string
		fam    netipAddrPort
		link   pcapgen.Link
		ip     pcapgen.IP
		hdr    int // link + IP + TCP header bytes
		format pcapgen.Format
	}{
		{"ethernet v4 pcap", v4, pcapgen.Link{Type: pcapgen.LinkEthernet}, pcapgen.IP{}, 54, pcapgen.FormatPcap},
		{"ethernet v4 pcapng", v4, pcapgen.Link{Type: pcapgen.LinkEthernet}, pcapgen.IP{}, 54, pcapgen.FormatPcapNG},
		{"SLL2 v6", v6, pcapgen.Link{Type: pcapgen.LinkSLL2}, pcapgen.IP{}, 80, pcapgen.FormatPcap},
		{"VLAN v4 options", v4, pcapgen.Link{Type: pcapgen.LinkEthernet, VLANs: []uint16{1}}, pcapgen.IP{Options: make([]byte, 8)}, 66, pcapgen.FormatPcapNG},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newConn(tc.fam)
			c.Link, c.IP = tc.link, tc.ip
			pkts := conversation(c)
			snap := tc.hdr + 7
			opts := pcapgen.Options{Format: tc.format, LinkType: tc.link.Type, Snaplen: snap,
				Interfaces: []pcapgen.Interface{{LinkType: tc.link.Type, Snaplen: snap}}}
			segs, st, err := readAll(t, mustCapture(t, opts, pkts), Options{})
			wantEOF(t, err)
			want := cutSegs(wantSegs(pkts), tc.hdr, snap)
			compareSegs(t, segs, want)
			var cut int64
			for _, s := range want {
				if s.Missing > 0 {
					cut++
				}
			}
			if cut == 0 || st.SnaplenCut != cut {
				t.Errorf("got %d cut segments, want %d (> 0)", st.SnaplenCut, cut)
			}
		})
	}
}

func TestSnaplenCutsHeaders(t *testing.T) {
	c := newConn(v4)
	pkts := c.Handshake()
	tests := []struct {
		name string
		snap int
	}{
		{"inside Ethernet", 10},
		{"inside IPv4", 30},
		{"inside TCP", 40},
		{"inside TCP options", 53},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := pcapgen.Options{LinkType: pcapgen.LinkEthernet, Snaplen: tc.snap}
			segs, st, err := readAll(t, mustCapture(t, opts, pkts), Options{})
			wantEOF(t, err)
			if len(segs) != 0 || st.Packets != 3 {
				t.Errorf("got %d segments from %d packets, want 0 from 3", len(segs), st.Packets)
			}
			n, _ := skipCount(st, SkipHeaderCut)
			if tc.snap < 14 {
				n, _ = skipCount(st, SkipBadLinkHeader)
			}
			if n != 3 {
				t.Errorf("got skips %v, want 3 header cuts", st.Skipped)
			}
		})
	}
}

func TestFragmentOrder(t *testing.T) {
	c := newConn(v4)
	c.Encap = pcapgen.Fragmenter4(64)
	big := c.Send(reassembly.ClientToServer, bytes.Repeat([]byte("0123456789"), 30)) // 6 fragments
	c2 := newConn(v6)
	c2.Encap = pcapgen.Fragmenter6(64)
	big6 := c2.Send(reassembly.ClientToServer, bytes.Repeat([]byte("abcdefghij"), 30))
	reversed := func(p []pcapgen.Packet) []pcapgen.Packet {
		out := make([]pcapgen.Packet, len(p))
		for i := range p {
			out[len(p)-1-i] = p[i]
		}
		return out
	}
	tests := []struct {
		name        string
		pkts        []pcapgen.Packet
		want        int // segments
		incomplete  int64
		reassembled int64
	}{
		{"in order", big, 1, 0, 1},
		{"reversed", reversed(big), 1, 0, 1},
		{"duplicated", append(append([]pcapgen.Packet{}, big[:3]...), big...), 1, 0, 1},
		{"interleaved v4 and v6", interleave(big, reversed(big6)), 2, 0, 2},
		{"one missing", append(append([]pcapgen.Packet{}, big[:2]...), big[3:]...), 0, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			segs, st, err := readAll(t, mustCapture(t, pcapgen.Options{LinkType: pcapgen.LinkEthernet}, tc.pkts), Options{})
			wantEOF(t, err)
			if len(segs) != tc.want || st.Reassembled != tc.reassembled {
				t.Errorf("got %d segments, %d reassembled, want %d, %d", len(segs), st.Reassembled, tc.want, tc.reassembled)
			}
			for _, s := range segs {
				if len(s.Payload) != 300 {
					t.Errorf("got payload of %d bytes, want 300", len(s.Payload))
				}
			}
			if n, _ := skipCount(st, SkipFragmentTimeout); n != tc.incomplete {
				t.Errorf("got %d incomplete datagrams, want %d", n, tc.incomplete)
			}
		})
	}
}

func TestFragmentLimits(t *testing.T) {
	// 3 datagrams each missing their last fragment, with 2 buffers and a 1s timeout: the
	// first is evicted when the third starts; then a fragment 2s later expires the rest.
	var pkts []pcapgen.Packet
	for i := range 3 {
		c := newConn(v4)
		c.IP.ID = uint16(100 + i)
		c.Encap = pcapgen.Fragmenter4(64)
		f := c.Send(reassembly.ClientToServer, make([]byte, 200))
		pkts = append(pkts, f[:len(f)-1]...)
	}
	late := newConn(v4)
	late.Time = late.Time.Add(5e9)
	late.IP.ID = 7
	late.Encap = pcapgen.Fragmenter4(64)
	pkts = append(pkts, late.Send(reassembly.ClientToServer, make([]byte, 200))...)
	segs, st, err := readAll(t, mustCapture(t, pcapgen.Options{LinkType: pcapgen.LinkEthernet}, pkts),
		Options{MaxFragmentBuffers: 2, FragmentTimeout: 1e9})
	wantEOF(t, err)
	if len(segs) != 1 || len(segs[0].Payload) != 200 {
		t.Errorf("got %d segments, want 1 of 200 bytes", len(segs))
	}
	if n, first := skipCount(st, SkipFragmentTimeout); n != 3 || first != "packet 7: fragment buffers full, dropped the oldest datagram" {
		t.Errorf("got %d dropped datagrams (first %q), want 3 (first evicted at packet 7)", n, first)
	}
}
