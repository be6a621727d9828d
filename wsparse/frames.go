package wsparse

import (
	"encoding/binary"
	"strconv"
	"time"
)

// frameState is the incremental frame decoder of one direction (RFC 6455 section 5.2).
// A header split across chunks is collected in hdr; payload bytes are counted and, for data
// frames, only looked at for UTF-8 validation; control payloads are kept up to the cap.
type frameState struct {
	hdr       [maxHeaderLen]byte // the bytes of a header split across chunks, collected so far
	inPayload bool               // the header is complete: its payload follows
	ctrlLost  bool               // part of the control payload is missing

	header // the current frame's header
	done   int64
	next   int // index of the next frame; the current one is next-1 (idx)

	ctrl *ctrlBuf // control payload kept, unmasked; nil outside a control frame with one

	msg       message
	closeSent bool
	hn        uint8 // bytes of hdr collected so far (at most maxHeaderLen)
}

// ctrlBuf holds the payload of the control frame being decoded. A direction holds one only
// while such a frame carries a payload; then it goes back to the Pool.
type ctrlBuf struct{ b []byte }

// bytes returns the payload kept so far (nil for no buffer).
func (cb *ctrlBuf) bytes() []byte {
	if cb == nil {
		return nil
	}
	return cb.b
}

// maxKeptCtrl bounds the control buffers a Pool keeps, and their size.
const maxKeptCtrl = 2 * maxPooled

// getCtrl returns an empty control buffer.
func (c *Conn) getCtrl() *ctrlBuf {
	if c.pool != nil {
		return c.pool.ctrls.Get()
	}
	return new(ctrlBuf)
}

// dropCtrl gives the control buffer of fs back, once its frame is done.
func (c *Conn) dropCtrl(fs *frameState) {
	cb := fs.ctrl
	if cb == nil {
		return
	}
	fs.ctrl = nil
	if c.pool == nil || cap(cb.b) > DefaultMaxControlPayload {
		return
	}
	cb.b = cb.b[:0]
	c.pool.ctrls.Put(cb, maxKeptCtrl)
}

// idx returns the index of the current frame (the one whose header was parsed last).
func (fs *frameState) idx() int { return fs.next - 1 }

// message is the state of the direction's data message.
type message struct {
	length int64 // payload bytes of the message so far
	frag   fragState
	op     Opcode // opcode of the message in progress (text or binary)
	text   textCheck
}

// textCheck is the UTF-8 validation of a text message.
type textCheck struct {
	on   bool // the message is uncompressed text being validated
	utf8 utf8State
	bad  bool // invalid UTF-8 seen in the message
	told bool // the invalid UTF-8 finding was recorded for this message
}

// reset prepares the decoder for a frame boundary; afterGap makes the message state
// unknown. Frame indexes, the close state and the last message's opcode and length carry
// on.
func (fs *frameState) reset(afterGap bool) {
	fs.hn, fs.inPayload = 0, false
	fs.ctrl, fs.ctrlLost = nil, false // a buffer dropped here is the collector's
	fs.msg.frag = fragNone
	if afterGap {
		fs.msg.frag = fragUnknown
	}
	fs.msg.text = textCheck{}
}

// frameBytes decodes frames from data and returns how many bytes it consumed (less than
// len(data) only when the direction left frame mode).
func (c *Conn) frameBytes(d *direction, data []byte, t time.Time) int {
	fs := &d.fs
	n := 0
	for n < len(data) && d.mode == modeFrames {
		if !fs.inPayload {
			if fs.hn == 0 {
				// The usual case: the whole header is in data, parsed where it lies.
				if k, ok := parseHeader(data[n:], &fs.header); ok {
					n += k
					c.startFrame(d, t)
					continue
				}
			}
			// A header split across chunks: collect the first two bytes, then the rest.
			lim := 2
			if fs.hn >= 2 {
				lim = headerLen(fs.hdr[0], fs.hdr[1])
			}
			k := copy(fs.hdr[fs.hn:lim], data[n:])
			fs.hn += uint8(k)
			n += k
			if _, ok := parseHeader(fs.hdr[:fs.hn], &fs.header); !ok {
				continue
			}
			fs.hn = 0
			c.startFrame(d, t)
			continue
		}
		k := len(data) - n
		if rem := fs.length - fs.done; int64(k) > rem {
			k = int(rem)
		}
		c.payload(d, data[n:n+k])
		fs.done += int64(k)
		if !fs.op.IsControl() {
			c.stats[c.trueSide(d.fed)].PayloadBytes += int64(k)
		}
		n += k
		if fs.done == fs.length {
			c.endFrame(d, t, false)
		}
	}
	return n
}

// rules returns the state the header rules of side s depend on.
func (c *Conn) rules(d *direction, s Side) headerRules {
	return headerRules{wantMask: s == Client, maskKnown: true, rsv1OK: !c.extKnown || c.deflate,
		frag: d.fs.msg.frag, closeSent: d.fs.closeSent}
}

// startFrame starts the frame whose header was just parsed into d.fs.header.
func (c *Conn) startFrame(d *direction, t time.Time) {
	fs := &d.fs
	h := &fs.header
	fs.next++
	fs.done, fs.ctrlLost = 0, false
	c.dropCtrl(fs)
	s := c.trueSide(d.fed)
	v := headerViolations(h, c.rules(d, s))
	if v&vLengthTopBit != 0 {
		c.frameFinding(FindLengthTopBit, s, fs, t, "has a 64-bit length with the most significant bit set")
		c.enterScanAfterGap(d)
		return
	}
	if v&vNonMinimalLength != 0 {
		c.frameFinding(FindNonMinimalLength, s, fs, t, "encodes length "+itoa64(fs.length)+" in the "+
			strconv.Itoa(8*int(fs.lenBytes))+"-bit form: not the minimal encoding RFC 6455 5.2 requires")
	}
	if d.byChain && c.implausible(d, h) {
		c.withdrawSync(d)
		return
	}
	c.checkHeader(d, s, v, t)
	fs.inPayload = true
	if fs.length == 0 {
		c.endFrame(d, t, false)
	}
}

