// Package scan runs the whole analysis pipeline: capture bytes are decoded into TCP
// segments (capture), reassembled into ordered streams (reassembly), decoded and judged
// per connection (analyze, wsparse), and handed out as report records.
package scan

import (
	"errors"
	"fmt"
	"io"

	"github.com/wsclosescan/wsclosescan/analyze"
	"github.com/wsclosescan/wsclosescan/capture"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
)

// Options configures every stage of the pipeline.
type Options struct {
	Capture    capture.Options
	Reassembly reassembly.Options
	Analyze    analyze.Options
}

// DefaultOptions returns the defaults of every stage.
func DefaultOptions() Options {
	return Options{Reassembly: reassembly.DefaultOptions()}
}

// Scanner analyses one or more captures. Connections stay tracked across Read calls, so
// that files read one after the other form one capture, until Flush.
type Scanner struct {
	opts Options
	an   *analyze.Analyzer
	asm  *reassembly.Assembler
	seg  reassembly.Segment
}

// New returns a Scanner that calls emit with the record of every connection, in the order
// the connections are released (not sorted).
func New(opts Options, emit func(report.Record)) *Scanner {
	an := analyze.New(opts.Analyze, emit)
	return &Scanner{opts: opts, an: an, asm: reassembly.NewAssembler(an, opts.Reassembly)}
}

// Read analyses the capture in src, naming it name in records and messages. It returns
// an error only when src cannot be read as a capture at all; damage later in the file
// (truncation, corrupt records) is described in the returned FileInfo, and everything
// before it is analysed.
func (s *Scanner) Read(name string, src io.Reader) (report.FileInfo, error) {
	info := report.FileInfo{Name: name, Warnings: []string{}}
	r, err := capture.NewReader(name, src, s.opts.Capture)
	if err != nil {
		return info, fmt.Errorf("%s", describe(name, err))
	}
	s.an.SetFile(name)
	for {
		if err = r.Next(&s.seg); err != nil {
			break
		}
		s.asm.Add(&s.seg)
	}
	st := r.Stats()
	info.Packets = st.Packets
	if !errors.Is(err, io.EOF) {
		info.Error = report.String(describe(name, err) + fmt.Sprintf("; analysed the %d packets before it", st.Packets))
	}
	for _, sk := range st.Skipped {
		info.Warnings = append(info.Warnings, fmt.Sprintf("%s: skipped %d packet(s): %s (first: %s)", name, sk.Count, sk.Kind, sk.First))
	}
	if st.SnaplenCut > 0 {
		info.Warnings = append(info.Warnings, fmt.Sprintf("%s: %d packet(s) were cut by the snapshot length; "+
			"the missing bytes are counted in missing_bytes (capture with -s 0)", name, st.SnaplenCut))
	}
	return info, nil
}

// Flush ends the capture: every connection still tracked is analysed as it stands and
// its record emitted. The Scanner can then read an unrelated capture.
func (s *Scanner) Flush() { s.asm.Flush() }

// describe turns a capture error into "NAME: what is wrong[ at byte N]".
func describe(name string, err error) string {
	var fe *capture.FileError
	if errors.As(err, &fe) {
		msg := fmt.Sprintf("%s: %v", name, fe.Err)
		if fe.Offset >= 0 {
			msg += fmt.Sprintf(" at byte %d", fe.Offset)
		}
		return msg
	}
	return fmt.Sprintf("%s: %v", name, err)
}
