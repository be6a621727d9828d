package report

import (
	"fmt"
	"strconv"
	"time"
)

// HintDuration prints a duration the way hints and stories use it: "0.14 ms", "35.0 ms",
// "1.5 s". analyze's hints and match's proxy stories share it, so that the two read alike.
func HintDuration(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms < 1:
		return strconv.FormatFloat(ms, 'g', 2, 64) + " ms"
	case ms < 1000:
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.1f s", float64(d)/float64(time.Second))
}
