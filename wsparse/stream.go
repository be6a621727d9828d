package wsparse

import (
	"time"

	"github.com/wsclosescan/wsclosescan/http1"
)

// mode is what a direction's decoder expects next.
type mode uint8

const (
	modeSniff   mode = iota // first bytes: HTTP or not?
	modeHeader              // inside an HTTP header block
	modeBody                // skipping an HTTP body
	modePending             // client bytes after an upgrade request, before the response
	modeFrames              // in sync with the frame stream
	modeScan                // looking for a provable frame boundary (after a gap, mid-stream)
	modeDead                // nothing more to decode on this side
	modeHandoff             // the bytes belong to the protocol the connection upgraded to (h2c)
)

// direction is the decoding state of the bytes fed as one side. An open connection has
// two of them: the fields are ordered so that the small ones share words.
type direction struct {
	fed       Side
	mode      mode
	afterBody mode  // the mode after the body
	eoh       uint8 // end-of-header matcher: 1 after '\n', 2 after "\n\r"
	isReq     bool  // this side sends HTTP requests
	fedAny    bool  // a byte or a gap of this side has been seen
	// midstream: bytes were missing before the first captured byte (the capture started
	// late or the first segment was lost), so the first byte need not be a stream start.
	midstream bool

	// Evidence of a mid-stream frame boundary (see evidence.go).
	chainMasked bool // the mask bit of the chain that first synchronised the side
	byChain     bool // the side is in sync only because of a mid-stream chain
	falseSync   bool // frames after a mid-stream chain broke rules no peer breaks: it was chance
	expectFrame bool // the scan's first byte follows a cut upgrade: one plausible header will do
	undecided   bool // the side ended while looking for a frame boundary

	// The scan for a frame boundary (resync.go).
	replaying  bool // buffered bytes are being replayed into the decoder
	scanSeen   bool // bytes arrived while scanning since the last sync
	scanOrigin bool // the scan buffer starts at the first byte after a gap or the start
	afterGap   bool // the scan follows lost bytes (a resync, not a mid-stream start)
	gaveUp     bool // the mid-stream scan gave up: bytes are dropped

	sniff    [8]byte
	sniffN   uint8
	chainLen int32 // headers of the chain that first synchronised the side, 0 if none

	http *httpDir // while the side speaks HTTP (a header block or a body), else nil

	sc *scanState // while bytes are held back (modePending, modeScan), else nil

	fs frameState
}

// httpDir is what a direction needs while it speaks HTTP: the header block so far, when
// it came in several pieces, and the body being skipped. An upgraded connection gives it
// back (to its Pool, with the buffer) once both sides have left HTTP.
type httpDir struct {
	hdr  []byte
	body http1.Body
}

// hdrBytes returns the header bytes the direction collected so far.
func (d *direction) hdrBytes() []byte {
	if d.http == nil {
		return nil
	}
	return d.http.hdr
}

// httpOf returns d's HTTP state, taking it on first use.
func (c *Conn) httpOf(d *direction) *httpDir {
	if d.http == nil {
		if c.pool != nil {
			d.http = c.pool.getHTTP()
		} else {
			d.http = new(httpDir)
		}
	}
	return d.http
}

// dropHTTP gives up the HTTP state of the directions that no longer speak HTTP.
func (c *Conn) dropHTTP() {
	for i := range c.dirs {
		if d := &c.dirs[i]; d.http != nil && !d.speaksHTTP() {
			h := d.http
			d.http = nil
			if c.pool != nil {
				c.pool.putHTTP(h)
			}
		}
	}
}

// scanState is what a direction needs while it holds bytes back: the client's bytes sent
// before the server's answer (modePending), or the lookahead of a scan for a frame
// boundary (modeScan). It is allocated when needed and dropped when the direction decodes
// frames again, so that an open connection does not keep it, nor the memory of its buffer.
type scanState struct {
	buf      timedBuf // pending client bytes, or the resync lookahead
	scanNeed int      // live scan bytes needed before the undecided position can be decided
	window   int      // the scan's lookahead: scanWindow, or midstreamWindow mid-stream
	giveUpAt int64    // positions after which a mid-stream scan gives up (0: never)
	scanned  int64    // positions discarded since the scan started
}

// scan returns the direction's scan state, allocating it.
func (d *direction) scan() *scanState {
	if d.sc == nil {
		d.sc = new(scanState)
	}
	return d.sc
}

