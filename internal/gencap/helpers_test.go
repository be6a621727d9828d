package gencap

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/wsclosescan/wsclosescan/capture"
	"github.com/wsclosescan/wsclosescan/reassembly"
)

// generated is a capture generated in memory.
type generated struct {
	capture, truth []byte
	stats          Stats
}

func generate(t testing.TB, opts Options) generated {
	t.Helper()
	var c, tr bytes.Buffer
	st, err := Generate(&c, &tr, opts)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return generated{capture: c.Bytes(), truth: tr.Bytes(), stats: st}
}

// truths decodes a truth file.
func truths(t testing.TB, data []byte) []Truth {
	t.Helper()
	var out []Truth
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var tr Truth
		if err := json.Unmarshal(sc.Bytes(), &tr); err != nil {
			t.Fatalf("truth line %d: %v", len(out)+1, err)
		}
		out = append(out, tr)
	}
	return out
}

// eachSegment reads every segment of a capture with the project's reader.
func eachSegment(t testing.TB, data []byte, f func(*reassembly.Segment)) capture.Stats {
	t.Helper()
	r, err := capture.NewReader("gen", bytes.NewReader(data), capture.Options{})
	if err != nil {
		t.Fatalf("capture.NewReader: %v", err)
	}
	var s reassembly.Segment
	for {
		err := r.Next(&s)
		if errors.Is(err, io.EOF) {
			return r.Stats()
		}
		if err != nil {
			t.Fatalf("capture: %v", err)
		}
		f(&s)
	}
}
