package analyze

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/wsclosescan/wsclosescan/h2demux"
	"github.com/wsclosescan/wsclosescan/layers"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
	"github.com/wsclosescan/wsclosescan/wsparse"
)

// problems lists the RFC violations and capture problems of the connection.
func problems(c *layers.Conn, f *facts) []string {
	p := []string{}
	for _, fd := range c.WS().Findings() {
		if layers.RestatedFinding(fd.Code) {
			continue // the record states it in fields or problem lines of its own
		}
		s := fd.Detail
		if !strings.HasPrefix(s, fd.Side.String()+" ") {
			s = fd.Side.String() + ": " + s
		}
		if fr := c.FrameAt(fd.Side, fd.Time); fr != 0 && fd.Frame >= 0 {
			s += fmt.Sprintf(" (in packet %d)", fr)
		}
		if fd.Count > 1 {
			s += fmt.Sprintf(" (%d times)", fd.Count)
		}
		p = append(p, s)
	}
	for _, s := range []wsparse.Side{wsparse.Client, wsparse.Server} {
		e := f.ends[s]
		if e.RSTOutOfWindow {
			p = append(p, fmt.Sprintf("%s: RST with a sequence number outside the window (a receiver following RFC 5961 ignores it)", s))
		}
		if e.DataAfterFIN {
			p = append(p, fmt.Sprintf("%s: sent data after its FIN", s))
		}
		if e.RetransMismatch > 0 {
			p = append(p, fmt.Sprintf("%s: %d retransmitted segment(s) carried different bytes than the original", s, e.RetransMismatch))
		}
		if f.stats[s].Undecodable {
			p = append(p, fmt.Sprintf("%s: the end of its stream could not be decoded after missing bytes", s))
		}
	}
	gaps, more := c.Gaps()
	for i := range gaps {
		g := &gaps[i]
		p = append(p, fmt.Sprintf("%s: %s", c.SideOf(g.Dir), gapText(g.Offset, g.Length, g.Cause)))
	}
	if more > 0 {
		p = append(p, fmt.Sprintf("%d more gaps", more))
	}
	switch c.Released {
	case reassembly.EndEvicted:
		p = append(p, "released early because too many connections were open at once (--max-conns): later packets of it were not analysed")
	case reassembly.EndIdle:
		p = append(p, "released after the --idle-timeout of silence: later packets of it were not analysed")
	}
	if f.hs != nil && f.hs.HeadersTruncated {
		p = append(p, "handshake headers were truncated in the capture")
	}
	return p
}

// gapText describes a gap: "N bytes missing at offset X (cause)".
func gapText(offset, length int64, cause reassembly.GapCause) string {
	if length == 0 {
		return fmt.Sprintf("unknown number of bytes missing before offset %d (%s)", offset, cause)
	}
	return fmt.Sprintf("%d bytes missing at offset %d (%s)", length, offset, cause)
}

// timelineEntries orders the entries by time, resolves their sides and words them,
// marking where entries were left out (after the first head of them).
func timelineEntries(c *layers.Conn, all []layers.Entry, head, dropped int) []report.TimelineEntry {
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	failure := ""
	if hs := c.WS().Handshake(); hs != nil {
		failure = hs.Failure
	}
	start := c.Info.Start
	out := make([]report.TimelineEntry, 0, len(all)+1)
	for i := range all {
		e := &all[i]
		if dropped > 0 && i == head {
			out = append(out, report.TimelineEntry{OffsetS: seconds(e.Time.Sub(start)),
				What: strconv.Itoa(dropped) + " earlier events not shown"})
		}
		side := e.Side
		if e.Kind != layers.EntryWS && e.Kind != layers.EntryMessages {
			side = c.SideOf(e.Dir)
		}
		from, what := recordSide(side), entryText(e)
		switch {
		case e.Kind == layers.EntryWS && e.WSKind == wsparse.EventResponse && failure != "" &&
			!strings.HasPrefix(failure, "server answered "):
			what += " (" + failure + ")"
		case e.Kind == layers.EntryGap:
			from, what = report.SideNone, side.String()+" "+what
		case e.Kind == layers.EntryMessages && e.Messages > 1:
			what = fmt.Sprintf("%d data messages, %d bytes, the last at %.6f s", e.Messages, e.Length, seconds(e.LastMsg.Sub(start)))
		}
		out = append(out, report.TimelineEntry{OffsetS: seconds(e.Time.Sub(start)), From: from, What: what, Frame: e.Frame})
	}
	return out
}

// entryText words a timeline entry.
func entryText(e *layers.Entry) string {
	switch e.Kind {
	case layers.EntryTCP:
		if e.TCP != reassembly.EventRST {
			return e.TCP.String()
		}
		what := "RST"
		if e.WithACK {
			what = "RST+ACK"
		}
		if e.OutOfWindow {
			what += " (sequence number outside the window)"
		}
		return what
	case layers.EntryGap:
		return "gap: " + gapText(e.Offset, e.Length, e.Cause)
	case layers.EntryWS:
		return describeEvent(e)
	case layers.EntryMessages:
		return e.Detail
	case layers.EntryEndStream:
		return "END_STREAM"
	case layers.EntryResetStream:
		return "RST_STREAM " + h2demux.CodeName(e.H2Code)
	case layers.EntryGoAway:
		return "GOAWAY " + h2demux.CodeName(e.H2Code)
	case layers.EntryConnEnd:
		return "TCP " + e.TCP.String()
	case layers.EntryCloseAcked:
		return "ACK of the close frame"
	}
	return ""
}

// describeEvent words a decoder event (the layers left out the ones the timeline does not
// show).
func describeEvent(e *layers.Entry) string {
	switch e.WSKind {
	case wsparse.EventRequest:
		return e.Detail
	case wsparse.EventResponse:
		return "HTTP " + e.Detail // a failed handshake is appended in timelineEntries
	case wsparse.EventPing, wsparse.EventPong:
		return e.WSKind.String() + " (" + e.Detail + ")"
	case wsparse.EventClose:
		return closeLabel(e.Close)
	case wsparse.EventFinding, wsparse.EventResync, wsparse.EventUndecodable:
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