// held returns the bytes the direction holds back.
func (d *direction) held() []byte {
	if d.sc == nil {
		return nil
	}
	return d.sc.buf.bytes()
}

// afterReplay ends the replay of tb, the buffer d held back: the scan state is dropped if
// d no longer holds bytes back, else its buffer may reuse tb's memory.
func (d *direction) afterReplay(tb *timedBuf) {
	switch {
	case d.mode != modeScan && d.mode != modePending:
		d.sc = nil
	case d.sc != nil:
		d.sc.buf.giveBack(tb)
	}
}

// httpStarts are the prefixes that make a stream HTTP.
var httpStarts = [...]string{"GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ",
	"PATCH ", "CONNECT ", "TRACE ", "HTTP/"}

// feedDir pushes data through the direction's current mode.
func (c *Conn) feedDir(d *direction, data []byte, t time.Time) {
	for len(data) > 0 {
		before := d.mode
		var n int
		switch d.mode {
		case modeSniff:
			n = c.sniffBytes(d, data, t)
		case modeHeader:
			n = c.headerBytes(d, data, t)
		case modeBody:
			n = c.bodyBytes(d, data)
		case modePending:
			n = d.scan().buf.add(data, t, pendingCap)
			if n == 0 {
				c.resolvePending(d, modeFrames)
			}
		case modeFrames:
			n = c.frameBytes(d, data, t)
		case modeScan:
			n = c.scanBytes(d, data, t)
		case modeHandoff:
			c.opts.Handoff.HandoffData(c.trueSide(d.fed), data, t)
			n = len(data)
		default:
			return
		}
		if n == 0 && d.mode == before {
			return // no progress possible; never loop
		}
		data = data[n:]
	}
}

// sniffBytes classifies the first bytes of a side as HTTP request, HTTP response or other.
func (c *Conn) sniffBytes(d *direction, data []byte, t time.Time) int {
	d.fedAny = true
	n := 0
	for n < len(data) && int(d.sniffN) < len(d.sniff) {
		d.sniff[d.sniffN] = data[n]
		d.sniffN++
		n++
		if c.classify(d, false) {
			c.replaySniff(d, t)
			return n
		}
	}
	return n
}

// classify decides the side's kind from the sniffed bytes. With final set (gap or end) it
// must decide. It reports whether a decision was made (d.mode changed).
func (c *Conn) classify(d *direction, final bool) bool {
	got := d.sniff[:d.sniffN]
	prefix := false
	for _, s := range httpStarts {
		if len(got) >= len(s) && string(got[:len(s)]) == s {
			c.startHTTP(d, s != "HTTP/")
			return true
		}
		if len(got) < len(s) && s[:len(got)] == string(got) {
			prefix = true
		}
	}
	if prefix && !final {
		return false
	}
	if len(got) < 3 && got[0] >= 0x14 && got[0] <= 0x17 && !final {
		return false // perhaps a TLS record header
	}
	switch {
	case c.httpSeen && !c.wsWanted:
		d.mode = modeDead // plain HTTP on the other side: not WebSocket
	case !c.hsSeen && (c.startKnown && !d.midstream || looksTLS(got)):
		// A WebSocket stream starts with its HTTP upgrade; whatever else the first byte of a
		// stream starts is another protocol, and so is TLS anywhere.
		c.foreign = true
		d.mode = modeDead
	default:
		c.enterScan(d)
	}
	return true
}

// looksTLS reports whether b starts like a TLS record: a content type of 20 to 23, then
// protocol version 3.0 to 3.4.
func looksTLS(b []byte) bool {
	return len(b) >= 3 && b[0] >= 0x14 && b[0] <= 0x17 && b[1] == 3 && b[2] <= 4
}

func (c *Conn) replaySniff(d *direction, t time.Time) {
	var b [8]byte
	n := copy(b[:], d.sniff[:d.sniffN])
	d.sniffN = 0
	c.feedDir(d, b[:n], t)
}

// startHTTP switches d to header parsing; an HTTP request tells which side is the client.
func (c *Conn) startHTTP(d *direction, request bool) {
	s := Server
	if request {
		s = Client
	}
	c.setRole(d.fed, s)
	if c.trueSide(d.fed) != s {
		d.mode = modeDead // both sides claim the same role
		return
	}
	d.isReq = request
	d.mode = modeHeader
}

