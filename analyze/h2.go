package analyze

import (
	"strconv"
	"time"

	"github.com/wsclosescan/wsclosescan/h2demux"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
	"github.com/wsclosescan/wsclosescan/wsparse"
)

// HTTP/2. A connection whose application bytes (cleartext, or TLS plaintext) start with the
// HTTP/2 preface goes through h2demux; every extended CONNECT stream with :protocol websocket
// (RFC 8441) is a WebSocket of its own, analysed by a conn of its own whose bytes are the
// stream's DATA and whose "TCP end" is the stream's end (END_STREAM as FIN, RST_STREAM as
// RST, GOAWAY or the TCP end for a stream still open). Its record names the TCP endpoints and
// carries an h2 object.

// app says what a connection's application bytes are.
type app uint8

const (
	appUndecided app = iota
	appHTTP1         // HTTP/1.1 and WebSocket, for wsparse
	appH2
)

// feedApp routes application bytes (after TLS, if any) to wsparse or to the HTTP/2 layer.
func (c *conn) feedApp(dir reassembly.Dir, data []byte, t time.Time) {
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
func (c *conn) gapApp(dir reassembly.Dir, length int64, t time.Time) {
	if c.app == appH2 {
		c.h2.Gap(h2demux.Dir(dir), length, t)
		return
	}
	c.ws.Gap(wsparse.Side(dir), length, t)
}

// decideApp picks HTTP/2 for a client that starts with the preface, or a server that starts
// with a SETTINGS frame (a server may send its preface first); HTTP/1.1 otherwise.
func (c *conn) decideApp(dir reassembly.Dir, data []byte) {
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

// h2stream is one WebSocket stream of an HTTP/2 connection.
type h2stream struct {
	parent *conn
	c      *conn // the stream's own analysis
	info   h2demux.StreamInfo
	end    h2demux.StreamEnd
	ended  bool
}

// newStream starts the analysis of an RFC 8441 stream.
func (c *conn) newStream(si *h2demux.StreamInfo) h2demux.Sink {
	child := &conn{an: c.an, file: c.file, last: si.Time, stream: true, stamps: c.an.getRings(),
		info: reassembly.ConnInfo{Client: c.info.Client, Server: c.info.Server, By: c.info.By, Start: si.Time}}
	wsOpts := c.an.opts.WS
	if c.an.opts.Timeline {
		wsOpts.OnEvent = child.wsEvent
	}
	child.ws = c.an.pool.Get(wsOpts)
	child.ws.StartTunnel(wsparse.TunnelRequest{Time: si.Time, Path: si.Path, Authority: si.Authority, Origin: si.Origin,
		Version: si.Version, Protocols: si.Protocols, Extensions: si.Extensions, UserAgent: si.UserAgent})
	s := &h2stream{parent: c, c: child, info: *si}
	c.streams = append(c.streams, s)
	return s
}

// Data implements h2demux.Sink.
func (s *h2stream) Data(dir h2demux.Dir, data []byte, t time.Time) {
	s.c.touch(t)
	s.c.ws.Feed(wsparse.Side(dir), data, t)
}

// Gap implements h2demux.Sink.
func (s *h2stream) Gap(dir h2demux.Dir, length int64, t time.Time) {
	s.c.touch(t)
	s.c.missing[dir&1] += length
	s.c.lost[dir&1] = s.c.lost[dir&1] || length == 0
	s.c.lastGap[dir&1] = gap{length: length, cause: reassembly.GapLost, t: t}
	s.c.ws.Gap(wsparse.Side(dir), length, t)
}

// Response implements h2demux.Sink.
func (s *h2stream) Response(r *h2demux.Response, t time.Time) {
	s.c.touch(t)
	if !r.Undecoded {
		s.c.ws.TunnelResponse(r.Status, r.Protocol, r.Extensions, t)
	}
}

// End implements h2demux.Sink: the stream's END_STREAMs are its FINs and a RST_STREAM its
// RST; a GOAWAY or the TCP end leaves the TCP connection's ends in place (applied in emit).
func (s *h2stream) End(e h2demux.StreamEnd) {
	s.end, s.ended = e, true
	c := s.c
	c.touch(e.Time)
	if e.ClientEndStream != nil {
		c.ends[reassembly.ClientToServer].fin = *e.ClientEndStream
		c.addTCP(reassembly.Stamp{Time: *e.ClientEndStream}, reassembly.ClientToServer, "END_STREAM", false)
	}
	if e.ServerEndStream != nil {
		c.ends[reassembly.ServerToClient].fin = *e.ServerEndStream
		c.addTCP(reassembly.Stamp{Time: *e.ServerEndStream}, reassembly.ServerToClient, "END_STREAM", false)
	}
	if e.RSTCode != nil && e.RSTBy != nil {
		c.ends[*e.RSTBy&1].rst = e.Time
		c.addTCP(reassembly.Stamp{Time: e.Time}, reassembly.Dir(*e.RSTBy&1), "RST_STREAM "+h2demux.CodeName(*e.RSTCode), false)
	}
	if g := e.GoAway; g != nil {
		c.addTCP(reassembly.Stamp{Time: g.Time}, reassembly.Dir(g.By&1), "GOAWAY "+h2demux.CodeName(g.Code), false)
	}
}

// emitStreams writes the record of every WebSocket stream, in stream-id order, once the TCP
// connection (and so every stream) has ended.
func (c *conn) emitStreams(stats reassembly.ConnStats) {
	var problems []string
	if c.h2 != nil {
		in := c.h2.Info()
		problems = h2Problems(&in, c.sideOf)
	}
	var tlsRec *report.TLS // the streams share their connection's TLS session
	if c.tls != nil && len(c.streams) > 0 {
		in := c.tls.Info()
		tlsRec = c.tlsRecord(&in)
	}
	for _, s := range c.streams {
		child := s.c
		for d := range child.ends {
			// A side the stream did not end itself ended with the TCP connection.
			if e := &child.ends[d]; e.fin.IsZero() && e.rst.IsZero() {
				e.fin, e.rst = c.ends[d].fin, c.ends[d].rst
			}
		}
		if s.end.How == h2demux.EndTCP || s.end.How == h2demux.EndGoAway || s.end.How == "" {
			child.touch(c.last) // it lasted as long as the TCP connection
			for d, e := range c.ends {
				if !e.fin.IsZero() {
					child.addTCP(reassembly.Stamp{Time: e.fin}, reassembly.Dir(d), "TCP FIN", false)
				}
				if !e.rst.IsZero() {
					child.addTCP(reassembly.Stamp{Time: e.rst}, reassembly.Dir(d), "TCP RST", false)
				}
			}
		}
		child.ws.Finish(child.last)
		r := child.record(stats)
		r.H2 = s.record()
		r.Hints = append(r.Hints, s.h2Hints(r)...)
		r.Problems = append(r.Problems, problems...)
		if tlsRec != nil {
			t := *tlsRec // each record its own (writers may redact a record in place)
			r.TLS = &t
		}
		c.an.emit(r)
		c.an.pool.Put(child.ws)
		child.ws = nil
		c.an.putRings(child.stamps)
		child.stamps = nil
	}
}

// record is the stream's h2 object.
func (s *h2stream) record() *report.H2 {
	h := &report.H2{StreamID: s.info.ID, ConnectEnabled: s.info.ConnectEnabled, End: s.end.How}
	e := &s.end
	if e.ClientEndStream != nil {
		h.ClientEndStream = &report.Time{Time: *e.ClientEndStream}
	}
	if e.ServerEndStream != nil {
		h.ServerEndStream = &report.Time{Time: *e.ServerEndStream}
	}
	if e.RSTCode != nil {
		h.RSTCode = new(h2demux.CodeName(*e.RSTCode))
		if e.RSTBy != nil {
			h.RSTBy = new(s.parent.sideOf(reassembly.Dir(*e.RSTBy & 1)).String())
		}
	}
	if g := e.GoAway; g != nil {
		h.GoAway = &report.H2GoAway{From: s.parent.sideOf(reassembly.Dir(g.By & 1)).String(), Code: h2demux.CodeName(g.Code),
			LastStreamID: g.LastStreamID, Time: report.Time{Time: g.Time}}
	}
	return h
}

// h2Hints explains the stream's HTTP/2 ending.
func (s *h2stream) h2Hints(r *report.Record) []string {
	var h []string
	if !s.info.ConnectEnabled {
		h = append(h, "the server had not announced SETTINGS_ENABLE_CONNECT_PROTOCOL before this extended CONNECT: "+
			"a browser then opens its WebSocket on a new HTTP/1.1 connection instead; look for it in the same capture")
	}
	e := &s.end
	if e.RSTCode != nil && *e.RSTCode != h2demux.NoError && e.RSTBy != nil {
		by := s.parent.sideOf(reassembly.Dir(*e.RSTBy & 1))
		what := ""
		switch {
		case r.Verdict == report.VerdictClean:
			what = ", after the closing handshake: both WebSockets had already closed cleanly"
		case r.ClientObserved != nil && r.ServerObserved != nil && *r.ClientObserved == 1006 && *r.ServerObserved == 1006:
			what = ": the WebSocket APIs report 1006"
		}
		h = append(h, "the "+by.String()+" reset the stream (RST_STREAM "+h2demux.CodeName(*e.RSTCode)+")"+what)
	}
	if g := e.GoAway; g != nil && r.Verdict != report.VerdictClean {
		h = append(h, "the "+s.parent.sideOf(reassembly.Dir(g.By&1)).String()+" sent GOAWAY ("+h2demux.CodeName(g.Code)+
			") while this WebSocket was open: a server or proxy shutting down or restarting")
	}
	return h
}

// h2Problems lists what the HTTP/2 layer could not follow: a lost header state makes later
// header blocks of that direction undecodable (HPACK), lost framing the rest of it.
func h2Problems(in *h2demux.Info, sideOf func(reassembly.Dir) wsparse.Side) []string {
	var p []string
	for d := range 2 {
		s := sideOf(reassembly.Dir(d))
		if in.HeaderStateLost[d] {
			p = append(p, s.String()+": HTTP/2 header blocks after a gap or a decoding error could not be decoded "+
				"(HPACK state lost): later streams of this side may be missing or unjudged")
		}
		if in.FramingLost[d] {
			p = append(p, s.String()+": HTTP/2 frame boundaries were lost after a gap: the rest of this side was not decoded")
		}
	}
	for _, x := range in.Problems {
		p = append(p, "http2: "+x)
	}
	if in.ProblemsDropped > 0 {
		p = append(p, "http2: "+strconv.Itoa(in.ProblemsDropped)+" more problems")
	}
	return p
}

// HandoffData implements wsparse.Handoff: it takes the bytes after an HTTP/1.1 upgrade to
// h2c (RFC 7540 3.2) into the HTTP/2 layer; the upgraded request's own stream 1 is not a
// WebSocket and is ignored there.
func (c *conn) HandoffData(s wsparse.Side, data []byte, t time.Time) {
	if c.h2 == nil {
		c.startH2()
	}
	c.h2.Feed(h2demux.Dir(c.dirOf(s)), data, t)
}

// HandoffGap implements wsparse.Handoff: lost bytes after an upgrade to h2c.
func (c *conn) HandoffGap(s wsparse.Side, length int64, t time.Time) {
	if c.h2 != nil {
		c.h2.Gap(h2demux.Dir(c.dirOf(s)), length, t)
	}
}

// startH2 starts the connection's HTTP/2 layer.
func (c *conn) startH2() { c.h2 = h2demux.NewConn(h2demux.Options{Stream: c.newStream}) }
