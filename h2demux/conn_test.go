package h2demux

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/wsframe"
	"golang.org/x/net/http2"
)

// WebSocket frames carried in DATA.
var (
	clientText  = wsframe.Frame{Fin: true, Op: wsframe.OpText, Masked: true, Key: [4]byte{1, 2, 3, 4}, Payload: []byte("hello")}.Bytes()
	serverText  = wsframe.Frame{Fin: true, Op: wsframe.OpText, Payload: []byte("hello back")}.Bytes()
	clientClose = wsframe.Frame{Fin: true, Op: wsframe.OpClose, Masked: true, Key: [4]byte{9, 8, 7, 6}, Payload: wsframe.Close(1000, "bye")}.Bytes()
	serverClose = wsframe.Frame{Fin: true, Op: wsframe.OpClose, Payload: wsframe.Close(1000, "bye")}.Bytes()
)

func ptrEq(p *time.Time, want time.Time) bool { return p != nil && p.Equal(want) }

// checkData compares what a stream's sink got with want (client, server).
func checkData(t *testing.T, r *result, id uint32, client, server []byte) {
	t.Helper()
	d := r.data[id]
	if d == nil {
		t.Fatalf("stream %d: no sink", id)
	}
	if !bytes.Equal(d[0].Bytes(), client) {
		t.Errorf("stream %d client data = %x, want %x", id, d[0].Bytes(), client)
	}
	if !bytes.Equal(d[1].Bytes(), server) {
		t.Errorf("stream %d server data = %x, want %x", id, d[1].Bytes(), server)
	}
}

// TestChromium: a page loaded on stream 1, then a WebSocket on stream 3 of the same
// connection; Chromium sends its close frame with END_STREAM on the same DATA frame and
// the server answers the same way.
func TestChromium(t *testing.T) {
	s := newScript(t)
	s.start(1)
	s.headers(ClientToServer, 1, true, ":method", "GET", ":scheme", "https", ":path", "/", ":authority", "example.test:8443")
	s.headers(ServerToClient, 1, false, ":status", "200", "content-type", "text/html")
	s.data(ServerToClient, 1, true, []byte("<html>page</html>"))
	tOpen := s.connect(3, "/chat", "sec-websocket-protocol", "chat, superchat", "sec-websocket-extensions", "permessage-deflate; client_max_window_bits")
	tResp := s.accept(3, "sec-websocket-protocol", "chat")
	s.data(ClientToServer, 3, false, clientText)
	s.data(ServerToClient, 3, false, serverText)
	tCES := s.data(ClientToServer, 3, true, clientClose)
	tSES := s.data(ServerToClient, 3, true, serverClose)
	s.goAway(ClientToServer, 0, http2.ErrCodeNo, "")

	r := run(t, s.events, Options{})
	if len(r.opened) != 1 {
		t.Fatalf("streams opened = %d, want 1 (the GET is not a WebSocket)", len(r.opened))
	}
	want := StreamInfo{ID: 3, Time: tOpen, Path: "/chat", Authority: "example.test:8443", Scheme: "https",
		Origin: "https://example.test:8443", Version: "13", Protocols: "chat, superchat",
		Extensions: "permessage-deflate; client_max_window_bits", ConnectEnabled: true}
	if got := *r.opened[0]; got != want {
		t.Errorf("StreamInfo\n got %+v\nwant %+v", got, want)
	}
	if got, want := r.resp[3], []Response{{Status: 200, Protocol: "chat"}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("responses = %+v, want %+v", got, want)
	}
	if r.log[2] != "3 response {Status:200 Protocol:chat Extensions: EndStream:false Undecoded:false} "+tResp.Format("05.000") {
		t.Errorf("response log line = %q", r.log[2])
	}
	checkData(t, r, 3, append(bytes.Clone(clientText), clientClose...), append(bytes.Clone(serverText), serverClose...))
	e := r.ends[3]
	if e.How != EndStream || !e.Time.Equal(tSES) || !ptrEq(e.ClientEndStream, tCES) || !ptrEq(e.ServerEndStream, tSES) ||
		e.RSTCode != nil || e.GoAway != nil {
		t.Errorf("end = %s, want end_stream at %v with both END_STREAMs", fmtEnd(e), tSES)
	}
	in := r.info
	if !in.Preface || in.Streams != 2 || in.WebSocketStreams != 1 || !in.Settings[1].EnableConnectProtocol ||
		!in.Settings[1].ConnectProtocol || in.Settings[0].ConnectProtocol || in.Settings[0].HeaderTableSize != 65536 ||
		in.Settings[0].Frames != 1 || in.HeaderBlocks != [2]int{2, 2} || in.HeaderFailures != [2]int{} ||
		len(in.Problems) != 0 || len(in.GoAways) != 1 || in.GoAways[0].By != ClientToServer {
		t.Errorf("Info = %+v", in)
	}
	if len(r.events) != 2 || r.events[0].Kind != EventSettings || r.events[0].Dir != ServerToClient ||
		r.events[0].ConnectProtocol != 1 || r.events[1].Kind != EventGoAway {
		t.Errorf("events = %+v, want the server's SETTINGS then the GOAWAY", r.events)
	}
}

