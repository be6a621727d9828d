package match

import (
	"fmt"
	"strings"
	"time"

	"github.com/wsclosescan/wsclosescan/report"
)

// Sides of a Pairer: the capture made at the client and the one made at the server.
const (
	ClientSide = 0
	ServerSide = 1
)

// PairOptions bound the matching of two captures.
type PairOptions struct {
	// MaxHeld bounds the unmatched records held per capture (default 4096); past it the
	// oldest is matched by timing if it can be, else written as unmatched.
	MaxHeld int
}

// Match is a connection seen in both captures, or in one only (the other is nil).
type Match struct {
	// Client is the record from the client's capture, Server from the server's.
	Client, Server *report.Record
	// MatchedBy is "4-tuple", "key" or "timing"; "" for a connection in one capture only.
	MatchedBy string
	// Offset is the server capture's clock minus the client capture's, estimated from this
	// connection's handshake as NTP does; Delay is the one-way delay (half the round trip
	// less the server's time between request and response). HasTiming says whether both
	// handshakes were complete in both captures.
	Offset, Delay time.Duration
	HasTiming     bool
	// Findings say what left one side and what arrived at the other.
	Findings []string
}

// Pairer matches the connections of two captures of the same traffic, one at the client
// and one at the server: by 4-tuple when no NAT is in between (with the same key when both
// have one), else by Sec-WebSocket-Key, then by timing, once the clock offset is known
// from an earlier match. Records of each capture come in start order; each side holds at
// most MaxHeld unmatched ones.
type Pairer struct {
	opts   PairOptions
	emit   func(Match)
	held   [2][]*report.Record
	offset time.Duration // the latest estimate
	delay  time.Duration
	known  bool
	// contested holds the held records that had two timing candidates: they are never
	// matched by timing, even once one candidate is gone.
	contested map[*report.Record]bool
}

// NewPairer returns a Pairer that passes each match (and each unmatched record) to emit.
func NewPairer(opts PairOptions, emit func(Match)) *Pairer {
	if opts.MaxHeld <= 0 {
		opts.MaxHeld = 4096
	}
	return &Pairer{opts: opts, emit: emit, contested: map[*report.Record]bool{}}
}

// Add takes the next record of one capture (ClientSide or ServerSide). Records that are
// not WebSocket connections are ignored.
func (p *Pairer) Add(side int, r *report.Record) {
	if !r.WebSocket {
		return
	}
	other := p.held[1-side]
	for i, o := range other {
		if by := directMatch(r, o); by == "4-tuple" || by == "key" && p.uniqueKey(side, key(r)) {
			p.held[1-side] = append(other[:i:i], other[i+1:]...)
			delete(p.contested, o)
			c, s := r, o
			if side == ServerSide {
				c, s = o, r
			}
			p.match(c, s, by)
			return
		}
	}
	p.held[side] = append(p.held[side], r)
	if len(p.held[side]) > p.opts.MaxHeld {
		p.evict(side)
	}
}

// Flush writes what is held: matched by timing where that is unambiguous, else unmatched,
// the client capture's first.
func (p *Pairer) Flush() {
	for _, side := range []int{ClientSide, ServerSide} {
		for len(p.held[side]) > 0 {
			p.evict(side)
		}
	}
}

// evict writes the oldest held record of a side.
func (p *Pairer) evict(side int) {
	r := p.held[side][0]
	p.held[side] = p.held[side][1:]
	o := p.timingMatch(side, r)
	delete(p.contested, r)
	if o != nil {
		delete(p.contested, o)
		c, s := r, o
		if side == ServerSide {
			c, s = o, r
		}
		p.match(c, s, "timing")
		return
	}
	m := Match{Client: r}
	if side == ServerSide {
		m = Match{Server: r}
	}
	m.Findings = []string{"seen only in the " + [2]string{"client", "server"}[side] + "'s capture"}
	p.emit(m)
}

