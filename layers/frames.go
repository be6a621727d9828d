package layers

import (
	"time"

	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/wsparse"
)

// Frame numbers: the decoder's events and findings carry only a capture time; the frame
// numbers of a direction's latest segments find the packet that delivered them.

// ringSize is how many of a direction's latest segments (with distinct capture times) keep
// their frame numbers for the decoder's events.
const ringSize = 8

// stampRing holds the frame numbers of a direction's latest segments. The decoder reports
// a frame it completed with the capture time of the segment that completed it: the
// segment being fed, or, for bytes it held back (a lookahead after a gap, bytes before the
// 101), one of the few before it.
//
// The first ringInline stamps are kept in the ring itself, the rest in an array of
// ringSize taken when a direction sends more segments: a connection that has sent a few
// segments each way, as most open ones have, holds both directions' rings in one 128-byte
// allocation, not 288 bytes.
type stampRing struct {
	inline  [ringInline]stamp
	more    *[ringSize]stamp // with more than ringInline segments: all of them
	n       uint8            // stamps held
	nextOld uint8            // with ringSize held: the oldest, written next
}

// ringInline is how many stamps a ring holds without an array of its own.
const ringInline = 3

// stamp is the frame number of a segment and its capture time (UnixNano).
type stamp struct {
	unix  int64
	frame uint64
}

// stamps returns the stamps held.
func (r *stampRing) stamps() []stamp {
	if r.more != nil {
		return r.more[:r.n]
	}
	return r.inline[:r.n]
}

// latest returns the index in stamps of the i-th latest stamp (0: the latest).
func (r *stampRing) latest(i int) int {
	if r.n < ringSize {
		return int(r.n) - 1 - i
	}
	return (int(r.nextOld) + ringSize - 1 - i) % ringSize
}

// add remembers the frame of a segment delivered at t.
func (r *stampRing) add(at reassembly.Stamp) {
	t := at.Time.UnixNano()
	s := r.stamps()
	if len(s) > 0 {
		if last := &s[r.latest(0)]; last.frame != 0 && last.unix == t {
			last.frame = at.Frame // several segments at one time: the decoder sees the last
			return
		}
	}
	switch {
	case r.n < ringInline && r.more == nil:
		r.inline[r.n] = stamp{t, at.Frame}
		r.n++
	case r.n < ringSize:
		if r.more == nil {
			r.more = new([ringSize]stamp)
			copy(r.more[:], r.inline[:])
		}
		r.more[r.n] = stamp{t, at.Frame}
		r.n++
	default:
		r.more[r.nextOld] = stamp{t, at.Frame}
		r.nextOld = (r.nextOld + 1) % ringSize
	}
}

// find returns the frame of the latest segment delivered at t, or 0.
func (r *stampRing) find(t time.Time) uint64 {
	u := t.UnixNano()
	s := r.stamps()
	for i := range len(s) {
		if st := &s[r.latest(i)]; st.frame != 0 && st.unix == u {
			return st.frame
		}
	}
	return 0
}

// reset empties r, keeping its array of ringSize for another connection.
func (r *stampRing) reset() { r.n, r.nextOld = 0, 0 }

// FrameAt returns the frame number of what side s's decoder reported at t: the segment
// that delivered it, or 0 when it is no longer known. A stream's bytes are its TCP
// connection's, and so are its segments.
func (c *Conn) FrameAt(s wsparse.Side, t time.Time) uint64 {
	d := c.DirOf(s)
	if c.stream != nil {
		return c.stream.Parent.frameAtDir(d, t)
	}
	return c.frameAtDir(d, t)
}

// frameAtDir is FrameAt for the bytes sent in d.
func (c *Conn) frameAtDir(d reassembly.Dir, t time.Time) uint64 {
	if c.stamps == nil {
		return 0
	}
	if f := c.stamps[d].find(t); f != 0 {
		return f
	}
	if f := c.stamps[d.Reverse()].find(t); f != 0 {
		return f
	}
	if t.Equal(c.Last()) {
		return c.LastFrame
	}
	return 0
}

// Milestones are the frame numbers of a connection's milestones, noted as the decoder
// finds them (a time alone would not find them later). Each number holds for the
// milestone at its time (UnixNano): a later handshake or close frame replaces it.
type Milestones struct {
	RequestT, ResponseT int64
	Request, Response   uint64
	CloseT              [2]int64  // by wsparse.Side
	Closes              [2]uint64 // by wsparse.Side
	// hsSettled says the handshake times were read from the settled handshake of version
	// hsVersion (wsparse.Conn.HandshakeVersion): until it changes, they need no reading.
	hsSettled bool
	hsVersion uint32
}

// noteFrames numbers what the decoder found since the last call.
func (c *Conn) noteFrames() {
	m := &c.Frames
	if v, settled := c.ws.HandshakeVersion(); !settled || !m.hsSettled || v != m.hsVersion {
		reqSeen, req, respSeen, resp := c.ws.HandshakeTimes()
		if reqSeen && req.UnixNano() != m.RequestT {
			m.RequestT, m.Request = req.UnixNano(), c.FrameAt(wsparse.Client, req)
		}
		if respSeen && resp.UnixNano() != m.ResponseT {
			m.ResponseT, m.Response = resp.UnixNano(), c.FrameAt(wsparse.Server, resp)
		}
		m.hsSettled, m.hsVersion = settled, v
	}
	if m.Closes[0] != 0 && m.Closes[1] != 0 {
		return // both close frames are numbered: nothing more to look for
	}
	for _, s := range []wsparse.Side{wsparse.Client, wsparse.Server} {
		if cl := c.ws.Close(s); cl != nil && cl.Time.UnixNano() != m.CloseT[s] {
			m.CloseT[s], m.Closes[s] = cl.Time.UnixNano(), c.FrameAt(s, cl.Time)
		}
	}
}
