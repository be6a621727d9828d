package capture

import (
	"bytes"
	"compress/gzip"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/reassembly"
)

// interleave merges packet lists round-robin.
func interleave(lists ...[]pcapgen.Packet) []pcapgen.Packet {
	var out []pcapgen.Packet
	for i := 0; ; i++ {
		added := false
		for _, l := range lists {
			if i < len(l) {
				out = append(out, l[i])
				added = true
			}
		}
		if !added {
			return out
		}
	}
}

// onIface builds a conversation framed with link and marked for pcapng interface iface.
func onIface(fam netipAddrPort, link pcapgen.Link, iface int, start time.Duration) []pcapgen.Packet {
	c := newConn(fam)
	c.Link, c.Iface = link, iface
	c.Time = c.Time.Add(start)
	return conversation(c)
}

func TestPcapNGInterfaces(t *testing.T) {
	ifaces := []pcapgen.Interface{
		{LinkType: pcapgen.LinkEthernet},
		{LinkType: pcapgen.LinkSLL2, Nano: true},
		{LinkType: pcapgen.LinkRaw},
		{LinkType: pcapgen.LinkNull},
	}
	pkts := interleave(
		onIface(v4, pcapgen.Link{Type: pcapgen.LinkEthernet, VLANs: []uint16{3}}, 0, 0),
		onIface(v6, pcapgen.Link{Type: pcapgen.LinkSLL2}, 1, 333*time.Nanosecond),
		onIface(v4, pcapgen.Link{Type: pcapgen.LinkRaw}, 2, 2*time.Microsecond),
		onIface(v6, pcapgen.Link{Type: pcapgen.LinkNull, Family6: pcapgen.AFInet6FBSD}, 3, 5*time.Microsecond),
	)
	for _, be := range []bool{false, true} {
		data := mustCapture(t, pcapgen.Options{Format: pcapgen.FormatPcapNG, BigEndian: be, Interfaces: ifaces}, pkts)
		segs, _, err := readAll(t, data, Options{})
		wantEOF(t, err)
		compareSegs(t, segs, wantSegs(pkts))
	}
}

func TestPcapNGSections(t *testing.T) {
	// Section 1 (little-endian): Ethernet on interface 0. Section 2 (big-endian, a separate
	// file appended): raw IP on 0 and SLL on 1. A custom block in between is ignored.
	p1 := onIface(v4, pcapgen.Link{Type: pcapgen.LinkEthernet}, 0, 0)
	p2 := interleave(
		onIface(v6, pcapgen.Link{Type: pcapgen.LinkRaw}, 0, time.Second),
		onIface(v4, pcapgen.Link{Type: pcapgen.LinkSLL}, 1, 2*time.Second),
	)
	var buf bytes.Buffer
	w, err := pcapgen.NewWriter(&buf, pcapgen.Options{Format: pcapgen.FormatPcapNG, LinkType: pcapgen.LinkEthernet})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteAll(p1); err != nil {
		t.Fatal(err)
	}
	if err := w.Block(0x40000bad, []byte("custom block body")); err != nil {
		t.Fatal(err)
	}
	second := mustCapture(t, pcapgen.Options{Format: pcapgen.FormatPcapNG, BigEndian: true,
		Interfaces: []pcapgen.Interface{{LinkType: pcapgen.LinkRaw}, {LinkType: pcapgen.LinkSLL}}}, p2)
	data := append(buf.Bytes(), second...)

	// Same content with the writer's own NewSection, then gzip-compressed as a whole.
	var buf2 bytes.Buffer
	gz := gzip.NewWriter(&buf2)
	w2, err := pcapgen.NewWriter(gz, pcapgen.Options{Format: pcapgen.FormatPcapNG, LinkType: pcapgen.LinkEthernet})
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.WriteAll(p1); err != nil {
		t.Fatal(err)
	}
	if err := w2.NewSection(pcapgen.Interface{LinkType: pcapgen.LinkRaw}, pcapgen.Interface{LinkType: pcapgen.LinkSLL}); err != nil {
		t.Fatal(err)
	}
	if err := w2.WriteAll(p2); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}

	for name, d := range map[string][]byte{"appended files": data, "NewSection gzip": buf2.Bytes()} {
		t.Run(name, func(t *testing.T) {
			segs, st, err := readAll(t, d, Options{})
			wantEOF(t, err)
			compareSegs(t, segs, append(wantSegs(p1), wantSegs(p2)...))
			if len(st.Skipped) != 0 {
				t.Errorf("got skipped %v, want none", st.Skipped)
			}
		})
	}
}

