package wsparse

import (
	"encoding/binary"
	"time"
)

// Resynchronisation.
//
// After a gap, or when a capture starts in the middle of a connection, the decoder does not
// know where the next frame starts. It buffers up to scanWindow (64 KiB) bytes and looks,
// position by position from the oldest byte, for a proof of a frame boundary: a chain of
// plausible frame headers, each starting right after the previous frame's payload, that fits
// in the window. A header is plausible when it breaks none of the rules of headerViolations
// (header.go), the ones a decoder in sync reports as findings and more: its opcode is
// known, RSV2/RSV3 are clear, RSV1 is only on a first data frame and only if compression
// may be negotiated, control frames have FIN and at most 125 bytes, the length uses the
// minimal encoding, the mask bit matches the direction (or, mid-stream, is the same on every
// header of the chain), fragmentation is consistent, and empty frames are final. The
// payloads inside the chain must be valid too (text frames are UTF-8, close frames carry a
// code that may be sent).
//
// The chain must hold chainKnown (4) headers when the direction's role is known and
// chainUnknown (6) mid-stream, where the role is still to be learned. (Measured on random
// bytes, which is what TLS or compressed payloads look like: 3 headers are found by chance
// in about 15% of 35 KB tails, 4 in none of 400; mid-stream 4 headers misdetected about 1%
// of 200 KB connections, 6 none of 1000.) When no more bytes will
// come before a gap or the end, a shorter chain that ends exactly at the last byte is enough
// (2 headers, or 3 mid-stream). After a gap with a known role, a single valid close frame
// that ends exactly at the last byte is accepted too (the close after a loss, possibly
// preceded by the tail of a frame whose header was lost), and so is a single valid ping or
// pong that is exactly all the bytes after the gap.
//
// A position is decided using only the bytes of its window, never by how the bytes were
// split into chunks, so results do not depend on the split. Frames longer than the window
// cannot be part of a proof: a stream made only of such frames stays undecodable until a
// shorter frame follows.
const (
	chainKnown   = 4
	chainUnknown = 6
)

type chainResult uint8

const (
	chainUndecided chainResult = iota
	chainInvalid
	chainValid
)

// chainCfg is what the chain check knows about the direction.
type chainCfg struct {
	maskKnown, wantMask bool
	need, minEnd        int
	rsv1OK              bool // compression may be in use
	single              bool // a lone valid control frame exactly filling the data proves it
	afterGap            bool // the scan follows lost bytes
	final               bool // no more bytes will come before a gap or the end
	midstream           bool // no handshake seen: a chain must hold a final frame
	needLen             int  // set when undecided: bytes needed from the position to go on
	window              int  // the lookahead a chain must fit in
	count               int  // set when valid: the headers in the chain
}

// enterScan starts looking for a frame boundary.
func (c *Conn) enterScan(d *direction) {
	d.mode = modeScan
	sc := d.scan()
	sc.buf.reset()
	d.scanOrigin = true
	sc.scanNeed = 0
	d.expectFrame = false
	sc.window, sc.giveUpAt, sc.scanned, d.gaveUp = scanWindow, 0, 0, false
	if !d.afterGap && !c.hsSeen {
		sc.window, sc.giveUpAt = midstreamWindow, midstreamGiveUp
	}
}

// enterScanAfterGap starts a resync after lost bytes.
func (c *Conn) enterScanAfterGap(d *direction) {
	d.fs.inPayload, d.fs.hn = false, 0
	d.afterGap = true
	c.enterScan(d)
}

// scanBytes buffers bytes while looking for a frame boundary.
func (c *Conn) scanBytes(d *direction, data []byte, t time.Time) int {
	d.scanSeen = true
	if d.gaveUp {
		return len(data)
	}
	sc := d.sc
	n := sc.buf.add(data, t, sc.window)
	// Re-check only when the bytes the undecided position waits for have arrived: the
	// verdict cannot change before (this keeps byte-by-byte feeding linear).
	if n == 0 || (!d.replaying && len(sc.buf.bytes()) >= sc.scanNeed) {
		c.scanRun(d, false)
	}
	return n
}

