package reassembly

import (
	"net/netip"
	"slices"
	"time"
)

// Half-open connections. A connection whose segments so far are a SYN without payload,
// possibly answered by a SYN-ACK without payload, and retransmissions of those, is kept in
// a compact table instead of as a conn with a Stream: a SYN flood or scan costs about
// 150 bytes per 4-tuple instead of several kilobytes. The first other segment (data, the
// handshake's ACK, a FIN, an RST, a SYN that does not fit) promotes it: a conn and its
// Stream are created and the stored segments replayed into them, in order and with their
// own times and frame numbers, before the segment is processed as usual. What the Stream
// sees is thus what it would have seen without the table, except that NewStream comes
// later. A half-open connection that is never promoted is replayed the same way when it
// is released (Flush, IdleTimeout, MaxConns).

// synSeg is a payload-less SYN or SYN-ACK kept for replay.
type synSeg struct {
	time       int64  // capture time, Unix nanoseconds (UTC)
	frame      uint64 // frame number
	seq, ack   uint32
	win        uint16
	flags      TCPFlags
	wscale     uint8
	hasWScale  bool
	fromClient bool
	retrans    uint16 // identical copies seen later (counted as retransmissions)
}

// packedAddr is an address and port without pointers, so that the garbage collector
// never scans the half-open table: kind is 0 for IPv4, 1 for IPv6, 2+i for IPv6 in zone
// halfTable.zones[i].
type packedAddr struct {
	ip   [16]byte
	port uint16
	kind uint16
}

// pack returns the packed form of ap.
func (t *halfTable) pack(ap netip.AddrPort) packedAddr {
	a := ap.Addr()
	p := packedAddr{ip: a.As16(), port: ap.Port()}
	switch z := a.Zone(); {
	case a.Is4():
		p.kind = 0
	case z == "":
		p.kind = 1
	default:
		k := slices.Index(t.zones, z)
		if k < 0 {
			k = len(t.zones)
			t.zones = append(t.zones, z)
		}
		p.kind = uint16(min(k, 1<<16-3) + 2)
	}
	return p
}

// unpack returns the address and port p was packed from.
func (t *halfTable) unpack(p *packedAddr) netip.AddrPort {
	var a netip.Addr
	switch p.kind {
	case 0:
		a = netip.AddrFrom4([4]byte(p.ip[12:]))
	case 1:
		a = netip.AddrFrom16(p.ip)
	default:
		a = netip.AddrFrom16(p.ip).WithZone(t.zones[p.kind-2])
	}
	return netip.AddrPortFrom(a, p.port)
}

// halfOpen is one half-open connection: its first SYN (or SYN-ACK) and, for a SYN, the
// SYN-ACK that answered it. It holds no pointer.
type halfOpen struct {
	client, server packedAddr
	segs           [2]synSeg
	hash           uint64   // FlowHash of the endpoints
	n              uint8    // segs in use; 0: the slot is free
	by             ClientBy // how pickClient decided
	last           int64    // capture time of the last segment, Unix nanoseconds
	lastFrame      uint64
	prev, next     uint32 // the creation-order list (1-based slab indices, 0: none)
}

// halfPage is how many half-open connections one slab page holds.
const halfPage = 1024

// halfTable holds the half-open connections: a slab of fixed pages (so that growing
// never copies it) with a free list, an open-addressing index over it keyed like
// connTable, and a list in creation order, which is start order (eviction, expiry and
// Flush order).
type halfTable struct {
	pages      []*[halfPage]halfOpen
	free       []uint32 // slab indices (1-based) freed, to be used again
	used       uint32   // slab indices 1..used have been handed out
	slots      []uint64 // high 32 bits: hash bits; low 32: 1-based slab index; 0: empty
	n          int
	head, tail uint32
	zones      []string // IPv6 zones seen, for packedAddr
	// unindexed: the index was dropped (dropIndex) and slots is nil; find and add rebuild it.
	unindexed bool
}

// dropIndex drops the index when every entry is about to be removed (Flush): remove then
// only unlinks the entry, instead of a probe and a shift that read the slab entries of
// the run, cache misses all, a million times for a SYN flood. find and add rebuild it.
func (t *halfTable) dropIndex() {
	t.slots, t.unindexed = nil, true
}