func TestPcapNGSimplePacketBlock(t *testing.T) {
	c := newConn(v4)
	pkts := c.Handshake()
	var buf bytes.Buffer
	w, err := pcapgen.NewWriter(&buf, pcapgen.Options{Format: pcapgen.FormatPcapNG, LinkType: pcapgen.LinkEthernet})
	if err != nil {
		t.Fatal(err)
	}
	body := append([]byte{byte(len(pkts[0].Data)), 0, 0, 0}, pkts[0].Data...) // original length, LE
	if err := w.Block(3, body); err != nil {
		t.Fatal(err)
	}
	segs, _, err := readAll(t, buf.Bytes(), Options{})
	wantEOF(t, err)
	want := *pkts[0].Seg
	want.Time = time.Unix(0, 0).UTC() // simple packet blocks have no timestamp
	compareSegs(t, segs, []reassembly.Segment{want})
}

func TestPcapNGTimestampResolution(t *testing.T) {
	tests := []struct {
		name string
		opts []byte // IDB options
		ts   uint64
		want time.Time
	}{
		{"default µs", nil, 1_700_000_000_123_456, time.Unix(1_700_000_000, 123_456_000)},
		{"10^-3", []byte{9, 0, 1, 0, 3, 0, 0, 0}, 1_700_000_000_123, time.Unix(1_700_000_000, 123_000_000)},
		{"10^-9", []byte{9, 0, 1, 0, 9, 0, 0, 0}, 1_700_000_000_123_456_789, time.Unix(1_700_000_000, 123_456_789)},
		{"2^-10", []byte{9, 0, 1, 0, 0x8a, 0, 0, 0}, 5<<10 | 512, time.Unix(5, 500_000_000)},
		{"2^-63 no panic", []byte{9, 0, 1, 0, 0xff, 0, 0, 0}, 1 << 62, time.Unix(0, 500_000_000)},
		{"10^-19 clamped", []byte{9, 0, 1, 0, 40, 0, 0, 0}, 10_000_000_000_000_000_000 / 2, time.Unix(0, 500_000_000)},
		{"tsoffset", []byte{14, 0, 8, 0, 100, 0, 0, 0, 0, 0, 0, 0}, 2_000_000, time.Unix(102, 0)},
	}
	c := newConn(v4)
	frame := c.Handshake()[0]
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := pcapgen.NewWriter(&buf, pcapgen.Options{Format: pcapgen.FormatPcapNG})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.NewSection(); err != nil { // a section without interfaces, described below
				t.Fatal(err)
			}
			idb := append([]byte{1, 0, 0, 0, 0, 0, 4, 0}, tc.opts...) // Ethernet, snaplen 262144
			if err := w.Block(1, append(idb, 0, 0, 0, 0)); err != nil {
				t.Fatal(err)
			}
			epb := []byte{0, 0, 0, 0, byte(tc.ts >> 32), byte(tc.ts >> 40), byte(tc.ts >> 48), byte(tc.ts >> 56),
				byte(tc.ts), byte(tc.ts >> 8), byte(tc.ts >> 16), byte(tc.ts >> 24),
				byte(len(frame.Data)), 0, 0, 0, byte(len(frame.Data)), 0, 0, 0}
			if err := w.Block(6, append(epb, frame.Data...)); err != nil {
				t.Fatal(err)
			}
			segs, _, err := readAll(t, buf.Bytes(), Options{})
			wantEOF(t, err)
			if len(segs) != 1 || !segs[0].Time.Equal(tc.want) {
				t.Fatalf("got %d segments, time %v, want 1 at %v", len(segs), segs, tc.want)
			}
		})
	}
}
