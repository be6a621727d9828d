package scan

import (
	"io"
	"os"
)

// waitReader passes reads through to a source that may block, such as a pipe from
// tcpdump -U -w -, and calls wait before a read that will probably block: one that
// follows a short read (the source had less than was asked for, so it is drained). wait
// runs on the goroutine that called Read, which is the one decoding the capture (see
// Scanner.Read), and hands the segments decoded so far to the shards, so that a record
// is written when its connection ends rather than when a batch fills up.
//
// A gzip-compressed source is read by the capture reader's read-ahead goroutine, not
// the decoding one, so waitReader turns itself off when the first bytes are gzip's magic.
//
// It also notes whether the capture is gzip-compressed, for every source: the offsets in
// error messages are then into the decompressed data, and say so.
type waitReader struct {
	src   io.Reader
	live  bool   // the source may block (see mayBlock)
	wait  func() // set by decode when live; nil until then
	short bool   // the last read returned less than asked
	off   int64
	gzip  bool
}

// lenWaitReader is a waitReader over a source with a Len method, which it keeps: the
// capture reader sizes its buffer to an input in memory.
type lenWaitReader struct {
	*waitReader
	l interface{ Len() int }
}

func (w lenWaitReader) Len() int { return w.l.Len() }

// newWaitReader wraps src; it returns the wrapper and the reader to read from.
func newWaitReader(src io.Reader) (*waitReader, io.Reader) {
	w := &waitReader{src: src, live: mayBlock(src)}
	if l, ok := src.(interface{ Len() int }); ok {
		return w, lenWaitReader{w, l}
	}
	return w, w
}

func (w *waitReader) Read(p []byte) (int, error) {
	if w.short && w.wait != nil && w.live && !w.gzip {
		w.wait()
	}
	n, err := w.src.Read(p)
	if w.off == 0 && n >= 2 && p[0] == 0x1f && p[1] == 0x8b {
		w.gzip = true
	}
	w.off += int64(n)
	w.short = n < len(p)
	return n, err
}

// mayBlock reports whether reading src may wait for data to arrive: false for data in
// memory (anything with a Len method, such as a bytes.Reader) and regular files.
func mayBlock(src io.Reader) bool {
	if _, ok := src.(interface{ Len() int }); ok {
		return false
	}
	if f, ok := src.(*os.File); ok {
		st, err := f.Stat()
		return err != nil || !st.Mode().IsRegular()
	}
	return true
}
