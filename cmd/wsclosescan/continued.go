package main

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/wsclosescan/wsclosescan/report"
)

// continuations finds connections of one file that seem to continue in the next when
// several files are read separately (without --merge): a connection open at the end of a
// file, and one with the same addresses and ports in the next file whose handshake that
// file does not hold, starting after the first one's last packet. The later record gets
// a hint; a hint line on stderr counts them. It keeps the connections open at the end of
// the file being read and of the one before, nothing more.
type continuations struct {
	cur, prev map[[2]netip.AddrPort]openEnd
	n         int    // records that got the hint
	example   string // the first of them
}

// openEnd is a connection open at the end of its file: the file, its number in the
// output and its last packet.
type openEnd struct {
	file string
	end  time.Time
}

func newContinuations() *continuations {
	return &continuations{cur: map[[2]netip.AddrPort]openEnd{}}
}

// pairKey is the connection's two ends, in an order that does not depend on which side
// was taken for the client.
func pairKey(r *report.Record) [2]netip.AddrPort {
	a, b := r.ClientAddr, r.ServerAddr
	if b.Compare(a) < 0 {
		a, b = b, a
	}
	return [2]netip.AddrPort{a, b}
}

// see looks at a record as it is written, before any filter.
func (c *continuations) see(r *report.Record) {
	if r.H2 != nil || !r.ClientAddr.IsValid() {
		return
	}
	k := pairKey(r)
	if e, ok := c.prev[k]; ok && r.Handshake == report.HandshakeNotSeen && !r.Start.Before(e.end) {
		r.Hints = append(r.Hints, fmt.Sprintf("this connection has the addresses and ports of one still open at the "+
			"end of %s, and its handshake is not in this file: it likely continues that one; read the files "+
			"together with --merge to see it whole", e.file))
		if c.n++; c.n == 1 {
			c.example = fmt.Sprintf("%s -> %s in %s continues one open at the end of %s", r.Client, r.Server, r.File, e.file)
		}
	}
	if r.Verdict == report.VerdictOpenAtEnd {
		c.cur[k] = openEnd{file: r.File, end: r.End.Time}
	}
}

// nextFile is called after each file's records are written.
func (c *continuations) nextFile() {
	c.prev, c.cur = c.cur, map[[2]netip.AddrPort]openEnd{}
}
