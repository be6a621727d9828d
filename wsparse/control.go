package wsparse

import (
	"encoding/binary"
	"strconv"
	"time"
)

// endFrame finishes the current frame. incomplete says part of it is missing (gap or end of
// capture); such a frame is not counted, but a close or ping header that was seen is still
// recorded, marked incomplete.
func (c *Conn) endFrame(d *direction, t time.Time, incomplete bool) {
	fs := &d.fs
	s := c.trueSide(d.fed)
	st := &c.stats[s]
	fs.inPayload = false
	if !incomplete {
		st.Frames++
		if st.lastFrame = toNanoTime(t); st.lastFrame == farTime {
			c.setFarLast(s, t)
		}
	}
	switch fs.op {
	case OpContinuation, OpText, OpBinary:
		tc := &fs.msg.text
		if tc.on && tc.bad && !tc.told {
			tc.told = true
			c.frameFinding(FindInvalidUTF8, s, fs, t, "carries invalid UTF-8 in a text message")
		}
		if !fs.fin || incomplete {
			return
		}
		if tc.on && !tc.bad && !tc.utf8.complete() {
			c.frameFinding(FindInvalidUTF8, s, fs, t, "ends a text message inside a UTF-8 sequence")
		}
		st.Messages++
		fs.msg.frag, tc.on = fragNone, false
		if c.payloads() != nil {
			c.msgEnd(d, t)
		}
		if c.opts.OnEvent != nil {
			m := &fs.msg
			c.emit(Event{Kind: EventMessage, Side: s, Time: t, Frame: fs.idx(), Length: m.length,
				Detail: opName(m.op) + " message, " + itoa64(m.length) + " bytes"})
		}
	case OpClose:
		c.onClose(fs, s, t, incomplete)
		c.dropCtrl(fs)
	case OpPing, OpPong:
		if !incomplete {
			c.onPing(fs, s, t, st)
		}
		c.dropCtrl(fs)
	}
}

// onClose records a close frame and judges its payload (RFC 6455 sections 5.5.1, 7.4).
func (c *Conn) onClose(fs *frameState, s Side, t time.Time, incomplete bool) {
	p := fs.ctrl.bytes()
	cf := &CloseFrame{Side: s, Time: t, Frame: fs.idx(), PayloadLen: fs.length,
		Incomplete: incomplete || fs.ctrlLost || int64(len(p)) < fs.length && len(p) < c.opts.MaxControlPayload}
	if fs.length > 125 {
		cf.Problems = append(cf.Problems, "payload is "+itoa64(fs.length)+" bytes (control frames are limited to 125)")
	}
	switch {
	case fs.length == 1:
		cf.Problems = append(cf.Problems, "1-byte payload (a close payload is empty or at least 2 bytes)")
		c.frameFinding(FindCloseOneByte, s, fs, t, "has a 1-byte payload (a close payload is empty or at least 2 bytes)")
	case fs.length >= 2 && len(p) >= 2:
		cf.HasCode = true
		cf.Code = CloseCode(binary.BigEndian.Uint16(p))
		if len(p) > 2 {
			cf.Reason = append([]byte(nil), p[2:]...)
		}
		if wp := cf.Code.wireProblem(); wp != "" {
			cf.Problems = append(cf.Problems, wp)
			c.frameFinding(FindCloseCodeInvalid, s, fs, t, "is invalid: "+wp)
		}
		if n := fs.length - 2; n > 123 {
			cf.Problems = append(cf.Problems, "reason is "+itoa64(n)+" bytes (limit 123)")
			c.frameFinding(FindCloseReasonTooLong, s, fs, t, "has a "+itoa64(n)+"-byte reason (limit 123)")
		}
		var u utf8State
		ok := u.push(cf.Reason)
		if ok && int64(len(p)) == fs.length && !cf.Incomplete {
			ok = u.complete()
		}
		if !ok {
			cf.Problems = append(cf.Problems, "reason is not valid UTF-8")
			c.frameFinding(FindCloseReasonNotUTF8, s, fs, t, "has a reason that is not valid UTF-8")
		}
	}
	if c.closes[s] == nil {
		c.closes[s] = cf
	}
	c.closes[s].count++
	detail := "no status code"
	if cf.HasCode {
		detail = cf.Code.String()
	} else if fs.length > 0 {
		detail = "status code not captured"
	}
	c.emit(Event{Kind: EventClose, Side: s, Time: t, Frame: fs.idx(), Close: cf, Detail: detail})
}

// onPing records a ping or pong.
func (c *Conn) onPing(fs *frameState, s Side, t time.Time, st *dirStats) {
	pong := fs.op == OpPong
	kind := EventPing
	if pong {
		st.Pongs++
		kind = EventPong
	} else {
		st.Pings++
	}
	if n := c.getNotes(); n.pingCount() < c.opts.MaxPings {
		n.addPing(s, t, pong, fs.ctrl.bytes())
	}
	c.emit(Event{Kind: kind, Side: s, Time: t, Frame: fs.idx(), Detail: strconv.Itoa(int(fs.length)) + "-byte payload"})
}

// frameGap handles missing bytes while in sync. A gap of known length that lies inside the
// current payload keeps the decoder in sync (the payload is only counted); anything else
// loses the frame boundary and starts a resync.
func (c *Conn) frameGap(d *direction, length int64, t time.Time) {
	fs := &d.fs
	if length > 0 && fs.inPayload && fs.length-fs.done >= length {
		fs.done += length
		if fs.op.IsControl() {
			fs.ctrlLost = true
		} else {
			c.stats[c.trueSide(d.fed)].PayloadBytes += length // sent, only not captured
		}
		fs.msg.text.on = false // the missing bytes cannot be validated
		if fs.done == fs.length {
			c.endFrame(d, t, fs.op.IsControl())
		}
		return
	}
	if fs.inPayload && (fs.op == OpClose || fs.op == OpPing || fs.op == OpPong) {
		c.endFrame(d, t, true)
	}
	c.enterScanAfterGap(d)
}

// frameFinish reports a frame cut short by the end of the capture.
func (c *Conn) frameFinish(d *direction, t time.Time) {
	fs := &d.fs
	s := c.trueSide(d.fed)
	switch {
	case fs.inPayload:
		if !c.bump(FindIncompleteFrame, s) {
			c.addFinding(FindIncompleteFrame, s, fs.idx(), t, s.String()+" "+opName(fs.op)+" frame (its WebSocket frame #"+strconv.Itoa(fs.idx()+1)+")"+
				" is incomplete: the capture ends after "+itoa64(fs.done)+" of "+itoa64(fs.length)+" payload bytes")
		}
		if fs.op == OpClose || fs.op == OpPing || fs.op == OpPong {
			c.endFrame(d, t, true)
		}
	case fs.hn > 0:
		c.addFinding(FindIncompleteFrame, s, fs.next, t, s.String()+" WebSocket frame #"+strconv.Itoa(fs.next+1)+
			" is incomplete: the capture ends inside its header")
	}
	fs.inPayload, fs.hn = false, 0
	d.mode = modeDead
}
