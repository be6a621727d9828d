package h2demux

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/wsclosescan/wsclosescan/tlsdec"
)

// This file decodes the real recordings in testdata/h2 (see its README). The TCP bytes are
// taken in order from loopback captures without loss; TLS is decrypted with tlsdec.

// tcpConn is one TCP connection of a recording: its segments with payload, in capture
// order, the client being the side that sent the SYN.
type tcpConn struct {
	client string
	segs   []event
	next   [2]uint32
	seen   [2]bool
}

// readConns returns the connections of a pcap by client address, with retransmitted
// bytes dropped.
func readConns(t *testing.T, path string) map[string]*tcpConn {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	conns := map[string]*tcpConn{}
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		p := gopacket.NewPacket(data, r.LinkType(), gopacket.Default)
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if ip == nil || tcp == nil {
			continue
		}
		src := fmt.Sprintf("%v:%d", ip.SrcIP, tcp.SrcPort)
		dst := fmt.Sprintf("%v:%d", ip.DstIP, tcp.DstPort)
		if tcp.SYN && !tcp.ACK {
			conns[src] = &tcpConn{client: src}
		}
		c, dir := conns[src], ClientToServer
		if c == nil {
			c, dir = conns[dst], ServerToClient
		}
		if c == nil {
			continue
		}
		seq := tcp.Seq
		if tcp.SYN {
			seq++
		}
		if !c.seen[dir] {
			c.seen[dir], c.next[dir] = true, seq
		}
		if len(tcp.Payload) == 0 || int32(seq+uint32(len(tcp.Payload))-c.next[dir]) <= 0 {
			continue
		}
		b := tcp.Payload
		if d := c.next[dir] - seq; int32(d) > 0 {
			b = b[d:]
		}
		c.next[dir] += uint32(len(b))
		c.segs = append(c.segs, event{dir: dir, data: bytes.Clone(b), t: ci.Timestamp})
	}
	return conns
}

// decodeRecording runs one connection through tlsdec (keys != nil) and a Conn.
func decodeRecording(t *testing.T, c *tcpConn, keys *tlsdec.KeyLog) *result {
	t.Helper()
	var events []event
	if keys == nil {
		events = c.segs
	} else {
		tc := tlsdec.NewConn(tlsdec.Options{
			Keys: keys,
			Plaintext: func(dir tlsdec.Dir, data []byte, tm time.Time) {
				events = append(events, event{dir: Dir(dir), data: bytes.Clone(data), t: tm})
			},
			PlainGap: func(dir tlsdec.Dir, n int64, tm time.Time) {
				t.Errorf("TLS plaintext gap in %v", dir)
			},
		})
		for _, s := range c.segs {
			tc.Feed(tlsdec.Dir(s.dir), s.data, s.t)
		}
		if in := tc.Info(); in.ALPN != "h2" {
			t.Fatalf("%s: ALPN %q, want h2", c.client, in.ALPN)
		}
	}
	return run(t, events, Options{})
}

// clientAddrs returns the connections' client addresses in order of their port.
func clientAddrs(conns map[string]*tcpConn) []string {
	var a []string
	for k := range conns {
		a = append(a, k)
	}
	sort.Strings(a)
	return a
}

// wsOps lists the opcodes and close codes of unmasked or masked WebSocket frames.
func wsOps(b []byte) string {
	var out []string
	for len(b) >= 2 {
		n, off := int(b[1]&0x7f), 2
		if n == 126 {
			n, off = int(b[2])<<8|int(b[3]), 4
		}
		masked := b[1]&0x80 != 0
		var key []byte
		if masked {
			key, off = b[off:off+4], off+4
		}
		if len(b) < off+n {
			return strings.Join(append(out, "cut"), " ")
		}
		p := bytes.Clone(b[off : off+n])
		for i := range p {
			if masked {
				p[i] ^= key[i&3]
			}
		}
		switch op := b[0] & 0xf; op {
		case 1:
			out = append(out, fmt.Sprintf("text %q", p))
		case 8:
			out = append(out, fmt.Sprintf("close %d %q", int(p[0])<<8|int(p[1]), p[2:]))
		default:
			out = append(out, fmt.Sprintf("op %d", op))
		}
		b = b[off+n:]
	}
	return strings.Join(out, ", ")
}

