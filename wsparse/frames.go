package wsparse

import (
	"encoding/binary"
	"strconv"
	"time"
)

// frameState is the incremental frame decoder of one direction (RFC 6455 section 5.2).
// Header bytes are collected in hdr; payload bytes are counted and, for data frames, only
// looked at for UTF-8 validation; control payloads are kept up to the cap.
type frameState struct {
	hdr       [14]byte
	hn, hneed int
	inPayload bool

	// Current frame.
	fin    bool
	rsv    byte
	op     Opcode
	masked bool
	key    [4]byte
	length int64
	done   int64
	idx    int // index of the current frame
	next   int // index of the next frame

	ctrl     []byte // control payload kept, unmasked
	ctrlLost bool   // part of the control payload is missing

	// Message state.
	inMsg      bool // a fragmented data message is in progress
	msgUnknown bool // fragmentation state unknown (after a resync)
	msgCheck   bool // the message is uncompressed text being validated
	utf8       utf8State
	utf8Bad    bool   // invalid UTF-8 seen in the message
	utf8Told   bool   // the invalid UTF-8 finding was recorded for this message
	msgOp      Opcode // opcode of the message in progress (text or binary)
	msgLen     int64  // payload bytes of the message so far

	closeSent bool
}

// reset prepares the decoder for a frame boundary; afterGap makes the message state
// unknown. Frame indexes and the close state carry on.
func (fs *frameState) reset(afterGap bool) {
	fs.hn, fs.hneed, fs.inPayload = 0, 2, false
	fs.ctrl, fs.ctrlLost = fs.ctrl[:0], false
	fs.inMsg, fs.msgCheck = false, false
	fs.msgUnknown = afterGap
	fs.utf8, fs.utf8Bad, fs.utf8Told = utf8State{}, false, false
}