// TestFirefox: the close frame goes without END_STREAM; the stream ends with the TCP
// connection.
func TestFirefox(t *testing.T) {
	s := newScript(t)
	s.start(1)
	s.connect(1, "/ws")
	s.accept(1)
	s.data(ClientToServer, 1, false, clientClose)
	tSES := s.data(ServerToClient, 1, true, serverClose)
	r := run(t, s.events, Options{})
	e := r.ends[1]
	end := s.events[len(s.events)-1].t.Add(time.Second)
	if e.How != EndTCP || !e.Time.Equal(end) || e.ClientEndStream != nil || !ptrEq(e.ServerEndStream, tSES) || e.GoAway != nil {
		t.Errorf("end = %s, want tcp at Finish with only the server's END_STREAM", fmtEnd(e))
	}
	checkData(t, r, 1, clientClose, serverClose)
}

// TestGoServer: a Go server sends END_STREAM, then RST_STREAM(NO_ERROR).
func TestGoServer(t *testing.T) {
	s := newScript(t)
	s.start(1)
	s.connect(1, "/ws")
	s.accept(1)
	s.data(ClientToServer, 1, false, clientClose)
	tSES := s.data(ServerToClient, 1, true, serverClose)
	tRST := s.rst(ServerToClient, 1, http2.ErrCodeNo)
	s.data(ClientToServer, 1, false, clientText) // in flight: not the stream's any more
	r := run(t, s.events, Options{})
	e := r.ends[1]
	if e.How != EndRST || !e.Time.Equal(tRST) || e.RSTCode == nil || *e.RSTCode != NoError || e.RSTBy == nil ||
		*e.RSTBy != ServerToClient || e.ClientEndStream != nil || !ptrEq(e.ServerEndStream, tSES) {
		t.Errorf("end = %s, want rst_stream NO_ERROR by server after its END_STREAM", fmtEnd(e))
	}
	checkData(t, r, 1, clientClose, serverClose)
}

