package capture

import (
	"bufio"
	"errors"
	"io"
	"sync/atomic"
)

// Buffer is one of a Reader's read buffers. A segment's payload normally points into one
// (see Reader.PayloadBuffer); a caller that hands payloads to other goroutines retains the
// buffer instead of copying the bytes, and releases it when done with them. A Buffer is
// reused once the Reader and every holder have released it.
type Buffer struct {
	data []byte
	refs atomic.Int32
	pool *bufferPool
}

// Retain adds a reference, which keeps the bytes of the buffer unchanged until a matching
// Release. It may only be called while the buffer is known to be referenced: from the
// goroutine reading the capture before its next call to Next, or by another holder.
func (b *Buffer) Retain() { b.refs.Add(1) }

// Release drops a reference. The bytes of the buffer must not be used after it. Release
// is safe to call from any goroutine.
func (b *Buffer) Release() {
	switch n := b.refs.Add(-1); {
	case n == 0:
		if poisonReleased {
			poison(b.data)
		}
		b.pool.put(b)
	case n < 0:
		panic("capture: Buffer released more often than retained")
	}
}

// poisonByte is what a released buffer is filled with under the wsdebug build tag.
const poisonByte = 0xdd

func poison(b []byte) {
	for i := range b {
		b[i] = poisonByte
	}
}

// bufferPool keeps released buffers of one size for reuse. Buffers are made on demand,
// so their number follows how many are held at once; at most cap(free) are kept.
type bufferPool struct {
	size int
	free chan *Buffer
}

// Released buffers kept for reuse: the usual ones, and those of the full size, which only
// units larger than a usual buffer need.
const (
	maxFreeBuffers      = 32
	maxFreeLargeBuffers = 4
)

func newBufferPool(size, keep int) *bufferPool {
	return &bufferPool{size: size, free: make(chan *Buffer, keep)}
}

// get returns a buffer with one reference.
func (p *bufferPool) get() *Buffer {
	select {
	case b := <-p.free:
		b.refs.Store(1)
		return b
	default:
		b := &Buffer{data: make([]byte, p.size), pool: p}
		b.refs.Store(1)
		return b
	}
}

func (p *bufferPool) put(b *Buffer) {
	select {
	case p.free <- b:
	default: // enough kept; the garbage collector takes this one
	}
}

// maxEmptyReads is how many reads returning no bytes and no error in a row are taken as
// io.ErrNoProgress (as bufio does).
const maxEmptyReads = 100

// blockReader is a buffered reader like bufio.Reader (Peek and Discard with the same
// results and errors; Read returns the same bytes), whose buffers come from a
// pool: where bufio slides unread bytes to the front of its one buffer, overwriting bytes
// it handed out, blockReader moves them to a fresh buffer while anyone else still holds
// the current one. Buffers are blockSize bytes, small enough that the few in flight stay
// in the processor's caches; a unit larger than that gets a buffer of the full size.
type blockReader struct {
	src   io.Reader
	pool  *bufferPool // buffers of min(size, blockSize) bytes
	large *bufferPool // buffers of Size bytes, for units larger than a pooled buffer
	cur   *Buffer     // holds one reference for the reader
	r, w  int         // unread bytes: cur.data[r:w]
	err   error
}

// blockSize is the size of a Reader's usual buffers: 128 KiB, or 2 KiB under the wsdebug
// build tag, so that even a small capture goes through several buffers and a payload used
// after its buffer's release comes out poisoned.
const blockSize = 128 << 10 >> debugShrink

// newBlockReader returns a blockReader whose Peek returns up to size bytes, reading into
// buffers of block bytes (or size, when smaller) and of size bytes for larger units.
func newBlockReader(src io.Reader, size, block int) *blockReader {
	p := newBufferPool(min(size, block), maxFreeBuffers)
	return &blockReader{src: src, pool: p, large: newBufferPool(size, maxFreeLargeBuffers), cur: p.get()}
}

// Size returns the most bytes Peek can return.
func (br *blockReader) Size() int { return br.large.size }

// buffer returns the Buffer that the bytes returned by the last Peek are in.
func (br *blockReader) buffer() *Buffer { return br.cur }

