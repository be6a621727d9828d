package reassembly

import "container/heap"

// idleHeap orders the open connections by last activity, for MaxConns eviction and
// IdleTimeout. Activity is the assembler's segment count at a connection's last segment
// (conn.lastSeq), which orders connections as their last capture times do, ties in
// segment order. The heap is lazy: a segment only updates lastSeq, which costs nothing
// here, and a connection whose key is stale is re-keyed when it reaches the top. Keeping
// a list in order instead meant unlinking and relinking a connection, and touching its
// neighbours, on every segment.
type idleHeap []*conn

func (h idleHeap) Len() int           { return len(h) }
func (h idleHeap) Less(i, j int) bool { return h[i].idleKey < h[j].idleKey }
func (h idleHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idleIdx, h[j].idleIdx = int32(i), int32(j)
}

// Push and Pop implement heap.Interface; use push and remove.
func (h *idleHeap) Push(x any) {
	c := x.(*conn)
	c.idleIdx = int32(len(*h))
	*h = append(*h, c)
}

func (h *idleHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	c.idleIdx = -1
	return c
}

// push adds c, which must not be in the heap, keyed by its current activity.
func (h *idleHeap) push(c *conn) {
	c.idleKey = c.lastSeq
	heap.Push(h, c)
}

// remove takes c out of the heap if it is in it.
func (h *idleHeap) remove(c *conn) {
	if c.idleIdx >= 0 {
		heap.Remove(h, int(c.idleIdx))
	}
}

// top returns the connection idle the longest, or nil, after re-keying stale tops.
func (h *idleHeap) top() *conn {
	for len(*h) > 0 {
		c := (*h)[0]
		if c.idleKey == c.lastSeq {
			return c
		}
		c.idleKey = c.lastSeq
		heap.Fix(h, 0)
	}
	return nil
}