// scanRun decides as many positions as the buffered bytes allow and switches to frame mode at
// a proven boundary, replaying the buffered bytes from there.
func (c *Conn) scanRun(d *direction, final bool) {
	for d.mode == modeScan {
		sc := d.sc
		if c.foreign || (c.httpSeen && !c.wsWanted) {
			d.sc = nil
			d.mode = modeDead
			return
		}
		b := sc.buf.bytes()
		if len(b) == 0 {
			return
		}
		p, res, masked, count := c.findBoundary(d, b, final)
		if p > 0 {
			d.scanOrigin, d.expectFrame = false, false
		}
		if res != chainValid {
			sc.buf.advance(p)
			sc.scanned += int64(p)
			if sc.giveUpAt > 0 && sc.scanned >= sc.giveUpAt {
				d.gaveUp = true
				sc.buf = timedBuf{} // release the memory, not just the bytes
			}
			return
		}
		sc.buf.advance(p)
		c.resynced(d, masked, count)
		tb := sc.buf.detach()
		d.mode = modeFrames
		d.fs.reset(true)
		d.replaying = true
		c.replay(d, &tb)
		d.replaying = false
		d.afterReplay(&tb)
	}
}

// resynced records a proven boundary; mid-stream it also learns the roles.
func (c *Conn) resynced(d *direction, masked bool, count int) {
	if !c.roleKnown {
		s := Server
		if masked {
			s = Client
		}
		if s != d.fed && c.sameMaskOnOtherSide(d, masked) {
			// Both directions carry the same mask bit: one endpoint breaks the masking
			// rule, and it says nothing about which one. Keep the sides as fed.
			s = d.fed
		}
		c.setRole(d.fed, s)
		c.roleByChain = true
	}
	if d.chainLen == 0 {
		d.chainLen, d.chainMasked = int32(count), masked
	}
	d.byChain = !c.ws && !c.server101
	s := c.trueSide(d.fed)
	t := time.Time{}
	if sc := d.sc; sc != nil {
		for _, m := range sc.buf.marks {
			if m.end > sc.buf.start {
				t = m.t
				break
			}
		}
	}
	detail := s.String() + " frames detected mid-stream"
	if d.afterGap {
		c.stats[s].Resyncs++
		detail = s.String() + " decoding resumed at a proven frame boundary after lost bytes"
	}
	d.afterGap = false
	d.scanSeen = false
	d.expectFrame = false
	c.emit(Event{Kind: EventResync, Side: s, Time: t, Frame: d.fs.next, Detail: detail})
}

// sameMaskOnOtherSide reports whether the other direction, still looking for its first
// chain, already holds one whose mask bit equals masked.
func (c *Conn) sameMaskOnOtherSide(d *direction, masked bool) bool {
	o := &c.dirs[d.fed.Other()]
	if o.mode != modeScan || len(o.held()) == 0 {
		return false
	}
	saved := o.sc.scanNeed
	_, res, om, _ := c.findBoundary(o, o.held(), false)
	o.sc.scanNeed = saved
	return res == chainValid && om == masked
}

// findBoundary returns the first undecided or valid position of b, with the verdict there,
// the chain's mask bit and, when valid, how many headers it holds.
func (c *Conn) findBoundary(d *direction, b []byte, final bool) (int, chainResult, bool, int) {
	sc := d.sc
	sc.scanNeed = 0
	cfg := chainCfg{need: chainUnknown, minEnd: 3, rsv1OK: !c.extKnown || c.deflate, final: final}
	// Mid-stream, the side that did not teach the roles is searched without assuming its mask
	// bit (a client that does not mask is a finding, not a reason to miss its frames).
	if c.roleKnown && !(c.roleByChain && d.fs.next == 0) {
		cfg.maskKnown = true
		cfg.wantMask = c.trueSide(d.fed) == Client
		cfg.need, cfg.minEnd = chainKnown, 2
	}
	if !c.hsSeen {
		// Mid-stream a short chain is only a candidate: the connection is WebSocket only
		// when the other side agrees (evidence.go).
		cfg.minEnd = 2
	}
	need := cfg.need
	cfg.window = sc.window
	for i := 0; i < len(b); i++ {
		if sc.giveUpAt > 0 && sc.scanned+int64(i) >= sc.giveUpAt {
			return i, chainInvalid, false, 0 // positions past the limit are never tried
		}
		w := b[i:]
		full := len(w) >= sc.window
		if full {
			w = w[:sc.window]
		}
		cfg.single = i == 0 && d.scanOrigin && cfg.maskKnown && d.afterGap
		cfg.afterGap = d.afterGap
		cfg.midstream = !c.hsSeen
		cfg.need = need
		if i == 0 && d.scanOrigin && d.expectFrame {
			cfg.need = 1 // the upgrade's 101 says a frame starts right here
		}
		res, masked := checkChain(w, &cfg, full)
		if res == chainUndecided {
			sc.scanNeed = cfg.needLen
		}
		if res != chainInvalid {
			return i, res, masked, cfg.count
		}
	}
	return len(b), chainInvalid, false, 0
}

