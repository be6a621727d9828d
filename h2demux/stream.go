package h2demux

import (
	"time"
)

// stream is a WebSocket stream being followed.
type stream struct {
	id   uint32
	sink Sink
	// endStream holds when each Dir sent END_STREAM.
	endStream [2]*time.Time
	// goAways is Conn.goAwayN when the stream was opened.
	goAways int
}

// endStreamFlag handles END_STREAM sent by dir on stream id.
func (c *Conn) endStreamFlag(dir Dir, id uint32, t time.Time) {
	s := c.streams[id]
	if s == nil {
		return
	}
	if s.endStream[dir] != nil {
		c.problemf("%v: END_STREAM again on stream %d", dir, id)
		return
	}
	tt := t
	s.endStream[dir] = &tt
	if s.endStream[0] != nil && s.endStream[1] != nil {
		c.end(s, StreamEnd{Time: t, How: EndStream})
	}
}

// rstStream handles RST_STREAM sent by dir.
func (c *Conn) rstStream(dir Dir, id, code uint32, t time.Time) {
	s := c.streams[id]
	if s == nil {
		return
	}
	by := dir
	c.end(s, StreamEnd{Time: t, How: EndRST, RSTCode: &code, RSTBy: &by})
}

// goAway handles a GOAWAY. One with an error code ends every stream (the sender closes
// the connection); a graceful one ends the streams it will not process: those initiated by
// its receiver above the last stream id. The WebSocket streams are the client's.
func (c *Conn) goAway(g GoAwayInfo) {
	if len(c.info.GoAways) < maxGoAways {
		c.info.GoAways = append(c.info.GoAways, g)
	}
	c.goAwayN++
	c.lastGoAway = &g
	c.event(ConnEvent{Time: g.Time, Dir: g.By, Kind: EventGoAway, GoAway: &g})
	switch {
	case g.Code != NoError:
		c.endAll(func(*stream) bool { return true }, StreamEnd{Time: g.Time, How: EndGoAway, GoAway: &g})
	case g.By == ServerToClient:
		c.endAll(func(s *stream) bool { return s.id > g.LastStreamID }, StreamEnd{Time: g.Time, How: EndGoAway, GoAway: &g})
	}
}

// end ends stream s with e.
func (c *Conn) end(s *stream, e StreamEnd) {
	delete(c.streams, s.id)
	e.ClientEndStream, e.ServerEndStream = s.endStream[0], s.endStream[1]
	if e.GoAway != nil {
		g := *e.GoAway // each sink gets its own
		e.GoAway = &g
	}
	s.sink.End(e)
}

// endAll ends the streams for which pick is true, in stream id order.
func (c *Conn) endAll(pick func(*stream) bool, e StreamEnd) {
	for _, id := range c.streamIDs() {
		if s := c.streams[id]; pick(s) {
			c.end(s, e)
		}
	}
}