// reindex rebuilds the index dropped by dropIndex.
func (t *halfTable) reindex() {
	size := minTableSlots
	for size < 2*(t.n+1) {
		size *= 2
	}
	t.slots, t.unindexed = make([]uint64, size), false
	for i := t.head; i != 0; i = t.at(i).next {
		t.put(t.at(i).hash, i)
	}
}

func (t *halfTable) at(i uint32) *halfOpen {
	i--
	return &t.pages[i/halfPage][i%halfPage]
}

// reset frees the table's memory, forgetting every entry.
func (t *halfTable) reset() {
	for _, p := range t.pages {
		freeHalfPage(p)
	}
	*t = halfTable{}
}

// slotOf is the index entry of slab index i with hash h.
func slotOf(h uint64, i uint32) uint64 { return h&^0xffffffff | uint64(i) }

// halfHome is the home slot of hash h in an index of mask+1 slots. It comes from the high
// half of the hash, the part an index entry keeps, so that growing the index and shifting
// entries back after a removal need not read the slab (a cache miss for every entry, a
// million times for a SYN flood).
func halfHome(h, mask uint64) uint64 { return h >> 32 & mask }

// find returns the slab index of the half-open connection between src and dst (flow is
// their FlowHash), or 0.
func (t *halfTable) find(flow uint64, src, dst netip.AddrPort) uint32 {
	if t.n == 0 {
		return 0
	}
	if t.unindexed {
		t.reindex()
	}
	mask := uint64(len(t.slots) - 1)
	for k := halfHome(flow, mask); ; k = (k + 1) & mask {
		s := t.slots[k]
		if s == 0 {
			return 0
		}
		if s>>32 != flow>>32 {
			continue
		}
		i := uint32(s)
		if _, ok := t.match(i, src, dst); ok {
			return i
		}
	}
}

// ends returns the client and server of half-open connection i.
func (t *halfTable) ends(i uint32) (client, server netip.AddrPort) {
	h := t.at(i)
	return t.unpack(&h.client), t.unpack(&h.server)
}

// match is conn.match for half-open connection i.
func (t *halfTable) match(i uint32, src, dst netip.AddrPort) (fromClient, ok bool) {
	client, server := t.ends(i)
	switch {
	case src == client && dst == server:
		return true, true
	case src == server && dst == client:
		return false, true
	}
	es, ed := endpointOf(src), endpointOf(dst)
	ec, ev := endpointOf(client), endpointOf(server)
	switch {
	case es == ec && ed == ev:
		return true, true
	case es == ev && ed == ec:
		return false, true
	}
	return false, false
}

// add stores a new half-open connection for seg (flow is its FlowHash).
func (t *halfTable) add(seg *Segment, flow uint64) {
	var i uint32
	switch {
	case len(t.free) > 0:
		i = t.free[len(t.free)-1]
		t.free = t.free[:len(t.free)-1]
	default:
		if t.used == uint32(len(t.pages))*halfPage {
			t.pages = append(t.pages, newHalfPage())
		}
		t.used++
		i = t.used
	}
	h := t.at(i)
	srcIsClient, by := pickClient(seg)
	*h = halfOpen{client: t.pack(seg.Src), server: t.pack(seg.Dst), by: by, hash: flow, prev: t.tail}
	if !srcIsClient {
		h.client, h.server = h.server, h.client
	}
	h.store(seg, srcIsClient)
	if t.tail != 0 {
		t.at(t.tail).next = i
	} else {
		t.head = i
	}
	t.tail = i
	if t.unindexed {
		t.reindex()
	}
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	t.put(flow, i)
	t.n++
}

// put indexes slab index i under hash flow.
func (t *halfTable) put(flow uint64, i uint32) {
	mask := uint64(len(t.slots) - 1)
	k := halfHome(flow, mask)
	for t.slots[k] != 0 {
		k = (k + 1) & mask
	}
	t.slots[k] = slotOf(flow, i)
}

