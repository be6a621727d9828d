package capture

import (
	"errors"
	"strconv"
)

// Errors wrapped by FileError.Err; test them with errors.Is.
var (
	// ErrNotCapture: the input does not start with a pcap, pcapng or gzip magic number.
	ErrNotCapture = errors.New("not a pcap or pcapng file")
	// ErrTruncated: the input ends inside a file header, record, block or gzip stream.
	ErrTruncated = errors.New("truncated")
	// ErrCorrupt: the framing (a record header or block length) is garbage, so the records
	// that follow cannot be found.
	ErrCorrupt = errors.New("corrupt")
)

// FileError reports that the capture cannot be read past a point. All packets before the
// damage have been returned by Next when it is returned.
type FileError struct {
	// File is the name given to NewReader or Open.
	File string
	// Offset is the byte offset of the damaged unit (file header, record or block) in the
	// uncompressed capture stream, or -1 when the error concerns the input as a whole.
	Offset int64
	// Err describes the damage; it wraps ErrNotCapture, ErrTruncated, ErrCorrupt or an I/O
	// or decompression error.
	Err error
}

// Error returns a message such as "capture: x.pcap: truncated packet record at byte 10342".
func (e *FileError) Error() string {
	s := "capture: " + e.File + ": " + e.Err.Error()
	if e.Offset >= 0 {
		s += " at byte " + strconv.FormatInt(e.Offset, 10)
	}
	return s
}

// Unwrap returns e.Err.
func (e *FileError) Unwrap() error { return e.Err }
