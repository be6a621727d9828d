package reassembly

// Intrusive doubly-linked lists of connections. A conn carries one link per list slot, so
// membership changes cost a few pointer writes and no allocation.

// List slots in conn.links.
const (
	slotAll      = iota // every tracked conn, in creation order (Flush order)
	slotActivity        // open or closed list, ordered by last activity (expiry)
	slotBuffered        // conns holding out-of-order bytes, by when they started buffering
	numSlots
)

type link struct {
	prev, next *conn
	in         *connList // the list holding the conn in this slot, nil if none
}

type connList struct {
	head, tail *conn
	slot       int
}

// pushBack appends c, which must not be in any list of this slot.
func (l *connList) pushBack(c *conn) {
	lk := &c.links[l.slot]
	lk.prev, lk.next, lk.in = l.tail, nil, l
	if l.tail != nil {
		l.tail.links[l.slot].next = c
	} else {
		l.head = c
	}
	l.tail = c
}

// remove unlinks c if it is in l.
func (l *connList) remove(c *conn) {
	lk := &c.links[l.slot]
	if lk.in != l {
		return
	}
	if lk.prev != nil {
		lk.prev.links[l.slot].next = lk.next
	} else {
		l.head = lk.next
	}
	if lk.next != nil {
		lk.next.links[l.slot].prev = lk.prev
	} else {
		l.tail = lk.prev
	}
	*lk = link{}
}

// moveToBack makes c, possibly in another list of the same slot, the tail of l.
func (l *connList) moveToBack(c *conn) {
	lk := &c.links[l.slot]
	if lk.in == l && l.tail == c {
		return
	}
	if lk.in != nil {
		lk.in.remove(c)
	}
	l.pushBack(c)
}