// headerLen returns the header size announced by the first two header bytes.
func headerLen(b0, b1 byte) int {
	n := 2
	switch b1 & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

// frameBytes decodes frames from data and returns how many bytes it consumed (less than
// len(data) only when the direction left frame mode).
func (c *Conn) frameBytes(d *direction, data []byte, t time.Time) int {
	fs := &d.fs
	n := 0
	for n < len(data) && d.mode == modeFrames {
		if !fs.inPayload {
			if fs.hneed < 2 {
				fs.hneed = 2
			}
			k := copy(fs.hdr[fs.hn:fs.hneed], data[n:])
			fs.hn += k
			n += k
			if fs.hn < fs.hneed {
				continue
			}
			if fs.hneed == 2 {
				fs.hneed = headerLen(fs.hdr[0], fs.hdr[1])
				if fs.hn < fs.hneed {
					continue
				}
			}
			c.startFrame(d, t)
			continue
		}
		k := len(data) - n
		if rem := fs.length - fs.done; int64(k) > rem {
			k = int(rem)
		}
		c.payload(fs, data[n:n+k])
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

// startFrame interprets a complete header.
func (c *Conn) startFrame(d *direction, t time.Time) {
	fs := &d.fs
	h := fs.hdr[:fs.hneed]
	fs.fin = h[0]&0x80 != 0
	fs.rsv = (h[0] >> 4) & 7
	fs.op = Opcode(h[0] & 0x0F)
	fs.masked = h[1]&0x80 != 0
	fs.idx = fs.next
	fs.next++
	fs.done, fs.ctrlLost = 0, false
	fs.ctrl = fs.ctrl[:0]
	s := c.trueSide(d.fed)
	l7 := int64(h[1] & 0x7F)
	rest := h[2:]
	switch l7 {
	case 126:
		fs.length = int64(binary.BigEndian.Uint16(rest))
		rest = rest[2:]
		if fs.length < 126 {
			c.frameFinding(FindNonMinimalLength, s, fs, t, "encodes length "+itoa64(fs.length)+" in the 16-bit form")
		}
	case 127:
		v := binary.BigEndian.Uint64(rest)
		rest = rest[8:]
		if v>>63 != 0 {
			c.frameFinding(FindLengthTopBit, s, fs, t, "has a 64-bit length with the most significant bit set")
			c.enterScanAfterGap(d)
			return
		}
		fs.length = int64(v)
		if fs.length <= 0xFFFF {
			c.frameFinding(FindNonMinimalLength, s, fs, t, "encodes length "+itoa64(fs.length)+" in the 64-bit form")
		}
	default:
		fs.length = l7
	}
	if fs.masked {
		copy(fs.key[:], rest)
	}
	if d.byChain && c.implausible(d) {
		c.withdrawSync(d)
		return
	}
	c.checkHeader(d, s, t)
	fs.inPayload = true
	if fs.length == 0 {
		c.endFrame(d, t, false)
	}
}

// checkHeader applies the header rules and updates the message state.
func (c *Conn) checkHeader(d *direction, s Side, t time.Time) {
	fs := &d.fs
	if s == Client && !fs.masked {
		c.frameFinding(FindClientUnmasked, s, fs, t, "is not masked")
	}
	if s == Server && fs.masked {
		c.frameFinding(FindServerMasked, s, fs, t, "is masked")
	}
	op := fs.op
	known := op <= OpBinary || (op >= OpClose && op <= OpPong)
	if !known {
		c.frameFinding(FindReservedOpcode, s, fs, t, "uses reserved opcode 0x"+strconv.FormatUint(uint64(op), 16))
		return
	}
	if fs.rsv&3 != 0 {
		c.frameFinding(FindRSVWithoutExtension, s, fs, t, "has RSV2 or RSV3 set (no negotiated extension uses them)")
	}
	rsv1 := fs.rsv&4 != 0
	first := op == OpText || op == OpBinary
	if rsv1 {
		switch {
		case first && c.extKnown && !c.hs.Deflate:
			c.frameFinding(FindRSVWithoutExtension, s, fs, t, "has RSV1 set but no extension was negotiated")
		case !first:
			c.frameFinding(FindRSV1NotFirst, s, fs, t, "has RSV1 set on a "+opName(op)+" frame (only the first frame of a compressed message may)")
		}
	}
	if op.IsControl() {
		if !fs.fin {
			c.frameFinding(FindControlFragmented, s, fs, t, "has FIN clear (control frames must not be fragmented)")
		}
		if fs.length > 125 {
			c.frameFinding(FindControlTooLong, s, fs, t, "has a "+itoa64(fs.length)+"-byte payload (control frames are limited to 125)")
		}
		if op == OpClose {
			if fs.closeSent {
				c.frameFinding(FindDuplicateClose, s, fs, t, "is a second close frame")
			}
			fs.closeSent = true
		}
		return
	}
	if fs.closeSent {
		c.frameFinding(FindDataAfterClose, s, fs, t, "is a data frame sent after this side's close frame")
	}
	if op == OpContinuation {
		fs.msgLen += fs.length
		if !fs.inMsg && !fs.msgUnknown {
			c.frameFinding(FindUnexpectedContinue, s, fs, t, "is a continuation frame but no message was in progress")
			fs.msgCheck = false
		}
		fs.inMsg = !fs.fin
		if fs.fin {
			fs.msgUnknown = false
		}
		return
	}
	if fs.inMsg && !fs.msgUnknown {
		c.frameFinding(FindMessageInterrupted, s, fs, t, "starts a new "+opName(op)+" message while a fragmented message is in progress")
	}
	fs.msgUnknown = false
	fs.inMsg = !fs.fin
	fs.msgOp, fs.msgLen = op, fs.length
	fs.msgCheck = op == OpText && !rsv1
	fs.utf8, fs.utf8Bad, fs.utf8Told = utf8State{}, false, false
}

// payload processes payload bytes of the current frame.
func (c *Conn) payload(fs *frameState, p []byte) {
	switch {
	case fs.op == OpClose || fs.op == OpPing || fs.op == OpPong:
		if fs.ctrlLost {
			return
		}
		room := c.opts.MaxControlPayload - len(fs.ctrl)
		if room > len(p) {
			room = len(p)
		}
		if room <= 0 {
			return
		}
		start := len(fs.ctrl)
		fs.ctrl = append(fs.ctrl, p[:room]...)
		if fs.masked {
			unmask(fs.ctrl[start:], fs.key, fs.done)
		}
	case fs.msgCheck && !fs.utf8Bad && (fs.op == OpText || fs.op == OpContinuation):
		if !fs.masked {
			fs.utf8Bad = !fs.utf8.push(p)
			return
		}
		fs.utf8Bad = !fs.utf8.pushMasked(p, fs.key, fs.done)
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
	c.addFinding(code, s, fs.idx, t, s.String()+" "+opName(fs.op)+" frame "+strconv.Itoa(fs.idx)+" "+what)
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
