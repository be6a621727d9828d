package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/wsclosescan/wsclosescan/analyze"
	"github.com/wsclosescan/wsclosescan/internal/wsframe"
	"github.com/wsclosescan/wsclosescan/internal/wstest"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
)

// h2conn writes one side's HTTP/2 frames with x/net/http2's Framer, each side with its own
// HPACK encoder (so that later header blocks use the dynamic table), into a wstest.Conv.
type h2conn struct {
	conv *wstest.Conv
	enc  [2]*hpack.Encoder
	hbuf [2]bytes.Buffer
	out  [2]bytes.Buffer
	fr   [2]*http2.Framer
}

func newH2Conn(client, server string) *h2conn {
	h := &h2conn{conv: wstest.NewConv(client, server).SYN()}
	for d := range 2 {
		h.enc[d] = hpack.NewEncoder(&h.hbuf[d])
		h.fr[d] = http2.NewFramer(&h.out[d], nil)
	}
	return h
}

// send puts what dir's framer wrote on the wire, in segments of the given sizes.
func (h *h2conn) send(dir reassembly.Dir, sizes ...int) *h2conn {
	h.conv.Send(dir, h.out[dir].Bytes(), sizes...)
	h.out[dir].Reset()
	return h
}

func (h *h2conn) headers(dir reassembly.Dir, id uint32, end bool, kv ...string) {
	h.hbuf[dir].Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		h.enc[dir].WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	h.fr[dir].WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: h.hbuf[dir].Bytes(), EndHeaders: true, EndStream: end})
}

// open is the preface, both SETTINGS (the server enabling extended CONNECT) and their ACKs.
func (h *h2conn) open() *h2conn {
	h.out[c2s].WriteString(http2.ClientPreface)
	h.fr[c2s].WriteSettings()
	h.send(c2s)
	h.fr[s2c].WriteSettings(http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1})
	h.fr[s2c].WriteSettingsAck()
	h.send(s2c)
	h.fr[c2s].WriteSettingsAck()
	return h.send(c2s)
}

// connect opens a WebSocket stream, and the server answers status.
func (h *h2conn) connect(id uint32, status string) *h2conn {
	h.headers(c2s, id, false, ":method", "CONNECT", ":protocol", "websocket", ":scheme", "http", ":path", "/chat",
		":authority", "example.com", "sec-websocket-version", "13", "origin", "http://example.com")
	h.send(c2s)
	h.headers(s2c, id, status != "200", ":status", status)
	return h.send(s2c)
}

// frame sends WebSocket frame bytes on stream id, with END_STREAM if end.
func (h *h2conn) frame(dir reassembly.Dir, id uint32, end bool, ws []byte) *h2conn {
	h.fr[dir].WriteData(id, end, ws)
	return h.send(dir)
}

