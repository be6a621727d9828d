package match

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wsclosescan/wsclosescan/report"
)

// Story says, from the records of a client leg c (client to proxy) and a backend leg b
// (proxy to server), where the ending changed between the legs: which end started it, and
// what the proxy passed on to the other leg, how and how much later.
func Story(c, b *report.Record, idleHint time.Duration) string {
	backendClose, clientClose := b.ServerClose, c.ClientClose
	switch {
	case backendClose != nil && (clientClose == nil || !clientClose.Time.Before(backendClose.Time.Time)):
		return "the backend sent " + closeText(backendClose) + "; " +
			relayed(backendClose, c.ServerClose, c, report.SideServer, "client")
	case clientClose != nil:
		return "the client sent " + closeText(clientClose) + "; " +
			relayed(clientClose, b.ClientClose, b, report.SideClient, "backend")
	}
	// No close frame from either end.
	cEnd, bEnd := c.TCPEnd, b.TCPEnd
	switch {
	case c.ServerClose != nil || b.ClientClose != nil:
		return proxyClosed(c, b)
	case cEnd.First != nil && *cEnd.First == report.SideServer && bEnd.First != nil && *bEnd.First == report.SideClient:
		ct, bt := cEnd.Time.Time, bEnd.Time.Time
		s := fmt.Sprintf("the proxy closed both legs %s apart", report.HintDuration(absDur(ct.Sub(bt))))
		if idle := quietBefore(c, b, earlier(ct, bt)); idle >= idleHint {
			s += fmt.Sprintf(" after %s without frames: its idle timeout", report.HintDuration(idle))
			if near(idle, 60*time.Second) {
				s += " (nginx proxy_read_timeout defaults to 60 s)"
			} else {
				s += " (nginx: proxy_read_timeout, 60 s by default)"
			}
		} else {
			s += " without a close frame to either: both ends saw 1006"
		}
		return s
	case bEnd.First != nil && *bEnd.First == report.SideServer:
		s := "the backend " + ended(bEnd) + " without a close frame"
		if cEnd.First != nil && *cEnd.First == report.SideServer && !cEnd.Time.Before(bEnd.Time.Time) {
			s += fmt.Sprintf("; the proxy then closed the client leg without a close frame (%s) %s later: the client saw %s",
				strings.ToUpper(*cEnd.How), report.HintDuration(cEnd.Time.Sub(bEnd.Time.Time)), observed(c.ClientObserved))
		} else {
			s += "; " + clientLegEnd(c)
		}
		return s
	case cEnd.First != nil && *cEnd.First == report.SideClient:
		s := "the client " + ended(cEnd) + " without a close frame"
		if bEnd.First != nil && *bEnd.First == report.SideClient && !bEnd.Time.Before(cEnd.Time.Time) {
			s += fmt.Sprintf("; the proxy then closed the backend leg without a close frame (%s) %s later: the backend saw %s",
				strings.ToUpper(*bEnd.How), report.HintDuration(bEnd.Time.Sub(cEnd.Time.Time)), observed(b.ServerObserved))
		} else if bEnd.First == nil {
			s += "; the backend leg was still open at the end of the capture"
		}
		return s
	case cEnd.First == nil && bEnd.First == nil:
		return "both legs were still open at the end of the capture"
	}
	return fmt.Sprintf("the client leg ended %s, the backend leg %s", c.Verdict, b.Verdict)
}

// relayed says what the proxy did with a close frame from one end (sent): the close frame it
// sent on the other leg (out, nil when none), or how it ended that leg. leg is the other
// leg's record, proxy the proxy's side on it, peer the name of the other end.
func relayed(sent, out *report.Close, leg *report.Record, proxy report.Side, peer string) string {
	if out != nil {
		later := report.HintDuration(out.Time.Sub(sent.Time.Time))
		if sameCode(sent, out) {
			return fmt.Sprintf("the proxy passed it on to the %s %s later", peer, later)
		}
		return fmt.Sprintf("the proxy sent %s to the %s %s later", closeText(out), peer, later)
	}
	saw := observed(leg.ClientObserved)
	if proxy == report.SideClient {
		saw = observed(leg.ServerObserved)
	}
	end := leg.TCPEnd
	if end.First != nil && *end.First == proxy {
		return fmt.Sprintf("the proxy then closed the %s leg without a close frame (%s) %s later: the %s saw %s",
			peer, strings.ToUpper(*end.How), report.HintDuration(end.Time.Sub(sent.Time.Time)), peer, saw)
	}
	if end.First != nil {
		return fmt.Sprintf("no close frame reached the %s before it %s", peer, ended(end))
	}
	return fmt.Sprintf("no close frame reached the %s, whose leg was still open at the end of the capture", peer)
}

// proxyClosed tells a proxy that sent close frames of its own while neither end sent one.
func proxyClosed(c, b *report.Record) string {
	var parts []string
	if c.ServerClose != nil {
		parts = append(parts, "sent "+closeText(c.ServerClose)+" to the client")
	}
	if b.ClientClose != nil {
		parts = append(parts, "sent "+closeText(b.ClientClose)+" to the backend")
	}
	s := "neither end sent a close frame; the proxy " + strings.Join(parts, " and ")
	if b.ClientClose == nil && b.TCPEnd.First != nil && *b.TCPEnd.First == report.SideServer {
		s += " after the backend " + ended(b.TCPEnd)
	}
	return s
}

// clientLegEnd says how the client leg ended, when the proxy did not end it.
func clientLegEnd(c *report.Record) string {
	if c.TCPEnd.First == nil {
		return "the client leg was still open at the end of the capture"
	}
	return "then the " + c.TCPEnd.First.String() + " " + ended(c.TCPEnd) + " (the client leg)"
}

// ended says how a side ended its leg: "reset its leg" or "closed its leg (FIN)".
func ended(e report.TCPEnd) string {
	if e.How != nil && *e.How == "rst" {
		return "reset its leg"
	}
	return "closed its leg (FIN)"
}

// quietBefore is the silence on both legs before t: since the later of their last
// activities (frames, or the handshake).
func quietBefore(c, b *report.Record, t time.Time) time.Duration {
	var last time.Time
	for _, r := range []*report.Record{c, b} {
		switch {
		case r.LastActivity != nil:
			last = later(last, r.LastActivity.Time)
		case r.ResponseTime != nil:
			last = later(last, r.ResponseTime.Time)
		}
	}
	if last.IsZero() || t.Before(last) {
		return 0
	}
	return t.Sub(last)
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// near reports whether d is within 2% of limit.
func near(d, limit time.Duration) bool { return absDur(d-limit) <= limit/50 }

func sameCode(a, b *report.Close) bool {
	return (a.Code == nil) == (b.Code == nil) && (a.Code == nil || *a.Code == *b.Code)
}

func closeText(c *report.Close) string {
	if c.Code == nil {
		return "a close frame without a code"
	}
	return "close " + strconv.Itoa(*c.Code)
}

func observed(code *int) string {
	if code == nil {
		return "nothing yet"
	}
	return strconv.Itoa(*code)
}
