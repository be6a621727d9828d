package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ladderWidth is the number of columns between the two endpoints' bars; labels longer
// than maxLabel are shortened on the arrow and printed whole on the next line.
const (
	ladderWidth = 60
	maxLabel    = ladderWidth - 10
)

// WriteTimeline writes, for each record, a heading and a ladder diagram of what crossed the
// wire in time order, with offsets relative to the connection's first packet and the time
// since the line before (delta); then, for the two legs of each WebSocket through a proxy,
// one ladder of three lanes (client, proxy, server).
func WriteTimeline(w io.Writer, recs []Record) error {
	var b strings.Builder
	for i := range recs {
		if i > 0 {
			b.WriteString("\n")
		}
		writeLadder(&b, i+1, &recs[i])
	}
	// Then the legs of each proxied WebSocket on one ladder: client, proxy, server.
	for i := range recs {
		if j := pairedLeg(recs, i); j >= 0 {
			b.WriteString("\n")
			writeLanes(&b, i+1, j+1, &recs[i], &recs[j])
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeLadder(b io.Writer, n int, r *Record) {
	fmt.Fprintf(b, "#%d %s -> %s  %s  (%s, start %s)\n", n, r.Client, r.Server, r.Verdict,
		Printable(r.File), r.Start)
	if r.DisplayFilter != "" {
		fmt.Fprintf(b, "    wireshark: %s", r.DisplayFilter)
		if r.CommunityID != "" {
			fmt.Fprintf(b, "   community-id: %s", r.CommunityID)
		}
		fmt.Fprintln(b)
	}
	fmt.Fprintf(b, "%12s  %10s  %7s  %-*s%s\n", "time (s)", "delta (s)", "frame", ladderWidth+1, "client", "server")
	for i, e := range r.Timeline {
		delta := ""
		if i > 0 {
			delta = fmt.Sprintf("+%.6f", max(e.OffsetS-r.Timeline[i-1].OffsetS, 0))
		}
		frame := "" // the packet's number as Wireshark counts them in the file
		if e.Frame > 0 {
			frame = strconv.FormatUint(e.Frame, 10)
		}
		fmt.Fprintf(b, "%12.6f  %10s  %7s  %s\n", e.OffsetS, delta, frame, ladderLine(e))
		if label := Printable(e.What); utf8.RuneCountInString(label) > maxLabel {
			fmt.Fprintf(b, "%12s  %10s  %7s    %s\n", "", "", "", label) // the whole label, under the shortened one
		}
	}
	for _, h := range r.Hints {
		fmt.Fprintf(b, "  hint: %s\n", Printable(h))
	}
	for _, s := range messageLines(r) {
		fmt.Fprintf(b, "  %s\n", s)
	}
}

// ladderLine draws one entry: an arrow from its sender to the other side with the label
// inside, or a wavy line across both bars for things that are not packets.
func ladderLine(e TimelineEntry) string {
	label := Printable(e.What)
	if utf8.RuneCountInString(label) > maxLabel {
		label = Shorten(label, maxLabel)
	}
	n := utf8.RuneCountInString(label)
	fill := ladderWidth - n - 2 // two spaces around the label
	switch e.From {
	case SideClient:
		left := 4
		return "|" + strings.Repeat("-", left) + " " + label + " " + strings.Repeat("-", fill-left-1) + ">|"
	case SideServer:
		right := 4
		return "|<" + strings.Repeat("-", fill-right-1) + " " + label + " " + strings.Repeat("-", right) + "|"
	}
	side := (ladderWidth - n - 2) / 2
	return "~" + strings.Repeat("~", side) + " " + label + " " + strings.Repeat("~", ladderWidth-n-2-side) + "~"
}
