package analyze

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
	"github.com/wsclosescan/wsclosescan/wsparse"
)

// restated lists the decoder's findings that the record already states in its own
// fields or problem lines: the handshake failure (handshake_error), gaps, an undecodable
// stream end and truncated headers (described below with offsets and lengths).
var restated = map[wsparse.FindingCode]bool{
	wsparse.FindHandshakeFailed:  true,
	wsparse.FindCaptureGap:       true,
	wsparse.FindUndecodable:      true,
	wsparse.FindHeadersTruncated: true,
}

// problems lists the RFC violations and capture problems of the connection.
func (c *conn) problems(f *facts) []string {
	p := []string{}
	for _, fd := range c.ws.Findings() {
		if restated[fd.Code] {
			continue
		}
		s := fd.Detail
		if !strings.HasPrefix(s, fd.Side.String()+" ") {
			s = fd.Side.String() + ": " + s
		}
		if fr := c.frameAt(fd.Side, fd.Time); fr != 0 && fd.Frame >= 0 {
			s += fmt.Sprintf(" (in packet %d)", fr)
		}
		if fd.Count > 1 {
			s += fmt.Sprintf(" (%d times)", fd.Count)
		}
		p = append(p, s)
	}
	for _, s := range []wsparse.Side{wsparse.Client, wsparse.Server} {
		e := f.ends[s]
		if e.rstOutOfWindow {
			p = append(p, fmt.Sprintf("%s: RST with a sequence number outside the window (a receiver following RFC 5961 ignores it)", s))
		}
		if e.dataAfterFIN {
			p = append(p, fmt.Sprintf("%s: sent data after its FIN", s))
		}
		if e.retransMismatch > 0 {
			p = append(p, fmt.Sprintf("%s: %d retransmitted segment(s) carried different bytes than the original", s, e.retransMismatch))
		}
		if f.stats[s].Undecodable {
			p = append(p, fmt.Sprintf("%s: the end of its stream could not be decoded after missing bytes", s))
		}
	}
	for _, g := range c.gapNotes {
		p = append(p, fmt.Sprintf("%s: %s", c.sideOf(g.dir), g.what))
	}
	if c.gapsLeft > 0 {
		p = append(p, fmt.Sprintf("%d more gaps", c.gapsLeft))
	}
	switch c.released {
	case reassembly.EndEvicted:
		p = append(p, "released early because too many connections were open at once (--max-conns): later packets of it, if any, were analysed as another connection")
	case reassembly.EndIdle:
		p = append(p, "released after the --idle-timeout of silence: later packets of it, if any, were analysed as another connection")
	}
	if f.hs != nil && f.hs.HeadersTruncated {
		p = append(p, "handshake headers were truncated in the capture")
	}
	return p
}

// wsEvent records a WebSocket decoder event for the timeline.
func (c *conn) wsEvent(e wsparse.Event) {
	c.touch(e.Time)
	if e.Kind == wsparse.EventMessage {
		c.addMessage(e.Side, e.Length, e.Time, e.Detail)
		return
	}
	if what := describeEvent(e); what != "" {
		c.add(entry{t: e.Time, frame: c.frameAt(e.Side, e.Time), fromWS: true, side: e.Side, what: what,
			response: e.Kind == wsparse.EventResponse})
	}
}

// timelineEntries resolves sides and orders the entries by time, marking where entries
// were left out.
func (c *conn) timelineEntries() []report.TimelineEntry {
	all := append([]entry(nil), c.timeline...)
	all = append(all, c.tail[c.tailNext:]...)
	all = append(all, c.tail[:c.tailNext]...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].t.Before(all[j].t) })
	failure := ""
	if hs := c.ws.Handshake(); hs != nil {
		failure = hs.Failure
	}
	out := make([]report.TimelineEntry, 0, len(all)+1)
	for i, e := range all {
		if c.dropped > 0 && i == len(c.timeline) {
			out = append(out, report.TimelineEntry{OffsetS: seconds(e.t.Sub(c.info.Start)),
				What: strconv.Itoa(c.dropped) + " earlier events not shown"})
		}
		side := e.side
		if !e.fromWS {
			side = c.sideOf(e.dir)
		}
		from, what := side.String(), e.what
		if e.response && failure != "" && !strings.HasPrefix(failure, "server answered ") {
			what += " (" + failure + ")"
		}
		switch {
		case e.noSide:
			from, what = "", side.String()+" "+what
		case e.messages > 1:
			what = fmt.Sprintf("%d data messages, %d bytes, the last at %.6f s", e.messages, e.msgBytes, seconds(e.lastMsg.Sub(c.info.Start)))
		}
		out = append(out, report.TimelineEntry{OffsetS: seconds(e.t.Sub(c.info.Start)), From: from, What: what, Frame: e.frame})
	}
	return out
}

// describeEvent turns a decoder event into a timeline label; "" leaves it out (gaps come
// from the reassembler's own report).
func describeEvent(e wsparse.Event) string {
	switch e.Kind {
	case wsparse.EventRequest:
		return e.Detail
	case wsparse.EventResponse:
		return "HTTP " + e.Detail // a failed handshake is appended in timelineEntries
	case wsparse.EventPing, wsparse.EventPong:
		return e.Kind.String() + " (" + e.Detail + ")"
	case wsparse.EventClose:
		return closeLabel(e.Close)
	case wsparse.EventFinding:
		if restated[e.Code] {
			return ""
		}
		return "! " + e.Detail
	case wsparse.EventResync, wsparse.EventUndecodable:
		return "! " + e.Detail
	}
	return ""
}

// closeLabel formats a close frame for the timeline: close 1000 "bye", close (no code).
// The reason is kept raw, as in Close.Reason: escaped twice (strconv.Quote, then
// report.Printable) it read \\x1b, and invalid UTF-8 became U+FFFD.
func closeLabel(c *wsparse.CloseFrame) string {
	if c == nil {
		return "close"
	}
	s := "close (no code)"
	if c.HasCode {
		s = "close " + strconv.Itoa(int(c.Code))
	}
	if len(c.Reason) > 0 {
		// The reason as sent: the renderers escape it as the table does (report.Printable).
		s += ` "` + string(c.Reason) + `"`
	}
	return s
}
