package layers

import (
	"testing"
	"time"
	"unsafe"

	"github.com/wsclosescan/wsclosescan/internal/wsframe"
	"github.com/wsclosescan/wsclosescan/reassembly"
)

// TestConnSize pins the size of a Conn, which every open connection holds (288 bytes is a
// size class of the Go allocator; the next is 320). Put state that few connections need
// behind a pointer, as the TCP ends, the gaps, the timeline and the HTTP/2 streams are.
func TestConnSize(t *testing.T) {
	if got, want := unsafe.Sizeof(Conn{}), uintptr(288); got > want {
		t.Errorf("got a %d-byte Conn, want at most %d", got, want)
	}
}

// TestEndsOnlyOnceSent checks that a connection holds TCP end state only once a FIN, a RST,
// data after a FIN or a retransmission with other bytes was seen, and gives it back to the
// Factory after the judge.
func TestEndsOnlyOnceSent(t *testing.T) {
	tests := []struct {
		name     string
		event    reassembly.EventKind // 0: none
		wantEnds bool
	}{
		{"open", 0, false},
		{"SYN only", reassembly.EventSYN, false},
		{"FIN", reassembly.EventFIN, true},
		{"RST", reassembly.EventRST, true},
		{"retransmission with other bytes", reassembly.EventRetransmitMismatch, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f *Factory
			facts(t, Options{}, func(s reassembly.Stream, at func() reassembly.Stamp) {
				f = (*Conn)(s.(*tcpStream)).f
				s.Data(reassembly.ClientToServer, wsframe.Request("/", testKey), at())
				if tt.event != 0 {
					st := at()
					s.Event(reassembly.Event{Kind: tt.event, Dir: reassembly.ServerToClient, Time: st.Time, Frame: st.Frame})
				}
			}, func(c *Conn) {
				if got := c.ends != nil; got != tt.wantEnds {
					t.Errorf("got ends %v, want %v", got, tt.wantEnds)
				}
				e := c.End(reassembly.ServerToClient)
				if got := !e.FIN.IsZero() || !e.RST.IsZero() || e.RetransMismatch > 0; got != tt.wantEnds {
					t.Errorf("got end %+v, want one: %v", e, tt.wantEnds)
				}
			})
			if got, want := f.ends.Len(), map[bool]int{true: 1}[tt.wantEnds]; got != want {
				t.Errorf("got %d spare ends in the Factory, want %d", got, want)
			}
		})
	}
}

// TestLastExact checks that Last comes back as it was set: as UnixNano, and in full for a
// time UnixNano cannot hold (before 1678 or after 2262, another location).
func TestLastExact(t *testing.T) {
	start := time.Date(1700, 1, 1, 0, 0, 0, 5, time.UTC)
	c := &Conn{Info: reassembly.ConnInfo{Start: start}}
	c.setLast(start) // as NewStream does
	if got := c.Last(); got != start {
		t.Fatalf("Last before any segment: got %v, want the start %v", got, start)
	}
	for _, last := range []time.Time{
		start.Add(time.Hour + 7), time.Date(2100, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(2200, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600)),
		time.Date(2250, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		c.touchAt(reassembly.Stamp{Time: last, Frame: 9})
		if got := c.Last(); got != last || c.LastFrame != 9 {
			t.Errorf("got Last %v frame %d, want %v frame 9", got, c.LastFrame, last)
		}
	}
	c = &Conn{}
	c.setLast(time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC))
	near := time.Date(2026, 1, 1, 0, 0, 0, 1, time.UTC)
	c.setLast(near)
	if got := c.Last(); got != near {
		t.Errorf("after a far Last, got %v, want %v", got, near)
	}
}
