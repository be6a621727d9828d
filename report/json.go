package report

import "time"

// FileInfo describes one capture file that was read.
type FileInfo struct {
	Name    string `json:"name"`
	Packets int64  `json:"packets"`
	// Error is the reason reading stopped early (truncated or corrupt file), or nil.
	Error    *string  `json:"error"`
	Warnings []string `json:"warnings"`
	// First and Last are the earliest and latest capture times of the file's packets
	// (zero without packets); not part of the JSON contract.
	First, Last time.Time `json:"-"`
}

// Document is the single JSON document written by --format json.
type Document struct {
	Connections []Record   `json:"connections"`
	Files       []FileInfo `json:"files"`
	Summary     Summary    `json:"summary"`
}
