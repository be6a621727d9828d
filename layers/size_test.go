package layers

import (
	"testing"
	"unsafe"

	"github.com/wsclosescan/wsclosescan/internal/wsframe"
	"github.com/wsclosescan/wsclosescan/reassembly"
)

// TestConnSize pins the size of a Conn, which every open connection holds (320 bytes is a
// size class of the Go allocator; the next is 352). Put state that few connections need
// behind a pointer, as the TCP ends, the gaps, the timeline and the HTTP/2 streams are.
func TestConnSize(t *testing.T) {
	if got, want := unsafe.Sizeof(Conn{}), uintptr(320); got > want {
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
