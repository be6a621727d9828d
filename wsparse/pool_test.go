package wsparse

import (
	"fmt"
	"math/rand"
	"testing"
)

// TestPoolReuseMatchesFresh: a Conn that a Pool hands out again decodes every script exactly
// like a new one, and what the previous connection returned is left untouched.
func TestPoolReuseMatchesFresh(t *testing.T) {
	var pool Pool
	var prev *Conn
	var prevHS *Handshake
	var prevHSText string
	for seed := int64(0); seed < 40; seed++ {
		r := rand.New(rand.NewSource(seed))
		steps := handshake([]string{"Sec-WebSocket-Protocol: chat, superchat"},
			[]string{"Sec-WebSocket-Extensions: permessage-deflate", "Sec-WebSocket-Protocol: chat"})
		if seed%3 == 0 {
			steps = handshake(nil, nil)[:1] // no response: a different handshake state
		}
		for i := 0; i < 10; i++ {
			side := Side(r.Intn(2))
			var data []byte
			for j := 0; j < 1+r.Intn(4); j++ {
				data = append(data, randomFrame(r, side == Client)...)
			}
			if r.Intn(6) == 0 {
				steps = append(steps, gapOf(side, int64(r.Intn(50))))
			}
			steps = append(steps, feed(side, data))
		}
		fresh, freshEv := run(steps, randomSplit(seed), Options{})
		if prev != nil {
			pool.Put(prev)
		}
		got, gotEv := runOn(pool.Get, steps, randomSplit(seed), Options{})
		if seed > 0 && got != prev {
			t.Fatalf("seed %d: the pool did not hand out the Conn put back", seed)
		}
		if g, w := snapshot(got, gotEv), snapshot(fresh, freshEv); g != w {
			t.Fatalf("seed %d: reused Conn differs from a fresh one:\ngot:\n%s\nwant:\n%s", seed, g, w)
		}
		if prevHS != nil {
			if g := fmt.Sprintf("%+v", *prevHS); g != prevHSText {
				t.Fatalf("seed %d: reuse changed the previous connection's handshake:\ngot  %s\nwant %s", seed, g, prevHSText)
			}
		}
		prev = got
		if prevHS = got.Handshake(); prevHS != nil {
			prevHS = new(*prevHS) // what a caller keeps: a copy sharing the slices
			prevHSText = fmt.Sprintf("%+v", *prevHS)
		}
	}
}

// TestPoolIgnoresForeignConns: a Conn from NewConn is not pooled.
func TestPoolIgnoresForeignConns(t *testing.T) {
	var pool Pool
	c := NewConn(Options{})
	pool.Put(c)
	if got := pool.Get(Options{}); got == c {
		t.Fatal("Get returned a Conn that did not come from the pool")
	}
}
