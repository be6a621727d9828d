package gencap

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/reassembly"
)

// TestEncodeMatchesPcapgen checks the fast encoder against pcapgen's reference builders:
// the IP packet must be byte-identical (checksums included).
func TestEncodeMatchesPcapgen(t *testing.T) {
	c4, s4 := netip.MustParseAddrPort("100.64.1.2:40000"), netip.MustParseAddrPort("203.0.113.10:80")
	c6, s6 := netip.MustParseAddrPort("[2001:db8:1::7]:40001"), netip.MustParseAddrPort("[2001:db8:ff::10]:8080")
	odd := bytes.Repeat([]byte{0xfe, 0x01, 0x7f}, 333) // 999 bytes
	tests := []struct {
		name string
		s    seg
	}{
		{"ipv4-syn", seg{src: c4, dst: s4, seq: 123, flags: flagSYN, win: synWin, ipID: 7, tsVal: 1, toServer: true}},
		{"ipv4-data-odd", seg{src: s4, dst: c4, seq: 0xfffffff0, ack: 99, flags: flagACK | flagPSH, win: 502, ipID: 0xffff, tsVal: 5, tsEcr: 4, payload: odd}},
		{"ipv4-rst", seg{src: c4, dst: s4, seq: 1, ack: 2, flags: flagRST | flagACK, win: 502, toServer: true}},
		{"ipv6-synack", seg{src: s6, dst: c6, seq: 9, ack: 124, flags: flagSYN | flagACK, win: synWin, tsVal: 3, tsEcr: 1}},
		{"ipv6-data", seg{src: c6, dst: s6, seq: 10, ack: 20, flags: flagACK, win: 502, payload: []byte("hello"), toServer: true}},
		{"ipv6-empty-fin", seg{src: c6, dst: s6, seq: 10, ack: 20, flags: flagFIN | flagACK, win: 502, toServer: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.s
			frame := append(encodeHeaders(nil, &s), s.payload...)
			var opts []byte
			if s.flags&flagSYN != 0 {
				mss := mssIPv4
				if !s.src.Addr().Is4() {
					mss = mssIPv6
				}
				opts = append([]byte{2, 4, byte(mss >> 8), byte(mss)}, 4, 2, 8, 10)
			} else {
				opts = []byte{1, 1, 8, 10}
			}
			opts = binary.BigEndian.AppendUint32(opts, s.tsVal)
			opts = binary.BigEndian.AppendUint32(opts, s.tsEcr)
			if s.flags&flagSYN != 0 {
				opts = append(opts, 1, 3, 3, wscale)
			}
			ref := pcapgen.TCP{Src: s.src, Dst: s.dst, Seq: s.seq, Ack: s.ack, Flags: reassembly.TCPFlags(s.flags),
				Window: s.win, Options: opts, Payload: s.payload}.Packet(pcapgen.IP{ID: s.ipID, DontFragment: true})
			if got, want := frame[ethLen:], ref; !bytes.Equal(got, want) {
				t.Errorf("IP packet:\n got % x\nwant % x", got, want)
			}
			wantType := uint16(etherIP4)
			if !s.src.Addr().Is4() {
				wantType = etherIP6
			}
			if got := binary.BigEndian.Uint16(frame[12:]); got != wantType {
				t.Errorf("EtherType: got %#x, want %#x", got, wantType)
			}
		})
	}
}

// TestRecordsMatchPcapgen checks the record framing against pcapgen's Writer.
func TestRecordsMatchPcapgen(t *testing.T) {
	s := seg{src: netip.MustParseAddrPort("100.64.1.2:40000"), dst: netip.MustParseAddrPort("203.0.113.10:80"),
		seq: 5, ack: 6, flags: flagACK | flagPSH, win: 502, payload: []byte("abcde"), toServer: true}
	ts := time.Date(2026, 3, 2, 9, 0, 0, 123456000, time.UTC)
	frame := append(encodeHeaders(nil, &s), s.payload...)
	for _, f := range []struct {
		name string
		ours Format
		ref  pcapgen.Format
	}{{"pcap", FormatPcap, pcapgen.FormatPcap}, {"pcapng", FormatPcapNG, pcapgen.FormatPcapNG}} {
		t.Run(f.name, func(t *testing.T) {
			var got bytes.Buffer
			rw, err := newRecordWriter(&got, f.ours, false)
			if err != nil {
				t.Fatal(err)
			}
			if err := rw.write(ts.UnixMicro(), &s); err != nil {
				t.Fatal(err)
			}
			if err := rw.close(); err != nil {
				t.Fatal(err)
			}
			want, err := pcapgen.Capture(pcapgen.Options{Format: f.ref, LinkType: pcapgen.LinkEthernet},
				[]pcapgen.Packet{{Time: ts, Data: frame}})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("file:\n got % x\nwant % x", got.Bytes(), want)
			}
			if rw.bytes != int64(len(want)) {
				t.Errorf("counted bytes: got %v, want %v", rw.bytes, len(want))
			}
		})
	}
}

func TestMask(t *testing.T) {
	for _, n := range []int{0, 1, 3, 4, 7, 8, 9, 17, 100} {
		p := bytes.Repeat([]byte{0x55}, n)
		mask(p, 0x01020304)
		for i, b := range p {
			if want := 0x55 ^ byte(i%4+1); b != want {
				t.Fatalf("len %d byte %d: got %#x, want %#x", n, i, b, want)
			}
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1.5GB", 1_500_000_000, true},
		{"200MB", 200_000_000, true},
		{"64KiB", 65536, true},
		{"2GiB", 2 << 30, true},
		{"12345", 12345, true},
		{"10 mb", 10_000_000, true},
		{"3G", 3_000_000_000, true},
		{"", 0, false},
		{"GB", 0, false},
		{"-1MB", 0, false},
		{"1.5XB", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("ParseSize(%q): got %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}
