package scan

// Error is returned by Scanner.Read when src cannot be read as a capture at all. Msg is
// the whole message, "NAME: what is wrong[ at byte N]"; Err is the underlying error (a
// *capture.FileError, or the error of the source), so that errors.As and errors.Is see it.
type Error struct {
	Msg string
	Err error
}

// Error returns Msg.
func (e *Error) Error() string { return e.Msg }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }
