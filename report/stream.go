package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Writer writes records one at a time, in the order they are given, and finishes the
// output once every record has been written. The table holds records back (its column
// widths depend on all rows), and so does Markdown (it must fit in a GitHub comment, see
// MaxComment); json, jsonl and csv write each record at once (csv's writer also has a
// Flush method, for live input).
type Writer interface {
	// Write outputs one record.
	Write(r *Record) error
	// Finish completes the output with the files read and the summary of the records.
	Finish(files []FileInfo, sum Summary) error
}

// NewWriter returns the Writer for a format: table, json, jsonl, csv or markdown. With
// timeline set, table and markdown output end with the ladder diagrams.
func NewWriter(format string, w io.Writer, opts TableOptions, timeline bool) (Writer, error) {
	switch format {
	case "table":
		return &tableWriter{w: w, opts: opts, timeline: timeline}, nil
	case "markdown":
		return &markdownWriter{w: w, timeline: timeline, showFile: opts.ShowFile}, nil
	case "json":
		return &jsonWriter{w: w}, nil
	case "jsonl":
		return &jsonLinesWriter{w: w}, nil
	case "csv":
		return &csvWriter{cw: csv.NewWriter(w)}, nil
	}
	return nil, fmt.Errorf("unknown format %q", format)
}

// tableWriter holds the rows until Finish: the column widths depend on all of them. It
// keeps each row's cells rather than the record (a few hundred bytes instead of a couple
// of kilobytes), and the records themselves only for the timeline ladders.
type tableWriter struct {
	w        io.Writer
	opts     TableOptions
	timeline bool
	rows     []tableLine
	recs     []Record // with timeline only
}

func (t *tableWriter) Write(r *Record) error {
	t.rows = append(t.rows, newTableLine(r, t.opts))
	if t.timeline {
		t.recs = append(t.recs, *r)
	}
	return nil
}

// Finish renders the table, sorted even if some records came late, with sum as the
// summary line, then the ladders.
func (t *tableWriter) Finish(files []FileInfo, sum Summary) error {
	sort.SliceStable(t.rows, func(i, j int) bool { return lineBefore(&t.rows[i], &t.rows[j]) })
	if err := renderTable(t.w, t.rows, t.opts, sum); err != nil {
		return err
	}
	if err := writeFileSummaries(t.w, files, t.opts.ShowFile, "%s: %s\n"); err != nil {
		return err
	}
	if t.timeline && len(t.recs) > 0 {
		sort.SliceStable(t.recs, func(i, j int) bool {
			a, b := &t.recs[i], &t.recs[j]
			return lineLess(a.Start, b.Start, a.Client, b.Client, a.Server, b.Server)
		})
		if _, err := io.WriteString(t.w, "\n"); err != nil {
			return err
		}
		return WriteTimeline(t.w, t.recs)
	}
	return nil
}

// lineLess orders connections by start, then client, then server.
func lineLess(startA, startB Time, clientA, clientB, serverA, serverB string) bool {
	if !startA.Equal(startB.Time) {
		return startA.Before(startB.Time)
	}
	if clientA != clientB {
		return clientA < clientB
	}
	return serverA < serverB
}

// markdownWriter writes a Markdown table to paste into an issue, then the summary line,
// the hints and, with a timeline, a Mermaid sequence diagram per connection. It holds the
// rows until Finish: output that would not fit in a GitHub comment (MaxComment) is folded
// (see foldMarkdown), and what does not fit at all is left out and counted. It keeps at
// most about MaxComment bytes of rows, hints and diagrams, whatever the number of records.
type markdownWriter struct {
	w        io.Writer
	timeline bool
	showFile bool // a file column first (several files read separately)
	n        int
	kept     []mdRecord
	size     int // bytes in kept
	dropped  int // records past the size kept
	// legs are the latest client legs of proxied WebSockets (at most maxMDLegs), kept with
	// their numbers until the backend leg comes for the three-lane diagram.
	legs []mdLeg
}

// mdLeg is a client leg waiting for its backend leg.
type mdLeg struct {
	n   int
	rec Record
}

// maxMDLegs bounds the client legs the Markdown writer keeps for three-lane diagrams.
const maxMDLegs = 64

// mdRecord is one record as Markdown: its table row, hint lines and diagram.
type mdRecord struct {
	row, hints, diagram string
}

func (m *markdownWriter) Write(r *Record) error {
	m.n++
	if m.size > MaxComment {
		m.dropped++
		return nil
	}
	var row strings.Builder
	cells := []string{fmt.Sprint(m.n)}
	if m.showFile {
		cells = append(cells, r.File)
	}
	writeMDRow(&row, append(cells, tableRow(r)...))
	writeMDFilter(&row, r.DisplayFilter)
	var hints bytes.Buffer
	for _, h := range r.Hints {
		fmt.Fprintf(&hints, "\n- **#%d** %s", m.n, mdEscape(h))
	}
	for _, s := range messageLines(r) {
		fmt.Fprintf(&hints, "\n- **#%d** %s", m.n, mdEscaper.Replace(s)) // already printable
	}
	var d strings.Builder
	if m.timeline {
		writeMermaid(&d, m.n, r)
	}
	m.lanes(&d, &hints, r)
	rec := mdRecord{row: row.String(), hints: hints.String(), diagram: d.String()}
	m.kept = append(m.kept, rec)
	m.size += len(rec.row) + len(rec.hints) + len(rec.diagram)
	return nil
}