// TestConcurrentStreams: four WebSocket streams and a GET interleaved on one connection,
// each ending differently; a graceful GOAWAY refuses the stream above its last stream id.
func TestConcurrentStreams(t *testing.T) {
	s := newScript(t)
	s.start(1)
	var client, server [10][]byte
	for _, id := range []uint32{1, 3, 5} {
		s.connect(id, fmt.Sprintf("/s%d", id))
	}
	s.headers(ClientToServer, 7, true, ":method", "GET", ":scheme", "https", ":path", "/favicon.ico", ":authority", "example.test:8443")
	s.connect(9, "/s9")
	s.together(func() { // several frames in one segment
		for _, id := range []uint32{9, 5, 3, 1, 7} {
			s.accept(id)
		}
	})
	s.data(ServerToClient, 7, true, []byte("icon"))
	for i := range 3 {
		s.together(func() {
			for _, id := range []uint32{1, 3, 5, 9} {
				m := wsframe.Frame{Fin: true, Op: wsframe.OpBinary, Masked: true, Key: [4]byte{byte(id), 2, 3, byte(i)},
					Payload: bytes.Repeat([]byte{byte(id)}, 100*i+int(id))}.Bytes()
				client[id] = append(client[id], m...)
				s.data(ClientToServer, id, false, m)
			}
		})
		for _, id := range []uint32{9, 5, 3, 1} {
			m := wsframe.Frame{Fin: true, Op: wsframe.OpText, Payload: []byte(fmt.Sprintf("msg %d to %d", i, id))}.Bytes()
			server[id] = append(server[id], m...)
			s.data(ServerToClient, id, false, m)
		}
	}
	// 1: both END_STREAM; 3: client cancels; 5 stays open past the GOAWAY; 9 is refused.
	t1c := s.data(ClientToServer, 1, true, clientClose)
	t1s := s.data(ServerToClient, 1, true, serverClose)
	t3 := s.rst(ClientToServer, 3, http2.ErrCodeCancel)
	tGA := s.goAway(ServerToClient, 5, http2.ErrCodeNo, "shutting down")
	s.data(ServerToClient, 5, false, serverClose)
	server[5] = append(server[5], serverClose...)
	client[1] = append(client[1], clientClose...)
	server[1] = append(server[1], serverClose...)

	r := run(t, s.events, Options{})
	for _, id := range []uint32{1, 3, 5, 9} {
		checkData(t, r, id, client[id], server[id])
	}
	if _, ok := r.data[7]; ok {
		t.Errorf("the GET stream 7 got a sink")
	}
	ga := GoAwayInfo{Time: tGA, By: ServerToClient, LastStreamID: 5, Code: NoError, Debug: "shutting down"}
	end := s.events[len(s.events)-1].t.Add(time.Second)
	want := map[uint32]string{
		1: fmtEnd(StreamEnd{How: EndStream, Time: t1s, ClientEndStream: &t1c, ServerEndStream: &t1s}),
		3: fmtEnd(StreamEnd{How: EndRST, Time: t3, RSTCode: new(Cancel), RSTBy: new(ClientToServer)}),
		5: fmtEnd(StreamEnd{How: EndTCP, Time: end, GoAway: &ga}),
		9: fmtEnd(StreamEnd{How: EndGoAway, Time: tGA, GoAway: &ga}),
	}
	for id, w := range want {
		if got := fmtEnd(r.ends[id]); got != w {
			t.Errorf("stream %d end = %s, want %s", id, got, w)
		}
	}
	if r.info.Streams != 5 || r.info.WebSocketStreams != 4 {
		t.Errorf("Streams %d, WebSocketStreams %d, want 5, 4", r.info.Streams, r.info.WebSocketStreams)
	}
}

// TestHPACKDynamicTable: later requests refer to fields the first one added to the
// dynamic table; each direction has its own.
func TestHPACKDynamicTable(t *testing.T) {
	s := newScript(t)
	s.start(1)
	s.connect(1, "/a", "sec-websocket-protocol", "chat")
	n1 := len(s.events[len(s.events)-1].data)
	s.accept(1, "sec-websocket-protocol", "chat")
	s.connect(3, "/a", "sec-websocket-protocol", "chat")
	n3 := len(s.events[len(s.events)-1].data)
	s.accept(3, "sec-websocket-protocol", "chat")
	if n3 >= n1-20 {
		t.Fatalf("second request %d bytes, first %d: the encoder did not use its dynamic table", n3, n1)
	}
	r := run(t, s.events, Options{})
	if len(r.opened) != 2 || *r.opened[1] != (StreamInfo{ID: 3, Time: r.opened[1].Time, Path: "/a",
		Authority: "example.test:8443", Scheme: "https", Origin: "https://example.test:8443", Version: "13",
		Protocols: "chat", ConnectEnabled: true}) {
		t.Errorf("opened = %+v", r.opened)
	}
	if got := r.resp[3]; len(got) != 1 || got[0].Protocol != "chat" || got[0].Status != 200 {
		t.Errorf("stream 3 responses = %+v", got)
	}
}

// TestRejected: a CONNECT answered with an error status and END_STREAM; the client
// resets the stream.
func TestRejected(t *testing.T) {
	for _, status := range []int{400, 404, 501} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			s := newScript(t)
			s.start(1)
			s.connect(1, "/nope")
			s.headers(ServerToClient, 1, true, ":status", fmt.Sprint(status), "content-length", "0")
			tRST := s.rst(ClientToServer, 1, http2.ErrCodeCancel)
			r := run(t, s.events, Options{})
			if got := r.resp[1]; len(got) != 1 || got[0].Status != status || !got[0].EndStream {
				t.Errorf("responses = %+v, want one %d with END_STREAM", got, status)
			}
			e := r.ends[1]
			if e.How != EndRST || !e.Time.Equal(tRST) || *e.RSTCode != Cancel || *e.RSTBy != ClientToServer || e.ServerEndStream == nil {
				t.Errorf("end = %s", fmtEnd(e))
			}
		})
	}
}