func TestHTTP2WebSockets(t *testing.T) {
	closeOf := func(dir reassembly.Dir, code uint16) []byte {
		return wstest.Frame(dir, wsframe.OpClose, wsframe.Close(code, "bye"))
	}
	text := func(dir reassembly.Dir, s string) []byte { return wstest.Frame(dir, wsframe.OpText, []byte(s)) }
	h := newH2Conn("10.0.5.1:50000", "10.0.5.2:80").open()
	// Stream 1, Chromium's way: the close frame and END_STREAM in one DATA frame, both ways.
	h.connect(1, "200").frame(c2s, 1, false, text(c2s, "hi")).frame(s2c, 1, false, text(s2c, "hello"))
	h.frame(c2s, 1, true, closeOf(c2s, 1000)).frame(s2c, 1, true, closeOf(s2c, 1000))
	// Stream 3, a Go server's way: END_STREAM after its close frame, then RST_STREAM(NO_ERROR).
	h.connect(3, "200").frame(c2s, 3, false, closeOf(c2s, 1001)).frame(s2c, 3, true, closeOf(s2c, 1001))
	h.fr[s2c].WriteRSTStream(3, http2.ErrCodeNo)
	h.send(s2c)
	// Stream 5: refused with 404.
	h.connect(5, "404")
	// Stream 7: the client cancels it without a close frame; many frames in one segment.
	h.connect(7, "200")
	h.fr[s2c].WriteData(7, false, text(s2c, "a"))
	h.fr[s2c].WriteData(7, false, text(s2c, "b"))
	h.fr[s2c].WriteData(7, false, text(s2c, "c"))
	h.send(s2c)
	h.fr[c2s].WriteRSTStream(7, http2.ErrCodeCancel)
	h.send(c2s)
	// Stream 9, Firefox's way: its close frame without END_STREAM, the server's echo split
	// across segments; then the server goes away and the TCP connection ends.
	h.connect(9, "200").frame(c2s, 9, false, closeOf(c2s, 1000))
	h.fr[s2c].WriteData(9, false, closeOf(s2c, 1000))
	h.send(s2c, 5, 3)
	// Stream 11 is still open when the server sends GOAWAY(INTERNAL_ERROR).
	h.connect(11, "200").frame(c2s, 11, false, text(c2s, "still here"))
	h.fr[s2c].WriteGoAway(11, http2.ErrCodeInternal, nil)
	h.send(s2c)
	h.conv.Wait(time.Millisecond).FIN(s2c).FIN(c2s)

	doc, code, stderr := scanJSON(t, "--timeline", writeCapture(t, h.conv))
	if code != 0 || stderr != "" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	want := map[uint32]recordView{
		1:  {"clean", "completed", "1000", "1000", "client", "fin client", "1000", "1000"},
		3:  {"clean", "completed", "1001", "1001", "client", "fin server", "1001", "1001"},
		5:  {"handshake_failed", "rejected", "-", "-", "-", "fin server", "1006", "1006"},
		7:  {"abnormal", "completed", "-", "-", "-", "rst client", "1006", "1006"},
		9:  {"clean", "completed", "1000", "1000", "client", "fin server", "1000", "1000"},
		11: {"abnormal", "completed", "-", "-", "-", "fin server", "1006", "1006"},
	}
	if len(doc.Connections) != len(want) {
		t.Fatalf("got %d records, want one per WebSocket stream (%d)", len(doc.Connections), len(want))
	}
	var last uint32
	for _, r := range doc.Connections {
		if r.H2 == nil {
			t.Fatalf("%s: no h2 object", r.Client)
		}
		id := r.H2.StreamID
		if id <= last {
			t.Errorf("stream %d after stream %d: want stream-id order", id, last)
		}
		last = id
		if got := view(r); got != want[id] {
			t.Errorf("stream %d:\n got %+v\nwant %+v", id, got, want[id])
		}
		if !r.H2.ConnectEnabled || r.Request == nil || r.Request.Method != "CONNECT" || r.Request.Path != "/chat" {
			t.Errorf("stream %d: connect_enabled %v, request %+v", id, r.H2.ConnectEnabled, r.Request)
		}
		if bad := analyze.Contradictions(&r); len(bad) > 0 {
			t.Errorf("stream %d contradicts itself: %v", id, bad)
		}
		hints := strings.Join(r.Hints, "\n")
		switch id {
		case 3:
			if r.H2.RSTCode == nil || *r.H2.RSTCode != "NO_ERROR" || strings.Contains(hints, "reset the stream") {
				t.Errorf("stream 3: rst %v, hints %q; want NO_ERROR without a hint", r.H2.RSTCode, hints)
			}
		case 7:
			if !strings.Contains(hints, "the client reset the stream (RST_STREAM CANCEL)") {
				t.Errorf("stream 7 hints lack the CANCEL: %q", hints)
			}
		case 9:
			var tl []string
			for _, e := range r.Timeline {
				tl = append(tl, e.From.String()+" "+e.What)
			}
			if all := strings.Join(tl, "\n"); !strings.Contains(all, "server TCP FIN") || !strings.Contains(all, "CONNECT /chat") {
				t.Errorf("stream 9's timeline lacks its CONNECT or the TCP end that ended it:\n%s", all)
			}
		case 11:
			if r.H2.GoAway == nil || r.H2.GoAway.Code != "INTERNAL_ERROR" || !strings.Contains(hints, "sent GOAWAY (INTERNAL_ERROR) while this WebSocket was open") {
				t.Errorf("stream 11: goaway %+v, hints %q", r.H2.GoAway, hints)
			}
		}
	}
}

// TestHTTP2LostHeaders: a client segment with a HEADERS frame lost from the capture costs
// the rest of the client's HTTP/2 framing; the records say so instead of judging quietly.
func TestHTTP2LostHeaders(t *testing.T) {
	h := newH2Conn("10.0.5.1:50001", "10.0.5.2:80").open()
	h.connect(1, "200").frame(c2s, 1, false, wstest.Frame(c2s, wsframe.OpText, []byte("hi")))
	n := len(h.conv.Packets)
	h.connect(3, "200")
	h.conv.Packets = append(h.conv.Packets[:n:n], h.conv.Packets[n+1:]...) // the client's HEADERS of stream 3
	h.frame(c2s, 1, true, wstest.Frame(c2s, wsframe.OpClose, wsframe.Close(1000, "")))
	h.frame(s2c, 1, true, wstest.Frame(s2c, wsframe.OpClose, wsframe.Close(1000, "")))
	h.conv.FIN(s2c).FIN(c2s)
	doc, _, _ := scanJSON(t, "--all", writeCapture(t, h.conv))
	found := 0
	for _, r := range doc.Connections {
		if strings.Contains(strings.Join(r.Problems, "\n"), "client: HTTP/2 frame boundaries were lost after a gap") {
			found++
		}
		// The client's close frame is among what could not be decoded: unknown, never "none".
		if r.H2 != nil && r.H2.StreamID == 1 && (r.Verdict != "unknown" || !r.IsUnknown("client_close")) {
			t.Errorf("stream 1: %+v, unknown %v; want the client's close and the verdict unknown", view(r), r.Unknown)
		}
	}
	if found != 2 { // the HTTP/2 connection and its stream 1
		t.Errorf("the lost framing is in %d records' problems, want 2:\n%+v", found, doc.Connections)
	}
}

