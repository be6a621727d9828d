package wsparse

import (
	"math/rand/v2"
	"testing"
)

// TestReqQueue checks the packed request queue against a slice: every flag combination a
// request can have (head and cut never both), up to maxQueuedRequests held, popped in order.
func TestReqQueue(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var q reqQueue
	var ref []reqInfo
	for step := range 5000 {
		if rng.IntN(3) > 0 && len(ref) < maxQueuedRequests {
			r := reqInfo{upgradeWS: rng.IntN(2) == 0, upgradeOther: rng.IntN(2) == 0}
			switch rng.IntN(3) {
			case 1:
				r.head = true
			case 2:
				r.cut = true
			}
			q.push(r)
			ref = append(ref, r)
		} else if len(ref) > 0 {
			if got := q.first(); got != ref[0] {
				t.Fatalf("step %d: first %+v, want %+v", step, got, ref[0])
			}
			q.pop()
			ref = ref[1:]
		}
		if q.len() != len(ref) {
			t.Fatalf("step %d: len %d, want %d", step, q.len(), len(ref))
		}
		if len(ref) > 0 && q.first() != ref[0] {
			t.Fatalf("step %d: first %+v, want %+v", step, q.first(), ref[0])
		}
	}
}