// makeRoom makes room for n unread bytes (n <= Size) from br.r on: the unread bytes move
// to the front of the current buffer if nobody else holds it and it is of the right size,
// else to a fresh buffer.
func (br *blockReader) makeRoom(n int) {
	if br.r+n <= len(br.cur.data) {
		return
	}
	pool := br.pool
	if n > pool.size {
		pool = br.large
	}
	dst := br.cur
	if br.cur.pool != pool || br.cur.refs.Load() != 1 {
		dst = pool.get()
	}
	br.w = copy(dst.data, br.cur.data[br.r:br.w])
	br.r = 0
	if dst != br.cur {
		br.cur.Release()
		br.cur = dst
	}
}

// fill reads once more from src into the free end of the buffer (which must have room).
func (br *blockReader) fill() {
	for range maxEmptyReads {
		n, err := br.src.Read(br.cur.data[br.w:])
		if n < 0 {
			panic(errors.New("capture: reader returned a negative count"))
		}
		br.w += n
		if err != nil {
			br.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	br.err = io.ErrNoProgress
}

// readErr returns the pending read error and clears it, as bufio does.
func (br *blockReader) readErr() error {
	err := br.err
	br.err = nil
	return err
}

// Peek returns the next n bytes without consuming them, like bufio.Reader.Peek: fewer
// with the error that stopped the reading, or bufio.ErrBufferFull when n exceeds Size.
func (br *blockReader) Peek(n int) ([]byte, error) {
	if n < 0 {
		return nil, bufio.ErrNegativeCount
	}
	if n > br.Size() {
		br.peekFill(br.Size())
		return br.cur.data[br.r:br.w], bufio.ErrBufferFull
	}
	br.peekFill(n)
	if avail := br.w - br.r; avail < n {
		err := br.readErr()
		if err == nil {
			err = bufio.ErrBufferFull
		}
		return br.cur.data[br.r:br.w], err
	}
	return br.cur.data[br.r : br.r+n], nil
}

// peekFill reads until n bytes are buffered or src fails.
func (br *blockReader) peekFill(n int) {
	if br.w-br.r >= n {
		return
	}
	br.makeRoom(n)
	for br.w-br.r < n && br.err == nil {
		br.fill()
	}
}

// Discard skips the next n bytes, like bufio.Reader.Discard.
func (br *blockReader) Discard(n int) (int, error) {
	if n < 0 {
		return 0, bufio.ErrNegativeCount
	}
	remain := n
	for remain > 0 {
		skip := br.w - br.r
		if skip == 0 {
			if br.err == nil {
				br.emptyBuffer()
				br.fill()
				skip = br.w - br.r
			}
			if skip == 0 {
				return n - remain, br.readErr()
			}
		}
		skip = min(skip, remain)
		br.r += skip
		remain -= skip
	}
	return n, nil
}

// Read reads like bufio.Reader.Read: buffered bytes, or else one read of src, straight
// into p when p is at least as large as the buffer.
func (br *blockReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		if br.w > br.r {
			return 0, nil
		}
		return 0, br.readErr()
	}
	if br.r == br.w {
		if br.err != nil {
			return 0, br.readErr()
		}
		if len(p) >= len(br.cur.data) {
			n, err := br.src.Read(p)
			if n < 0 {
				panic(errors.New("capture: reader returned a negative count"))
			}
			br.err = err
			return n, br.readErr()
		}
		br.emptyBuffer()
		n, err := br.src.Read(br.cur.data)
		if n < 0 {
			panic(errors.New("capture: reader returned a negative count"))
		}
		br.w, br.err = n, err
		if n == 0 {
			return 0, br.readErr()
		}
	}
	n := copy(p, br.cur.data[br.r:br.w])
	br.r += n
	return n, nil
}

// emptyBuffer makes the whole of a pooled buffer free for reading into, when nothing is
// buffered: the current one unless somebody else holds it or it is a large one.
func (br *blockReader) emptyBuffer() {
	br.r, br.w = 0, 0
	if br.cur.pool != br.pool || br.cur.refs.Load() != 1 {
		br.cur.Release()
		br.cur = br.pool.get()
	}
}
