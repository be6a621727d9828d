//go:build wsdebug

package capture

// poisonReleased is set by the wsdebug build tag: a Buffer whose last reference is
// released is overwritten with poisonByte before it goes back to its pool, so that bytes
// used after their release come out wrong at once instead of only once the buffer is
// reused (go test -tags wsdebug ./cmd/wsclosescan ./scan). debugShrink divides the
// usual buffer size by 64, to 2 KiB.
const (
	poisonReleased = true
	debugShrink    = 6
)
