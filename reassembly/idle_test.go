package reassembly

import (
	"math/rand/v2"
	"testing"
)

// TestIdleHeapTopIsLeastRecentlyActive: under random activity, additions and removals,
// top always returns the connection with the oldest activity, as a scan of all would.
func TestIdleHeapTopIsLeastRecentlyActive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h idleHeap
	var live []*conn
	seq := int64(0)
	for step := range 20000 {
		seq++
		switch op := r.IntN(10); {
		case op < 2 || len(live) == 0: // a new connection
			c := &conn{lastSeq: seq}
			h.push(c)
			live = append(live, c)
		case op < 7: // activity on one
			live[r.IntN(len(live))].lastSeq = seq
		case op < 8: // one released
			i := r.IntN(len(live))
			h.remove(live[i])
			if live[i].idleIdx != -1 {
				t.Fatalf("step %d: removed connection keeps index %d", step, live[i].idleIdx)
			}
			live = append(live[:i], live[i+1:]...)
		default: // the longest idle is evicted
			want := live[0]
			for _, c := range live {
				if c.lastSeq < want.lastSeq {
					want = c
				}
			}
			if got := h.top(); got != want {
				t.Fatalf("step %d: top has activity %d, want %d", step, got.lastSeq, want.lastSeq)
			}
			h.remove(want)
			for i, c := range live {
				if c == want {
					live = append(live[:i], live[i+1:]...)
					break
				}
			}
		}
		if len(h) != len(live) {
			t.Fatalf("step %d: heap holds %d, want %d", step, len(h), len(live))
		}
	}
}
