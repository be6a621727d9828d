//go:build wsdebug

package capture

import (
	"bytes"
	"testing"
)

// TestReleasedBufferIsPoisoned checks the wsdebug build: a buffer keeps its bytes while a
// reference is held, and is overwritten when the last one is released.
func TestReleasedBufferIsPoisoned(t *testing.T) {
	b := newBufferPool(64, 1).get()
	copy(b.data, "payload")
	b.Retain()
	b.Release()
	if got := string(b.data[:7]); got != "payload" {
		t.Fatalf("got %q while still held, want \"payload\"", got)
	}
	b.Release()
	if want := bytes.Repeat([]byte{poisonByte}, len(b.data)); !bytes.Equal(b.data, want) {
		t.Errorf("got % x after the last release, want all %#x", b.data[:8], poisonByte)
	}
}
