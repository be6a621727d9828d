package wsparse

import (
	"testing"
	"unsafe"

	"github.com/wsclosescan/wsclosescan/internal/wsframe"
)

// TestConnSize pins the size of a Conn, which every open connection holds: the Go allocator
// puts an 8-byte header before an object with pointers of more than 512 bytes, so 512 (a
// size class) is the most a Conn can have without one; a byte more takes 576 with it. Grow it only knowingly, and put state that few connections
// need behind a pointer (the judged handshake is packed, hspack.go; the limits are the
// Pool's; a control frame's payload buffer is held only during the frame).
func TestConnSize(t *testing.T) {
	if got, want := unsafe.Sizeof(Conn{}), uintptr(512); got > want {
		t.Errorf("got a %d-byte Conn, want at most %d", got, want)
	}
}

// TestHTTPStateOnlyWhileHTTP checks that a direction holds HTTP state (a header buffer, a
// body) only while it speaks HTTP, and that its Pool gets it back.
func TestHTTPStateOnlyWhileHTTP(t *testing.T) {
	req := "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
	tests := []struct {
		name     string
		feed     []string // client, server, client, ...
		wantHTTP [2]bool  // by fed side, after the last piece (a keep-alive side keeps it)
	}{
		{"upgraded", []string{req, resp}, [2]bool{false, false}},
		{"request in two pieces, upgraded", []string{req[:20], "", req[20:], resp}, [2]bool{false, false}},
		{"request cut", []string{req[:20]}, [2]bool{true, false}},
		{"plain GET, response body pending", []string{"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
			"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345"}, [2]bool{true, true}},
		{"plain GET, response body done", []string{"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
			"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n12345"}, [2]bool{true, true}},
		{"plain GET, response until the connection closes", []string{"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
			"HTTP/1.1 200 OK\r\n\r\n12345"}, [2]bool{true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Pool
			c := p.Get(Options{})
			for i, s := range tt.feed {
				c.Feed(Side(i%2), []byte(s), t0)
			}
			held := 0
			for s := range c.dirs {
				if got := c.dirs[s].http != nil; got != tt.wantHTTP[s] {
					t.Errorf("%v: got HTTP state %v, want %v", Side(s), got, tt.wantHTTP[s])
				}
				if c.dirs[s].http != nil {
					held++
				}
			}
			spare := p.https.Len()
			p.Put(c)
			if got := p.https.Len(); got != spare+held {
				t.Errorf("got %d spare HTTP states after Put, want %d", got, spare+held)
			}
		})
	}
}

// TestCtrlOnlyInControlFrame checks that a direction holds a control payload buffer only
// while a control frame with a payload is being decoded, that its Pool gets it back, and
// that the ping's payload and the close frame's reason survive it.
func TestCtrlOnlyInControlFrame(t *testing.T) {
	var p Pool
	c := p.Get(Options{})
	c.Feed(Client, wsframe.Request("/chat", testKey), t0)
	c.Feed(Server, wsframe.Response101(testKey), t0)
	ping := cf(true, 9, []byte("heartbeat"))
	c.Feed(Client, ping[:len(ping)-3], t0)
	if c.dirs[Client].fs.ctrl == nil {
		t.Fatal("no control buffer in the middle of a ping's payload")
	}
	c.Feed(Client, ping[len(ping)-3:], t0)
	if c.dirs[Client].fs.ctrl != nil {
		t.Error("the control buffer is still held after the ping")
	}
	if got := p.ctrls.Len(); got != 1 {
		t.Errorf("got %d spare control buffers in the Pool, want 1", got)
	}
	c.Feed(Server, sf(true, 8, append([]byte{0x03, 0xe8}, "bye"...)), t0)
	c.Feed(Server, sf(true, 8, []byte{0x03, 0xe8}), t0)
	if pings := c.Pings(); len(pings) != 1 || string(pings[0].Payload) != "heartbeat" {
		t.Errorf("got pings %+v, want one with payload heartbeat", pings)
	}
	if cl := c.Close(Server); cl == nil || string(cl.Reason) != "bye" || c.CloseCount(Server) != 2 || c.CloseCount(Client) != 0 {
		t.Errorf("got close %+v, %d close frames from the server, %d from the client; want reason bye, 2, 0", cl,
			c.CloseCount(Server), c.CloseCount(Client))
	}
	if c.dirs[Server].fs.ctrl != nil {
		t.Error("the control buffer is still held after the close frames")
	}
}
