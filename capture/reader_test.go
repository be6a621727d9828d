package capture

import (
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
)

func TestFormats(t *testing.T) {
	formats := []struct {
		name string
		opts pcapgen.Options
	}{
		{"pcap µs LE", pcapgen.Options{Format: pcapgen.FormatPcap}},
		{"pcap µs BE", pcapgen.Options{Format: pcapgen.FormatPcap, BigEndian: true}},
		{"pcap ns LE", pcapgen.Options{Format: pcapgen.FormatPcapNano}},
		{"pcap ns BE", pcapgen.Options{Format: pcapgen.FormatPcapNano, BigEndian: true}},
		{"pcapng LE", pcapgen.Options{Format: pcapgen.FormatPcapNG}},
		{"pcapng BE", pcapgen.Options{Format: pcapgen.FormatPcapNG, BigEndian: true}},
		{"pcap gzip", pcapgen.Options{Format: pcapgen.FormatPcap, Gzip: true}},
		{"pcapng BE gzip", pcapgen.Options{Format: pcapgen.FormatPcapNG, BigEndian: true, Gzip: true}},
	}
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			c := pcapgen.NewConn(client4, server4)
			c.Time = c.Time.Add(123456 * time.Microsecond)
			pkts := conversation(c)
			f.opts.LinkType = pcapgen.LinkEthernet
			segs, st, err := readAll(t, mustCapture(t, f.opts, pkts), Options{})
			wantEOF(t, err)
			compareSegs(t, segs, wantSegs(pkts))
			if st.Packets != int64(len(pkts)) || st.TCPSegments != int64(len(pkts)) {
				t.Errorf("got %d packets, %d segments, want %d of each", st.Packets, st.TCPSegments, len(pkts))
			}
		})
	}
}

func TestNanosecondTimestamps(t *testing.T) {
	for _, f := range []pcapgen.Options{
		{Format: pcapgen.FormatPcapNano, LinkType: pcapgen.LinkEthernet},
		{Format: pcapgen.FormatPcapNG, Interfaces: []pcapgen.Interface{{LinkType: pcapgen.LinkEthernet, Nano: true}}},
	} {
		c := pcapgen.NewConn(client4, server4)
		c.Time = time.Date(2025, 5, 6, 7, 8, 9, 123456789, time.UTC)
		c.Step = 7 * time.Nanosecond
		pkts := c.Handshake()
		segs, _, err := readAll(t, mustCapture(t, f, pkts), Options{})
		wantEOF(t, err)
		compareSegs(t, segs, wantSegs(pkts))
	}
}

func TestLinkTypes(t *testing.T) {
	tests := []struct {
		name   string
		link   pcapgen.Link
		client netipAddrPort
	}{
		{"ethernet v4", pcapgen.Link{Type: pcapgen.LinkEthernet}, v4},
		{"ethernet v6", pcapgen.Link{Type: pcapgen.LinkEthernet}, v6},
		{"802.1Q", pcapgen.Link{Type: pcapgen.LinkEthernet, VLANs: []uint16{100}}, v4},
		{"QinQ", pcapgen.Link{Type: pcapgen.LinkEthernet, VLANs: []uint16{10, 20}}, v6},
		{"SLL v4", pcapgen.Link{Type: pcapgen.LinkSLL}, v4},
		{"SLL v6", pcapgen.Link{Type: pcapgen.LinkSLL}, v6},
		{"SLL2 v4", pcapgen.Link{Type: pcapgen.LinkSLL2}, v4},
		{"SLL2 v6", pcapgen.Link{Type: pcapgen.LinkSLL2}, v6},
		{"raw v4", pcapgen.Link{Type: pcapgen.LinkRaw}, v4},
		{"raw v6", pcapgen.Link{Type: pcapgen.LinkRaw}, v6},
		{"IPv4 228", pcapgen.Link{Type: pcapgen.LinkIPv4}, v4},
		{"IPv6 229", pcapgen.Link{Type: pcapgen.LinkIPv6}, v6},
		{"NULL LE v4", pcapgen.Link{Type: pcapgen.LinkNull}, v4},
		{"NULL BE v4", pcapgen.Link{Type: pcapgen.LinkNull, BigEndian: true}, v4},
		{"NULL LE v6 darwin", pcapgen.Link{Type: pcapgen.LinkNull, Family6: pcapgen.AFInet6Darwin}, v6},
		{"NULL BE v6 freebsd", pcapgen.Link{Type: pcapgen.LinkNull, Family6: pcapgen.AFInet6FBSD, BigEndian: true}, v6},
		{"NULL LE v6 openbsd", pcapgen.Link{Type: pcapgen.LinkNull, Family6: pcapgen.AFInet6BSD}, v6},
		{"NULL LE v6 linux", pcapgen.Link{Type: pcapgen.LinkNull, Family6: pcapgen.AFInet6Linux}, v6},
		{"LOOP v4", pcapgen.Link{Type: pcapgen.LinkLoop}, v4},
		{"LOOP v6", pcapgen.Link{Type: pcapgen.LinkLoop, Family6: pcapgen.AFInet6BSD}, v6},
	}
	for _, tc := range tests {
		for _, format := range []pcapgen.Format{pcapgen.FormatPcap, pcapgen.FormatPcapNG} {
			t.Run(tc.name, func(t *testing.T) {
				c := newConn(tc.client)
				c.Link = tc.link
				pkts := conversation(c)
				opts := pcapgen.Options{Format: format, LinkType: tc.link.Type}
				segs, st, err := readAll(t, mustCapture(t, opts, pkts), Options{})
				wantEOF(t, err)
				compareSegs(t, segs, wantSegs(pkts))
				if len(st.Skipped) != 0 || st.NonTCP != 0 {
					t.Errorf("got skipped %v, non-TCP %d, want none", st.Skipped, st.NonTCP)
				}
			})
		}
	}
}

// netipAddrPort selects the address family of a test connection.
type netipAddrPort int

const (
	v4 netipAddrPort = 4
	v6 netipAddrPort = 6
)

func newConn(f netipAddrPort) *pcapgen.Conn {
	if f == v6 {
		return pcapgen.NewConn(client6, server6)
	}
	return pcapgen.NewConn(client4, server4)
}
