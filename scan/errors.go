package scan

import (
	"errors"
	"fmt"

	"github.com/wsclosescan/wsclosescan/capture"
)

// Error is returned by Scanner.Read when src cannot be read as a capture at all. It keeps
// the evidence typed: the file's name, the byte offset of the damage (-1 when the error
// concerns the input as a whole) and the underlying error (a *capture.FileError, or the
// error of the source), so that errors.As and errors.Is see it.
type Error struct {
	File   string
	Offset int64
	// Gzip: the file is gzip-compressed, so Offset is into the decompressed data.
	Gzip bool
	Err  error
}

// newError wraps err, taking the offset from a *capture.FileError.
func newError(name string, err error, gzip bool) *Error {
	e := &Error{File: name, Offset: -1, Err: err, Gzip: gzip}
	var fe *capture.FileError
	if errors.As(err, &fe) {
		e.Offset = fe.Offset
	}
	return e
}

// Error returns "NAME: what is wrong[ at byte N]".
func (e *Error) Error() string { return describe(e.File, e.Err, e.Gzip) }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// describe turns a capture error into "NAME: what is wrong[ at byte N]", "at byte N of
// the decompressed data" for a gzip-compressed file.
func describe(name string, err error, gzip bool) string {
	return name + ": " + describeDamage(err, gzip)
}

// describeDamage is describe without the file name.
func describeDamage(err error, gzip bool) string {
	var fe *capture.FileError
	if errors.As(err, &fe) {
		msg := fmt.Sprint(fe.Err)
		if fe.Offset >= 0 {
			msg += fmt.Sprintf(" at byte %d", fe.Offset)
			if gzip {
				msg += " of the decompressed data"
			}
		}
		return msg
	}
	return fmt.Sprint(err)
}
