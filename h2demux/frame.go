package h2demux

import (
	"encoding/binary"
	"strconv"
	"time"

	"golang.org/x/net/http2/hpack"
)

const (
	frameHeaderLen   = 9
	defaultMaxFrame  = 16384
	defaultTableSize = 4096
)

// Frame types (RFC 9113 section 6).
const (
	frameData         uint8 = 0x0
	frameHeaders      uint8 = 0x1
	framePriority     uint8 = 0x2
	frameRSTStream    uint8 = 0x3
	frameSettings     uint8 = 0x4
	framePushPromise  uint8 = 0x5
	framePing         uint8 = 0x6
	frameGoAway       uint8 = 0x7
	frameWindowUpdate uint8 = 0x8
	frameContinuation uint8 = 0x9
)

var frameNames = [...]string{"DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS",
	"PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"}

func frameName(typ uint8) string {
	if int(typ) < len(frameNames) {
		return frameNames[typ]
	}
	return "frame type 0x" + strconv.FormatUint(uint64(typ), 16)
}

// Frame flags.
const (
	flagEndStream  uint8 = 0x1
	flagAck        uint8 = 0x1
	flagEndHeaders uint8 = 0x4
	flagPadded     uint8 = 0x8
	flagPriority   uint8 = 0x20
)

// Settings identifiers.
const (
	settingHeaderTableSize uint16 = 0x1
	settingMaxFrameSize    uint16 = 0x5
	settingConnectProtocol uint16 = 0x8
)

// frameHeader is the 9-byte header of a frame.
type frameHeader struct {
	length uint32
	typ    uint8
	flags  uint8
	stream uint32
}

func (f frameHeader) has(flag uint8) bool { return f.flags&flag != 0 }

// direction is the parsing state of one byte stream.
type direction struct {
	dir     Dir
	preface int  // bytes of the client preface matched (client only)
	started bool // a frame header was seen
	lost    bool // frame boundaries lost: the rest is ignored

	hdr  [frameHeaderLen]byte
	hdrN int
	f    frameHeader
	left uint32 // payload bytes of f still to come

	// The payload of DATA, HEADERS and PUSH_PROMISE is a prefix (pad length, priority,
	// promised stream id), a body, and padding; other frames have only a body.
	pre           [6]byte
	preN, preLen  int
	bodyLeft      uint32
	skip          bool // the rest of f's payload is ignored
	damaged       bool // part of f's payload was lost in a gap
	ctl           [8 + maxDebug]byte
	ctlN          int
	ctlStop       bool // a gap cut the part of ctl kept
	settingsCP    bool // this SETTINGS frame carried ENABLE_CONNECT_PROTOCOL
	settingsCPVal uint32
	oversizeNoted bool
	maxFrame      uint32 // SETTINGS_MAX_FRAME_SIZE of the receiver
	allowedTable  uint32 // largest dynamic table the receiver allowed
	dec           *hpack.Decoder
	headersBroken bool // HPACK state unknown
	block         blockState
}

// feed parses data of dir.
func (c *Conn) feed(dir Dir, b []byte, t time.Time) {
	d := &c.dirs[dir]
	for len(b) > 0 && !d.lost {
		if dir == ClientToServer && d.preface < len(clientPreface) {
			k := min(len(b), len(clientPreface)-d.preface)
			if string(b[:k]) != clientPreface[d.preface:d.preface+k] {
				c.lose(dir, "no client preface", t)
				return
			}
			d.preface += k
			b = b[k:]
			c.info.Preface = d.preface == len(clientPreface)
			continue
		}
		if d.hdrN < frameHeaderLen {
			k := copy(d.hdr[d.hdrN:], b)
			d.hdrN += k
			b = b[k:]
			if d.hdrN == frameHeaderLen {
				c.beginFrame(d, t)
			}
			continue
		}
		k := min(uint32(len(b)), d.left)
		c.payload(d, b[:k], t)
		b = b[k:]
		d.left -= k
		if d.left == 0 {
			c.endFrame(d, t)
		}
	}
}

// gap handles length missing bytes of dir.
func (c *Conn) gap(dir Dir, length int64, t time.Time) {
	d := &c.dirs[dir]
	switch {
	case d.lost:
		return
	case dir == ClientToServer && d.preface < len(clientPreface):
		c.lose(dir, "gap in the client preface", t)
		return
	case d.hdrN < frameHeaderLen:
		c.lose(dir, "gap at a frame header", t)
		return
	case length <= 0:
		c.lose(dir, "gap of unknown length in a "+frameName(d.f.typ)+" frame", t)
		return
	case length > int64(d.left):
		c.payloadGap(d, d.left, t)
		c.lose(dir, "gap past the end of a "+frameName(d.f.typ)+" frame", t)
		return
	}
	c.payloadGap(d, uint32(length), t)
	d.left -= uint32(length)
	if d.left == 0 {
		c.endFrame(d, t)
	}
}

