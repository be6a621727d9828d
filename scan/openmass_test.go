package scan

import (
	"flag"
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/internal/wsframe"
	"github.com/wsclosescan/wsclosescan/internal/wstest"
)

var openHeapProfile = flag.String("open-heapprofile", "", "TestOpenBrowserConnections writes a heap profile to this file while every connection is open")

// writeBrowserConns writes n connections like gencap's mass shape while they are open: a
// browser's upgrade (User-Agent, Origin, cookies, a permessage-deflate offer), a message
// each way and a ping with its pong, then nothing more.
func writeBrowserConns(write func([]pcapgen.Packet) error, n int) error {
	req := wsframe.Request("/socket/v2?room=lobby", wstest.Key,
		"Origin: https://app.example.com",
		"User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark",
		"Accept-Language: en-US,en;q=0.9",
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
	resp := wsframe.Response101(wstest.Key)
	msg := []byte(`{"type":"subscribe","channel":"lobby","seq":1}`)
	frames := [][]byte{
		wsframe.Frame{Fin: true, Op: wsframe.OpText, Masked: true, Key: [4]byte{1, 2, 3, 4}, Payload: msg}.Bytes(),
		wsframe.Frame{Fin: true, Op: wsframe.OpText, Payload: msg}.Bytes(),
		wsframe.Frame{Fin: true, Op: wsframe.OpPing, Masked: true, Key: [4]byte{5, 6, 7, 8}, Payload: []byte("hb")}.Bytes(),
		wsframe.Frame{Fin: true, Op: wsframe.OpPong, Payload: []byte("hb")}.Bytes(),
	}
	return writeConns(write, n, req, resp, frames[0], frames[1], frames[2], frames[3])
}

// TestOpenBrowserConnections holds -open-conns browser-like connections (see
// writeBrowserConns) open until the end of the capture and measures the live heap per
// connection before Flush; with -open-heapprofile it writes a heap profile then.
func TestOpenBrowserConnections(t *testing.T) {
	measureOpenHeap(t, "open browser-like WebSocket connections", writeBrowserConns, *openHeapProfile)
}
