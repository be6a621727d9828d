//go:build !wsdebug

package capture

// Normal builds neither poison released buffers nor shrink them; see poison_wsdebug.go.
const (
	poisonReleased = false
	debugShrink    = 0
)
