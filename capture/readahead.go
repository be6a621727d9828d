package capture

import (
	"io"
	"runtime"
)

// Read-ahead of decompressed input: inflating is the slowest stage of a gzip capture by
// far, so it runs on its own goroutine, overlapping the decoding of what it produced
// before. Chunks are reused; at most readAheadChunks are in flight.
const (
	readAheadChunks = 2
	readAheadSize   = 256 << 10
)

// chunk is a run of bytes read from the source and the error that ended the run, if any.
type raChunk struct {
	buf []byte
	err error
}

// readAhead is an io.Reader over src whose reads happen on another goroutine. It returns
// the same bytes and the same final error as src. The goroutine ends at src's first error,
// or when done is closed (by a cleanup of the Reader that owns it, when that Reader is
// dropped before the end of src).
type readAhead struct {
	full chan raChunk
	free chan []byte
	done chan struct{}
	cur  raChunk // chunk being consumed
	off  int
	err  error // sticky: returned once cur is consumed
}

func newReadAhead(src io.Reader) *readAhead {
	ra := &readAhead{full: make(chan raChunk, readAheadChunks), free: make(chan []byte, readAheadChunks),
		done: make(chan struct{})}
	for range readAheadChunks {
		ra.free <- make([]byte, readAheadSize)
	}
	go fill(src, ra.full, ra.free, ra.done) // not a method: the goroutine must not keep ra alive
	return ra
}

// fill reads src into free chunks and hands them over in order until src fails.
func fill(src io.Reader, full chan<- raChunk, free <-chan []byte, done <-chan struct{}) {
	for {
		var buf []byte
		select {
		case buf = <-free:
		case <-done:
			return
		}
		n, err := 0, error(nil)
		for n < len(buf) && err == nil {
			var k int
			k, err = src.Read(buf[n:])
			n += k
		}
		select {
		case full <- raChunk{buf: buf[:n], err: err}:
		case <-done:
			return
		}
		if err != nil {
			return
		}
	}
}

// Read implements io.Reader.
func (ra *readAhead) Read(p []byte) (int, error) {
	for ra.off == len(ra.cur.buf) {
		if ra.err != nil {
			return 0, ra.err
		}
		if ra.cur.buf != nil {
			ra.free <- ra.cur.buf[:cap(ra.cur.buf)]
		}
		ra.cur, ra.off = <-ra.full, 0
		ra.err = ra.cur.err
		if len(ra.cur.buf) == 0 && ra.err == nil {
			return 0, nil // an empty read from src, passed on
		}
	}
	n := copy(p, ra.cur.buf[ra.off:])
	ra.off += n
	return n, nil
}

// stopWith arranges for ra's goroutine to end once owner is unreachable.
func (ra *readAhead) stopWith(owner *Reader) {
	runtime.AddCleanup(owner, func(done chan struct{}) { close(done) }, ra.done)
}
