package wsparse

import (
	"testing"
	"unsafe"
)

// TestConnSize pins the size of a Conn, which every open connection holds: 1152 bytes is
// a size class of the Go allocator, and 41 bytes more would take the next one (1280). Grow
// it only knowingly, and put state that few connections need behind a pointer.
func TestConnSize(t *testing.T) {
	if got, want := unsafe.Sizeof(Conn{}), uintptr(1152); got > want {
		t.Errorf("got a %d-byte Conn, want at most %d", got, want)
	}
}