// checkHeader records the header's violations as findings and updates the message state.
func (c *Conn) checkHeader(d *direction, s Side, v violations, t time.Time) {
	fs := &d.fs
	if v&vMask != 0 {
		if s == Client {
			c.frameFinding(FindClientUnmasked, s, fs, t, "is not masked")
		} else {
			c.frameFinding(FindServerMasked, s, fs, t, "is masked")
		}
	}
	op := fs.op
	if v&vReservedOpcode != 0 {
		c.frameFinding(FindReservedOpcode, s, fs, t, "uses reserved opcode 0x"+strconv.FormatUint(uint64(op), 16))
		return
	}
	if v&vRSV23 != 0 {
		c.frameFinding(FindRSVWithoutExtension, s, fs, t, "has RSV2 or RSV3 set (no negotiated extension uses them)")
	}
	if v&vRSV1NoExtension != 0 {
		c.frameFinding(FindRSVWithoutExtension, s, fs, t, "has RSV1 set but no extension was negotiated")
	}
	if v&vRSV1NotFirst != 0 {
		c.frameFinding(FindRSV1NotFirst, s, fs, t, "has RSV1 set on a "+opName(op)+" frame (only the first frame of a compressed message may)")
	}
	if op.IsControl() {
		if v&vControlFragmented != 0 {
			c.frameFinding(FindControlFragmented, s, fs, t, "has FIN clear (control frames must not be fragmented)")
		}
		if v&vControlTooLong != 0 {
			c.frameFinding(FindControlTooLong, s, fs, t, "has a "+itoa64(fs.length)+"-byte payload (control frames are limited to 125)")
		}
		if v&vDuplicateClose != 0 {
			c.frameFinding(FindDuplicateClose, s, fs, t, "is a second close frame")
		}
		fs.closeSent = fs.closeSent || op == OpClose
		return // a close frame's 1-byte payload is judged with the payload (onClose)
	}
	if v&vDataAfterClose != 0 {
		c.frameFinding(FindDataAfterClose, s, fs, t, "is a data frame sent after this side's close frame")
	}
	m := &fs.msg
	if op == OpContinuation {
		m.length += fs.length
		if v&vUnexpectedContinuation != 0 {
			c.frameFinding(FindUnexpectedContinue, s, fs, t, "is a continuation frame but no message was in progress")
			m.text.on = false
		}
		m.frag = m.frag.afterData(&fs.header)
		return
	}
	if v&vMessageInterrupted != 0 {
		c.frameFinding(FindMessageInterrupted, s, fs, t, "starts a new "+opName(op)+" message while a fragmented message is in progress")
	}
	m.frag = fragNone.afterData(&fs.header)
	m.op, m.length = op, fs.length
	m.text = textCheck{on: op == OpText && fs.rsv&4 == 0}
	if c.opts.Payloads {
		c.msgStart(d)
	}
}

// payload processes payload bytes of the current frame.
func (c *Conn) payload(d *direction, p []byte) {
	fs := &d.fs
	if c.payloads() != nil && !fs.op.IsControl() {
		c.msgPayload(d, p)
	}
	switch {
	case fs.op == OpClose || fs.op == OpPing || fs.op == OpPong:
		if fs.ctrlLost {
			return
		}
		room := c.opts.MaxControlPayload - len(fs.ctrl.bytes())
		if room > len(p) {
			room = len(p)
		}
		if room <= 0 {
			return
		}
		if fs.ctrl == nil {
			fs.ctrl = c.getCtrl()
		}
		start := len(fs.ctrl.b)
		fs.ctrl.b = append(fs.ctrl.b, p[:room]...)
		if fs.masked {
			unmask(fs.ctrl.b[start:], fs.key, fs.done)
		}
	case fs.msg.text.on && !fs.msg.text.bad && (fs.op == OpText || fs.op == OpContinuation):
		tc := &fs.msg.text
		if !fs.masked {
			tc.bad = !tc.utf8.push(p)
			return
		}
		tc.bad = !tc.utf8.pushMasked(p, fs.key, fs.done)
	}
}

// unmask XORs p with the key, p starting at payload offset pos.
func unmask(p []byte, key [4]byte, pos int64) {
	k := int(pos & 3)
	// Rotate the key so that it starts at p[0], then XOR 8 bytes at a time.
	var rk [4]byte
	for i := range rk {
		rk[i] = key[(k+i)&3]
	}
	k32 := uint64(binary.LittleEndian.Uint32(rk[:]))
	k64 := k32 | k32<<32
	i := 0
	for ; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], binary.LittleEndian.Uint64(p[i:])^k64)
	}
	for ; i < len(p); i++ {
		p[i] ^= rk[i&3]
	}
}

// frameFinding records a finding about the current frame of s.
func (c *Conn) frameFinding(code FindingCode, s Side, fs *frameState, t time.Time, what string) {
	if c.bump(code, s) {
		return
	}
	c.addFinding(code, s, fs.idx(), t, s.String()+" "+opName(fs.op)+" frame (its WebSocket frame #"+strconv.Itoa(fs.idx()+1)+") "+what)
}

// opName names an opcode for messages.
func opName(op Opcode) string {
	switch op {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "reserved"
}
