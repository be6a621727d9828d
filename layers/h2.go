package layers

import (
	"time"

	"github.com/wsclosescan/wsclosescan/h2demux"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/wsparse"
)

// HTTP/2. A connection whose application bytes (cleartext, or TLS plaintext) start with the
// HTTP/2 preface goes through h2demux; every extended CONNECT stream with :protocol websocket
// (RFC 8441) is a WebSocket of its own, a Stream.

// app says what a connection's application bytes are.
type app uint8

const (
	appUndecided app = iota
	appHTTP1         // HTTP/1.1 and WebSocket, for wsparse
	appH2
)

// feedApp routes application bytes (after TLS, if any) to wsparse or to the HTTP/2 layer.
func (c *Conn) feedApp(dir reassembly.Dir, data []byte, t time.Time) {
	if c.app == appUndecided {
		c.decideApp(dir, data)
	}
	if c.app == appH2 {
		c.h2.Feed(h2demux.Dir(dir), data, t)
		return
	}
	c.ws.Feed(wsparse.Side(dir), data, t)
}

// gapApp reports application bytes missing.
func (c *Conn) gapApp(dir reassembly.Dir, length int64, t time.Time) {
	if c.app == appH2 {
		c.h2.Gap(h2demux.Dir(dir), length, t)
		return
	}
	c.ws.Gap(wsparse.Side(dir), length, t)
}

// decideApp picks HTTP/2 for a client that starts with the preface, or a server that starts
// with a SETTINGS frame (a server may send its preface first); HTTP/1.1 otherwise.
func (c *Conn) decideApp(dir reassembly.Dir, data []byte) {
	c.app = appHTTP1
	h2 := dir == reassembly.ClientToServer && len(data) >= 3 && h2demux.LooksLikePreface(data)
	if dir == reassembly.ServerToClient && len(data) >= 9 && data[3] == 4 && data[4]&^1 == 0 &&
		data[5]|data[6]|data[7]|data[8] == 0 && (int(data[0])<<16|int(data[1])<<8|int(data[2]))%6 == 0 {
		h2 = true
	}
	if h2 {
		c.app = appH2
		c.startH2()
	}
}

// h2Layer is the HTTP/2 layer of a connection and the WebSocket streams it carries, which
// only HTTP/2 connections have.
type h2Layer struct {
	*h2demux.Conn
	streams []*Stream // in the order they opened
}

// startH2 starts the connection's HTTP/2 layer.
func (c *Conn) startH2() {
	c.h2 = &h2Layer{Conn: h2demux.NewConn(h2demux.Options{Stream: c.newStream})}
}

// handoff is a Conn as the WebSocket decoder sees it after an HTTP/1.1 upgrade to h2c.
type handoff Conn

// HandoffData implements wsparse.Handoff: it takes the bytes after an HTTP/1.1 upgrade to
// h2c (RFC 7540 3.2) into the HTTP/2 layer; the upgraded request's own stream 1 is not a
// WebSocket and is ignored there.
func (h *handoff) HandoffData(s wsparse.Side, data []byte, t time.Time) {
	c := (*Conn)(h)
	if c.h2 == nil {
		c.startH2()
	}
	c.h2.Feed(h2demux.Dir(c.DirOf(s)), data, t)
}

// HandoffGap implements wsparse.Handoff: lost bytes after an upgrade to h2c.
func (h *handoff) HandoffGap(s wsparse.Side, length int64, t time.Time) {
	c := (*Conn)(h)
	if c.h2 != nil {
		c.h2.Gap(h2demux.Dir(c.DirOf(s)), length, t)
	}
}

// Stream is one RFC 8441 WebSocket stream of an HTTP/2 connection. Its Conn holds its
// facts as those of a connection whose bytes are the stream's DATA and whose ends are the
// stream's: END_STREAM as FIN, RST_STREAM as RST. A side that did not end the stream ended
// with the TCP connection: its FIN and RST times are the connection's, and when the stream
// was still open then (or ended by GOAWAY), the stream's timeline shows the connection's
// FIN and RST (EntryConnEnd) and it lasted as long as the connection.
type Stream struct {
	Conn
	// Parent is the TCP connection the stream is on.
	Parent *Conn
	// Info is the stream's extended CONNECT, StreamEnd how it ended.
	Info      h2demux.StreamInfo
	StreamEnd h2demux.StreamEnd
}

// newStream starts following an RFC 8441 stream.
func (c *Conn) newStream(si *h2demux.StreamInfo) h2demux.Sink {
	s := &Stream{Parent: c, Info: *si}
	child := &s.Conn
	// The stream has no frame rings of its own: its segments are the connection's (FrameAt).
	*child = Conn{f: c.f, file: c.file, stream: s,
		Info: reassembly.ConnInfo{Client: c.Info.Client, Server: c.Info.Server, By: c.Info.By, Start: si.Time}}
	child.setLast(si.Time)
	child.ws = c.f.wsDecoder(child, nil)
	child.ws.StartTunnel(wsparse.TunnelRequest{Time: si.Time, Path: si.Path, Authority: si.Authority, Origin: si.Origin,
		Version: si.Version, Protocols: si.Protocols, Extensions: si.Extensions, UserAgent: si.UserAgent})
	child.noteFrames() // the extended CONNECT is the request
	c.h2.streams = append(c.h2.streams, s)
	return (*streamSink)(s)
}