// directMatch says how records of the two captures are the same connection: "4-tuple",
// "key", or "" when they are not shown to be.
func directMatch(a, b *report.Record) string {
	ka, kb := key(a), key(b)
	if a.ClientAddr == b.ClientAddr && a.ServerAddr == b.ServerAddr && (ka == "" || kb == "" || ka == kb) {
		return "4-tuple"
	}
	if ka != "" && ka == kb {
		return "key"
	}
	return ""
}

// uniqueKey reports whether a new record of side with key k is the only one with it on its
// side and has a single one on the other: a client that sends a fixed key (some do) leaves
// its connections to the 4-tuple and timing.
func (p *Pairer) uniqueKey(side int, k string) bool {
	want := [2]int{}
	want[1-side] = 1
	for s, held := range p.held {
		n := 0
		for _, o := range held {
			if key(o) == k {
				n++
			}
		}
		if n != want[s] {
			return false
		}
	}
	return true
}

func key(r *report.Record) string {
	if r.Request == nil {
		return ""
	}
	return r.Request.Key
}

// timingMatch finds the one record of the other capture whose upgrade request, moved by
// the clock offset, came within the tolerance of r's, when that one has no other candidate
// either. It needs an offset from an earlier match.
func (p *Pairer) timingMatch(side int, r *report.Record) *report.Record {
	if !p.known || r.RequestTime == nil || p.contested[r] {
		return nil
	}
	tol := 10*time.Millisecond + 2*p.delay
	// at converts a time of the given side to the client capture's clock.
	at := func(s int, t time.Time) time.Time {
		if s == ServerSide {
			return t.Add(-p.offset)
		}
		return t
	}
	near := func(x *report.Record, xs int, y *report.Record, ys int) bool {
		if y.RequestTime == nil {
			return false
		}
		d := at(xs, x.RequestTime.Time).Sub(at(ys, y.RequestTime.Time))
		return d <= tol && d >= -tol
	}
	var found *report.Record
	idx, n := -1, 0
	for i, o := range p.held[1-side] {
		if near(r, side, o, 1-side) {
			found, idx, n = o, i, n+1
		}
	}
	if n > 1 {
		for _, o := range p.held[1-side] {
			if near(r, side, o, 1-side) {
				p.contested[o] = true
			}
		}
		return nil
	}
	if found == nil || p.contested[found] {
		return nil
	}
	for _, o := range p.held[side] {
		if near(o, side, found, 1-side) {
			p.contested[found], p.contested[o] = true, true
			return nil
		}
	}
	other := p.held[1-side]
	p.held[1-side] = append(other[:idx:idx], other[idx+1:]...)
	return found
}

// match writes a matched pair, estimating the clock offset from its handshake.
func (p *Pairer) match(c, s *report.Record, by string) {
	m := Match{Client: c, Server: s, MatchedBy: by}
	if c.RequestTime != nil && c.ResponseTime != nil && s.RequestTime != nil && s.ResponseTime != nil {
		t1, t4 := c.RequestTime.Time, c.ResponseTime.Time
		t2, t3 := s.RequestTime.Time, s.ResponseTime.Time
		m.Offset = (t2.Sub(t1) + t3.Sub(t4)) / 2
		m.Delay = max(0, (t4.Sub(t1)-t3.Sub(t2))/2)
		m.HasTiming = true
		p.offset, p.delay, p.known = m.Offset, m.Delay, true
	}
	m.Findings = Compare(c, s, m.Offset)
	p.emit(m)
}

// Compare says what left one side and what arrived at the other, for the records of one
// connection in the client's capture (c) and the server's (s), whose clock is offset
// ahead of the client's.
func Compare(c, s *report.Record, offset time.Duration) []string {
	var out []string
	// Close frames: each is sent on one side and received on the other.
	out = append(out, closeFinding("server", s.ServerClose, c.ServerClose, offset, false)...)
	out = append(out, closeFinding("client", c.ClientClose, s.ClientClose, offset, true)...)
	out = append(out, tcpFinding(c, s)...)
	out = append(out, resetFindings(c, s)...)
	return out
}

