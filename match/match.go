// Package match pairs records that are two views of one WebSocket: the two legs of a
// connection relayed by a proxy, seen in one capture (Legs), and the same connection seen
// in two captures, at the client and at the server (Pair).
//
// Legs pairs a client leg (client to proxy) with a backend leg (proxy to server) by the
// evidence the proxy leaves, strongest first: the same Sec-WebSocket-Key (nginx, HAProxy,
// Envoy and most proxies forward it); a forwarding header (X-Forwarded-For, Forwarded) on
// the backend leg naming the client leg's client; or timing alone, when the backend
// handshake nests inside the client's (the proxy sent its request after the client's and
// relayed the 101 after the backend's) and starts from the address the client leg went to.
// A pair is made only when it is the only one possible at its level of evidence, from both
// legs' points of view; two candidates and neither is paired.
package match

import (
	"net/netip"
	"time"

	"github.com/wsclosescan/wsclosescan/report"
)

// Evidence levels, weakest first.
const (
	byNothing = iota
	byTiming
	byForwarded
	byKey
)

var evidenceNames = [...]string{byTiming: "timing", byForwarded: "forwarded", byKey: "key"}

// Options bound the matching.
type Options struct {
	// Window is the longest time from the client's upgrade request to the proxy's request
	// on the backend leg (default 1 s). A record is held for that long in capture time
	// after its request, for its other leg to come.
	Window time.Duration
	// MaxHeld bounds the records held at once (default 256); past it the oldest is
	// written unpaired.
	MaxHeld int
	// IdleHint is how much silence before both legs close counts as the proxy's idle
	// timeout in the story (default 1 s, as --idle-hint).
	IdleHint time.Duration
	// ByEnd says the records come in end order (--order end: by Record.Released), not in
	// start order. A record is then held for Window after its release, and a backend leg
	// released before its client leg is paired when it is the oldest held record.
	ByEnd bool
}

// DefaultOptions returns the default Options.
func DefaultOptions() Options {
	return Options{Window: time.Second, MaxHeld: 256, IdleHint: time.Second}
}

// Legs pairs the legs of proxied WebSockets among records given in start order, and passes
// every record on, in the same order, once its other leg has been found or can no longer
// come. It holds at most MaxHeld records.
type Legs struct {
	opts  Options
	emit  func(*report.Record)
	q     []*leg
	early bool // releasing before the head's window has passed (Pause)
	// The held records with a request by key, by the address their forwarding header
	// names, by client address and by server address.
	byKey              map[string][]*leg
	byFwd              map[netip.Addr][]*leg
	byClient, byServer map[netip.Addr][]*leg
	cands              []*leg
	gen                uint64 // marks the legs collected into cands
}

// leg is a held record and what matching reads from it.
type leg struct {
	r         *report.Record
	req, resp time.Time // zero when not seen
	fwd       Forwarder
	hasFwd    bool
	paired    bool
	contested int    // the evidence level at which the record had two candidates
	gen       uint64 // the last candidate collection that took it
}

// NewLegs returns a Legs that passes records on to emit.
func NewLegs(opts Options, emit func(*report.Record)) *Legs {
	d := DefaultOptions()
	if opts.Window <= 0 {
		opts.Window = d.Window
	}
	if opts.MaxHeld <= 0 {
		opts.MaxHeld = d.MaxHeld
	}
	if opts.IdleHint <= 0 {
		opts.IdleHint = d.IdleHint
	}
	return &Legs{opts: opts, emit: emit, byKey: map[string][]*leg{}, byFwd: map[netip.Addr][]*leg{},
		byClient: map[netip.Addr][]*leg{}, byServer: map[netip.Addr][]*leg{}}
}

// Add takes the next record in start order (in end order with Options.ByEnd).
func (m *Legs) Add(r *report.Record) {
	l := &leg{r: r}
	if r.WebSocket && r.Request != nil && r.RequestTime != nil {
		l.req = r.RequestTime.Time
		if r.ResponseTime != nil {
			l.resp = r.ResponseTime.Time
		}
		l.fwd, l.hasFwd = LastForwarder(r.Request.XForwardedFor, r.Request.Forwarded)
		m.index(l, true)
	}
	m.q = append(m.q, l)
	for len(m.q) > 0 {
		h := m.q[0]
		if len(m.q) <= m.opts.MaxHeld && !h.req.IsZero() && !h.paired && !m.after(r, h) {
			break
		}
		m.release()
	}
}