func TestRecordingChromium(t *testing.T) {
	keys := tlsdec.NewKeyLog()
	kf, err := os.Open(filepath.Join("..", "testdata", "h2", "chromium-h2-wss.keys"))
	if err != nil {
		t.Fatal(err)
	}
	defer kf.Close()
	if _, err := keys.Add(kf); err != nil {
		t.Fatal(err)
	}
	conns := readConns(t, filepath.Join("..", "testdata", "h2", "chromium-h2-wss.pcap"))
	addrs := clientAddrs(conns)
	if len(addrs) != 2 {
		t.Fatalf("connections %v, want 2 (the page's and a preconnect)", addrs)
	}
	r := decodeRecording(t, conns[addrs[0]], keys)
	if in := r.info; in.Streams != 3 || in.WebSocketStreams != 1 || !in.Settings[1].EnableConnectProtocol ||
		in.HeaderFailures != [2]int{} || len(in.Problems) != 0 || len(in.GoAways) != 0 {
		t.Errorf("Info = %+v", in)
	}
	if len(r.opened) != 1 {
		t.Fatalf("opened = %+v", r.opened)
	}
	si := r.opened[0]
	if si.ID != 5 || si.Path != "/ws" || si.Scheme != "https" || si.Authority != "127.0.0.1:9402" ||
		si.Origin != "https://127.0.0.1:9402" || si.Version != "13" || !si.ConnectEnabled ||
		si.Extensions != "permessage-deflate; client_max_window_bits" {
		t.Errorf("StreamInfo = %+v", *si)
	}
	if got := r.resp[5]; len(got) != 1 || got[0].Status != 200 {
		t.Errorf("responses = %+v", got)
	}
	d := r.data[5]
	if got, want := wsOps(d[0].Bytes()), `text "hi over h2", close 4000 "bye from page"`; got != want {
		t.Errorf("client frames: %s, want %s", got, want)
	}
	if got, want := wsOps(d[1].Bytes()), `text "echo: hi over h2", close 4000 "bye from page"`; got != want {
		t.Errorf("server frames: %s, want %s", got, want)
	}
	// Chromium: close frame and END_STREAM in one DATA frame; the server answers alike.
	if e := r.ends[5]; e.How != EndStream || e.ClientEndStream == nil || e.ServerEndStream == nil {
		t.Errorf("end = %s", fmtEnd(e))
	}

	// A preconnect: TLS handshake, then FIN without a byte of HTTP/2.
	spare := decodeRecording(t, conns[addrs[1]], keys)
	if in := spare.info; in.Preface || in.Frames != [2]int{} || len(in.Problems) != 0 {
		t.Errorf("spare connection Info = %+v", in)
	}
}

func TestRecordingNodeH2c(t *testing.T) {
	conns := readConns(t, filepath.Join("..", "testdata", "h2", "node-h2c.pcap"))
	addrs := clientAddrs(conns)
	if len(addrs) != 1 {
		t.Fatalf("connections %v, want 1", addrs)
	}
	r := decodeRecording(t, conns[addrs[0]], nil)
	in := r.info
	if in.Streams != 2 || in.WebSocketStreams != 2 || !in.Settings[1].EnableConnectProtocol || len(in.Problems) != 0 {
		t.Errorf("Info = %+v", in)
	}
	var gw []string
	for _, g := range in.GoAways {
		gw = append(gw, fmt.Sprintf("%v %d %s", g.By, g.LastStreamID, CodeName(g.Code)))
	}
	if got := strings.Join(gw, ", "); got != "client 0 NO_ERROR, client 0 NO_ERROR, server 3 NO_ERROR, server 3 NO_ERROR" {
		t.Errorf("GOAWAYs: %s", got)
	}
	if got := wsOps(r.data[1][0].Bytes()); got != `text "one", close 1000 "done"` {
		t.Errorf("stream 1 client frames: %s", got)
	}
	if e := r.ends[1]; e.How != EndStream {
		t.Errorf("stream 1 end = %s", fmtEnd(e))
	}
	// Node's stream.close(CANCEL) sends an empty DATA with END_STREAM, then RST_STREAM.
	if e := r.ends[3]; e.How != EndRST || *e.RSTCode != Cancel || *e.RSTBy != ClientToServer || e.ClientEndStream == nil || e.ServerEndStream != nil {
		t.Errorf("stream 3 end = %s", fmtEnd(e))
	}
}
