package layers

import (
	"time"

	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/wsparse"
)

// EntryKind says what a timeline entry is.
type EntryKind uint8

// Timeline entry kinds.
const (
	// EntryTCP: a SYN, SYN-ACK, FIN or RST (TCP, WithACK, OutOfWindow) sent in Dir.
	EntryTCP EntryKind = iota + 1
	// EntryGap: bytes of Dir missing from the capture: Length at Offset (Length 0: an
	// unknown number, before Offset), for Cause.
	EntryGap
	// EntryWS: a WebSocket decoder event (WSKind, Side, Detail, Close).
	EntryWS
	// EntryMessages: Messages consecutive data messages from Side, Length bytes in all, the
	// first at Time (its Detail), the last at LastMsg.
	EntryMessages
	// EntryEndStream: an HTTP/2 stream's END_STREAM sent in Dir.
	EntryEndStream
	// EntryResetStream: an HTTP/2 stream's RST_STREAM sent in Dir, with error code H2Code.
	EntryResetStream
	// EntryGoAway: a GOAWAY sent in Dir while the stream was open, with error code H2Code.
	EntryGoAway
	// EntryConnEnd: in a stream's timeline, the FIN or RST (TCP) that ended its TCP
	// connection, sent in Dir.
	EntryConnEnd
	// EntryCloseAcked: the first segment sent in Dir (not a RST) whose ACK covers the
	// other side's first close frame, with the segment that completed it: the close frame
	// reached Dir's TCP stack. TCP connections only, not HTTP/2 streams.
	EntryCloseAcked
)

// Entry is one timeline entry, typed: the words are the judge's.
type Entry struct {
	Time  time.Time
	Frame uint64 // the packet's frame number, 0 when not known or not a packet
	Kind  EntryKind
	// Dir is the sender of every kind but EntryWS and EntryMessages, whose sender is Side
	// (the true side).
	Dir  reassembly.Dir
	Side wsparse.Side
	// TCP is the event of EntryTCP and EntryConnEnd; WithACK and OutOfWindow qualify a RST.
	TCP                  reassembly.EventKind
	WithACK, OutOfWindow bool
	WSKind               wsparse.EventKind
	Cause                reassembly.GapCause
	H2Code               uint32
	Offset, Length       int64
	// Detail and Close are the decoder event's (wsparse.Event).
	Detail string
	Close  *wsparse.CloseFrame
	// Messages and LastMsg describe EntryMessages.
	Messages int
	LastMsg  time.Time
}

// Timeline returns the entries kept, in the order they were added, and how many were
// left out after the first head of them (to keep the latest). ok is false when the
// timeline was not collected (Options.Timeline).
func (c *Conn) Timeline() (entries []Entry, head, dropped int, ok bool) {
	if !c.f.opts.Timeline {
		return nil, 0, 0, false
	}
	tl := c.tlOf()
	if tl == nil {
		tl = &timeline{}
	}
	all := make([]Entry, 0, len(tl.head)+len(tl.tail))
	all = append(all, tl.head...)
	all = append(all, tl.tail[tl.tailNext:]...)
	all = append(all, tl.tail[:tl.tailNext]...)
	return all, len(tl.head), tl.dropped, true
}

// timeline is a connection's timeline entries: the first half of the cap, then a ring of
// the latest, so that the end is never lost.
type timeline struct {
	head     []Entry
	tail     []Entry
	tailNext int // next slot of tail to overwrite once it is full
	dropped  int // entries overwritten in tail
}

func (c *Conn) add(e Entry) {
	if !c.f.opts.Timeline {
		return
	}
	r := c.getRare()
	if r.tl == nil {
		r.tl = new(timeline)
	}
	tl := r.tl
	max := c.f.opts.MaxTimeline
	half := max / 2
	switch {
	case len(tl.head) < half && len(tl.tail) == 0:
		tl.head = append(tl.head, e)
	case len(tl.tail) < max-half:
		tl.tail = append(tl.tail, e)
	default:
		tl.tail[tl.tailNext] = e
		tl.tailNext = (tl.tailNext + 1) % len(tl.tail)
		tl.dropped++
	}
}

// lastEntry returns the most recently added timeline entry, or nil.
func (c *Conn) lastEntry() *Entry {
	tl := c.tlOf()
	switch {
	case tl == nil:
	case len(tl.tail) > 0:
		return &tl.tail[(tl.tailNext+len(tl.tail)-1)%len(tl.tail)]
	case len(tl.head) > 0:
		return &tl.head[len(tl.head)-1]
	}
	return nil
}

// addTCP adds an entry of a kind other than the decoder's.
func (c *Conn) addTCP(kind EntryKind, at reassembly.Stamp, dir reassembly.Dir, ev reassembly.EventKind) {
	c.add(Entry{Time: at.Time, Frame: at.Frame, Kind: kind, Dir: dir, TCP: ev})
}

// wsEvent records a WebSocket decoder event for the timeline.
func (c *Conn) wsEvent(e wsparse.Event) {
	c.touch(e.Time)
	if e.Kind == wsparse.EventMessage {
		c.addMessage(e)
		return
	}
	if !isEntry(&e) {
		return
	}
	if e.Kind == wsparse.EventClose {
		c.watchAck(e.Side)
	}
	c.add(Entry{Time: e.Time, Frame: c.FrameAt(e.Side, e.Time), Kind: EntryWS, Side: e.Side, WSKind: e.Kind,
		Detail: e.Detail, Close: e.Close})
}

// watchAck asks the assembler for the ACK of side s's first close frame (TCP connections
// only: a stream's bytes share the connection's acknowledgments).
func (c *Conn) watchAck(s wsparse.Side) {
	if c.Info.Acks == nil || c.stream != nil || c.ackWatched&(1<<s) != 0 {
		return
	}
	c.ackWatched |= 1 << s
	c.Info.Acks.Watch(c.DirOf(s))
}

// addMessage records a data message, merging it into the previous entry when that one
// holds messages from the same side.
func (c *Conn) addMessage(e wsparse.Event) {
	if last := c.lastEntry(); last != nil && last.Kind == EntryMessages && last.Side == e.Side {
		last.Messages++
		last.Length += e.Length
		last.LastMsg = e.Time
		return
	}
	c.add(Entry{Time: e.Time, Frame: c.FrameAt(e.Side, e.Time), Kind: EntryMessages, Side: e.Side, WSKind: e.Kind,
		Detail: e.Detail, Messages: 1, Length: e.Length, LastMsg: e.Time})
}

// isEntry reports whether a decoder event is a timeline entry: gaps come from the
// reassembler's own report, and the findings that the record states elsewhere are left out
// (RestatedFinding).
func isEntry(e *wsparse.Event) bool {
	switch e.Kind {
	case wsparse.EventGap:
		return false
	case wsparse.EventRequest:
		return e.Detail != ""
	case wsparse.EventFinding:
		return !RestatedFinding(e.Code)
	}
	return true
}

// RestatedFinding reports whether a decoder finding restates what the facts hold otherwise
// (the handshake failure, gaps, an undecodable stream end, truncated headers): it is not a
// timeline entry, nor a problem of its own.
func RestatedFinding(code wsparse.FindingCode) bool {
	switch code {
	case wsparse.FindHandshakeFailed, wsparse.FindCaptureGap, wsparse.FindUndecodable, wsparse.FindHeadersTruncated:
		return true
	}
	return false
}