// beginFrame starts the frame whose header is in d.hdr.
func (c *Conn) beginFrame(d *direction, t time.Time) {
	h := d.hdr[:]
	f := frameHeader{
		length: uint32(h[0])<<16 | uint32(h[1])<<8 | uint32(h[2]),
		typ:    h[3],
		flags:  h[4],
		stream: binary.BigEndian.Uint32(h[5:]) & 0x7fffffff,
	}
	d.f, d.left = f, f.length
	d.preN, d.preLen, d.bodyLeft, d.ctlN = 0, 0, f.length, 0
	d.skip, d.damaged, d.settingsCP, d.ctlStop = false, false, false, false
	c.info.Frames[d.dir]++
	if !d.started {
		d.started = true
		if f.typ != frameSettings {
			c.problemf("%v: first frame is %s, not SETTINGS", d.dir, frameName(f.typ))
		}
	}
	if f.length > d.maxFrame && !d.oversizeNoted {
		d.oversizeNoted = true
		c.problemf("%v: %s frame of %d bytes exceeds SETTINGS_MAX_FRAME_SIZE %d", d.dir, frameName(f.typ), f.length, d.maxFrame)
	}
	if d.block.open && (f.typ != frameContinuation || f.stream != d.block.stream) {
		c.blockFailed(d, "interrupted by a "+frameName(f.typ)+" frame")
		c.closeBlock(d, t)
	}
	if why := c.checkFrame(d, f); why != "" {
		c.problemf("%v: %s frame on stream %d: %s: skipped", d.dir, frameName(f.typ), f.stream, why)
		d.skip = true
	}
	if f.length == 0 {
		c.endFrame(d, t)
	}
}

// checkFrame validates f before its payload and sets up the payload parsing. It returns
// why f is skipped, or "".
func (c *Conn) checkFrame(d *direction, f frameHeader) string {
	switch f.typ {
	case frameData, frameHeaders, framePushPromise:
		if f.stream == 0 {
			return "stream 0"
		}
		if f.has(flagPadded) {
			d.preLen = 1
		}
		if f.typ == frameHeaders && f.has(flagPriority) {
			d.preLen += 5
		}
		if f.typ == framePushPromise {
			d.preLen += 4
		}
		if int(f.length) < d.preLen {
			return "too short"
		}
		if f.typ != frameData {
			c.startBlock(d, f)
		}
	case frameContinuation:
		if !d.block.open {
			return "no header block open"
		}
	case frameRSTStream:
		if f.stream == 0 || f.length != 4 {
			return "malformed"
		}
	case frameSettings:
		if f.stream != 0 || f.has(flagAck) && f.length != 0 || f.length%6 != 0 {
			return "malformed"
		}
		if !f.has(flagAck) {
			c.info.Settings[d.dir].Frames++
		}
	case framePing:
		if f.stream != 0 || f.length != 8 {
			return "malformed"
		}
	case frameGoAway:
		if f.stream != 0 || f.length < 8 {
			return "malformed"
		}
	default: // PRIORITY, WINDOW_UPDATE and unknown types are skipped.
		d.skip = true
	}
	return ""
}

// payload handles payload bytes p of the current frame.
func (c *Conn) payload(d *direction, p []byte, t time.Time) {
	for len(p) > 0 && !d.skip {
		if d.preN < d.preLen {
			k := copy(d.pre[d.preN:d.preLen], p)
			d.preN += k
			p = p[k:]
			if d.preN == d.preLen {
				c.prefixDone(d)
			}
			continue
		}
		if d.bodyLeft == 0 {
			return // padding
		}
		k := min(uint32(len(p)), d.bodyLeft)
		c.body(d, p[:k], t)
		d.bodyLeft -= k
		p = p[k:]
	}
}

// payloadGap handles n lost payload bytes of the current frame.
func (c *Conn) payloadGap(d *direction, n uint32, t time.Time) {
	for n > 0 && !d.skip {
		if d.preN < d.preLen {
			c.bodyGap(d, 0, t)
			d.skip = true
			return
		}
		if d.bodyLeft == 0 {
			return // padding
		}
		k := min(n, d.bodyLeft)
		c.bodyGap(d, int64(k), t)
		d.bodyLeft -= k
		n -= k
	}
}

// prefixDone computes the body length once the prefix is complete.
func (c *Conn) prefixDone(d *direction) {
	pad := 0
	if d.f.has(flagPadded) {
		pad = int(d.pre[0])
	}
	n := int(d.f.length) - d.preLen - pad
	if n < 0 {
		c.problemf("%v: %s frame on stream %d: padding exceeds the payload: skipped", d.dir, frameName(d.f.typ), d.f.stream)
		if d.f.typ != frameData {
			c.blockFailed(d, "bad padding")
		}
		d.skip = true
		return
	}
	d.bodyLeft = uint32(n)
}

