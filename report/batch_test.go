package report

import (
	"encoding/csv"
	"io"
)

// The batch writers below write a whole slice of records with the streaming Writers; only
// the tests need them.

// WriteJSON writes doc as one indented JSON document: connections, files, summary. Strings
// from the wire are always valid JSON: bytes that are not UTF-8 become U+FFFD (the
// record's problems say so).
func WriteJSON(w io.Writer, doc Document) error {
	j := &jsonWriter{w: w}
	for i := range doc.Connections {
		if err := j.Write(&doc.Connections[i]); err != nil {
			return err
		}
	}
	return j.Finish(doc.Files, doc.Summary)
}

// WriteJSONLines writes one compact JSON record per line.
func WriteJSONLines(w io.Writer, recs []Record) error {
	j := &jsonLinesWriter{w: w}
	for i := range recs {
		if err := j.Write(&recs[i]); err != nil {
			return err
		}
	}
	return nil
}

// WriteCSV writes a header row and one row per record. Text from the wire is escaped with
// Printable, lists are joined with "; ", and absent values are empty cells.
func WriteCSV(w io.Writer, recs []Record) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for i := range recs {
		if err := cw.Write(csvRow(&recs[i])); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteMarkdown writes records as a GitHub-flavoured Markdown table, ready to paste into an
// issue, followed by the summary and the hints of each connection.
func WriteMarkdown(w io.Writer, recs []Record) error {
	m := &markdownWriter{w: w}
	for i := range recs {
		if err := m.Write(&recs[i]); err != nil {
			return err
		}
	}
	return m.Finish(nil, Summarize(recs))
}

// WriteTable writes records as an ASCII table followed by the one-line summary.
func WriteTable(w io.Writer, recs []Record, opts TableOptions) error {
	rows := make([]tableLine, len(recs))
	for i := range recs {
		rows[i] = newTableLine(&recs[i], opts)
	}
	return renderTable(w, rows, opts, Summarize(recs))
}

// Int and String return pointers, for building records in tests.
func Int(v int) *int          { return &v }
func String(s string) *string { return &s }
func Uint(v uint64) *uint64   { return &v }
