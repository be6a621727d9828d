package reassembly

import (
	"testing"
	"unsafe"
)

// TestConnSize pins the size of a conn, which every tracked connection holds: 512 bytes is a
// size class of the Go allocator, and the largest an object with pointers can have without
// the 8-byte header it puts before larger ones (17 bytes more would take the 576-byte
// class). Put state that few connections need behind a pointer, as the out-of-order state
// is; times are kept as UnixNano, as the half-open table keeps them.
func TestConnSize(t *testing.T) {
	if got, want := unsafe.Sizeof(conn{}), uintptr(496); got > want {
		t.Errorf("got a %d-byte conn, want at most %d", got, want)
	}
}

// TestAheadOnlyWhileHeld checks that a direction holds its out-of-order state only while a
// segment or a FIN waits for the bytes before it, and gives it back to the assembler.
func TestAheadOnlyWhileHeld(t *testing.T) {
	tests := []struct {
		name      string
		segs      []Segment
		wantHeld  []bool // after each segment after the handshake: the client side holds state
		wantSpare int
	}{
		{"in order", []Segment{c(3, "PA", 1001, 5001, "hello"), c(4, "PA", 1006, 5001, "world")},
			[]bool{false, false}, 0},
		{"segment ahead, then the hole", []Segment{c(3, "PA", 1006, 5001, "world"), c(4, "PA", 1001, 5001, "hello")},
			[]bool{true, false}, 1},
		{"FIN ahead, then the hole", []Segment{c(3, "FA", 1006, 5001, ""), c(4, "PA", 1001, 5001, "hello")},
			[]bool{true, false}, 1},
		{"FIN in order", []Segment{c(3, "PA", 1001, 5001, "hello"), c(4, "FA", 1006, 5001, "")},
			[]bool{false, false}, 0},
		{"a segment and the FIN ahead", []Segment{c(3, "PA", 1006, 5001, "world"), c(4, "FA", 1011, 5001, ""),
			c(5, "PA", 1001, 5001, "hello")}, []bool{true, true, false}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAssembler(nopFactory{}, Options{})
			for _, g := range handshake() {
				a.Add(&g)
			}
			cn := a.all.head
			for i, g := range tt.segs {
				a.Add(&g)
				if got := cn.h[ClientToServer].ahead != nil; got != tt.wantHeld[i] {
					t.Errorf("after segment %d: got held %v, want %v", i, got, tt.wantHeld[i])
				}
			}
			if cn.h[ServerToClient].ahead != nil {
				t.Errorf("got out-of-order state on the server side, want none")
			}
			if got := a.spareAhead.Len(); got != tt.wantSpare {
				t.Errorf("got %d spare states, want %d", got, tt.wantSpare)
			}
		})
	}
}
