package analyze

import (
	"fmt"
	"strconv"
	"time"

	"github.com/wsclosescan/wsclosescan/h2demux"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/tlsdec"
	"github.com/wsclosescan/wsclosescan/wsparse"
)

// maxGapNotes caps the per-connection gap descriptions kept for the problems list.
const maxGapNotes = 8

// tcpEnd is the first FIN and the first RST one direction sent.
type tcpEnd struct {
	fin, rst         time.Time
	finFrame         uint64
	rstFrame         uint64
	rstWithACK       bool
	rstOutOfWindow   bool
	dataAfterFIN     bool
	retransMismatch  int
	retransMismatchT time.Time
}

func (e *tcpEnd) first() (time.Time, string) {
	t, how, _ := e.firstFrame()
	return t, how
}

// firstFrame is first with the frame number of the FIN or RST.
func (e *tcpEnd) firstFrame() (time.Time, string, uint64) {
	switch {
	case e.fin.IsZero() && e.rst.IsZero():
		return time.Time{}, "", 0
	case e.rst.IsZero() || (!e.fin.IsZero() && !e.rst.Before(e.fin)):
		return e.fin, "fin", e.finFrame
	}
	return e.rst, "rst", e.rstFrame
}

// gap is a hole reported by the reassembler.
type gap struct {
	offset, length int64
	cause          reassembly.GapCause
	t              time.Time
}

// gapNote describes one gap for the problems list.
type gapNote struct {
	dir  reassembly.Dir
	what string
}

// entry is a timeline entry before sides are resolved: dir is the reassembler's direction
// for TCP-level entries, and wsSide is set for entries from the WebSocket decoder.
type entry struct {
	t      time.Time
	frame  uint64 // the packet's frame number, 0 when not known or not a packet
	fromWS bool
	dir    reassembly.Dir
	side   wsparse.Side
	noSide bool
	what   string
	// response marks the HTTP response, which the handshake failure is appended to.
	response bool
	// Consecutive data messages from one side share an entry: how many, their bytes, and
	// the time of the last one.
	messages int
	msgBytes int64
	lastMsg  time.Time
}

// conn is the analysis of one TCP connection; it implements reassembly.Stream.
type conn struct {
	an   *Analyzer
	file string
	info reassembly.ConnInfo
	ws   *wsparse.Conn
	tls  *tlsdec.Conn // the TLS layer, when the connection is TLS
	route
	app                   // what the application bytes are (HTTP/1.1 or HTTP/2)
	h2      *h2demux.Conn // the HTTP/2 layer, for app == appH2
	streams []*h2stream   // its WebSocket streams, in the order they opened
	stream  bool          // this conn analyses one HTTP/2 stream, not a TCP connection

	last      time.Time     // latest capture time seen on the connection
	lastFrame uint64        // the frame number of the latest segment at last
	stamps    *[2]stampRing // by reassembly.Dir; the Analyzer's again after End
	refs      refs
	ends      [2]tcpEnd // by reassembly.Dir
	missing   [2]int64  // by reassembly.Dir
	lost      [2]bool   // bytes of an unknown amount were lost (a layer lost its framing)
	lastGap   [2]gap    // most recent gap by reassembly.Dir
	gapNotes  []gapNote
	gapsLeft  int // gaps not described because of maxGapNotes

	released reassembly.EndReason // why the assembler let the connection go

	timeline []entry // the first half of the cap
	tail     []entry // then a ring of the latest entries, so the end is never lost
	tailNext int     // next slot of tail to overwrite once it is full
	dropped  int     // entries overwritten in tail
}

func (c *conn) touch(t time.Time) {
	if t.After(c.last) {
		c.last = t
	}
}

// touchAt is touch for a segment, whose frame number it keeps with the latest time.
func (c *conn) touchAt(at reassembly.Stamp) {
	if !at.Time.Before(c.last) {
		c.last, c.lastFrame = at.Time, at.Frame
	}
}

// Data implements reassembly.Stream.
func (c *conn) Data(dir reassembly.Dir, data []byte, at reassembly.Stamp) {
	c.ready()
	c.touchAt(at)
	c.stamps[dir].add(at)
	t := at.Time
	if c.route == routeUndecided {
		c.decide(data)
	}
	if c.route == routeTLS {
		c.tls.Feed(tlsdec.Dir(dir), data, t)
	} else {
		c.feedApp(dir, data, t)
	}
	c.noteFrames()
}

