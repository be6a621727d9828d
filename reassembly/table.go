package reassembly

import (
	"encoding/binary"
	"net/netip"
)

// endpoint is an address and port in the form connections are keyed by: the 16-byte
// address as two big-endian words, so that IPv6 zones are ignored and an IPv4 address
// equals its IPv4-mapped IPv6 form.
type endpoint struct {
	hi, lo uint64
	port   uint16
}

// endpointOf returns the key form of ap. IPv4 addresses take the As4 path: As16 stores
// the address in two halves that are then loaded as one, a store-forwarding stall that
// cost more than the rest of a table lookup.
func endpointOf(ap netip.AddrPort) endpoint {
	a := ap.Addr()
	if a.Is4() {
		b := a.As4()
		return endpoint{lo: 0xffff<<32 | uint64(binary.BigEndian.Uint32(b[:])), port: ap.Port()}
	}
	b := a.As16()
	return endpoint{hi: binary.BigEndian.Uint64(b[:8]), lo: binary.BigEndian.Uint64(b[8:]), port: ap.Port()}
}

// hash mixes the endpoint into 64 bits.
func (e *endpoint) hash() uint64 {
	x := e.hi*0x9E3779B97F4A7C15 ^ e.lo*0xC2B2AE3D27D4EB4F ^ uint64(e.port)*0x165667B19E3779F9
	x ^= x >> 29
	x *= 0xBF58476D1CE4E5B9
	return x ^ x>>32
}

// connTable finds a connection by its two endpoints in either order. It is an
// open-addressing table with linear probing, keyed by a hash that does not depend on the
// direction, so each connection has one slot; deletion shifts the following entries back,
// so lookups never wade through tombstones however many connections come and go. It
// replaces a map keyed by both directed 4-tuples, which cost two entries per connection
// and most of the time of a lookup.
type connTable struct {
	slots []tableSlot // len is a power of two, at most half full
	n     int
}

type tableSlot struct {
	hash uint64
	c    *conn // nil: empty
}

const minTableSlots = 64

// flowHash is the table hash of a connection between a and b, in either direction.
func flowHash(a, b *endpoint) uint64 { return a.hash() + b.hash() }

// FlowHash returns a 64-bit hash of the connection between a and b that does not depend
// on the direction, ignores IPv6 zones and treats an IPv4-mapped IPv6 address as the IPv4
// address, as the Assembler does when it matches segments to connections. Callers that
// split a capture between several Assemblers use it to send both directions of a
// connection to the same one.
func FlowHash(a, b netip.AddrPort) uint64 {
	ea, eb := endpointOf(a), endpointOf(b)
	return flowHash(&ea, &eb)
}

// find returns the connection between src and dst stored under hash h, and the
// direction from src to dst.
func (t *connTable) find(h uint64, src, dst netip.AddrPort) (*conn, Dir) {
	if len(t.slots) == 0 {
		return nil, 0
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.c == nil {
			return nil, 0
		}
		if s.hash != h {
			continue
		}
		if d, ok := s.c.match(src, dst); ok {
			return s.c, d
		}
	}
}

// insert adds c, which must not be in the table, under hash h.
func (t *connTable) insert(h uint64, c *conn) {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	mask := uint64(len(t.slots) - 1)
	i := h & mask
	for t.slots[i].c != nil {
		i = (i + 1) & mask
	}
	t.slots[i] = tableSlot{hash: h, c: c}
	t.n++
}

func (t *connTable) grow() {
	old := t.slots
	t.slots = make([]tableSlot, max(2*len(old), minTableSlots))
	t.n = 0
	for _, s := range old {
		if s.c != nil {
			t.insert(s.hash, s.c)
		}
	}
}

// remove deletes c, stored under hash h, if it is in the table.
func (t *connTable) remove(h uint64, c *conn) {
	if len(t.slots) == 0 {
		return
	}
	mask := uint64(len(t.slots) - 1)
	i := h & mask
	for t.slots[i].c != c {
		if t.slots[i].c == nil {
			return
		}
		i = (i + 1) & mask
	}
	// Shift back every following entry of the run that may move into the hole: one whose
	// home slot is not cyclically in (hole, j].
	for j := (i + 1) & mask; t.slots[j].c != nil; j = (j + 1) & mask {
		home := t.slots[j].hash & mask
		if (j-home)&mask >= (j-i)&mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = tableSlot{}
	t.n--
}