// after reports whether the record r comes too late for the held record h to wait for it:
// in start order, r starts more than Window after h's request; in end order, r was
// released more than Window after h.
func (m *Legs) after(r *report.Record, h *leg) bool {
	if m.opts.ByEnd {
		return r.Released.After(h.r.Released.Add(m.opts.Window))
	}
	return r.Start.After(h.req.Add(m.opts.Window))
}

// Flush passes every held record on: the input has ended.
func (m *Legs) Flush() {
	for len(m.q) > 0 {
		m.release()
	}
}

// Pause passes every held record on because the input paused (live capture from a pipe),
// so that what is known reaches the reader now. A record whose other leg may still come
// is then paired only by the Sec-WebSocket-Key: a weaker candidate among the records
// present could be the wrong one.
func (m *Legs) Pause() {
	for len(m.q) > 0 {
		m.early = true
		m.release()
	}
	m.early = false
}

// release pairs the oldest held record if it can be, and passes it on.
func (m *Legs) release() {
	h := m.q[0]
	if !h.req.IsZero() {
		if !h.paired {
			m.pairHead()
		}
		m.index(h, false)
	}
	m.q[0] = nil
	m.q = m.q[1:]
	if len(m.q) == 0 {
		m.q = m.q[:0:0] // let the backing array go rather than creep through memory
	}
	m.emit(h.r)
}

// pairHead pairs the oldest record with its other leg among the later ones: every
// candidate has arrived, as the head is released only once a record past its window has
// come. In start order the client leg comes first, so the head is tried as a client leg;
// in end order the backend leg may be released first, so it is then tried as one too.
func (m *Legs) pairHead() {
	if h := m.q[0]; !m.pairAs(h, false) && m.opts.ByEnd {
		m.pairAs(h, true)
	}
}

// pairAs looks for the other leg of h, taking h for the backend leg with asBackend, else
// for the client leg. Candidates are found through the indexes, not by a scan of the
// queue. It reports whether h was paired.
func (m *Legs) pairAs(h *leg, asBackend bool) bool {
	// others returns the candidates for x's other leg; ev the evidence that x, in h's role,
	// and y, in the other, are one WebSocket's legs.
	others, same := m.backendCandidates, m.clientCandidates
	ev := m.level
	if asBackend {
		others, same = m.clientCandidates, m.backendCandidates
		ev = func(x, y *leg) int { return m.level(y, x) }
	}
	// The same key first: when it pairs, weaker evidence cannot compete.
	cands := others(h, byKey)
	best, n, o := bestOf(h, cands, ev)
	if best < byKey {
		cands = others(h, byTiming)
		best, n, o = bestOf(h, cands, ev)
	}
	if best == byNothing || m.early && best < byKey {
		return false
	}
	if n > 1 {
		for _, c := range cands {
			if ev(h, c) == best {
				c.contested = max(c.contested, best)
			}
		}
		return false
	}
	if o.contested >= best {
		return false
	}
	// From the other leg's side: no other held record is as good a match for it.
	for _, c := range same(o, best) {
		if c != h && ev(c, o) >= best {
			o.contested = best
			return false
		}
	}
	a, b := h, o
	if asBackend {
		a, b = o, h
	}
	a.paired, b.paired = true, true
	story := Story(a.r, b.r, m.opts.IdleHint)
	a.r.Proxy = &report.Proxy{Leg: "client", MatchedBy: evidenceNames[best], Other: b.r.Leg(), Story: story}
	b.r.Proxy = &report.Proxy{Leg: "backend", MatchedBy: evidenceNames[best], Other: a.r.Leg(), Story: story}
	return true
}

// bestOf returns the strongest evidence ev(x, c) among cands, how many candidates have it,
// and one of them.
func bestOf(x *leg, cands []*leg, ev func(x, y *leg) int) (best, n int, b *leg) {
	for _, c := range cands {
		switch lvl := ev(x, c); {
		case lvl > best:
			best, n, b = lvl, 1, c
		case lvl == best && lvl > byNothing:
			n++
		}
	}
	return best, n, b
}