// TestConnectNotEnabled: the server's SETTINGS lack ENABLE_CONNECT_PROTOCOL (or set it to
// 0) and a client sends the extended CONNECT anyway.
func TestConnectNotEnabled(t *testing.T) {
	for _, setting := range []int{-1, 0} {
		t.Run(fmt.Sprint(setting), func(t *testing.T) {
			s := newScript(t)
			s.start(setting)
			s.connect(1, "/ws")
			s.rst(ServerToClient, 1, http2.ErrCodeProtocol)
			r := run(t, s.events, Options{})
			if len(r.opened) != 1 || r.opened[0].ConnectEnabled {
				t.Fatalf("opened = %+v, want one with ConnectEnabled false", r.opened)
			}
			st := r.info.Settings[ServerToClient]
			if st.EnableConnectProtocol || st.ConnectProtocol != (setting == 0) || st.Frames != 1 {
				t.Errorf("server Settings = %+v", st)
			}
			if e := r.ends[1]; e.How != EndRST || *e.RSTCode != ProtocolError || *e.RSTBy != ServerToClient {
				t.Errorf("end = %s", fmtEnd(e))
			}
			if setting == 0 && (len(r.events) != 1 || r.events[0].ConnectProtocol != 0) {
				t.Errorf("events = %+v, want one SETTINGS event with value 0", r.events)
			}
		})
	}
}

// TestNotWebSocket: requests that are not WebSocket streams get no sink.
func TestNotWebSocket(t *testing.T) {
	s := newScript(t)
	s.start(1)
	s.headers(ClientToServer, 1, false, ":method", "CONNECT", ":authority", "example.test:443")
	s.headers(ClientToServer, 3, false, ":method", "CONNECT", ":protocol", "connect-udp", ":scheme", "https", ":path", "/", ":authority", "x")
	s.headers(ClientToServer, 5, false, ":method", "POST", ":protocol", "websocket", ":scheme", "https", ":path", "/", ":authority", "x")
	s.connect(7, "/ws")
	s.data(ClientToServer, 1, false, []byte("tunnel"))
	r := run(t, s.events, Options{}, 7)
	if len(r.opened) != 1 || r.opened[0].ID != 7 || len(r.data) != 0 || r.info.Streams != 4 || r.info.WebSocketStreams != 1 {
		t.Errorf("opened %+v, sinks %d, Info %+v", r.opened, len(r.data), r.info)
	}
}