// TestH2CUpgrade: an HTTP/1.1 request upgraded to h2c (RFC 7540 3.2); the server's SETTINGS
// follow its 101 in the same segment, and a WebSocket opens on stream 3 (stream 1 is the
// upgraded request, not a WebSocket).
func TestH2CUpgrade(t *testing.T) {
	h := newH2Conn("10.0.5.1:50002", "10.0.5.2:80")
	h.conv.Send(c2s, []byte("GET / HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade, HTTP2-Settings\r\n"+
		"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n"))
	h.out[s2c].WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
	h.fr[s2c].WriteSettings(http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1})
	h.headers(s2c, 1, true, ":status", "200")
	h.send(s2c)
	h.out[c2s].WriteString(http2.ClientPreface)
	h.fr[c2s].WriteSettings()
	h.fr[c2s].WriteSettingsAck()
	h.send(c2s)
	h.connect(3, "200").frame(c2s, 3, false, wstest.Frame(c2s, wsframe.OpText, []byte("hi")))
	h.frame(c2s, 3, true, wstest.Frame(c2s, wsframe.OpClose, wsframe.Close(1000, "")))
	h.frame(s2c, 3, true, wstest.Frame(s2c, wsframe.OpClose, wsframe.Close(1000, "")))
	h.conv.FIN(s2c).FIN(c2s)
	doc, _, _ := scanJSON(t, writeCapture(t, h.conv))
	if len(doc.Connections) != 1 || doc.Connections[0].H2 == nil || doc.Connections[0].H2.StreamID != 3 {
		t.Fatalf("got %+v, want one record, the WebSocket of stream 3", doc.Connections)
	}
	r := doc.Connections[0]
	want := recordView{"clean", "completed", "1000", "1000", "client", "fin client", "1000", "1000"}
	if got := view(r); got != want {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// TestHTTP2FrameNumbers: a stream's record and timeline name the packets of its TCP
// connection, as tshark numbers them (`tshark -r go-h2c-wss.pcap -d tcp.port==9403,http2
// -Y http2`, and with the key log for go-h2-wss.pcap): the CONNECT's HEADERS, the 200,
// the close frames' DATA, and the first END_STREAM or RST_STREAM.
func TestHTTP2FrameNumbers(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want [][5]uint64 // per stream: request, response, client close, server close, end
		tl   [][]uint64  // per stream: the frame of each timeline line
	}{
		{[]string{"../../testdata/h2/go-h2c-wss.pcap"}, [][5]uint64{{11, 13, 16, 17, 18}, {20, 21, 0, 24, 26}},
			[][]uint64{{11, 13, 14, 15, 16, 17, 18, 18}, {20, 21, 22, 23, 24, 26}}},
		{[]string{"--keylog", "../../testdata/h2/go-h2-wss.keys", "../../testdata/h2/go-h2-wss.pcap"},
			[][5]uint64{{13, 16, 20, 21, 22}, {26, 28, 0, 31, 33}}, [][]uint64{{13, 16, 18, 19, 20, 21, 22, 22}, {26, 28, 29, 30, 31, 33}}},
	} {
		doc, _, stderr := scanJSON(t, append([]string{"--timeline"}, tt.args...)...)
		var streams []report.Record
		for _, r := range doc.Connections {
			if r.H2 != nil {
				streams = append(streams, r)
			}
		}
		if len(streams) != len(tt.want) {
			t.Fatalf("%v: %d stream records, want %d (%s)", tt.args, len(streams), len(tt.want), stderr)
		}
		for i, r := range streams {
			fn := r.FrameNumbers
			got := [5]uint64{}
			for j, p := range []*uint64{fn.Request, fn.Response, fn.ClientClose, fn.ServerClose, fn.TCPEnd} {
				if p != nil {
					got[j] = *p
				}
			}
			if got != tt.want[i] {
				t.Errorf("%v stream %d: frame_numbers %v, want %v", tt.args, r.H2.StreamID, got, tt.want[i])
			}
			var tl []uint64
			for _, e := range r.Timeline {
				tl = append(tl, e.Frame)
			}
			if fmt.Sprint(tl) != fmt.Sprint(tt.tl[i]) {
				t.Errorf("%v stream %d: timeline frames %v, want %v", tt.args, r.H2.StreamID, tl, tt.tl[i])
			}
		}
	}
}