// gapDir handles missing bytes on a direction.
func (c *Conn) gapDir(d *direction, length int64, t time.Time) {
	c.gapMode(d, length, t)
	if d.mode == modeScan {
		d.afterGap, d.scanOrigin = true, true
	}
}

func (c *Conn) gapMode(d *direction, length int64, t time.Time) {
	switch d.mode {
	case modeHandoff:
		c.opts.Handoff.HandoffGap(c.trueSide(d.fed), length, t)
	case modeSniff:
		if d.sniffN > 0 {
			c.classify(d, true)
			c.replaySniff(d, t)
			c.gapDir(d, length, t)
			return
		}
		if !d.fedAny {
			// Nothing of this side was seen yet: its first captured byte may still start an
			// HTTP request or response (a capture that began after the SYN).
			d.fedAny, d.midstream = true, true
			return
		}
		if c.httpSeen && !c.wsWanted {
			d.mode = modeDead
			return
		}
		c.enterScan(d)
	case modeHeader:
		c.headerEnd(d, t, true)
	case modeBody:
		if !d.http.body.SkipGap(length) {
			d.mode = modeDead
		} else if d.http.body.Done() {
			d.mode = d.afterBody
		}
		c.dropHTTP()
	case modePending:
		c.resolvePending(d, modeFrames)
		c.gapDir(d, length, t)
	case modeFrames:
		c.frameGap(d, length, t)
	case modeScan:
		c.scanRun(d, true)
		if d.mode == modeScan {
			d.sc.buf.reset()
			d.sc.scanNeed = 0
		} else {
			c.gapDir(d, length, t)
		}
	}
}

// finishDir ends a direction.
func (c *Conn) finishDir(d *direction, t time.Time) {
	switch d.mode {
	case modeSniff:
		if d.sniffN > 0 {
			c.classify(d, true)
			c.replaySniff(d, t)
			c.finishDir(d, t)
		}
	case modeHeader:
		if len(d.hdrBytes()) > 0 {
			c.headerEnd(d, t, true)
			if d.mode != modeDead && d.mode != modeHeader {
				c.finishDir(d, t)
			}
		}
	case modePending:
		m := modeFrames
		if b := d.held(); len(b) >= 4 && string(b[:4]) == "GET " {
			m = modeSniff
		}
		c.resolvePending(d, m)
		c.finishDir(d, t)
	case modeFrames:
		c.frameFinish(d, t)
	case modeScan:
		if !d.gaveUp {
			c.scanRun(d, true)
		}
		if d.mode != modeScan {
			c.finishDir(d, t)
			return
		}
		d.undecided = d.afterGap || d.scanSeen
		d.mode = modeDead
	}
}

// markUndecodable reports, once both sides are finished and the connection is known to be
// WebSocket, a side whose bytes could not be decoded after a gap or mid-stream.
func (c *Conn) markUndecodable(d *direction, t time.Time) {
	if !d.undecided || !c.proven() {
		return
	}
	d.undecided = false
	s := c.trueSide(d.fed)
	c.stats[s].Undecodable = true
	c.stats[s].Unscanned = d.gaveUp
	detail := s.String() + " bytes could not be decoded after a gap: a close frame may be among the missing or undecoded bytes"
	c.emit(Event{Kind: EventUndecodable, Side: s, Time: t, Frame: -1, Detail: detail})
	c.addFinding(FindUndecodable, s, -1, t, detail)
}

// resolvePending ends the wait of the client for the server's response: its buffered bytes
// are replayed in mode m.
func (c *Conn) resolvePending(d *direction, m mode) {
	if d.mode != modePending {
		return
	}
	var tb timedBuf
	if d.sc != nil {
		tb = d.sc.buf.detach()
	}
	d.mode = m
	if m == modeFrames {
		d.fs.reset(false)
	}
	if m == modeSniff {
		d.sniffN = 0
	}
	c.replay(d, &tb)
	d.afterReplay(&tb)
}

// replay feeds buffered bytes with their capture times.
func (c *Conn) replay(d *direction, tb *timedBuf) {
	start := tb.start
	for _, m := range tb.marks {
		if m.end <= start {
			continue
		}
		c.feedDir(d, tb.b[start:m.end], m.t)
		start = m.end
	}
}