// backendCandidates returns the unpaired held records that may be a's backend leg with
// evidence of at least the level lowest, each once: those with its key, those whose
// forwarding header names its client's address, and those from the address it connected
// to (timing).
func (m *Legs) backendCandidates(a *leg, lowest int) []*leg {
	m.gen++
	m.cands = m.cands[:0]
	if k := a.r.Request.Key; k != "" {
		m.collect(a, m.byKey[k])
	}
	if lowest <= byForwarded {
		m.collect(a, m.byFwd[a.r.ClientAddr.Addr().Unmap()])
	}
	if lowest <= byTiming {
		m.collect(a, m.byClient[a.r.ServerAddr.Addr().Unmap()])
	}
	return m.cands
}

// clientCandidates returns the unpaired held records that may be b's client leg with
// evidence of at least the level lowest, each once: those with its key, those from the
// client its forwarding header names, and those that connected to the address it comes
// from (timing).
func (m *Legs) clientCandidates(b *leg, lowest int) []*leg {
	m.gen++
	m.cands = m.cands[:0]
	if k := b.r.Request.Key; k != "" {
		m.collect(b, m.byKey[k])
	}
	if b.hasFwd && lowest <= byForwarded {
		m.collect(b, m.byClient[b.fwd.Addr])
	}
	if lowest <= byTiming {
		m.collect(b, m.byServer[b.r.ClientAddr.Addr().Unmap()])
	}
	return m.cands
}

// collect adds the unpaired legs of ls but self to m.cands, once per generation.
func (m *Legs) collect(self *leg, ls []*leg) {
	for _, l := range ls {
		if l != self && !l.paired && l.gen != m.gen {
			l.gen = m.gen
			m.cands = append(m.cands, l)
		}
	}
}

// index adds a held record with a request to the indexes, or removes it (add false).
func (m *Legs) index(l *leg, add bool) {
	upd := func(ix map[netip.Addr][]*leg, k netip.Addr) {
		if add {
			ix[k] = append(ix[k], l)
		} else {
			ix[k] = removeLeg(ix[k], l)
			if len(ix[k]) == 0 {
				delete(ix, k)
			}
		}
	}
	if k := l.r.Request.Key; k != "" {
		if add {
			m.byKey[k] = append(m.byKey[k], l)
		} else if m.byKey[k] = removeLeg(m.byKey[k], l); len(m.byKey[k]) == 0 {
			delete(m.byKey, k)
		}
	}
	if l.hasFwd {
		upd(m.byFwd, l.fwd.Addr)
	}
	upd(m.byClient, l.r.ClientAddr.Addr().Unmap())
	upd(m.byServer, l.r.ServerAddr.Addr().Unmap())
}

// removeLeg removes l from ls. Legs leave in the order they came, so l is the first.
func removeLeg(ls []*leg, l *leg) []*leg {
	if len(ls) > 0 && ls[0] == l {
		ls[0] = nil
		return ls[1:]
	}
	for i, x := range ls {
		if x == l {
			return append(ls[:i], ls[i+1:]...)
		}
	}
	return ls
}

// level is the evidence that b is the backend leg of the client leg a.
func (m *Legs) level(a, b *leg) int {
	ra, rb := a.r, b.r
	if ra.ClientAddr == rb.ClientAddr || ra.ServerAddr == rb.ServerAddr {
		return byNothing // the same connection, or two clients of one server
	}
	if b.req.Before(a.req) || b.req.Sub(a.req) > m.opts.Window {
		return byNothing
	}
	// The proxy relays the backend's 101 to the client: not before it got it.
	if !a.resp.IsZero() && !b.resp.IsZero() && b.resp.After(a.resp) {
		return byNothing
	}
	if k := ra.Request.Key; k != "" && k == rb.Request.Key {
		return byKey
	}
	if b.hasFwd {
		if b.fwd.Names(ra.ClientAddr) {
			return byForwarded
		}
		return byNothing // it names another client
	}
	if !a.resp.IsZero() && !b.resp.IsZero() && ra.ServerAddr.Addr().Unmap() == rb.ClientAddr.Addr().Unmap() {
		return byTiming
	}
	return byNothing
}
