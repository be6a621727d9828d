package wsparse

import (
	"testing"
	"unsafe"
)

// TestConnSize pins the size of a Conn, which every open connection holds: with the 8-byte
// header the Go allocator puts before an object of more than 512 bytes that has pointers,
// 568 bytes fill the 576-byte size class, and 9 bytes more would take the next one (640).
// Grow it only knowingly, and put state that few connections need behind a pointer (the
// judged handshake is packed into one string, hspack.go; the limits are the Pool's).
func TestConnSize(t *testing.T) {
	if got, want := unsafe.Sizeof(Conn{}), uintptr(560); got > want {
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
