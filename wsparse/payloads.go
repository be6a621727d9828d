package wsparse

import (
	"strconv"
	"strings"
	"time"
)

// DefaultMaxInflaters is how many inflaters (about 34 KiB each) a Pool lets exist at once
// when Options.MaxInflaters is zero.
const DefaultMaxInflaters = 256

// LastMessage is the last complete data message a side sent (Options.Payloads).
type LastMessage struct {
	Op         Opcode    // OpText or OpBinary
	Length     int64     // payload bytes on the wire (compressed, when Compressed)
	Time       time.Time // capture time of the segment that completed it
	Frame      int       // index of its final frame in the side's direction
	Compressed bool      // RSV1 set: permessage-deflate
	// Inflated is the size the message inflated to; -1 when it was not inflated.
	Inflated int64
	// Preview holds the first PreviewBytes of the payload, unmasked and inflated; nil
	// when NoPreview says why there is none.
	Preview []byte
	// Cut is set when the payload is longer than Preview.
	Cut bool
	// NoPreview says why a compressed message has no preview ("could not inflate: …").
	NoPreview string
	// LaterMissing is set when bytes of the side went missing after this message: a later
	// message may have been lost from the capture.
	LaterMissing bool
}

// PreviewBytes is how many bytes of a message LastMessage keeps.
const PreviewBytes = inflatePreview

// payloads is what Options.Payloads keeps of a connection: per direction (by fed side),
// the message in progress, the last complete one and the inflater.
type payloads struct {
	dir [2]payloadDir
}

type payloadDir struct {
	cur, last msgCapture
	inf       *inflater
	noCtx     bool   // the sender resets its compression window for every message
	broken    string // why this direction's compressed messages can no longer be inflated
}

type msgCapture struct {
	valid        bool
	op           Opcode
	compressed   bool
	length       int64
	inflated     int64
	time         time.Time
	frame        int
	prev         [PreviewBytes]byte
	n            int
	lost         string
	laterMissing bool
}

// LastMessage returns the last complete data message side sent; false when there was
// none or Options.Payloads is off.
func (c *Conn) LastMessage(side Side) (LastMessage, bool) {
	if c.payloads() == nil || side > Server {
		return LastMessage{}, false
	}
	fed := side
	if c.swapped {
		fed = side.Other()
	}
	m := &c.notes.pl.dir[fed].last
	if !m.valid {
		return LastMessage{}, false
	}
	lm := LastMessage{Op: m.op, Length: m.length, Time: m.time, Frame: m.frame, Compressed: m.compressed,
		Inflated: -1, NoPreview: m.lost, LaterMissing: m.laterMissing}
	if m.lost == "" {
		lm.Preview = append([]byte(nil), m.prev[:m.n]...)
		size := m.length
		if m.compressed {
			lm.Inflated, size = m.inflated, m.inflated
		}
		lm.Cut = size > int64(m.n)
	}
	return lm, true
}

// msgStart starts capturing the data message whose first frame header is in d.fs.
func (c *Conn) msgStart(d *direction) {
	n := c.getNotes()
	if n.pl == nil {
		n.pl = new(payloads)
	}
	fs := &d.fs
	pd := &c.notes.pl.dir[d.fed]
	pd.cur = msgCapture{valid: true, op: fs.op, compressed: fs.rsv&4 != 0}
	if !pd.cur.compressed {
		return
	}
	if pd.broken != "" {
		pd.cur.lost = pd.broken
		return
	}
	if pd.inf == nil {
		if pd.inf = c.getInflater(); pd.inf == nil {
			pd.cur.lost = "not inflated: " + strconv.Itoa(c.maxInflaters()) + " connections were being inflated at once (the limit)"
			return
		}
		pd.inf.reset()
	}
	pd.noCtx = c.noContextTakeover(c.trueSide(d.fed))
	if pd.noCtx {
		pd.inf.reset()
	} else {
		pd.inf.startMessage()
	}
}

// msgPayload takes payload bytes p of the current data frame, still masked, starting at
// payload offset fs.done.
func (c *Conn) msgPayload(d *direction, p []byte) {
	fs := &d.fs
	pd := &c.notes.pl.dir[d.fed]
	cur := &pd.cur
	if !cur.valid || cur.lost != "" {
		return
	}
	if !cur.compressed {
		// Straight into the preview, unmasked there; the rest is only counted.
		k := copy(cur.prev[cur.n:], p)
		if fs.masked {
			unmask(cur.prev[cur.n:cur.n+k], fs.key, fs.done)
		}
		cur.n += k
		return
	}
	c.inflatePayload(fs, pd, p)
}