// checkChain checks the chain of headers starting at b[0]. full says b is a whole window.
// A header breaking any rule ends the chain; so does one whose mask bit differs from the
// first header's.
func checkChain(b []byte, cfg *chainCfg, full bool) (chainResult, bool) {
	pos, count := 0, 0
	rules := headerRules{wantMask: cfg.wantMask, maskKnown: cfg.maskKnown, rsv1OK: cfg.rsv1OK, frag: fragUnknown}
	firstMask, firstControl, firstOp := false, false, Opcode(0)
	anyFin := false
	undecided := chainUndecided
	if cfg.final || full {
		undecided = chainInvalid
	}
	valid := func() (chainResult, bool) {
		if cfg.midstream && !anyFin {
			// Only non-final continuation frames: what DNS or Modbus over TCP look like
			// (a zero byte, then a short length), never a real stream.
			return chainInvalid, false
		}
		cfg.count = count
		return chainValid, firstMask
	}
	for {
		if count >= cfg.need {
			return valid()
		}
		if pos == len(b) && cfg.final && count > 0 {
			lone := count == 1 && (cfg.maskKnown && cfg.afterGap || cfg.midstream) &&
				(firstOp == OpClose || (cfg.single && firstControl))
			if count >= cfg.minEnd || lone {
				return valid()
			}
			return chainInvalid, false
		}
		var h header
		hl, ok := parseHeader(b[pos:], &h)
		if !ok {
			cfg.needLen = pos + hl
			return undecided, false
		}
		if count == 0 {
			firstMask, firstControl, firstOp = h.masked, h.op.IsControl(), h.op
			if !rules.maskKnown {
				rules.wantMask, rules.maskKnown = h.masked, true // the chain's own mask bit
			}
		}
		if headerViolations(&h, rules) != 0 {
			return chainInvalid, false
		}
		if !h.op.IsControl() {
			// The chain's first data frame tells the fragmentation state: from there on it
			// is known (the decoder, after a resync, stays lenient until a message ends).
			rules.frag = fragNone
			if !h.fin {
				rules.frag = fragOpen
			}
		}
		count++
		anyFin = anyFin || h.fin
		if count >= cfg.need {
			return valid()
		}
		start := pos + hl
		if int64(len(b)-start) < h.length {
			if int64(cfg.window-start) < h.length {
				return chainInvalid, false
			}
			cfg.needLen = start + int(h.length)
			return undecided, false
		}
		end := start + int(h.length)
		if !payloadPlausible(b[start:end], &h) {
			return chainInvalid, false
		}
		pos = end
	}
}

// payloadPlausible checks the content of a frame inside a chain: text must be UTF-8 (a
// prefix of it for a first fragment), a close frame must carry a code that may be sent and a
// UTF-8 reason.
func payloadPlausible(p []byte, h *header) bool {
	op := h.op
	if !(op == OpText && h.rsv == 0) && op != OpClose {
		return true
	}
	var buf [128]byte
	var u utf8State
	for off := 0; off < len(p); {
		n := copy(buf[:], p[off:])
		if h.masked {
			unmask(buf[:n], h.key, int64(off))
		}
		if op == OpClose && off == 0 {
			if !CloseCode(binary.BigEndian.Uint16(buf[:2])).MaySend() {
				return false
			}
			if !u.push(buf[2:n]) {
				return false
			}
		} else if !u.push(buf[:n]) {
			return false
		}
		off += n
	}
	return !h.fin || u.complete()
}