// Gap implements reassembly.Stream.
func (c *conn) Gap(dir reassembly.Dir, offset, length int64, cause reassembly.GapCause, at reassembly.Stamp) {
	c.ready()
	c.touchAt(at)
	c.stamps[dir].add(at)
	t := at.Time
	c.missing[dir] += length
	c.lastGap[dir] = gap{offset: offset, length: length, cause: cause, t: t}
	if c.route == routeTLS {
		c.tls.Gap(tlsdec.Dir(dir), length, t)
	} else {
		c.gapApp(dir, length, t)
	}
	what := fmt.Sprintf("%d bytes missing at offset %d (%s)", length, offset, cause)
	if length == 0 {
		what = fmt.Sprintf("unknown number of bytes missing before offset %d (%s)", offset, cause)
	}
	c.addTCP(at, dir, "gap: "+what, true)
	if len(c.gapNotes) < maxGapNotes {
		c.gapNotes = append(c.gapNotes, gapNote{dir: dir, what: what})
	} else {
		c.gapsLeft++
	}
}

// Event implements reassembly.Stream.
func (c *conn) Event(e reassembly.Event) {
	at := reassembly.Stamp{Time: e.Time, Frame: e.Frame}
	c.touchAt(at)
	end := &c.ends[e.Dir]
	switch e.Kind {
	case reassembly.EventFIN:
		if end.fin.IsZero() {
			end.fin, end.finFrame = e.Time, e.Frame
		}
		c.addTCP(at, e.Dir, "FIN", false)
	case reassembly.EventRST:
		switch {
		case e.OutOfWindow:
			// A receiver following RFC 5961 ignores it: a problem, not how TCP ended.
			end.rstOutOfWindow = true
		case end.rst.IsZero():
			end.rst, end.rstFrame = e.Time, e.Frame
			end.rstWithACK = e.WithACK
		}
		what := "RST"
		if e.WithACK {
			what = "RST+ACK"
		}
		if e.OutOfWindow {
			what += " (sequence number outside the window)"
		}
		c.addTCP(at, e.Dir, what, false)
	case reassembly.EventSYN, reassembly.EventSYNACK:
		c.addTCP(at, e.Dir, e.Kind.String(), false)
	case reassembly.EventDataAfterFIN:
		end.dataAfterFIN = true
	case reassembly.EventRetransmitMismatch:
		if end.retransMismatch == 0 {
			end.retransMismatchT = e.Time
		}
		end.retransMismatch++
	}
}

// End implements reassembly.Stream.
func (c *conn) End(stats reassembly.ConnStats) {
	c.ready()
	c.released = stats.Reason
	if c.tls != nil {
		c.tls.Finish(c.last)
	}
	if c.h2 != nil {
		c.h2.Finish(c.last) // ends every stream still open
	}
	c.ws.Finish(c.last)
	c.noteFrames()
	r := c.record(stats)
	if c.h2 != nil {
		in := c.h2.Info()
		r.Problems = append(r.Problems, h2Problems(&in, c.sideOf)...)
		r.Hints = append(r.Hints, "an HTTP/2 connection: its "+strconv.Itoa(len(c.streams))+
			" WebSocket stream(s), if any, have records of their own")
	}
	c.an.emit(r)
	c.emitStreams(stats)
	c.an.pool.Put(c.ws) // the record keeps nothing of it
	c.ws = nil
	c.an.putRings(c.stamps)
	c.stamps = nil
}

func (c *conn) addTCP(at reassembly.Stamp, dir reassembly.Dir, what string, noSide bool) {
	c.add(entry{t: at.Time, frame: at.Frame, dir: dir, noSide: noSide, what: what})
}

func (c *conn) add(e entry) {
	if !c.an.opts.Timeline {
		return
	}
	half := c.an.opts.MaxTimeline / 2
	switch {
	case len(c.timeline) < half && len(c.tail) == 0:
		c.timeline = append(c.timeline, e)
	case len(c.tail) < c.an.opts.MaxTimeline-half:
		c.tail = append(c.tail, e)
	default:
		c.tail[c.tailNext] = e
		c.tailNext = (c.tailNext + 1) % len(c.tail)
		c.dropped++
	}
}

// lastEntry returns the most recently added timeline entry, or nil.
func (c *conn) lastEntry() *entry {
	switch {
	case len(c.tail) > 0:
		return &c.tail[(c.tailNext+len(c.tail)-1)%len(c.tail)]
	case len(c.timeline) > 0:
		return &c.timeline[len(c.timeline)-1]
	}
	return nil
}

// addMessage records a data message, merging it into the previous entry when that one
// holds messages from the same side.
func (c *conn) addMessage(side wsparse.Side, size int64, t time.Time, what string) {
	if last := c.lastEntry(); last != nil && last.messages > 0 && last.side == side {
		last.messages++
		last.msgBytes += size
		last.lastMsg = t
		return
	}
	c.add(entry{t: t, frame: c.frameAt(side, t), fromWS: true, side: side, what: what, messages: 1, msgBytes: size, lastMsg: t})
}