// inflatePayload unmasks p (payload bytes from offset fs.done) in chunks and inflates them.
func (c *Conn) inflatePayload(fs *frameState, pd *payloadDir, p []byte) {
	var buf [512]byte
	pos := fs.done
	for len(p) > 0 {
		chunk := buf[:copy(buf[:], p)]
		if fs.masked {
			unmask(chunk, fs.key, pos)
		}
		pos += int64(len(chunk))
		p = p[len(chunk):]
		pd.inf.write(chunk)
		if pd.inf.err != nil {
			c.inflateFailed(pd)
			return
		}
	}
}

// inflateFailed records that the current message could not be inflated.
func (c *Conn) inflateFailed(pd *payloadDir) {
	pd.cur.lost = inflateErrString(pd.inf.err)
	if !pd.noCtx {
		pd.broken = "could not inflate: an earlier message of this side could not be"
	}
}

// msgEnd completes the current data message: it becomes the side's last.
func (c *Conn) msgEnd(d *direction, t time.Time) {
	fs := &d.fs
	pd := &c.notes.pl.dir[d.fed]
	cur := &pd.cur
	if !cur.valid {
		return
	}
	if cur.compressed && cur.lost == "" {
		pd.inf.endMessage()
		if pd.inf.err != nil {
			c.inflateFailed(pd)
		} else {
			cur.n = copy(cur.prev[:], pd.inf.out[:pd.inf.outN])
			cur.inflated = pd.inf.outT
		}
	}
	cur.length, cur.time, cur.frame = fs.msg.length, t, fs.idx()
	pd.last = *cur
	cur.valid = false
}

// msgGap says bytes of the side fed as fed are missing: the message in progress is lost,
// so is a compression window that carries over, and a later message may be missing.
func (c *Conn) msgGap(fed Side) {
	if c.payloads() == nil {
		return
	}
	pd := &c.notes.pl.dir[fed]
	pd.cur.valid = false
	pd.last.laterMissing = pd.last.valid
	if pd.inf != nil && !pd.noCtx {
		pd.broken = "could not inflate: bytes of an earlier message of this side are missing from the capture"
	}
}

// noContextTakeover reports whether the 101 told side s to reset its compression window
// for every message (RFC 7692 section 7.1.1): client_no_context_takeover or
// server_no_context_takeover.
func (c *Conn) noContextTakeover(s Side) bool {
	want := "server_no_context_takeover"
	if s == Client {
		want = "client_no_context_takeover"
	}
	for e := range c.chosenExtensions() {
		name, params, _ := strings.Cut(e, ";")
		if strings.TrimSpace(name) != "permessage-deflate" {
			continue
		}
		for params != "" {
			var p string
			p, params, _ = strings.Cut(params, ";")
			if strings.EqualFold(strings.TrimSpace(p), want) {
				return true
			}
		}
	}
	return false
}

func (c *Conn) maxInflaters() int {
	if c.opts.MaxInflaters > 0 {
		return int(c.opts.MaxInflaters)
	}
	return DefaultMaxInflaters
}

// getInflater returns an inflater, from the Pool within its limit; nil when the limit is
// reached.
func (c *Conn) getInflater() *inflater {
	p := c.pool
	if p == nil {
		return new(inflater)
	}
	if p.inflating >= c.maxInflaters() {
		return nil
	}
	p.inflating++
	if n := len(p.inflaters); n > 0 {
		f := p.inflaters[n-1]
		p.inflaters = p.inflaters[:n-1]
		return f
	}
	return new(inflater)
}

// releaseInflaters hands c's inflaters back to its Pool.
func (c *Conn) releaseInflaters() {
	if c.payloads() == nil || c.pool == nil {
		return
	}
	for i := range c.notes.pl.dir {
		if f := c.notes.pl.dir[i].inf; f != nil {
			c.pool.inflating--
			if len(c.pool.inflaters) < maxPooledInflaters {
				c.pool.inflaters = append(c.pool.inflaters, f)
			}
			c.notes.pl.dir[i].inf = nil
		}
	}
}

// maxPooledInflaters bounds the idle inflaters a Pool keeps for reuse.
const maxPooledInflaters = 16