// grow doubles the index. An entry's home slot comes from the part of its hash the entry
// keeps (halfHome). The old entries are put in slot order from the start of a run, so
// that the writes sweep the new index instead of landing at random (an entry's new home
// is its old one or that plus the old size): a cache miss each for a million SYNs.
func (t *halfTable) grow() {
	old := t.slots
	t.slots = make([]uint64, max(2*len(old), minTableSlots))
	start := 0
	for start < len(old) && old[start] != 0 {
		start++
	}
	for k := range old {
		if s := old[(start+k)%len(old)]; s != 0 {
			t.put(s, uint32(s))
		}
	}
}

// remove deletes slab index i from the index, the list and the slab.
func (t *halfTable) remove(i uint32) {
	if !t.unindexed {
		t.unindex(i)
	}
	t.n--
	t.unlink(i)
	*t.at(i) = halfOpen{}
	t.free = append(t.free, i)
}

// unindex deletes slab index i from the index.
func (t *halfTable) unindex(i uint32) {
	flow := t.at(i).hash
	mask := uint64(len(t.slots) - 1)
	k := halfHome(flow, mask)
	for uint32(t.slots[k]) != i {
		k = (k + 1) & mask
	}
	// Shift back the entries of the run that may move into the hole (see connTable.remove);
	// their home slots come from their entries.
	for j := (k + 1) & mask; t.slots[j] != 0; j = (j + 1) & mask {
		home := halfHome(t.slots[j], mask)
		if (j-home)&mask >= (j-k)&mask {
			t.slots[k] = t.slots[j]
			k = j
		}
	}
	t.slots[k] = 0
}

func (t *halfTable) unlink(i uint32) {
	h := t.at(i)
	if h.prev != 0 {
		t.at(h.prev).next = h.next
	} else {
		t.head = h.next
	}
	if h.next != 0 {
		t.at(h.next).prev = h.prev
	} else {
		t.tail = h.prev
	}
	h.prev, h.next = 0, 0
}

// storable reports whether seg may open a half-open connection: a SYN or SYN-ACK with no
// payload, FIN or RST.
func storable(seg *Segment) bool {
	return seg.Flags&(FlagSYN|FlagFIN|FlagRST) == FlagSYN && len(seg.Payload) == 0 && seg.Missing <= 0
}

func (h *halfOpen) store(seg *Segment, fromClient bool) {
	h.segs[h.n] = synSeg{time: seg.Time.UnixNano(), frame: seg.Frame, seq: seg.Seq, ack: seg.Ack, win: seg.Window,
		flags: seg.Flags, wscale: seg.WScale, hasWScale: seg.HasWScale, fromClient: fromClient}
	h.n++
	h.last, h.lastFrame = seg.Time.UnixNano(), seg.Frame
}

// absorb takes seg, of the half-open connection h, if it keeps it half-open: an identical
// copy of a stored segment (a retransmission), or the SYN-ACK answering its SYN. It
// reports false, changing nothing, for any other segment, which promotes the connection.
func (h *halfOpen) absorb(seg *Segment, fromClient bool) bool {
	if !storable(seg) {
		return false
	}
	for k := range h.n {
		g := &h.segs[k]
		if g.fromClient == fromClient && g.seq == seg.Seq && g.ack == seg.Ack && g.flags == seg.Flags &&
			g.win == seg.Window && g.retrans < ^uint16(0) {
			g.retrans++
			h.last, h.lastFrame = seg.Time.UnixNano(), seg.Frame
			return true
		}
	}
	first := &h.segs[0]
	if h.n == 1 && first.fromClient && !first.flags.Has(FlagACK) && !fromClient && seg.Flags.Has(FlagACK) &&
		seg.Ack == first.seq+1 {
		h.store(seg, fromClient)
		return true
	}
	return false
}

// segment rebuilds stored segment k of h, whose endpoints are client and server.
func (h *halfOpen) segment(k int, client, server netip.AddrPort) Segment {
	g := &h.segs[k]
	seg := Segment{Time: time.Unix(0, g.time).UTC(), Src: client, Dst: server, Seq: g.seq, Ack: g.ack,
		Flags: g.flags, Window: g.win, WScale: g.wscale, HasWScale: g.hasWScale, Frame: g.frame}
	if !g.fromClient {
		seg.Src, seg.Dst = server, client
	}
	return seg
}
