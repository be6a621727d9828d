package wsparse

import (
	"bufio"
	"bytes"
)

// maxPooled bounds the Conns a Pool keeps for reuse.
const maxPooled = 64

// A Pool recycles Conns and the reader that parses their HTTP header blocks, so that a
// connection costs no allocations beyond what net/http makes. A Pool and the Conns it
// hands out must be used from one goroutine.
type Pool struct {
	free []*Conn
	rd   bytes.Reader
	br   *bufio.Reader
}

// Get returns a Conn ready to be fed, like NewConn.
func (p *Pool) Get(opts Options) *Conn {
	var c *Conn
	if n := len(p.free); n > 0 {
		c, p.free = p.free[n-1], p.free[:n-1]
		hdr := [2][]byte{c.dirs[0].hdr[:0], c.dirs[1].hdr[:0]}
		*c = Conn{}
		c.dirs[0].hdr, c.dirs[1].hdr = hdr[0], hdr[1]
	} else {
		c = new(Conn)
	}
	c.init(opts)
	c.pool = p
	return c
}

// Put hands c back for reuse once nothing will use it or what it returned any more
// (Handshake, Close, Pings, Findings).
func (p *Pool) Put(c *Conn) {
	if len(p.free) < maxPooled && c.pool == p {
		p.free = append(p.free, c)
	}
}

// reader returns a bufio.Reader over block for net/http, reusing the Pool's.
func (p *Pool) reader(block []byte) *bufio.Reader {
	p.rd.Reset(block)
	if p.br == nil {
		p.br = bufio.NewReader(&p.rd)
	} else {
		p.br.Reset(&p.rd)
	}
	return p.br
}

// blockReader returns a bufio.Reader over a complete header block: the Pool's when the
// Conn has one.
func (c *Conn) blockReader(block []byte) *bufio.Reader {
	if c.pool != nil {
		return c.pool.reader(block)
	}
	return blockReader(block)
}
