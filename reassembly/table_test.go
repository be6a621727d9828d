package reassembly

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestConnTableMatchesMap drives the table and a map with the same random inserts and
// removals, with hashes squeezed into a few values so that runs collide and wrap around,
// and checks every lookup in both directions.
func TestConnTableMatchesMap(t *testing.T) {
	for _, hashes := range []uint64{1, 3, 1 << 20} {
		r := rand.New(rand.NewPCG(1, hashes))
		var tab connTable
		model := map[[2]netip.AddrPort]*conn{}
		keys := map[*conn][2]netip.AddrPort{}
		var live []*conn
		ep := func() netip.AddrPort {
			return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(r.IntN(4))}), uint16(r.IntN(50)))
		}
		check := func(step int) {
			t.Helper()
			if tab.n != len(model) {
				t.Fatalf("hashes %d step %d: table holds %d, want %d", hashes, step, tab.n, len(model))
			}
			for ends, want := range model {
				h := want.hash
				if got, d := tab.find(h, ends[0], ends[1]); got != want || d != ClientToServer {
					t.Fatalf("hashes %d step %d: find(client, server) = %p %v, want %p", hashes, step, got, d, want)
				}
				if got, d := tab.find(h, ends[1], ends[0]); got != want || d != ServerToClient {
					t.Fatalf("hashes %d step %d: find(server, client) = %p %v, want %p", hashes, step, got, d, want)
				}
			}
		}
		for step := range 4000 {
			if len(live) > 0 && r.IntN(5) < 2 {
				k := r.IntN(len(live))
				c := live[k]
				live = append(live[:k], live[k+1:]...)
				delete(model, keys[c])
				tab.remove(c.hash, c)
			} else {
				key := [2]netip.AddrPort{ep(), ep()}
				rev := [2]netip.AddrPort{key[1], key[0]}
				if _, dup := model[key]; dup || model[rev] != nil || key[0] == key[1] {
					continue
				}
				c := &conn{info: connInfo{Client: key[0], Server: key[1]},
					ends: [2]endpoint{endpointOf(key[0]), endpointOf(key[1])}}
				if r.IntN(2) == 0 {
					// Segments in the IPv4-mapped form: found by key, not by address.
					c.info.Client = netip.AddrPortFrom(netip.AddrFrom16(key[0].Addr().As16()), key[0].Port())
				}
				c.hash = flowHash(&c.ends[0], &c.ends[1]) % hashes
				model[key], keys[c] = c, key
				live = append(live, c)
				tab.insert(c.hash, c)
			}
			if step%97 == 0 {
				check(step)
			}
		}
		check(-1)
		for _, c := range live {
			tab.remove(c.hash, c)
		}
		if tab.n != 0 {
			t.Fatalf("hashes %d: %d left after removing every connection", hashes, tab.n)
		}
		for i, s := range tab.slots {
			if s.c != nil {
				t.Fatalf("hashes %d: slot %d still holds a connection", hashes, i)
			}
		}
	}
}

// TestFlowHashIsSymmetric: both directions of a connection hash alike, and an IPv4
// address like its IPv4-mapped form.
func TestFlowHashIsSymmetric(t *testing.T) {
	a := endpointOf(netip.MustParseAddrPort("10.1.2.3:80"))
	b := endpointOf(netip.MustParseAddrPort("[2001:db8::1]:50000"))
	if flowHash(&a, &b) != flowHash(&b, &a) {
		t.Error("flowHash depends on the direction")
	}
	if m := endpointOf(netip.MustParseAddrPort("[::ffff:10.1.2.3]:80")); m != a {
		t.Errorf("IPv4-mapped endpoint %v differs from %v", m, a)
	}
}
