package layers

import (
	"testing"
	"unsafe"
)

// TestConnSize pins the size of a Conn, which every open connection holds (576 bytes is a
// size class of the Go allocator). Put state that few connections need behind a pointer,
// as the gaps and the timeline are.
func TestConnSize(t *testing.T) {
	if got, want := unsafe.Sizeof(Conn{}), uintptr(576); got > want {
		t.Errorf("got a %d-byte Conn, want at most %d", got, want)
	}
}
