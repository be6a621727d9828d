package wsparse

import "time"

// Buffer caps. The resync lookahead is also the window a chain of frames must fit in to
// prove a frame boundary (see resync.go).
const (
	pendingCap = 64 << 10
	scanWindow = 64 << 10
	// midstreamWindow is the lookahead when a side starts mid-stream (no handshake, no
	// gap): traffic that is not WebSocket at all costs at most this much per side.
	midstreamWindow = 16 << 10
	// midstreamGiveUp: a mid-stream side with no frame boundary among its first this many
	// positions is given up: its bytes are dropped, and if the connection turns out to be
	// WebSocket the side is reported undecodable.
	midstreamGiveUp = 64 << 10
)

// mark says that the bytes of a timedBuf up to end (exclusive, relative to b[0]) arrived at t.
type mark struct {
	end int
	t   time.Time
}

// timedBuf holds copied stream bytes together with their capture times, so that frames
// decoded from them later get the time of the chunk that completed them.
type timedBuf struct {
	b     []byte
	start int // first live byte
	marks []mark
}

// add appends up to max-len(live) bytes of p and returns how many it took.
func (tb *timedBuf) add(p []byte, t time.Time, max int) int {
	room := max - (len(tb.b) - tb.start)
	if room <= 0 {
		return 0
	}
	n := len(p)
	if n > room {
		n = room
	}
	if tb.start > 0 && tb.start >= len(tb.b)/2 {
		tb.compact()
	}
	tb.b = append(tb.b, p[:n]...)
	if k := len(tb.marks); k > 0 && tb.marks[k-1].t.Equal(t) {
		tb.marks[k-1].end = len(tb.b)
	} else {
		tb.marks = append(tb.marks, mark{end: len(tb.b), t: t})
	}
	return n
}

// compact moves the live bytes to the front.
func (tb *timedBuf) compact() {
	s := tb.start
	n := copy(tb.b, tb.b[s:])
	tb.b = tb.b[:n]
	j := 0
	for _, m := range tb.marks {
		if m.end <= s {
			continue
		}
		m.end -= s
		tb.marks[j] = m
		j++
	}
	tb.marks = tb.marks[:j]
	tb.start = 0
}

// bytes returns the live bytes.
func (tb *timedBuf) bytes() []byte { return tb.b[tb.start:] }

// advance drops n live bytes from the front.
func (tb *timedBuf) advance(n int) {
	tb.start += n
	if tb.start >= len(tb.b) {
		tb.reset()
	}
}

// reset empties the buffer, keeping its memory.
func (tb *timedBuf) reset() {
	tb.b = tb.b[:0]
	tb.marks = tb.marks[:0]
	tb.start = 0
}

// detach returns the buffer and leaves tb empty without memory.
func (tb *timedBuf) detach() timedBuf {
	out := *tb
	*tb = timedBuf{}
	return out
}

// giveBack lets tb reuse the memory of a detached buffer if it did not get its own.
func (tb *timedBuf) giveBack(old *timedBuf) {
	if tb.b == nil && tb.marks == nil {
		tb.b = old.b[:0]
		tb.marks = old.marks[:0]
	}
}