// closeFinding compares a close frame as its sender's capture shows it (sent) with the
// receiver's (got). clientSends says the sender is the client: its capture is the client's.
func closeFinding(who string, sent, got *report.Close, offset time.Duration, clientSends bool) []string {
	peer := "client"
	if clientSends {
		peer = "server"
	}
	switch {
	case sent != nil && got == nil:
		return []string{fmt.Sprintf("the %s sent %s but the %s's capture has no close frame from it: lost on the way "+
			"(a proxy or middlebox dropped it)", who, closeText(sent), peer)}
	case sent == nil && got != nil:
		return []string{fmt.Sprintf("the %s's capture has %s from the %s that the %s's capture does not show it sending: "+
			"something in between sent it", peer, closeText(got), who, who)}
	case sent != nil && got != nil && !sameCode(sent, got):
		return []string{fmt.Sprintf("the %s sent %s; the %s received %s: something in between changed the code",
			who, closeText(sent), peer, closeText(got))}
	case sent != nil && got != nil:
		raw := got.Time.Sub(sent.Time.Time)
		d := raw + offset
		if clientSends {
			d = raw - offset
		}
		return []string{fmt.Sprintf("the %s's %s reached the %s %s later by the captures' clocks (%s with the estimated clock offset)",
			who, closeText(sent), peer, signed(raw), signed(d))}
	}
	return nil
}

// signed prints a duration that may be negative.
func signed(d time.Duration) string {
	if d < 0 {
		return "-" + report.HintDuration(-d)
	}
	return report.HintDuration(d)
}

// tcpFinding compares how TCP ended in the two captures.
func tcpFinding(c, s *report.Record) []string {
	ce, se := c.TCPEnd, s.TCPEnd
	switch {
	case ce.First == nil && se.First == nil:
		return []string{"both captures end with the connection open"}
	case se.First == nil:
		return []string{fmt.Sprintf("TCP ended in the client's capture (%s from the %s) while the server's capture shows it open",
			strings.ToUpper(*ce.How), *ce.First)}
	case ce.First == nil:
		return []string{fmt.Sprintf("TCP ended in the server's capture (%s from the %s) while the client's capture shows it open",
			strings.ToUpper(*se.How), *se.First)}
	case *ce.First != *se.First:
		return []string{fmt.Sprintf("in the client's capture the %s ended TCP first (%s), in the server's the %s did (%s): "+
			"something in between (a proxy) ended both connections", *ce.First, strings.ToUpper(*ce.How), *se.First, strings.ToUpper(*se.How))}
	}
	return []string{fmt.Sprintf("both captures show the %s ending TCP first (%s in the client's, %s in the server's)",
		*ce.First, strings.ToUpper(*ce.How), strings.ToUpper(*se.How))}
}

// resetFindings reports a RST in one capture only: a middlebox sent it, or dropped it.
func resetFindings(c, s *report.Record) []string {
	cr, sr := isRST(c), isRST(s)
	switch {
	case cr && !sr:
		return []string{fmt.Sprintf("the client's capture shows a RST from the %s that the server's capture does not: "+
			"a middlebox reset the client's connection", c.TCPEnd.First)}
	case sr && !cr:
		return []string{fmt.Sprintf("the server's capture shows a RST from the %s that the client's capture does not: "+
			"a middlebox reset it, or dropped it on the way", s.TCPEnd.First)}
	}
	return nil
}

func isRST(r *report.Record) bool { return r.TCPEnd.How != nil && *r.TCPEnd.How == "rst" }

// Offset is the latest estimate of the server capture's clock minus the client's (0 until
// a match with complete handshakes).
func (p *Pairer) Offset() time.Duration { return p.offset }
