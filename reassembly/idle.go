package reassembly

// idleHeap orders the open connections by last activity, for MaxConns eviction and
// IdleTimeout. Activity is the assembler's segment count at a connection's last segment
// (conn.lastSeq), which orders connections as their last capture times do, ties in
// segment order. The heap is lazy: a segment only updates lastSeq, which costs nothing
// here, and a connection whose key is stale is re-keyed when it reaches the top. Keeping
// a list in order instead meant unlinking and relinking a connection, and touching its
// neighbours, on every segment.
type idleHeap []*conn

func (h idleHeap) less(i, j int) bool { return h[i].idleKey < h[j].idleKey }

func (h idleHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idleIdx, h[j].idleIdx = i, j
}

// push adds c, which must not be in the heap, keyed by its current activity.
func (h *idleHeap) push(c *conn) {
	c.idleKey, c.idleIdx = c.lastSeq, len(*h)
	*h = append(*h, c)
	h.up(c.idleIdx)
}

// remove takes c out of the heap if it is in it.
func (h *idleHeap) remove(c *conn) {
	i := c.idleIdx
	if i < 0 {
		return
	}
	n := len(*h) - 1
	if i != n {
		h.swap(i, n)
	}
	(*h)[n] = nil
	*h = (*h)[:n]
	if i != n {
		h.down(i)
		h.up(i)
	}
	c.idleIdx = -1
}

// top returns the connection idle the longest, or nil, after re-keying stale tops.
func (h idleHeap) top() *conn {
	for len(h) > 0 {
		c := h[0]
		if c.idleKey == c.lastSeq {
			return c
		}
		c.idleKey = c.lastSeq
		h.down(0)
	}
	return nil
}

func (h idleHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h idleHeap) down(i int) {
	for {
		l, small := 2*i+1, i
		if l < len(h) && h.less(l, small) {
			small = l
		}
		if r := l + 1; r < len(h) && h.less(r, small) {
			small = r
		}
		if small == i {
			return
		}
		h.swap(i, small)
		i = small
	}
}
