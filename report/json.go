package report

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