// frameAt is the frame number of the connection's segment that carried what the HTTP/2
// layer reported at t in d, 0 when not known.
func (s *Stream) frameAt(d reassembly.Dir, t time.Time) uint64 { return s.Parent.frameAtDir(d, t) }

// streamSink is a Stream as the HTTP/2 layer sees it.
type streamSink Stream

// Data implements h2demux.Sink.
func (s *streamSink) Data(dir h2demux.Dir, data []byte, t time.Time) {
	s.touch(t)
	s.ws.Feed(wsparse.Side(dir), data, t)
	s.noteFrames()
}

// Gap implements h2demux.Sink.
func (s *streamSink) Gap(dir h2demux.Dir, length int64, t time.Time) {
	s.touch(t)
	s.Missing[dir&1] += length
	s.Lost[dir&1] = s.Lost[dir&1] || length == 0
	s.noteGap(Gap{Dir: reassembly.Dir(dir & 1), Length: length, Cause: reassembly.GapLost, Time: t}, false)
	s.ws.Gap(wsparse.Side(dir), length, t)
}

// Response implements h2demux.Sink.
func (s *streamSink) Response(r *h2demux.Response, t time.Time) {
	s.touch(t)
	if !r.Undecoded {
		s.ws.TunnelResponse(r.Status, r.Protocol, r.Extensions, t)
		s.noteFrames()
	}
}

// End implements h2demux.Sink: the stream's END_STREAMs are its FINs and a RST_STREAM its
// RST; a GOAWAY or the TCP end leaves the TCP connection's ends in place (see finish).
//
// Their frame numbers are looked up now, among the connection's latest segments: an
// END_STREAM sent long before the stream ended may no longer be there (0, not known).
func (s *streamSink) End(e h2demux.StreamEnd) {
	st := (*Stream)(s)
	s.StreamEnd = e
	c := &s.Conn
	c.touch(e.Time)
	for d, at := range [2]*time.Time{e.ClientEndStream, e.ServerEndStream} {
		if at == nil {
			continue
		}
		dir := reassembly.Dir(d)
		end := c.end(dir)
		end.FIN, end.FINFrame = *at, st.frameAt(dir, *at)
		c.addTCP(EntryEndStream, reassembly.Stamp{Time: *at, Frame: end.FINFrame}, dir, 0)
	}
	if e.RSTCode != nil && e.RSTBy != nil {
		dir := reassembly.Dir(*e.RSTBy & 1)
		end := c.end(dir)
		end.RST, end.RSTFrame = e.Time, st.frameAt(dir, e.Time)
		c.add(Entry{Time: e.Time, Frame: end.RSTFrame, Kind: EntryResetStream, Dir: dir, H2Code: *e.RSTCode})
	}
	if g := e.GoAway; g != nil {
		dir := reassembly.Dir(g.By & 1)
		c.add(Entry{Time: g.Time, Frame: st.frameAt(dir, g.Time), Kind: EntryGoAway, Dir: dir, H2Code: g.Code})
	}
}

// finish completes the stream's facts once its TCP connection p has ended.
func (s *Stream) finish(p *Conn) {
	c := &s.Conn
	for d := range reassembly.Dir(2) {
		// A side the stream did not end itself ended with the TCP connection.
		if e, pe := c.End(d), p.End(d); e.FIN.IsZero() && e.RST.IsZero() && !(pe.FIN.IsZero() && pe.RST.IsZero()) {
			e := c.end(d)
			e.FIN, e.RST, e.FINFrame, e.RSTFrame = pe.FIN, pe.RST, pe.FINFrame, pe.RSTFrame
		}
	}
	if how := s.StreamEnd.How; how == h2demux.EndTCP || how == h2demux.EndGoAway || how == "" {
		c.touch(p.Last()) // it lasted as long as the TCP connection
		for d := range reassembly.Dir(2) {
			e := p.End(d)
			if !e.FIN.IsZero() {
				c.addTCP(EntryConnEnd, reassembly.Stamp{Time: e.FIN, Frame: e.FINFrame}, reassembly.Dir(d), reassembly.EventFIN)
			}
			if !e.RST.IsZero() {
				c.addTCP(EntryConnEnd, reassembly.Stamp{Time: e.RST, Frame: e.RSTFrame}, reassembly.Dir(d), reassembly.EventRST)
			}
		}
	}
	c.ws.Finish(c.Last())
}

// release gives the stream's decoder back to the pool.
func (s *Stream) release() {
	c := &s.Conn
	c.f.pool.Put(c.ws)
	c.ws = nil
}
