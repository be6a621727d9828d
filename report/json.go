package report

import "io"

// FileInfo describes one capture file that was read.
type FileInfo struct {
	Name    string `json:"name"`
	Packets int64  `json:"packets"`
	// Error is the reason reading stopped early (truncated or corrupt file), or nil.
	Error    *string  `json:"error"`
	Warnings []string `json:"warnings"`
}

// Document is the single JSON document written by --format json.
type Document struct {
	Connections []Record   `json:"connections"`
	Files       []FileInfo `json:"files"`
	Summary     Summary    `json:"summary"`
}

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
