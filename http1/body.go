package http1

// Body skips an HTTP/1 message body without buffering it: Content-Length bytes, or the
// chunked transfer coding up to its last chunk and trailer section (RFC 9112 sections 6.2
// and 7.1). Chunk extensions and trailer fields are skipped unread.
type Body struct {
	remain  int64 // Content-Length bytes left, or chunk bytes left
	chunked bool
	st      chunkStep
	size    int64
	empty   bool // current trailer line is empty so far
	fin     bool
}

// LengthBody returns a Body of n bytes (n > 0).
func LengthBody(n int64) Body { return Body{remain: n} }

// ChunkedBody returns a Body in the chunked coding.
func ChunkedBody() Body { return Body{chunked: true} }

// BodyState says where Skip left the body.
type BodyState uint8

const (
	BodyMore      BodyState = iota // more body bytes are expected
	BodyDone                       // the body ended: the next message starts after it
	BodyMalformed                  // the chunked coding is broken: the message framing is lost
)

type chunkStep uint8

const (
	chunkSize chunkStep = iota
	chunkExt
	chunkData
	chunkDataEnd
	chunkTrailer
)

// Done reports whether the whole body was skipped.
func (b *Body) Done() bool {
	if b.chunked {
		return b.fin
	}
	return b.remain == 0
}

// SkipGap accounts for n body bytes missing from the capture. It reports false when the
// framing is lost: the bytes may hold chunk sizes, or go past the end of the body.
func (b *Body) SkipGap(n int64) bool {
	if n <= 0 {
		return false
	}
	if b.chunked {
		if b.st != chunkData || n > b.remain {
			return false
		}
	} else if n > b.remain {
		return false
	}
	b.remain -= n
	if b.chunked && b.remain == 0 {
		b.st = chunkDataEnd
	}
	return true
}

// Skip consumes body bytes from the start of data and returns how many it took: all of
// data while BodyMore, up to the end of the body for BodyDone, up to the offending byte
// for BodyMalformed.
func (b *Body) Skip(data []byte) (int, BodyState) {
	if !b.chunked {
		n := min(int64(len(data)), b.remain)
		b.remain -= n
		if b.remain == 0 {
			return int(n), BodyDone
		}
		return int(n), BodyMore
	}
	for i := 0; i < len(data); i++ {
		ch := data[i]
		switch b.st {
		case chunkSize:
			switch v := hexVal(ch); {
			case v >= 0:
				if b.size > 1<<40 {
					return i + 1, BodyMalformed
				}
				b.size = b.size<<4 | int64(v)
			case ch == '\n':
				b.endSizeLine()
			case ch == ';' || ch == ' ' || ch == '\t' || ch == '\r':
				b.st = chunkExt
			default:
				return i + 1, BodyMalformed
			}
		case chunkExt:
			if ch == '\n' {
				b.endSizeLine()
			}
		case chunkData:
			n := min(int64(len(data)-i), b.remain)
			b.remain -= n
			i += int(n) - 1
			if b.remain == 0 {
				b.st = chunkDataEnd
			}
		case chunkDataEnd:
			if ch == '\n' {
				b.st, b.size = chunkSize, 0
			}
		case chunkTrailer:
			switch ch {
			case '\n':
				if b.empty {
					b.fin = true
					return i + 1, BodyDone
				}
				b.empty = true
			case '\r':
			default:
				b.empty = false
			}
		}
	}
	return len(data), BodyMore
}

func (b *Body) endSizeLine() {
	if b.size == 0 {
		b.st, b.empty = chunkTrailer, true
		return
	}
	b.st, b.remain = chunkData, b.size
}

func hexVal(ch byte) int {
	switch {
	case ch >= '0' && ch <= '9':
		return int(ch - '0')
	case ch >= 'a' && ch <= 'f':
		return int(ch-'a') + 10
	case ch >= 'A' && ch <= 'F':
		return int(ch-'A') + 10
	}
	return -1
}
