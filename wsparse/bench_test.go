package wsparse

import (
	"bytes"
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/wsframe"
)

// upgraded returns a Conn past a successful handshake.
func upgraded(b *testing.B) *Conn {
	c := NewConn(Options{})
	c.Feed(Client, wsframe.Request("/", testKey), t0)
	c.Feed(Server, wsframe.Response101(testKey), t0)
	if h := c.Handshake(); h == nil || !h.Upgraded {
		b.Fatal("handshake failed")
	}
	return c
}

// feedChunked feeds p in 1400-byte chunks, the size of full TCP segments.
func feedChunked(c *Conn, s Side, p []byte) {
	for len(p) > 0 {
		n := min(1400, len(p))
		c.Feed(s, p[:n], t0)
		p = p[n:]
	}
}

// benchStream feeds stream, which holds frames complete messages, b.N times in
// 1400-byte chunks, then checks that every frame was decoded without a finding.
func benchStream(b *testing.B, s Side, stream []byte, frames int) *Conn {
	c := upgraded(b)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		feedChunked(c, s, stream)
	}
	if st := c.Stats(s); st.Frames != int64(b.N*frames) || st.Messages != st.Frames || len(c.Findings()) != 0 {
		b.Fatalf("unexpected stats %+v findings %v", st, c.Findings())
	}
	return c
}

// BenchmarkSmallMaskedText feeds 64 small masked text frames per iteration.
func BenchmarkSmallMaskedText(b *testing.B) {
	benchStream(b, Client, bytes.Repeat(cf(true, wsframe.OpText, []byte(`{"type":"tick","price":"12.5","é":1}`)), 64), 64)
}

// BenchmarkLargeBinary feeds 1 MiB binary server frames.
func BenchmarkLargeBinary(b *testing.B) {
	benchStream(b, Server, sf(true, wsframe.OpBinary, bytes.Repeat([]byte{0x5A}, 1<<20)), 1)
}

// BenchmarkLargeMaskedText feeds 256 KiB masked text frames (UTF-8 validated), a
// non-ASCII letter every 6 bytes.
func BenchmarkLargeMaskedText(b *testing.B) {
	benchStream(b, Client, cf(true, wsframe.OpText, bytes.Repeat([]byte("héllo wörld "), 256<<10/14)), 1)
}

// BenchmarkLargeMaskedASCII feeds 256 KiB masked ASCII text frames (JSON-like, the usual
// case).
func BenchmarkLargeMaskedASCII(b *testing.B) {
	benchStream(b, Client, cf(true, wsframe.OpText, bytes.Repeat([]byte(`{"type":"tick","price":"12.5"},`), 256<<10/31)), 1)
}

// BenchmarkFrameHeaders feeds 1024 tiny frames per iteration (4-byte binary payloads,
// masked client frames, 10-byte frames in all): the frame header parser dominates.
func BenchmarkFrameHeaders(b *testing.B) {
	benchStream(b, Client, bytes.Repeat(cf(true, wsframe.OpBinary, []byte{1, 2, 3, 4}), 1024), 1024)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1024), "ns/frame")
}

func TestZeroAllocsPerDataFrame(t *testing.T) {
	c := NewConn(Options{})
	c.Feed(Client, wsframe.Request("/", testKey), t0)
	c.Feed(Server, wsframe.Response101(testKey), t0)
	small := cf(true, wsframe.OpText, []byte(`{"type":"tick","é":1}`))
	large := sf(true, wsframe.OpBinary, bytes.Repeat([]byte{1}, 64<<10))
	text := cf(true, wsframe.OpText, bytes.Repeat([]byte("wörld "), 3000))
	cases := []struct {
		name string
		side Side
		data []byte
	}{{"small masked text", Client, small}, {"large binary", Server, large}, {"large masked text", Client, text}}
	for _, tc := range cases {
		allocs := testing.AllocsPerRun(20, func() { feedChunked(c, tc.side, tc.data) })
		if allocs != 0 {
			t.Errorf("%s: got %v allocs per frame, want 0", tc.name, allocs)
		}
	}
}

// BenchmarkSmallMaskedTextPayloads is BenchmarkSmallMaskedText with Options.Payloads: the
// cost of keeping each message's first 64 bytes.
func BenchmarkSmallMaskedTextPayloads(b *testing.B) {
	stream := bytes.Repeat(cf(true, wsframe.OpText, []byte(`{"type":"tick","price":"12.5","é":1}`)), 64)
	c := NewConn(Options{Payloads: true})
	c.Feed(Client, wsframe.Request("/", testKey), t0)
	c.Feed(Server, wsframe.Response101(testKey), t0)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		feedChunked(c, Client, stream)
	}
	if m, ok := c.LastMessage(Client); !ok || !bytes.HasPrefix(m.Preview, []byte(`{"type":"tick"`)) {
		b.Fatalf("last message %+v", m)
	}
}

// BenchmarkDeflatedMessages feeds permessage-deflate server messages (context takeover,
// about 1 KiB of JSON each) with Options.Payloads: the inflater's speed, in compressed
// bytes per second.
func BenchmarkDeflatedMessages(b *testing.B) {
	var msgs [][]byte
	for i := range 64 {
		msgs = append(msgs, bytes.Repeat([]byte(`{"type":"tick","seq":`+string(rune('0'+i%10))+`,"price":"12.5"},`), 24))
	}
	var stream []byte
	for _, m := range deflateMessages(b, msgs, 6, true) {
		stream = append(stream, wsframe.Frame{Fin: true, Op: wsframe.OpText, RSV: wsframe.RSV1, Payload: m}.Bytes()...)
	}
	deflate := "Sec-WebSocket-Extensions: permessage-deflate"
	c := NewConn(Options{Payloads: true})
	c.Feed(Client, wsframe.Request("/", testKey, deflate), t0)
	c.Feed(Server, wsframe.Response101(testKey, deflate), t0)
	// The stream is compressed once, with one window: feed it once to set the window up,
	// then again and again as if the sender had repeated it (the back-references stay
	// within what was inflated).
	feedChunked(c, Server, stream)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		feedChunked(c, Server, stream)
	}
	if m, ok := c.LastMessage(Server); !ok || m.NoPreview != "" || !bytes.HasPrefix(m.Preview, []byte(`{"type":"tick"`)) {
		b.Fatalf("last message %+v", m)
	}
}

// TestPooledSplitHeaderAllocs checks that a header block that comes in pieces costs a
// pooled connection no more allocations than one that comes whole, once the Pool is warm:
// the buffer it was gathered in goes back to the Pool when the side leaves HTTP, for the
// next connection's blocks.
func TestPooledSplitHeaderAllocs(t *testing.T) {
	req := wsframe.Request("/chat", testKey, "Cookie: "+string(bytes.Repeat([]byte("k=v; "), 120)))
	resp := wsframe.Response101(testKey)
	var p Pool
	conn := func(pieces int) func() {
		return func() {
			c := p.Get(Options{})
			n := len(req) / pieces
			for i := range pieces {
				end := (i + 1) * n
				if i == pieces-1 {
					end = len(req)
				}
				c.Feed(Client, req[i*n:end], t0)
			}
			c.Feed(Server, resp, t0)
			if h := c.Handshake(); h == nil || !h.Upgraded {
				t.Fatal("handshake failed")
			}
			p.Put(c)
		}
	}
	conn(3)() // warm the Pool
	whole := testing.AllocsPerRun(50, conn(1))
	split := testing.AllocsPerRun(50, conn(3))
	if split > whole {
		t.Errorf("a request in 3 pieces costs %v allocations per connection, a whole one %v", split, whole)
	}
}
