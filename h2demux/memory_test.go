package h2demux

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2/hpack"
)

// countSink counts what a stream gets without keeping it.
type countSink struct {
	data [2]int64
	gaps int
	end  *StreamEnd
}

func (k *countSink) Data(dir Dir, b []byte, _ time.Time) { k.data[dir] += int64(len(b)) }
func (k *countSink) Gap(Dir, int64, time.Time)           { k.gaps++ }
func (k *countSink) Response(*Response, time.Time)       {}
func (k *countSink) End(e StreamEnd)                     { k.end = &e }

// heap returns the live heap after a collection.
func heap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// boundedConn starts a connection with WebSocket stream 1 and returns it, its sink and
// the script whose encoders continue it.
func boundedConn(t *testing.T, maxFrame uint32) (*Conn, *countSink, *script) {
	s := newScript(t)
	s.start(1)
	if maxFrame > 0 {
		s.raw(ClientToServer, rawFrame(4, 0, 0, []byte{0, 5, byte(maxFrame >> 24), byte(maxFrame >> 16), byte(maxFrame >> 8), byte(maxFrame)}))
	}
	s.connect(1, "/ws")
	s.accept(1)
	sink := &countSink{}
	c := NewConn(Options{Stream: func(*StreamInfo) Sink { return sink }})
	for _, e := range s.events {
		c.Feed(e.dir, e.data, e.t)
	}
	return c, sink, s
}

// checkGrowth fails if the heap grew by more than limit while fn ran.
func checkGrowth(t *testing.T, limit uint64, keep any, fn func()) {
	t.Helper()
	before := heap()
	fn()
	after := heap()
	runtime.KeepAlive(keep)
	if after > before && after-before > limit {
		t.Errorf("heap grew by %d bytes, want at most %d", after-before, limit)
	}
}

// TestBoundedHugeFrame: a 16 MiB DATA frame announced and sent after the client allowed
// that size goes to the sink as it arrives.
func TestBoundedHugeFrame(t *testing.T) {
	const n = 1<<24 - 1
	chunk := make([]byte, 64<<10)
	// A header announcing n bytes, then the payload in chunks.
	c, sink, _ := boundedConn(t, 1<<24-1)
	checkGrowth(t, 1<<20, c, func() {
		c.Feed(ServerToClient, []byte{0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 1}, base)
		for left := n; left > 0; left -= len(chunk) {
			c.Feed(ServerToClient, chunk[:min(left, len(chunk))], base)
		}
	})
	if sink.data[1] != n || len(c.Info().Problems) != 0 {
		t.Errorf("sink got %d bytes, want %d; Problems %q", sink.data[1], n, c.Info().Problems)
	}
	// Announced but never sent: only the frame header is kept.
	c, _, _ = boundedConn(t, 0)
	// The caller's buffer: hpack's Decoder keeps a reference to the last one written to it.
	fields := bytes.Repeat([]byte{0x88}, 1<<20) // :status 200, indexed
	checkGrowth(t, 1<<20, c, func() {
		c.Feed(ServerToClient, []byte{0xff, 0xff, 0xff, 1, 4, 0, 0, 0, 1}, base) // HEADERS of 16 MiB
		c.Feed(ServerToClient, fields, base)
		c.Finish(base)
	})
	if in := c.Info(); !strings.Contains(strings.Join(in.Problems, "\n"), "exceeds SETTINGS_MAX_FRAME_SIZE 16384") {
		t.Errorf("Problems = %q", in.Problems)
	}
}

// TestBoundedContinuation: a header block that never ends (HEADERS, then CONTINUATION
// frames of literal fields forever) is decoded as it comes, not buffered.
func TestBoundedContinuation(t *testing.T) {
	c, _, _ := boundedConn(t, 0)
	var blk bytes.Buffer
	enc := hpack.NewEncoder(&blk)
	frame := func(typ uint8) []byte {
		blk.Reset()
		for blk.Len() < 15000 {
			enc.WriteField(hpack.HeaderField{Name: "x-filler", Value: strings.Repeat("v", 500), Sensitive: true})
		}
		return rawFrame(typ, 0, 3, blk.Bytes())
	}
	checkGrowth(t, 1<<20, c, func() {
		c.Feed(ClientToServer, frame(1), base)
		cont := frame(9)
		for range 1000 { // 15 MB
			c.Feed(ClientToServer, cont, base)
		}
	})
	in := c.Info()
	if in.HeaderStateLost[0] || len(in.Problems) != 0 || !c.dirs[0].block.open {
		t.Errorf("Info = %+v", in)
	}
}

// TestBoundedLongString: a header value longer than the decoder keeps loses the header
// state instead of growing.
func TestBoundedLongString(t *testing.T) {
	c, _, _ := boundedConn(t, 1<<24-1)
	var blk bytes.Buffer
	hpack.NewEncoder(&blk).WriteField(hpack.HeaderField{Name: "cookie", Value: strings.Repeat("c", 1<<20), Sensitive: true})
	b := rawFrame(1, 4, 3, blk.Bytes())
	checkGrowth(t, 1<<20, c, func() {
		for len(b) > 0 {
			n := min(len(b), 1000)
			c.Feed(ClientToServer, b[:n], base)
			b = b[n:]
		}
	})
	if in := c.Info(); !in.HeaderStateLost[0] || !strings.Contains(strings.Join(in.Problems, "\n"), "hpack: string too long") {
		t.Errorf("Info = %+v", in)
	}
}
