package wsparse

import (
	"bytes"
	"compress/flate"
	"io"
	"math/rand"
	"testing"
)

// deflateMessages compresses msgs as a permessage-deflate sender does: one DEFLATE stream
// (context takeover) or one per message, each message ended by a sync flush whose empty
// stored block is removed.
func deflateMessages(t testing.TB, msgs [][]byte, level int, takeover bool) [][]byte {
	var out [][]byte
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if !takeover {
			w.Reset(&buf)
		}
		w.Write(m)
		w.Flush()
		b := bytes.Clone(buf.Bytes())
		buf.Reset()
		if !bytes.HasSuffix(b, []byte{0, 0, 0xff, 0xff}) {
			t.Fatalf("sync flush does not end with 00 00 ff ff: % x", b)
		}
		out = append(out, b[:len(b)-4])
	}
	return out
}

// inflateSplit inflates each compressed message, pushed in random chunks, and returns
// what each message's preview holds and its inflated length.
func inflateSplit(f *inflater, comp [][]byte, rng *rand.Rand, takeover bool) ([][]byte, []int64) {
	var prev [][]byte
	var sizes []int64
	for _, c := range comp {
		if takeover {
			f.startMessage()
		} else {
			f.reset()
		}
		for len(c) > 0 {
			n := 1 + rng.Intn(len(c))
			f.write(c[:n])
			c = c[n:]
		}
		f.endMessage()
		prev = append(prev, bytes.Clone(f.out[:f.outN]))
		sizes = append(sizes, f.outT)
	}
	return prev, sizes
}

func TestInflateMessages(t *testing.T) {
	long := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog; "), 2000) // 90 KB: past the window
	rng := rand.New(rand.NewSource(1))
	random := make([]byte, 40000)
	rng.Read(random)
	msgs := [][]byte{[]byte("hello"), []byte("hello hello hello"), {}, long, random, []byte(`{"error":"token expired"}`), long[:100]}
	for _, level := range []int{flate.NoCompression, flate.HuffmanOnly, flate.BestSpeed, flate.DefaultCompression, flate.BestCompression} {
		for _, takeover := range []bool{true, false} {
			comp := deflateMessages(t, msgs, level, takeover)
			var f inflater
			f.reset()
			prev, sizes := inflateSplit(&f, comp, rng, takeover)
			if f.err != nil {
				t.Fatalf("level %d, takeover %v: %v", level, takeover, f.err)
			}
			for i, m := range msgs {
				want := m[:min(len(m), inflatePreview)]
				if !bytes.Equal(prev[i], want) || sizes[i] != int64(len(m)) {
					t.Errorf("level %d, takeover %v, message %d: got %q (%d bytes), want %q (%d bytes)",
						level, takeover, i, prev[i], sizes[i], want, len(m))
				}
			}
		}
	}
}

// A message that refers to the window of messages not seen (the capture began late) is
// an error, never wrong text.
func TestInflateWithoutTheWindow(t *testing.T) {
	msgs := [][]byte{[]byte("a message repeated, a message repeated"), []byte("a message repeated")}
	comp := deflateMessages(t, msgs, flate.BestCompression, true)
	var f inflater
	f.reset()
	f.write(comp[1])
	f.endMessage()
	if f.err != errBeforeCapture {
		t.Errorf("got %v, %q; want errBeforeCapture", f.err, f.out[:f.outN])
	}
}

func TestInflateCorrupt(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"block type 3", []byte{0x07}},
		{"stored length complement", []byte{0x00, 0x05, 0x00, 0x00, 0x00}},
		{"too many codes", []byte{0xfd, 0xff}},
	} {
		var f inflater
		f.reset()
		f.write(tc.in)
		f.endMessage()
		if f.err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// FuzzInflate checks the inflater against compress/flate: the messages of a
// permessage-deflate stream, compressed by compress/flate and pushed in random chunks,
// inflate to what was compressed; and arbitrary bytes that compress/flate inflates whole
// inflate to the same output.
func FuzzInflate(f *testing.F) {
	f.Add([]byte("hello, hello, hello"), uint8(6), int64(1))
	f.Add([]byte{0x4a, 0xcc, 0x4d, 0x55, 0x00, 0x11}, uint8(0), int64(2))
	f.Add(bytes.Repeat([]byte("abcdefgh"), 300), uint8(9), int64(3))
	f.Fuzz(func(t *testing.T, data []byte, level uint8, seed int64) {
		rng := rand.New(rand.NewSource(seed))
		// Round trip over up to three messages cut from data.
		var msgs [][]byte
		rest := data
		for range 3 {
			n := 0
			if len(rest) > 0 {
				n = rng.Intn(len(rest) + 1)
			}
			msgs = append(msgs, rest[:n])
			rest = rest[n:]
		}
		lv := int(level%11) - 1
		takeover := seed%2 == 0
		comp := deflateMessages(t, msgs, lv, takeover)
		var inf inflater
		inf.reset()
		prev, sizes := inflateSplit(&inf, comp, rng, takeover)
		if inf.err != nil {
			t.Fatalf("round trip: %v", inf.err)
		}
		for i, m := range msgs {
			if want := m[:min(len(m), inflatePreview)]; !bytes.Equal(prev[i], want) || sizes[i] != int64(len(m)) {
				t.Fatalf("message %d: got %q (%d), want %q (%d)", i, prev[i], sizes[i], want, len(m))
			}
		}
		// Arbitrary input: the same answer as compress/flate whenever it has one.
		want, err := io.ReadAll(flate.NewReader(bytes.NewReader(data)))
		inf.reset()
		inf.write(data)
		if err == nil && inf.state == stDone {
			if inf.err != nil || inf.outT != int64(len(want)) || !bytes.Equal(inf.out[:inf.outN], want[:min(len(want), inflatePreview)]) {
				t.Fatalf("compress/flate inflates %d bytes %q, we %d bytes %q (%v)", len(want), want[:min(len(want), inflatePreview)], inf.outT, inf.out[:inf.outN], inf.err)
			}
		}
		if err == nil && inf.err != nil {
			t.Fatalf("compress/flate inflates it, we fail: %v", inf.err)
		}
	})
}
