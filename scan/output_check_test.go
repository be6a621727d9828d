package scan

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wsclosescan/wsclosescan/analyze"
	"github.com/wsclosescan/wsclosescan/report"
)

// writeAll renders recs with every writer of package report.
func writeAll(recs []report.Record, files []report.FileInfo) (map[string][]byte, error) {
	out := map[string][]byte{}
	stream := func(format string, opts report.TableOptions) func(io.Writer) error {
		return func(w io.Writer) error {
			wr, err := report.NewWriter(format, w, opts, false)
			if err != nil {
				return err
			}
			for i := range recs {
				if err := wr.Write(&recs[i]); err != nil {
					return err
				}
			}
			return wr.Finish(files, report.Summarize(recs))
		}
	}
	writers := map[string]func(io.Writer) error{
		"table":    stream("table", report.TableOptions{ShowFile: true}),
		"json":     stream("json", report.TableOptions{}),
		"jsonl":    stream("jsonl", report.TableOptions{}),
		"csv":      stream("csv", report.TableOptions{}),
		"markdown": stream("markdown", report.TableOptions{}),
		"timeline": func(w io.Writer) error { return report.WriteTimeline(w, recs) },
	}
	for name, write := range writers {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = b.Bytes()
	}
	return out, nil
}

// controlAt returns the offset of the first byte or rune that could drive a terminal or
// break a line-oriented format (a C0 control other than '\n', DEL, a C1 control, invalid
// UTF-8, U+2028/U+2029), or -1.
func controlAt(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return i
		case r == '\n':
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029':
			return i
		}
		i += size
	}
	return -1
}

// unsafeOutput returns a description of the first way the rendered output breaks the
// rules (invalid JSON, control bytes in text formats, ragged CSV or Markdown), or "".
func unsafeOutput(out map[string][]byte, nrecs int) string {
	if !json.Valid(out["json"]) {
		return "json: not valid JSON"
	}
	lines := bytes.Split(bytes.TrimSuffix(out["jsonl"], []byte("\n")), []byte("\n"))
	if nrecs == 0 {
		lines = nil
		if len(out["jsonl"]) != 0 {
			return fmt.Sprintf("jsonl: got %q for no records, want nothing", out["jsonl"])
		}
	}
	if len(lines) != nrecs {
		return fmt.Sprintf("jsonl: got %d lines, want %d", len(lines), nrecs)
	}
	for i, l := range lines {
		if !json.Valid(l) {
			return fmt.Sprintf("jsonl: line %d is not valid JSON: %q", i+1, l)
		}
	}
	for _, name := range []string{"table", "csv", "markdown", "timeline"} {
		if i := controlAt(out[name]); i >= 0 {
			return fmt.Sprintf("%s: control byte at %d: %q", name, i, out[name][max(0, i-40):min(len(out[name]), i+40)])
		}
	}
	cr := csv.NewReader(bytes.NewReader(out["csv"]))
	rows, err := cr.ReadAll() // FieldsPerRecord 0: every row must have the header's field count
	if err != nil {
		return fmt.Sprintf("csv: %v", err)
	}
	if len(rows) != nrecs+1 {
		return fmt.Sprintf("csv: got %d rows, want %d", len(rows), nrecs+1)
	}
	for i, row := range rows {
		for j, f := range row {
			if strings.ContainsAny(f, "\n\r") {
				return fmt.Sprintf("csv: row %d field %d holds a line break: %q", i, j, f)
			}
		}
	}
	if msg := raggedMarkdown(out["markdown"], nrecs); msg != "" {
		return msg
	}
	return ""
}

// raggedMarkdown checks that every table row of the Markdown output has as many cells as
// the header (unescaped pipes).
func raggedMarkdown(md []byte, nrecs int) string {
	want, rows := -1, 0
	for _, l := range strings.Split(string(md), "\n") {
		if !strings.HasPrefix(l, "|") {
			continue
		}
		n := 0
		for i := 0; i < len(l); i++ {
			if l[i] != '|' {
				continue
			}
			bs := 0
			for j := i - 1; j >= 0 && l[j] == '\\'; j-- {
				bs++
			}
			if bs%2 == 0 {
				n++
			}
		}
		if want < 0 {
			want = n
		}
		if n != want {
			return fmt.Sprintf("markdown: row %q has %d pipes, want %d", l, n, want)
		}
		rows++
	}
	if rows != nrecs+2 {
		return fmt.Sprintf("markdown: got %d table rows, want %d", rows, nrecs+2)
	}
	return ""
}

// checkOutputs renders the records with every writer and fails t on unsafe output.
func checkOutputs(t testing.TB, recs []report.Record, files []report.FileInfo) map[string][]byte {
	t.Helper()
	for i := range recs {
		if bad := analyze.Contradictions(&recs[i]); len(bad) > 0 {
			t.Errorf("record %s -> %s contradicts itself: %v", recs[i].Client, recs[i].Server, bad)
		}
	}
	out, err := writeAll(recs, files)
	if err != nil {
		t.Fatalf("writing records: %v", err)
	}
	if msg := unsafeOutput(out, len(recs)); msg != "" {
		t.Fatal(msg)
	}
	return out
}
