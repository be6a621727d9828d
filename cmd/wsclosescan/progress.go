package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// progressInterval is how often the progress line is redrawn.
const progressInterval = 500 * time.Millisecond

// progress draws one line on stderr while captures are read: bytes read (of how many,
// when the files' sizes are known), connections finished, and the read rate. It is meant
// for terminals: every redraw returns to the start of the line, and stop erases it.
type progress struct {
	w     io.Writer
	start time.Time
	total int64 // bytes in the input files, 0 when unknown (standard input)
	read  atomic.Int64
	conns atomic.Int64
	// skipped returns the connections finished without a record (nil: none)
	skipped func() int64
	quit    chan struct{}
	wg      sync.WaitGroup
}

func startProgress(w io.Writer, total int64, every time.Duration, skipped func() int64) *progress {
	p := &progress{w: w, start: time.Now(), total: total, quit: make(chan struct{}), skipped: skipped}
	p.wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				fmt.Fprint(p.w, "\r\x1b[K"+p.line(time.Since(p.start)))
			case <-p.quit:
				return
			}
		}
	})
	return p
}

// stop erases the line; the program's own messages follow on a clean line.
func (p *progress) stop() {
	close(p.quit)
	p.wg.Wait()
	fmt.Fprint(p.w, "\r\x1b[K")
}

// line is the text of the progress line after elapsed.
func (p *progress) line(elapsed time.Duration) string {
	n := p.read.Load()
	s := "wsclosescan: " + sizeText(n) + " read"
	if p.total > 0 {
		s += fmt.Sprintf(" of %s (%d%%)", sizeText(p.total), min(n*100/p.total, 100))
	}
	conns := p.conns.Load()
	if p.skipped != nil {
		conns += p.skipped()
	}
	s += ", " + thousands(conns) + " connections"
	if secs := elapsed.Seconds(); secs > 0 {
		s += ", " + sizeText(int64(float64(n)/secs)) + "/s"
	}
	return s
}

// counter wraps a source, adding what is read to n. It keeps the source's Len (an
// in-memory capture is read with a buffer of its size).
type counter struct {
	src io.Reader
	n   *atomic.Int64
}

func (c *counter) Read(p []byte) (int, error) {
	k, err := c.src.Read(p)
	c.n.Add(int64(k))
	return k, err
}

type lenCounter struct {
	counter
	l interface{ Len() int }
}

func (c *lenCounter) Len() int { return c.l.Len() }

func (p *progress) count(src io.Reader) io.Reader {
	if l, ok := src.(interface{ Len() int }); ok {
		return &lenCounter{counter{src, &p.read}, l}
	}
	return &counter{src, &p.read}
}

// sizeText formats a byte count in decimal units: 512 B, 12.3 MB, 1.5 GB.
func sizeText(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1_000_000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1_000_000_000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.2f GB", float64(n)/1e9)
}

// thousands formats n with commas: 1,234,567.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// fileSizes adds up the sizes of the regular files among names (0 if any is not one).
func fileSizes(names []string) int64 {
	var total int64
	for _, name := range names {
		st, err := os.Stat(name)
		if name == "-" || err != nil || !st.Mode().IsRegular() {
			return 0
		}
		total += st.Size()
	}
	return total
}