// lanes keeps a client leg for later, or tells a backend leg with its client leg: the
// pair's story among the hints and, with a timeline, a three-lane diagram.
func (m *markdownWriter) lanes(d *strings.Builder, hints *bytes.Buffer, r *Record) {
	switch {
	case r.Proxy == nil:
	case r.Proxy.Leg == "client":
		if len(m.legs) == maxMDLegs {
			m.legs = append(m.legs[:0], m.legs[1:]...)
		}
		m.legs = append(m.legs, mdLeg{n: m.n, rec: *r})
	default:
		for i, l := range m.legs {
			if l.rec.Client == r.Proxy.Other.Client && l.rec.Server == r.Proxy.Other.Server {
				fmt.Fprintf(hints, "\n- **#%d+#%d** proxy legs (%s) %s", l.n, m.n, evidenceText[r.Proxy.MatchedBy],
					mdEscape(r.Proxy.Story))
				if m.timeline {
					writeLanesMermaid(d, l.n, m.n, &l.rec, r)
				}
				m.legs = append(m.legs[:i], m.legs[i+1:]...)
				return
			}
		}
	}
}

func (m *markdownWriter) Finish(files []FileInfo, sum Summary) error {
	line := sum.String()
	if m.showFile {
		var b strings.Builder
		writeFileSummaries(&b, files, true, "\n- %s: %s")
		line += "\n" + mdEscaper.Replace(b.String())
	}
	_, err := io.WriteString(m.w, foldMarkdown(m.kept, m.dropped, line, m.showFile))
	return err
}

// writeFileSummaries writes a summary line per file read (with several files read
// separately, show), in format (file name, summary).
func writeFileSummaries(w io.Writer, files []FileInfo, show bool, format string) error {
	if !show {
		return nil
	}
	for _, f := range files {
		if f.Summary != nil {
			if _, err := fmt.Fprintf(w, format, Printable(f.Name), f.Summary.String()); err != nil {
				return err
			}
		}
	}
	return nil
}

type jsonWriter struct {
	w   io.Writer
	n   int
	rec []byte // the record being written, compact
	out []byte // the separator and the indented record
}

func (j *jsonWriter) Write(r *Record) error {
	sep := ",\n    "
	if j.n == 0 {
		sep = "{\n  \"connections\": [\n    "
	}
	j.n++
	if err := floatError(r); err != nil {
		return err
	}
	j.rec = appendRecord(j.rec[:0], r)
	j.out = appendIndent(append(j.out[:0], sep...), j.rec, "    ", "  ")
	_, err := j.w.Write(j.out)
	return err
}

func (j *jsonWriter) Finish(files []FileInfo, sum Summary) error {
	if files == nil {
		files = []FileInfo{}
	}
	for i := range files {
		if files[i].Warnings == nil {
			files[i].Warnings = []string{}
		}
	}
	fb, err := json.MarshalIndent(files, "  ", "  ")
	if err != nil {
		return err
	}
	sb, err := json.MarshalIndent(sum, "  ", "  ")
	if err != nil {
		return err
	}
	head := "\n  ],\n"
	if j.n == 0 {
		head = "{\n  \"connections\": [],\n"
	}
	_, err = fmt.Fprintf(j.w, "%s  \"files\": %s,\n  \"summary\": %s\n}\n", head, fb, sb)
	return err
}

// jsonLinesWriter writes each record as one line of compact JSON, as json.Encoder would.
type jsonLinesWriter struct {
	w   io.Writer
	buf []byte
	err error // the first write error, returned from then on like json.Encoder does
}

func (j *jsonLinesWriter) Write(r *Record) error {
	if j.err != nil {
		return j.err
	}
	if err := floatError(r); err != nil {
		return err
	}
	j.buf = append(appendRecord(j.buf[:0], r), '\n')
	_, j.err = j.w.Write(j.buf)
	return j.err
}

func (j *jsonLinesWriter) Finish(_ []FileInfo, _ Summary) error { return nil }

type csvWriter struct {
	cw     *csv.Writer
	header bool
}

func (c *csvWriter) Write(r *Record) error {
	if !c.header {
		c.header = true
		if err := c.cw.Write(csvHeader); err != nil {
			return err
		}
	}
	return c.cw.Write(csvRow(r))
}

// Flush writes the rows buffered so far, for live input.
func (c *csvWriter) Flush() error {
	c.cw.Flush()
	return c.cw.Error()
}

func (c *csvWriter) Finish(_ []FileInfo, _ Summary) error {
	if !c.header {
		if err := c.cw.Write(csvHeader); err != nil {
			return err
		}
	}
	c.cw.Flush()
	return c.cw.Error()
}