// TestFraming: padding, priority, CONTINUATION, frames the decoder skips.
func TestFraming(t *testing.T) {
	s := newScript(t)
	s.start(1)
	blk := s.block(ClientToServer, ":method", "CONNECT", ":protocol", "websocket", ":scheme", "http",
		":path", "/padded", ":authority", "h2c.test", "sec-websocket-version", "13",
		"sec-websocket-protocol", "a", "sec-websocket-protocol", "b")
	s.together(func() {
		s.write(ClientToServer, func(fr *http2.Framer) error {
			return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: blk[:5], PadLength: 7,
				Priority: http2.PriorityParam{StreamDep: 0, Weight: 200}})
		})
		s.write(ClientToServer, func(fr *http2.Framer) error { return fr.WriteContinuation(1, false, blk[5:11]) })
	})
	s.write(ClientToServer, func(fr *http2.Framer) error { return fr.WriteContinuation(1, false, nil) })
	s.write(ClientToServer, func(fr *http2.Framer) error { return fr.WriteContinuation(1, true, blk[11:]) })
	s.accept(1)
	s.together(func() {
		s.write(ServerToClient, func(fr *http2.Framer) error { return fr.WriteWindowUpdate(0, 1<<20) })
		s.write(ServerToClient, func(fr *http2.Framer) error { return fr.WriteRawFrame(0xfa, 0xff, 1, []byte("unknown type")) })
		s.write(ServerToClient, func(fr *http2.Framer) error { return fr.WritePing(false, [8]byte{1, 2, 3, 4, 5, 6, 7, 8}) })
		s.write(ServerToClient, func(fr *http2.Framer) error {
			return fr.WriteDataPadded(1, false, serverText, make([]byte, 200))
		})
	})
	s.write(ClientToServer, func(fr *http2.Framer) error { return fr.WritePing(true, [8]byte{1, 2, 3, 4, 5, 6, 7, 8}) })
	s.write(ClientToServer, func(fr *http2.Framer) error { return fr.WritePriority(1, http2.PriorityParam{Weight: 1}) })
	s.write(ClientToServer, func(fr *http2.Framer) error { return fr.WriteDataPadded(1, false, clientText, []byte{0}) })
	s.write(ClientToServer, func(fr *http2.Framer) error { return fr.WriteDataPadded(1, true, nil, nil) }) // PADDED, pad length 0, no data
	s.write(ServerToClient, func(fr *http2.Framer) error { return fr.WriteData(1, true, nil) })

	r := run(t, s.events, Options{})
	if len(r.opened) != 1 || r.opened[0].Path != "/padded" || r.opened[0].Protocols != "a, b" {
		t.Fatalf("opened = %+v", r.opened)
	}
	checkData(t, r, 1, clientText, serverText)
	if e := r.ends[1]; e.How != EndStream {
		t.Errorf("end = %s", fmtEnd(e))
	}
	var pings []string
	for _, e := range r.events {
		if e.Kind == EventPing {
			pings = append(pings, fmt.Sprintf("%v %v %x", e.Dir, e.Ack, e.Ping))
		}
	}
	if fmt.Sprint(pings) != "[server false 102030405060708 client true 102030405060708]" {
		t.Errorf("pings = %v", pings)
	}
	if len(r.info.Problems) != 0 || r.info.HeaderBlocks != [2]int{1, 1} {
		t.Errorf("Info = %+v", r.info)
	}
}

// TestPushPromise: a server's PUSH_PROMISE is decoded to keep its HPACK state.
func TestPushPromise(t *testing.T) {
	s := newScript(t)
	s.start(1)
	s.connect(1, "/ws")
	blk := s.block(ServerToClient, ":method", "GET", ":path", "/pushed.js", ":authority", "example.test:8443", ":scheme", "https")
	s.write(ServerToClient, func(fr *http2.Framer) error {
		return fr.WritePushPromise(http2.PushPromiseParam{StreamID: 1, PromiseID: 2, BlockFragment: blk, EndHeaders: true, PadLength: 3})
	})
	// Refers to :authority indexed by the PUSH_PROMISE.
	s.accept(1, ":authority", "example.test:8443")
	r := run(t, s.events, Options{})
	if got := r.resp[1]; len(got) != 1 || got[0].Status != 200 || got[0].Undecoded || r.info.HeaderFailures != [2]int{} {
		t.Errorf("responses %+v, Info %+v", got, r.info)
	}
}

// TestMaxStreams: streams beyond the bound are counted, not followed.
func TestMaxStreams(t *testing.T) {
	s := newScript(t)
	s.start(1)
	s.connect(1, "/a")
	s.connect(3, "/b")
	s.rst(ClientToServer, 1, http2.ErrCodeCancel)
	s.connect(5, "/c")
	r := run(t, s.events, Options{MaxStreams: 1})
	if len(r.opened) != 2 || r.opened[0].ID != 1 || r.opened[1].ID != 5 || r.info.Untracked != 1 || r.info.WebSocketStreams != 3 {
		t.Errorf("opened %+v, Info %+v", r.opened, r.info)
	}
}

func TestLooksLikePreface(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{clientPreface, true},
		{clientPreface + "\x00\x00", true},
		{"PRI * HTTP/2", true},
		{"P", true},
		{"", false},
		{"GET / HTTP/1.1\r\n", false},
		{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\r", false},
		{"\x16\x03\x01", false},
	} {
		if got := LooksLikePreface([]byte(tc.in)); got != tc.want {
			t.Errorf("LooksLikePreface(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestCodeName(t *testing.T) {
	for code, want := range map[uint32]string{0: "NO_ERROR", 8: "CANCEL", 0xd: "HTTP_1_1_REQUIRED", 0x1f: "0x1f"} {
		if got := CodeName(code); got != want {
			t.Errorf("CodeName(%d) = %q, want %q", code, got, want)
		}
	}
}