// body handles body bytes p of the current frame.
func (c *Conn) body(d *direction, p []byte, t time.Time) {
	switch d.f.typ {
	case frameData:
		if s := c.streams[d.f.stream]; s != nil {
			s.sink.Data(d.dir, p, t)
		}
	case frameHeaders, framePushPromise, frameContinuation:
		c.blockData(d, p)
	case frameSettings:
		for len(p) > 0 && !d.ctlStop {
			k := copy(d.ctl[d.ctlN:6], p)
			d.ctlN += k
			p = p[k:]
			if d.ctlN == 6 {
				c.setting(d, binary.BigEndian.Uint16(d.ctl[:]), binary.BigEndian.Uint32(d.ctl[2:]))
				d.ctlN = 0
			}
		}
	default: // RST_STREAM, PING, GOAWAY: keep the start.
		if !d.ctlStop {
			d.ctlN += copy(d.ctl[d.ctlN:], p)
		}
	}
}

// bodyGap handles n lost body bytes of the current frame (0 = unknown).
func (c *Conn) bodyGap(d *direction, n int64, t time.Time) {
	switch d.f.typ {
	case frameData:
		if s := c.streams[d.f.stream]; s != nil {
			s.sink.Gap(d.dir, n, t)
		}
	case frameHeaders, framePushPromise, frameContinuation:
		c.blockFailed(d, "bytes lost in a gap")
	case frameSettings:
		c.problemf("%v: SETTINGS frame cut by a gap: the settings from the gap on ignored", d.dir)
		d.ctlStop = true
	case frameGoAway:
		if d.f.length-d.bodyLeft >= 8 {
			d.ctlStop = true // only the debug data is cut: keep its start
		} else {
			d.damaged = true
		}
	default:
		d.damaged = true
	}
}

// endFrame acts on a complete frame.
func (c *Conn) endFrame(d *direction, t time.Time) {
	d.hdrN = 0
	f := d.f
	if d.lost {
		return
	}
	switch f.typ {
	case frameData:
		// A DATA frame whose payload was lost or malformed still ends its stream.
		if f.has(flagEndStream) {
			c.endStreamFlag(d.dir, f.stream, t)
		}
		return
	case frameHeaders, framePushPromise, frameContinuation:
		if d.block.open && f.has(flagEndHeaders) {
			c.closeBlock(d, t)
		}
		return
	}
	if d.skip || f.typ == frameSettings && d.ctlStop {
		return
	}
	if d.damaged {
		c.problemf("%v: %s frame cut by a gap: ignored", d.dir, frameName(f.typ))
		return
	}
	switch f.typ {
	case frameSettings:
		if d.settingsCP {
			c.event(ConnEvent{Time: t, Dir: d.dir, Kind: EventSettings, ConnectProtocol: d.settingsCPVal})
		}
	case frameRSTStream:
		c.rstStream(d.dir, f.stream, binary.BigEndian.Uint32(d.ctl[:]), t)
	case framePing:
		c.event(ConnEvent{Time: t, Dir: d.dir, Kind: EventPing, Ack: f.has(flagAck), Ping: binary.BigEndian.Uint64(d.ctl[:])})
	case frameGoAway:
		c.goAway(GoAwayInfo{
			Time:         t,
			By:           d.dir,
			LastStreamID: binary.BigEndian.Uint32(d.ctl[:]) & 0x7fffffff,
			Code:         binary.BigEndian.Uint32(d.ctl[4:]),
			Debug:        string(d.ctl[8:d.ctlN]),
		})
	}
}

// setting applies one setting sent by d.
func (c *Conn) setting(d *direction, id uint16, v uint32) {
	peer := &c.dirs[d.dir^1]
	s := &c.info.Settings[d.dir]
	switch id {
	case settingHeaderTableSize:
		s.HeaderTableSize = v
		// The peer's encoder may now use up to v (bounded here).
		if a := min(v, maxTableSize); a > peer.allowedTable {
			peer.allowedTable = a
			peer.dec.SetAllowedMaxDynamicTableSize(a)
		}
	case settingMaxFrameSize:
		if v < defaultMaxFrame || v > 1<<24-1 {
			c.problemf("%v: invalid SETTINGS_MAX_FRAME_SIZE %d", d.dir, v)
			return
		}
		s.MaxFrameSize = v
		peer.maxFrame = v
	case settingConnectProtocol:
		s.ConnectProtocol = true
		s.EnableConnectProtocol = v == 1
		d.settingsCP, d.settingsCPVal = true, v
		if v > 1 {
			c.problemf("%v: invalid SETTINGS_ENABLE_CONNECT_PROTOCOL %d", d.dir, v)
		}
	}
}
