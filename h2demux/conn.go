package h2demux

import (
	"fmt"
	"slices"
	"time"

	"golang.org/x/net/http2/hpack"
)

// Bounds on what is kept.
const (
	maxProblems = 32
	maxGoAways  = 16
	maxDebug    = 256
	// maxTableSize bounds the HPACK dynamic table a peer may announce; 64 KiB is what
	// Chromium and Firefox allow.
	maxTableSize = 64 << 10
	// maxStringLen bounds one header name or value; the decoder then keeps at most about
	// twice that of a partial field.
	maxStringLen = 32 << 10
	// maxBlockBytes bounds the header bytes read from one block: beyond it fields are
	// still decoded (to keep the dynamic table in step) but not looked at.
	maxBlockBytes = 64 << 10
	// maxValueLen bounds a kept header value (several fields joined).
	maxValueLen = 4 << 10
)

// Conn decodes the HTTP/2 layer of one connection. It is not safe for concurrent use.
type Conn struct {
	opts    Options
	dirs    [2]direction
	streams map[uint32]*stream
	// lastClientID is the highest stream id the client opened.
	lastClientID uint32
	// goAwayN counts the GOAWAY frames; lastGoAway is the last one.
	goAwayN    int
	lastGoAway *GoAwayInfo
	ended      bool
	info       Info
}

// NewConn returns a decoder for one connection.
func NewConn(opts Options) *Conn {
	if opts.MaxStreams <= 0 {
		opts.MaxStreams = DefaultMaxStreams
	}
	c := &Conn{opts: opts, streams: make(map[uint32]*stream)}
	for i := range c.dirs {
		d := &c.dirs[i]
		d.dir = Dir(i)
		d.maxFrame = defaultMaxFrame
		d.allowedTable = defaultTableSize
		d.dec = hpack.NewDecoder(defaultTableSize, d.emit)
		d.dec.SetMaxStringLength(maxStringLen)
		c.info.Settings[i] = Settings{HeaderTableSize: defaultTableSize, MaxFrameSize: defaultMaxFrame}
	}
	return c
}

// Info returns what is known about the connection so far.
func (c *Conn) Info() Info {
	in := c.info
	in.GoAways = slices.Clone(c.info.GoAways)
	in.Problems = slices.Clone(c.info.Problems)
	return in
}

// Feed gives the next bytes of dir, in order, in chunks of any size.
func (c *Conn) Feed(dir Dir, data []byte, t time.Time) {
	if c.ended {
		return
	}
	c.feed(dir&1, data, t)
}

// Gap reports that length bytes of dir are missing (0 = unknown) at this point. Inside a
// frame's payload a known length keeps the frames in step: lost DATA bytes become a Gap on
// the stream's sink; lost header block bytes leave the header state unknown. Anywhere else
// the frame boundaries are lost and the rest of dir is ignored.
func (c *Conn) Gap(dir Dir, length int64, t time.Time) {
	if c.ended {
		return
	}
	c.gap(dir&1, length, t)
}

// Finish ends the connection: every stream still open ends with How EndTCP. Feed and Gap do
// nothing after it.
func (c *Conn) Finish(t time.Time) {
	if c.ended {
		return
	}
	c.ended = true
	for i := range c.dirs {
		d := &c.dirs[i]
		if d.lost {
			continue
		}
		if d.hdrN > 0 {
			c.problemf("%v: connection ended inside a frame", Dir(i))
		}
		if d.block.open {
			c.problemf("%v: connection ended inside the header block of stream %d", Dir(i), d.block.stream)
		}
	}
	for _, id := range c.streamIDs() {
		s := c.streams[id]
		e := StreamEnd{Time: t, How: EndTCP}
		if c.goAwayN > s.goAways {
			g := *c.lastGoAway
			e.GoAway = &g
		}
		c.end(s, e)
	}
}

// problemf records a problem.
func (c *Conn) problemf(format string, args ...any) {
	if len(c.info.Problems) >= maxProblems {
		c.info.ProblemsDropped++
		return
	}
	c.info.Problems = append(c.info.Problems, fmt.Sprintf(format, args...))
}

// event calls Options.Event.
func (c *Conn) event(e ConnEvent) {
	if c.opts.Event != nil {
		c.opts.Event(e)
	}
}

// lose gives up on the frame boundaries of dir: the rest of it is ignored and every
// stream's bytes from dir are lost.
func (c *Conn) lose(dir Dir, why string, t time.Time) {
	d := &c.dirs[dir]
	if d.lost {
		return
	}
	d.lost = true
	c.info.FramingLost[dir] = true
	c.problemf("%v: %s: rest of the direction ignored", dir, why)
	for _, id := range c.streamIDs() {
		c.streams[id].sink.Gap(dir, 0, t)
	}
}

// streamIDs returns the ids of the open streams, in order.
func (c *Conn) streamIDs() []uint32 {
	ids := make([]uint32, 0, len(c.streams))
	for id := range c.streams {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
