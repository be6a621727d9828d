package analyze

import (
	"strconv"

	"github.com/wsclosescan/wsclosescan/h2demux"
	"github.com/wsclosescan/wsclosescan/layers"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
	"github.com/wsclosescan/wsclosescan/wsparse"
)

// HTTP/2: every RFC 8441 WebSocket stream of a connection gets a record of its own, which
// names the TCP endpoints and carries an h2 object; its "TCP end" is the stream's end
// (layers.Stream).

// judgeStreams writes the record of every WebSocket stream of c, with the problems of its
// HTTP/2 layer.
func (a *Analyzer) judgeStreams(c *layers.Conn, problems []string) {
	streams := c.Streams()
	var tlsRec *report.TLS // the streams share their connection's TLS session
	if in, ok := c.TLS(); ok && len(streams) > 0 {
		tlsRec = tlsRecord(c, &in)
	}
	for _, s := range streams {
		r := a.record(&s.Conn)
		r.H2 = streamRecord(s)
		r.Hints = append(r.Hints, streamHints(s, r)...)
		r.Problems = append(r.Problems, problems...)
		if tlsRec != nil {
			t := *tlsRec // each record its own (writers may redact a record in place)
			r.TLS = &t
		}
		a.emit(r)
	}
}

// streamRecord is the stream's h2 object.
func streamRecord(s *layers.Stream) *report.H2 {
	h := &report.H2{StreamID: s.Info.ID, ConnectEnabled: s.Info.ConnectEnabled, End: s.StreamEnd.How}
	e := &s.StreamEnd
	if e.ClientEndStream != nil {
		h.ClientEndStream = &report.Time{Time: *e.ClientEndStream}
	}
	if e.ServerEndStream != nil {
		h.ServerEndStream = &report.Time{Time: *e.ServerEndStream}
	}
	if e.RSTCode != nil {
		h.RSTCode = new(h2demux.CodeName(*e.RSTCode))
		if e.RSTBy != nil {
			h.RSTBy = new(recordSide(s.Parent.SideOf(reassembly.Dir(*e.RSTBy & 1))))
		}
	}
	if g := e.GoAway; g != nil {
		h.GoAway = &report.H2GoAway{From: recordSide(s.Parent.SideOf(reassembly.Dir(g.By & 1))), Code: h2demux.CodeName(g.Code),
			LastStreamID: g.LastStreamID, Time: report.Time{Time: g.Time}}
	}
	return h
}

// streamHints explains the stream's HTTP/2 ending.
func streamHints(s *layers.Stream, r *report.Record) []string {
	var h []string
	if !s.Info.ConnectEnabled {
		h = append(h, "the server had not announced SETTINGS_ENABLE_CONNECT_PROTOCOL before this extended CONNECT: "+
			"a browser then opens its WebSocket on a new HTTP/1.1 connection instead; look for it in the same capture")
	}
	e := &s.StreamEnd
	if e.RSTCode != nil && *e.RSTCode != h2demux.NoError && e.RSTBy != nil {
		by := s.Parent.SideOf(reassembly.Dir(*e.RSTBy & 1))
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
		h = append(h, "the "+s.Parent.SideOf(reassembly.Dir(g.By&1)).String()+" sent GOAWAY ("+h2demux.CodeName(g.Code)+
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
