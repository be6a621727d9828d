package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Cause is a group of connections with the same verdict and the same cause, such as
// 300 abnormal connections ended by "RST from the server after 60 s idle".
type Cause struct {
	Verdict Verdict `json:"verdict"`
	Cause   string  `json:"cause"`
	Count   int     `json:"count"`
	// Example is the first connection of the group, "client -> server".
	Example string `json:"example"`
}

// Observed counts the connections whose side's WebSocket API reported a code.
type Observed struct {
	Side  string `json:"side"` // "client" or "server"
	Code  int    `json:"code"`
	Count int    `json:"count"`
}

// Groups counts connections by verdict and cause, and by the code each side's API
// reported, for captures of thousands of connections (--summary). Its memory grows with
// the number of distinct causes, not of connections.
type Groups struct {
	idleHint time.Duration
	causes   map[[2]string]*Cause
	observed map[Observed]int // Count zero in the key
}

// NewGroups returns empty groups; idleHint is the silence from which a TCP end counts as
// after an idle time (as for the hints).
func NewGroups(idleHint time.Duration) *Groups {
	return &Groups{idleHint: idleHint, causes: map[[2]string]*Cause{}, observed: map[Observed]int{}}
}

// Add counts one more record.
func (g *Groups) Add(r *Record) {
	cause := CauseOf(r, g.idleHint)
	k := [2]string{string(r.Verdict), cause}
	c := g.causes[k]
	if c == nil {
		c = &Cause{Verdict: r.Verdict, Cause: cause, Example: r.Client + " -> " + r.Server}
		g.causes[k] = c
	}
	c.Count++
	for _, o := range []struct {
		side string
		code *int
	}{{"client", r.ClientObserved}, {"server", r.ServerObserved}} {
		if o.code != nil {
			g.observed[Observed{Side: o.side, Code: *o.code}]++
		}
	}
}

// Causes returns the groups, the largest first (then in verdict order, then by cause).
func (g *Groups) Causes() []Cause {
	out := make([]Cause, 0, len(g.causes))
	for _, c := range g.causes {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b Cause) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		if c := cmp.Compare(slices.Index(Verdicts, a.Verdict), slices.Index(Verdicts, b.Verdict)); c != 0 {
			return c
		}
		return strings.Compare(a.Cause, b.Cause)
	})
	return out
}

// Observed returns the counts of reported codes, clients first, the largest first.
func (g *Groups) Observed() []Observed {
	out := make([]Observed, 0, len(g.observed))
	for o, n := range g.observed {
		o.Count = n
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b Observed) int {
		if a.Side != b.Side {
			return strings.Compare(a.Side, b.Side)
		}
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Code, b.Code)
	})
	return out
}

// CauseOf says in a few words why a connection ended as it did, in terms that many
// connections share (no addresses, times rounded), so that they can be grouped.
func CauseOf(r *Record, idleHint time.Duration) string {
	end := tcpEndText(r)
	switch r.Verdict {
	case VerdictClean:
		return closeText(r, r.FirstClose) + ", answered"
	case VerdictHalfClosed:
		first := closeText(r, r.FirstClose)
		other := r.ServerClose
		if r.FirstClose != nil && *r.FirstClose == SideServer {
			other = r.ClientClose
		}
		if other == nil {
			return first + ", never answered, then " + end
		}
		return first + ", answered, then " + end + " before the answer was read"
	case VerdictAbnormal:
		s := "no close frame, " + end
		if r.IdleBeforeEndS != nil && *r.IdleBeforeEndS >= idleHint.Seconds() {
			s += " after " + idleText(*r.IdleBeforeEndS) + " idle"
		}
		return s
	case VerdictHandshakeFailed:
		switch {
		case r.HTTPStatus != nil && *r.HTTPStatus != 101:
			return "the server answered HTTP " + strconv.Itoa(*r.HTTPStatus)
		case r.HandshakeError != nil:
			return Shorten(*r.HandshakeError, 80)
		case r.HTTPStatus == nil:
			return "no answer to the upgrade request, then " + end
		}
		return "the client refused the 101"
	case VerdictOpenAtEnd:
		if r.FirstClose != nil {
			return closeText(r, r.FirstClose) + ", then the capture ended"
		}
		return "still open when the capture ended"
	case VerdictUnknown:
		if r.IsUnknown("websocket") {
			return "TLS that could not be decrypted"
		}
		return "bytes missing from the capture hide the ending"
	case VerdictNotWebSocket:
		return "plain TCP, " + end
	}
	return end
}

// closeText is "the client sent close 1000" for the side named by first.
func closeText(r *Record, first *Side) string {
	if first == nil {
		return "no close frame"
	}
	c := r.ClientClose
	if *first == SideServer {
		c = r.ServerClose
	}
	code := "with no code"
	if c != nil && c.Code != nil {
		code = strconv.Itoa(*c.Code)
	}
	return "the " + first.String() + " sent close " + code
}

func tcpEndText(r *Record) string {
	if r.TCPEnd.How == nil || r.TCPEnd.First == nil {
		return "TCP still open"
	}
	return strings.ToUpper(*r.TCPEnd.How) + " from the " + r.TCPEnd.First.String()
}

// idleText rounds a silence so that connections cut by the same timeout share it: 60 s
// for 59.98 s or 60.02 s, 1.5 s under ten seconds.
func idleText(s float64) string {
	if s < 10 {
		return strconv.FormatFloat(s, 'f', 1, 64) + " s"
	}
	return strconv.FormatFloat(s, 'f', 0, 64) + " s"
}

// WriteSummary writes the summary line and the groups of sum (filled from Groups) as
// text (format "table") or Markdown, at most limit causes (0: all).
func WriteSummary(w io.Writer, format string, sum Summary, limit int) error {
	var b strings.Builder
	md := format == "markdown"
	b.WriteString(sum.String() + "\n")
	causes, more, moreConns := sum.Causes, 0, 0
	if limit > 0 && len(causes) > limit {
		for _, c := range causes[limit:] {
			more++
			moreConns += c.Count
		}
		causes = causes[:limit]
	}
	if len(causes) > 0 {
		if md {
			b.WriteString("\n| connections | verdict | cause | example |\n| ---: | --- | --- | --- |\n")
		} else {
			b.WriteString("\nBy verdict and cause:\n")
		}
		for _, c := range causes {
			if md {
				fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", thousands(c.Count), c.Verdict, mdEscape(c.Cause), mdEscape(c.Example))
			} else {
				fmt.Fprintf(&b, "  %s %s: %s (e.g. %s)\n", thousands(c.Count), c.Verdict, Printable(c.Cause), Printable(c.Example))
			}
		}
		if more > 0 {
			fmt.Fprintf(&b, "%s… and %d more causes (%s connections) left out by --limit\n", map[bool]string{true: "\n", false: "  "}[md], more, thousands(moreConns))
		}
	}
	if len(sum.Observed) > 0 {
		if md {
			b.WriteString("\n**What the WebSocket APIs reported**\n\n")
		} else {
			b.WriteString("\nWhat the WebSocket APIs reported:\n")
		}
		for _, o := range sum.Observed {
			prefix := "  "
			if md {
				prefix = "- "
			}
			fmt.Fprintf(&b, "%s%s %s%s saw %d\n", prefix, thousands(o.Count), o.Side, plural(o.Count), o.Code)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// thousands formats n with commas: 1,234,567.
func thousands(n int) string {
	if n < 0 {
		return "-" + thousands(-n)
	}
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
