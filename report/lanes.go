package report

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// A three-lane timeline draws the two legs of a WebSocket through a proxy (see Proxy) as
// one ladder: client, proxy, server. The client leg's entries run between the first two
// bars, the backend leg's between the last two, in the order of their capture times.

// laneWidth is the number of columns between two bars of a three-lane ladder.
const (
	laneWidth    = 44
	maxLaneLabel = laneWidth - 10
)

// laneEntry is a timeline entry of one of the legs.
type laneEntry struct {
	at      time.Duration // since the client leg's first packet
	backend bool          // an entry of the backend leg
	e       TimelineEntry
}

// proxyLanes merges the timelines of a client leg c and its backend leg b in time order.
func proxyLanes(c, b *Record) []laneEntry {
	out := make([]laneEntry, 0, len(c.Timeline)+len(b.Timeline))
	for _, e := range c.Timeline {
		out = append(out, laneEntry{at: secs(e.OffsetS), e: e})
	}
	shift := b.Start.Sub(c.Start.Time)
	for _, e := range b.Timeline {
		out = append(out, laneEntry{at: shift + secs(e.OffsetS), backend: true, e: e})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].at < out[j].at })
	return out
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// pairedLeg returns the index in recs of the backend leg of the client leg recs[i], or -1.
func pairedLeg(recs []Record, i int) int {
	p := recs[i].Proxy
	if p == nil || p.Leg != "client" {
		return -1
	}
	for j := range recs {
		if recs[j].Client == p.Other.Client && recs[j].Server == p.Other.Server && recs[j].Proxy != nil {
			return j
		}
	}
	return -1
}

// writeLanes writes the three-lane ladder of client leg number cn (c) and backend leg
// number bn (b).
func writeLanes(w io.Writer, cn, bn int, c, b *Record) {
	fmt.Fprintf(w, "#%d+#%d through the proxy: client %s -> proxy %s, proxy %s -> server %s\n", cn, bn,
		c.Client, c.Server, b.Client, b.Server)
	if c.Proxy != nil {
		fmt.Fprintf(w, "    %s\n", Printable(c.Proxy.Story))
	}
	fmt.Fprintf(w, "%12s  %10s  %7s  %-*s%-*s%s\n", "time (s)", "delta (s)", "frame", laneWidth+1, "client",
		laneWidth+1, "proxy", "server")
	var prev time.Duration
	for i, l := range proxyLanes(c, b) {
		delta := ""
		if i > 0 {
			delta = fmt.Sprintf("+%.6f", max(l.at-prev, 0).Seconds())
		}
		prev = l.at
		frame := ""
		if l.e.Frame > 0 {
			frame = strconv.FormatUint(l.e.Frame, 10)
		}
		fmt.Fprintf(w, "%12.6f  %10s  %7s  %s\n", l.at.Seconds(), delta, frame, laneLine(l))
		if label := Printable(l.e.What); utf8.RuneCountInString(label) > maxLaneLabel {
			fmt.Fprintf(w, "%12s  %10s  %7s    %s\n", "", "", "", label)
		}
	}
}

// laneLine draws one entry as an arrow on its leg's half of the ladder.
func laneLine(l laneEntry) string {
	e := l.e
	e.What = Printable(e.What)
	if utf8.RuneCountInString(e.What) > maxLaneLabel {
		e.What = Shorten(e.What, maxLaneLabel)
	}
	n := utf8.RuneCountInString(e.What)
	fill := laneWidth - n - 2
	var arrow string
	switch e.From {
	case SideClient:
		arrow = "|" + strings.Repeat("-", 4) + " " + e.What + " " + strings.Repeat("-", fill-5) + ">|"
	case SideServer:
		arrow = "|<" + strings.Repeat("-", fill-5) + " " + e.What + " " + strings.Repeat("-", 4) + "|"
	default:
		side := fill / 2
		arrow = "~" + strings.Repeat("~", side) + " " + e.What + " " + strings.Repeat("~", fill-side) + "~"
	}
	empty := "|" + strings.Repeat(" ", laneWidth)
	if l.backend {
		return empty + arrow
	}
	return arrow + strings.Repeat(" ", laneWidth) + "|"
}

// writeLanesMermaid draws the same as a Mermaid sequence diagram with three participants.
func writeLanesMermaid(b *strings.Builder, cn, bn int, c, r *Record) {
	fmt.Fprintf(b, "\n**#%d+#%d** through the proxy: %s → %s → %s\n\n", cn, bn, mdEscape(c.Client),
		mdEscape(c.Server), mdEscape(r.Server))
	if c.Proxy != nil {
		fmt.Fprintf(b, "%s\n\n", mdEscape(c.Proxy.Story))
	}
	b.WriteString("```mermaid\nsequenceDiagram\n")
	fmt.Fprintf(b, "    participant C as client %s\n    participant P as proxy %s\n    participant S as server %s\n",
		mermaidEscape(c.Client), mermaidEscape(c.Server), mermaidEscape(r.Server))
	for _, l := range proxyLanes(c, r) {
		label := fmt.Sprintf("+%.6f %s", l.at.Seconds(), mermaidEscape(l.e.What))
		from, to := "C", "P"
		if l.backend {
			from, to = "P", "S"
		}
		switch l.e.From {
		case SideClient:
			fmt.Fprintf(b, "    %s->>%s: %s\n", from, to, label)
		case SideServer:
			fmt.Fprintf(b, "    %s->>%s: %s\n", to, from, label)
		default:
			fmt.Fprintf(b, "    Note over %s,%s: %s\n", from, to, label)
		}
	}
	b.WriteString("```\n")
}
