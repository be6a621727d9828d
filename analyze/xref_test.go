package analyze

import (
	"net/netip"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/wsframe"
	"github.com/wsclosescan/wsclosescan/layers"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
)

func frameOf(p *uint64) uint64 {
	if p == nil {
		return 0
	}
	return *p
}

// TestFrameNumbers: the record and every timeline line carry the frame number of the
// packet that delivered them, also when the decoder held the bytes back (a client frame
// sent before the 101 arrived) or several segments share a capture time.
func TestFrameNumbers(t *testing.T) {
	r := runConn(t, layers.Options{Timeline: true}, func(s reassembly.Stream, at func() reassembly.Stamp) {
		// frames 1 and 2 are the request and the 101 (runConn)
		s.Data(reassembly.ClientToServer, msg(reassembly.ClientToServer, "hi"), at()) // 3
		c := closeFrame(reassembly.ClientToServer, 1000)
		s.Data(reassembly.ClientToServer, c[:3], at())                                       // 4
		s.Data(reassembly.ClientToServer, c[3:], at())                                       // 5: completes the close
		s.Data(reassembly.ServerToClient, closeFrame(reassembly.ServerToClient, 1000), at()) // 6
		fin := at()                                                                          // 7
		s.Event(reassembly.Event{Kind: reassembly.EventFIN, Dir: reassembly.ServerToClient, Time: fin.Time, Frame: fin.Frame})
	})
	fn := r.FrameNumbers
	got := [5]uint64{frameOf(fn.Request), frameOf(fn.Response), frameOf(fn.ClientClose), frameOf(fn.ServerClose), frameOf(fn.TCPEnd)}
	if want := [5]uint64{1, 2, 5, 6, 7}; got != want {
		t.Errorf("got frame numbers %v, want %v", got, want)
	}
	var frames []uint64
	for _, e := range r.Timeline {
		frames = append(frames, e.Frame)
	}
	want := []uint64{1, 2, 3, 5, 6, 7}
	if len(frames) != len(want) {
		t.Fatalf("got timeline frames %v, want %v (%v)", frames, want, whats(r))
	}
	for i := range want {
		if frames[i] != want[i] {
			t.Fatalf("got timeline frames %v, want %v (%v)", frames, want, whats(r))
		}
	}
}

// TestFrameNumbersHeldBack: client frames sent before the 101 are decoded once the 101
// arrives, with the time of their own segment; their frame number is still found.
func TestFrameNumbersHeldBack(t *testing.T) {
	var got []report.Record
	s := newStream(layers.Options{Timeline: true}, &got, reassembly.ConnInfo{Client: netip.MustParseAddrPort("10.0.0.1:5000"),
		Server: netip.MustParseAddrPort("10.0.0.2:80"), Start: t0, By: reassembly.ClientBySYN})
	st := func(n int) reassembly.Stamp {
		return reassembly.Stamp{Time: t0.Add(ms(n)), Frame: uint64(10 + n)}
	}
	s.Data(reassembly.ClientToServer, []byte("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: "+testKey+"\r\nSec-WebSocket-Version: 13\r\n\r\n"), st(1))
	s.Data(reassembly.ClientToServer, closeFrame(reassembly.ClientToServer, 4000), st(2))
	s.Data(reassembly.ServerToClient, respond(testKey), st(3))
	s.End(reassembly.ConnStats{})
	if len(got) != 1 {
		t.Fatalf("got %d records", len(got))
	}
	fn := got[0].FrameNumbers
	if frameOf(fn.Request) != 11 || frameOf(fn.ClientClose) != 12 || frameOf(fn.Response) != 13 {
		t.Errorf("got request %d, client close %d, response %d; want 11, 12, 13",
			frameOf(fn.Request), frameOf(fn.ClientClose), frameOf(fn.Response))
	}
}

