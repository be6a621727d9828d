package tlsdec

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var updateSeeds = flag.Bool("update-fuzz-seeds", false, "rewrite the seed corpus in testdata/fuzz")

// fuzzSynth is the synthetic connection whose key log the Feed fuzzer uses, so that
// mutated inputs reach the decryption paths.
var fuzzSynth = sync.OnceValue(func() *synth {
	b := newSynth(suiteByID(0x1301), 99)
	b.build(synthOpts{appRecords: 3, keyUpdate: true})
	return b
})

// encodeOps turns events into the fuzzer's input format: per operation a byte (bit 0: Dir,
// bit 1: a Gap instead of data, bits 2-7: chunking), a 2-byte length, then the data.
func encodeOps(events []event, chunk byte) []byte {
	var out []byte
	for _, e := range events {
		out = append(out, byte(e.dir)|chunk<<2, byte(len(e.data)>>8), byte(len(e.data)))
		out = append(out, e.data...)
	}
	return out
}

// runOps feeds fuzzer input to c.
func runOps(c *Conn, in []byte, check func()) {
	t := base
	for len(in) >= 3 {
		op, n := in[0], int(in[1])<<8|int(in[2])
		in = in[3:]
		dir := Dir(op & 1)
		t = t.Add(time.Millisecond)
		if op&2 != 0 {
			c.Gap(dir, int64(n), t)
			continue
		}
		data := in[:min(n, len(in))]
		in = in[len(data):]
		step := int(op>>2) + 1
		if op>>2 == 63 {
			step = len(data)
		}
		for len(data) > 0 {
			k := min(step, len(data))
			c.Feed(dir, data[:k], t)
			data = data[k:]
			check()
		}
	}
	c.Finish(t)
}

func FuzzConnFeed(f *testing.F) {
	b := fuzzSynth()
	f.Add(encodeOps(b.events, 63))
	f.Add(encodeOps(b.events, 0))
	f.Add(encodeOps(b.events[:3], 63)) // ClientHello, ServerHello, CCS: short, for mutations
	keys := b.keys(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		var plain int
		c := NewConn(Options{
			Keys:      keys,
			Sessions:  NewSessions(4),
			Plaintext: func(d Dir, data []byte, _ time.Time) { plain += len(data) },
		})
		runOps(c, in, func() { checkBounds(t, c) })
		in0 := c.Info()
		if len(in0.Alerts) > maxAlerts || plain > len(in) {
			t.Fatalf("%d alerts, %d plaintext bytes from %d input bytes", len(in0.Alerts), plain, len(in))
		}
	})
}

// checkBounds fails if a Conn holds more than its per-direction bounds.
func checkBounds(t *testing.T, c *Conn) {
	for i := range c.dirs {
		d := &c.dirs[i]
		if len(d.body) > maxCiphertext || cap(d.body) > maxCiphertext || cap(d.scan) > recordHeaderLen+maxCiphertext ||
			len(d.hs.buf) > maxHandshakeMsg+4 || cap(d.out) > 2*maxCiphertext {
			t.Fatalf("dir %d buffers: body %d/%d, scan %d, hs %d, out %d", i, len(d.body), cap(d.body), cap(d.scan), len(d.hs.buf), cap(d.out))
		}
	}
}

func FuzzKeyLog(f *testing.F) {
	b := fuzzSynth()
	f.Add([]byte(b.keyLog.String()))
	f.Add([]byte("# comment\r\nCLIENT_RANDOM " + rnd1 + " " + s48 + "\r\nEXPORTER_SECRET " + rnd1 + " " + s32a + "\r\n"))
	f.Add([]byte("CLIENT_RANDOM\n\x00\xff\nX Y Z\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		k := NewKeyLog()
		used, err := k.Add(bytes.NewReader(in))
		lines := bytes.Count(in, []byte("\n")) + 1
		if used > lines || k.Len() > used {
			t.Fatalf("used %d of %d lines, Len %d", used, lines, k.Len())
		}
		var ke *KeyLogError
		if err != nil && (!errors.As(err, &ke) || ke.Line < 1 || ke.Line > lines || ke.Count < 1) {
			t.Fatalf("error %v", err)
		}
		if err != nil && strings.ContainsAny(err.Error(), "\n") {
			t.Fatalf("error text %q", err)
		}
	})
}

// TestWriteFuzzSeeds writes the seed corpus with -update-fuzz-seeds.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-fuzz-seeds to rewrite testdata/fuzz")
	}
	b := fuzzSynth()
	cut := encodeOps(b.events, 5)
	seeds := map[string][][]byte{
		"FuzzConnFeed": {
			encodeOps(b.events, 63),
			encodeOps(b.events, 0),
			append(append(cut[:len(cut)/2:len(cut)/2], 2, 0, 40), cut[len(cut)/2+40:]...),
			[]byte("\x00\x00\x10GET / HTTP/1.1\r\n\r\n"),
			{0x00, 0x00, 0x05, 0x16, 0x03, 0x01, 0xff, 0xff},
		},
		"FuzzKeyLog": {
			[]byte(b.keyLog.String()),
			[]byte("# x\r\nCLIENT_RANDOM " + rnd1 + " " + s48 + "\r\nCLIENT_TRAFFIC_SECRET_N " + rnd1 + " " + s32a + "\n"),
			[]byte("CLIENT_RANDOM zz\n" + strings.Repeat("A", 5000) + "\nSERVER_TRAFFIC_SECRET_0 " + rnd2 + " " + s48),
		},
	}
	for name, list := range seeds {
		dir := filepath.Join("testdata", "fuzz", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, s := range list {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%d", i)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
