package reassembly

import (
	"fmt"
	"net/netip"
	"testing"
)

// sleepStream is a recorded Stream that logs Sleep and goes to sleep unless refuse.
type sleepStream struct {
	*recStream
	refuse bool
}

func (s sleepStream) Sleep() bool {
	s.r.add(s.recStream, fmt.Sprintf("sleep refused=%v", s.refuse))
	return !s.refuse
}

type sleepFactory struct {
	*recorder
	refuse map[uint16]bool
}

func (f sleepFactory) NewStream(info ConnInfo) Stream {
	return sleepStream{f.recorder.NewStream(info).(*recStream), f.refuse[info.Client.Port()]}
}

// TestSweep: with SleepFrom connections tracked, the assembler offers one connection per
// segment, in creation order and going round, to sleep once it has been idle for
// SleepIdle segments, open or closed; one that slept is not offered again until it has
// carried another segment; one that refused is offered again; the release of the
// connection under the hand does not stop the round.
func TestSweep(t *testing.T) {
	from := func(port uint16, ms int, flags string, seq uint32, payload string) Segment {
		g := c(ms, flags, seq, 0, payload)
		g.Src = netip.AddrPortFrom(cli.Addr(), port)
		return g
	}
	r := &recorder{t: t}
	a := NewAssembler(sleepFactory{r, map[uint16]bool{3: true}}, Options{SleepFrom: 3, SleepIdle: 2})
	step := func(g Segment, want ...string) {
		t.Helper()
		n := len(r.log)
		a.Add(&g)
		var got []string
		for _, l := range r.log[n:] {
			if len(l) > 3 && l[3:8] == "sleep" {
				got = append(got, l)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("after %v:%d t=%v: sleeps %q, want %q", g.Src, g.Seq, ms(g.Time), got, want)
		}
	}
	// Segment k (1-based) is added at time k-1. Connection n's client port is n.
	step(from(1, 0, "A", 100, "a"))
	step(from(2, 1, "A", 200, "b"))                           // 2 tracked: below SleepFrom
	step(from(3, 2, "A", 300, "c"), "1: sleep refused=false") // 1: idle since segment 1
	step(from(3, 3, "A", 301, "d"), "2: sleep refused=false")
	step(from(3, 4, "A", 302, "e")) // 3 carries it
	step(from(3, 5, "A", 303, "f")) // round again: 1 sleeps already
	step(from(3, 6, "A", 304, "g")) // so does 2
	step(from(1, 7, "A", 101, "h")) // 3 idle for 1 segment; 1 wakes
	step(from(3, 8, "A", 305, "i")) // 1 idle for 1 segment
	step(from(3, 9, "A", 306, "j")) // 2 still sleeps
	step(from(2, 10, "A", 201, "k"))
	step(from(2, 11, "A", 202, "l"), "1: sleep refused=false")
	step(from(2, 12, "A", 203, "m")) // 2 carries it
	step(from(2, 13, "A", 204, "n"), "3: sleep refused=true")
	step(from(2, 14, "A", 205, "o")) // 1 still sleeps
	step(from(2, 15, "A", 206, "p")) // 2 carries it
	step(from(1, 16, "A", 102, "q"), "3: sleep refused=true")
	// Connection 2 ends with a RST, and lingers closed: it sleeps too.
	step(from(2, 17, "R", 207, ""))
	step(from(1, 18, "A", 103, "r")) // 2 idle for 1 segment
	step(from(1, 19, "A", 104, "s"), "3: sleep refused=true")
	step(from(1, 20, "A", 105, "t"))                           // 1 carries it
	step(from(1, 21, "A", 106, "u"), "2: sleep refused=false") // closed at 17
	// The connection under the hand is released: the round goes on from the next.
	c2 := a.all.head.links[slotAll].next
	a.hand = c2
	a.release(c2, EndClosed)
	if a.hand != a.all.head.links[slotAll].next || a.hand == nil {
		t.Fatalf("after the release of the connection under the hand, the hand is %p, want connection 3", a.hand)
	}
	step(from(1, 22, "A", 107, "v"))                          // 2 tracked: below SleepFrom
	step(from(4, 23, "A", 400, "w"), "3: sleep refused=true") // a third
	a.Flush()
	if got := a.Stats().Slept; got != 4 {
		t.Errorf("Slept = %d, want 4", got)
	}
}