// TestCommunityID checks the spec's published test vectors
// (corelight/community-id-spec baseline/baseline_deflt.json and baseline_seed1.json, the
// entries with ports), which Zeek's plugin baseline repeats for the TCP ones.
func TestCommunityID(t *testing.T) {
	tests := []struct {
		proto    uint8
		src, dst string
		seed     uint16
		want     string
	}{
		{6, "128.232.110.120:34855", "66.35.250.204:80", 0, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{6, "66.35.250.204:80", "128.232.110.120:34855", 0, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{6, "[2001:470:e5bf:dead:4957:2174:e82c:4887]:63943", "[2607:f8b0:400c:c03::1a]:25", 0, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
		{6, "[2607:f8b0:400c:c03::1a]:25", "[2001:470:e5bf:dead:4957:2174:e82c:4887]:63943", 0, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
		{17, "192.168.1.52:54585", "8.8.8.8:53", 0, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
		{17, "8.8.8.8:53", "192.168.1.52:54585", 0, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
		{132, "192.168.170.8:7", "192.168.170.56:7", 0, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
		{132, "192.168.170.56:7", "192.168.170.8:7", 0, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
		{6, "128.232.110.120:34855", "66.35.250.204:80", 1, "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
		{6, "[2607:f8b0:400c:c03::1a]:25", "[2001:470:e5bf:dead:4957:2174:e82c:4887]:63943", 1, "1:eJYTW6AOzFLlSUoESovMjnu7rMw="},
		{17, "8.8.8.8:53", "192.168.1.52:54585", 1, "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
		{132, "192.168.170.56:7", "192.168.170.8:7", 1, "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg="},
		// An IPv4-mapped address hashes as IPv4, a zone is not part of the flow.
		{6, "[::ffff:128.232.110.120]:34855", "66.35.250.204:80", 0, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{6, "[2607:f8b0:400c:c03::1a%eth0]:25", "[2001:470:e5bf:dead:4957:2174:e82c:4887]:63943", 0, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
		// Malformed rows: no flow, no ID.
		{6, "10.0.0.1:1", "[2001:db8::1]:2", 0, ""},
	}
	for _, tt := range tests {
		src, dst := netip.MustParseAddrPort(tt.src), netip.MustParseAddrPort(tt.dst)
		if got := communityID(src, dst, tt.proto, tt.seed); got != tt.want {
			t.Errorf("communityID(%s, %s, %d, seed %d): got %q, want %q", tt.src, tt.dst, tt.proto, tt.seed, got, tt.want)
		}
	}
	if got := communityID(netip.AddrPort{}, netip.MustParseAddrPort("10.0.0.1:1"), 6, 0); got != "" {
		t.Errorf("invalid address: got %q, want none", got)
	}
}

func TestDisplayFilter(t *testing.T) {
	tests := []struct{ a, b, want string }{
		{"10.0.0.1:50000", "192.168.1.2:80", "ip.addr==10.0.0.1 && ip.addr==192.168.1.2 && tcp.port==50000 && tcp.port==80"},
		{"[2001:db8::1]:50001", "[2001:db8::2]:443", "ipv6.addr==2001:db8::1 && ipv6.addr==2001:db8::2 && tcp.port==50001 && tcp.port==443"},
		{"127.0.0.1:56334", "127.0.0.1:9111", "ip.addr==127.0.0.1 && tcp.port==56334 && tcp.port==9111"},
		{"[::ffff:10.0.0.1]:1", "[fe80::1%eth0]:2", "ip.addr==10.0.0.1 && ipv6.addr==fe80::1 && tcp.port==1 && tcp.port==2"},
		{"10.0.0.1:80", "10.0.0.2:80", "ip.addr==10.0.0.1 && ip.addr==10.0.0.2 && tcp.port==80"},
	}
	for _, tt := range tests {
		if got := displayFilter(netip.MustParseAddrPort(tt.a), netip.MustParseAddrPort(tt.b)); got != tt.want {
			t.Errorf("displayFilter(%s, %s): got %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func respond(key string) []byte { return wsframe.Response101(key) }
