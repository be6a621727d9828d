package reassembly

// Tombstones. A connection released before it ended (IdleTimeout, MaxConns) usually has
// more packets to come: its FIN or RST, retransmissions, even more data. Without a trace of
// it, those would start a new connection, reported as another (not WebSocket) record. The
// assembler remembers the 4-tuples of such connections, by their 64-bit FlowHash alone,
// and drops their later segments, counting them (AssemblerStats.AfterRelease), until a SYN
// without ACK starts a new connection on the 4-tuple or an RST ends it. At most maxTombs are
// kept; past that, the oldest is forgotten. Two connections whose 4-tuples have the same
// 64-bit hash are taken for one, which at a million tombstones happens about once in 10^13
// lookups.

// maxTombs bounds the tombstones of one Assembler (about 40 bytes each).
const maxTombs = 1 << 17

type tombTable struct {
	slots []uint64 // hashes, 0: empty (a hash of 0 is stored as 1); at most half full
	n     int
	fifo  []uint64 // hashes in the order they were added, a ring of maxTombs
	head  int      // oldest entry of fifo once it is full
}

func tombKey(h uint64) uint64 { return max(h, 1) }

// has reports whether h is a tombstone.
func (t *tombTable) has(h uint64) bool {
	if t.n == 0 {
		return false
	}
	h = tombKey(h)
	mask := uint64(len(t.slots) - 1)
	for k := h & mask; t.slots[k] != 0; k = (k + 1) & mask {
		if t.slots[k] == h {
			return true
		}
	}
	return false
}

// add remembers h, forgetting the oldest tombstone when maxTombs are kept.
func (t *tombTable) add(h uint64) {
	h = tombKey(h)
	if t.has(h) {
		return
	}
	if len(t.fifo) < maxTombs {
		t.fifo = append(t.fifo, h)
	} else {
		t.remove(t.fifo[t.head])
		t.fifo[t.head] = h
		t.head = (t.head + 1) % maxTombs
	}
	if 2*(t.n+1) > len(t.slots) {
		old := t.slots
		t.slots = make([]uint64, max(2*len(old), minTableSlots))
		for _, s := range old {
			if s != 0 {
				t.put(s)
			}
		}
	}
	t.put(h)
	t.n++
}

func (t *tombTable) put(h uint64) {
	mask := uint64(len(t.slots) - 1)
	k := h & mask
	for t.slots[k] != 0 {
		k = (k + 1) & mask
	}
	t.slots[k] = h
}

// remove forgets h if it is a tombstone. (Its fifo entry stays: removing an absent hash
// later is a no-op.)
func (t *tombTable) remove(h uint64) {
	if t.n == 0 {
		return
	}
	h = tombKey(h)
	mask := uint64(len(t.slots) - 1)
	k := h & mask
	for t.slots[k] != h {
		if t.slots[k] == 0 {
			return
		}
		k = (k + 1) & mask
	}
	for j := (k + 1) & mask; t.slots[j] != 0; j = (j + 1) & mask {
		home := t.slots[j] & mask
		if (j-home)&mask >= (j-k)&mask {
			t.slots[k] = t.slots[j]
			k = j
		}
	}
	t.slots[k] = 0
	t.n--
}
