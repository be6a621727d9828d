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

// BenchmarkSmallMaskedText feeds 64 small masked text frames per iteration.
func BenchmarkSmallMaskedText(b *testing.B) {
	c := upgraded(b)
	var chunk []byte
	for i := 0; i < 64; i++ {
		chunk = append(chunk, cf(true, wsframe.OpText, []byte(`{"type":"tick","price":"12.5","é":1}`))...)
	}
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Feed(Client, chunk, t0)
	}
	if c.Stats(Client).Messages != int64(b.N)*64 || len(c.Findings()) != 0 {
		b.Fatalf("unexpected stats %+v findings %v", c.Stats(Client), c.Findings())
	}
}

// BenchmarkLargeBinary feeds 1 MiB binary server frames in 1400-byte chunks.
func BenchmarkLargeBinary(b *testing.B) {
	c := upgraded(b)
	stream := sf(true, wsframe.OpBinary, bytes.Repeat([]byte{0x5A}, 1<<20))
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for p := stream; len(p) > 0; {
			n := min(1400, len(p))
			c.Feed(Server, p[:n], t0)
			p = p[n:]
		}
	}
	if c.Stats(Server).Messages != int64(b.N) {
		b.Fatalf("unexpected stats %+v", c.Stats(Server))
	}
}

// BenchmarkLargeMaskedText feeds 256 KiB masked text frames (UTF-8 validated) in
// 1400-byte chunks.
func BenchmarkLargeMaskedText(b *testing.B) {
	c := upgraded(b)
	stream := cf(true, wsframe.OpText, bytes.Repeat([]byte("héllo wörld "), 256<<10/14))
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for p := stream; len(p) > 0; {
			n := min(1400, len(p))
			c.Feed(Client, p[:n], t0)
			p = p[n:]
		}
	}
	if c.Stats(Client).Messages != int64(b.N) || len(c.Findings()) != 0 {
		b.Fatalf("unexpected stats %+v", c.Stats(Client))
	}
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
		allocs := testing.AllocsPerRun(20, func() {
			for p := tc.data; len(p) > 0; {
				n := min(1400, len(p))
				c.Feed(tc.side, p[:n], t0)
				p = p[n:]
			}
		})
		if allocs != 0 {
			t.Errorf("%s: got %v allocs per frame, want 0", tc.name, allocs)
		}
	}
}

// BenchmarkLargeMaskedASCII feeds 256 KiB masked ASCII text frames (JSON-like, the usual
// case) in 1400-byte chunks.
func BenchmarkLargeMaskedASCII(b *testing.B) {
	c := upgraded(b)
	stream := cf(true, wsframe.OpText, bytes.Repeat([]byte(`{"type":"tick","price":"12.5"},`), 256<<10/31))
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for p := stream; len(p) > 0; {
			n := min(1400, len(p))
			c.Feed(Client, p[:n], t0)
			p = p[n:]
		}
	}
	if c.Stats(Client).Messages != int64(b.N) || len(c.Findings()) != 0 {
		b.Fatalf("unexpected stats %+v", c.Stats(Client))
	}
}

// BenchmarkFrameHeaders feeds 1024 tiny frames per iteration (4-byte binary payloads,
// masked client frames, 10-byte frames in all): the frame header parser dominates.
func BenchmarkFrameHeaders(b *testing.B) {
	c := upgraded(b)
	var chunk []byte
	for range 1024 {
		chunk = append(chunk, cf(true, wsframe.OpBinary, []byte{1, 2, 3, 4})...)
	}
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for p := chunk; len(p) > 0; {
			n := min(1400, len(p))
			c.Feed(Client, p[:n], t0)
			p = p[n:]
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1024), "ns/frame")
	if c.Stats(Client).Frames != int64(b.N)*1024 {
		b.Fatalf("unexpected stats %+v", c.Stats(Client))
	}
}
