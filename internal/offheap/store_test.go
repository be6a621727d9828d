package offheap

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestStore(t *testing.T) {
	var s Store
	defer s.Reset()
	rng := rand.New(rand.NewPCG(1, 2))
	live := map[Handle][]byte{}
	for step := range 20000 {
		if len(live) > 0 && rng.IntN(3) == 0 {
			for h, want := range live {
				if got := s.Get(h); !bytes.Equal(got, want) {
					t.Fatalf("step %d: Get(%x) = %d bytes, want %d", step, h, len(got), len(want))
				}
				s.Free(h)
				delete(live, h)
				break
			}
			continue
		}
		b := make([]byte, rng.IntN(MaxRecord+1))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		h := s.Put(b)
		if h == 0 {
			t.Fatalf("step %d: Put of %d bytes failed", step, len(b))
		}
		if _, dup := live[h]; dup {
			t.Fatalf("step %d: Handle %x handed out twice", step, h)
		}
		live[h] = b
	}
	var want int64
	for h, b := range live {
		if !bytes.Equal(s.Get(h), b) {
			t.Fatalf("Get(%x): record changed", h)
		}
		k, _ := s.split(h)
		want += int64(classes[k])
	}
	if s.Bytes() != want {
		t.Errorf("Bytes() = %d, want %d", s.Bytes(), want)
	}
}

func TestStoreLimits(t *testing.T) {
	var s Store
	defer s.Reset()
	if h := s.Put(make([]byte, MaxRecord+1)); h != 0 {
		t.Errorf("Put of MaxRecord+1 bytes = %x, want 0", h)
	}
	h := s.Put(nil)
	if h == 0 || len(s.Get(h)) != 0 {
		t.Errorf("Put(nil) = %x, Get = %d bytes; want a Handle of an empty record", h, len(s.Get(h)))
	}
	s.Free(h)
	if h2 := s.Put([]byte{1}); h2 != h {
		t.Errorf("Put after Free = %x, want the freed slot %x again", h2, h)
	}
}
