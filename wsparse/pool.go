package wsparse

import (
	"github.com/wsclosescan/wsclosescan/http1"
	"github.com/wsclosescan/wsclosescan/internal/freelist"
)

// maxPooled bounds the Conns a Pool keeps for reuse.
const maxPooled = 64

// A Pool recycles Conns and the parser of their HTTP header blocks, so that a connection
// costs no allocations beyond what net/http makes. A Pool and the Conns it hands out must
// be used from one goroutine.
type Pool struct {
	free  []*Conn
	https freelist.List[httpDir]   // the HTTP state of directions, for reuse
	ctrls freelist.List[ctrlBuf]   // control payload buffers, for reuse
	hss   freelist.List[Handshake] // Handshakes being made, for reuse once packed
	http  http1.Parser
	// The inflaters of Options.Payloads: how many are in use, and idle ones for reuse.
	inflating int
	inflaters []*inflater
	lims      []*limits // the distinct limits of its Conns, shared (at most maxPoolLimits)
	dict      hsDict    // strings the packed handshakes of its Conns share
}

// limitsFor returns limits equal to l, shared with the Pool's other Conns when p is not nil.
func (p *Pool) limitsFor(l limits) *limits {
	if p == nil {
		return &l
	}
	for _, have := range p.lims {
		if *have == l {
			return have
		}
	}
	if len(p.lims) >= maxPoolLimits {
		return &l
	}
	p.lims = append(p.lims, &l)
	return &l
}

// Get returns a Conn ready to be fed, like NewConn.
func (p *Pool) Get(opts Options) *Conn {
	var c *Conn
	if n := len(p.free); n > 0 {
		c, p.free = p.free[n-1], p.free[:n-1]
		*c = Conn{}
	} else {
		c = new(Conn)
	}
	c.pool = p
	c.init(opts)
	return c
}

// Put hands c back for reuse once nothing will use it or what it returned any more
// (Handshake, Close, Pings, Findings).
func (p *Pool) Put(c *Conn) {
	if c.pool == p {
		c.releaseInflaters()
		for i := range c.dirs {
			if h := c.dirs[i].http; h != nil {
				c.dirs[i].http = nil
				p.putHTTP(h)
			}
			c.dropCtrl(&c.dirs[i].fs)
		}
	}
	if len(p.free) < maxPooled && c.pool == p {
		p.free = append(p.free, c)
	}
}

// getHTTP returns the HTTP state for a direction that starts speaking HTTP.
func (p *Pool) getHTTP() *httpDir { return p.https.Get() }

// putHTTP keeps h, and its header buffer if small, for another direction.
func (p *Pool) putHTTP(h *httpDir) {
	if p.https.Len() >= 2*maxPooled {
		return
	}
	hdr := h.hdr[:0]
	if cap(hdr) > maxKeptHeader {
		hdr = nil
	}
	*h = httpDir{hdr: hdr}
	p.https.Put(h, 2*maxPooled)
}

// parseRequest parses a request header block with the Pool's parser when the Conn has one.
func (c *Conn) parseRequest(block []byte, truncated bool) (http1.Request, error) {
	if c.pool != nil {
		return c.pool.http.Request(block, truncated)
	}
	return http1.ParseRequest(block, truncated)
}

// parseResponse parses a response header block as parseRequest does.
func (c *Conn) parseResponse(block []byte, truncated, head bool) (http1.Response, error) {
	if c.pool != nil {
		return c.pool.http.Response(block, truncated, head)
	}
	return http1.ParseResponse(block, truncated, head)
}
