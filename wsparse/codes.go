package wsparse

import "strconv"

// CloseCode is the status code carried by a close frame (RFC 6455 section 7.4).
type CloseCode uint16

// Close codes registered with IANA ("WebSocket Close Code Number Registry").
const (
	CloseNormal            CloseCode = 1000
	CloseGoingAway         CloseCode = 1001
	CloseProtocolError     CloseCode = 1002
	CloseUnsupportedData   CloseCode = 1003
	CloseReserved1004      CloseCode = 1004
	CloseNoStatus          CloseCode = 1005
	CloseAbnormal          CloseCode = 1006
	CloseInvalidPayload    CloseCode = 1007
	ClosePolicyViolation   CloseCode = 1008
	CloseMessageTooBig     CloseCode = 1009
	CloseMandatoryExt      CloseCode = 1010
	CloseInternalError     CloseCode = 1011
	CloseServiceRestart    CloseCode = 1012
	CloseTryAgainLater     CloseCode = 1013
	CloseBadGateway        CloseCode = 1014
	CloseTLSHandshake      CloseCode = 1015
	firstUndefinedStandard CloseCode = 1016
)

// CodeRange classifies a close code by the range it falls in.
type CodeRange uint8

// Close code ranges (RFC 6455 section 7.4.2).
const (
	// RangeInvalid: 0-999 and 5000 and above; never valid.
	RangeInvalid CodeRange = iota
	// RangeStandard: a code defined by RFC 6455 or registered by IANA for the protocol
	// itself (1000-1015 except 1004).
	RangeStandard
	// RangeReserved: 1004 and 1016-2999, kept for future revisions and extensions.
	RangeReserved
	// RangeRegistered: 3000-3999, registered with IANA by libraries, frameworks and
	// applications.
	RangeRegistered
	// RangePrivate: 4000-4999, free for private use by applications.
	RangePrivate
)

// String returns "standard", "reserved", "registered", "private" or "invalid".
func (r CodeRange) String() string {
	switch r {
	case RangeStandard:
		return "standard"
	case RangeReserved:
		return "reserved"
	case RangeRegistered:
		return "registered"
	case RangePrivate:
		return "private"
	}
	return "invalid"
}

var standardNames = [...]string{
	"Normal Closure", "Going Away", "Protocol Error", "Unsupported Data", "Reserved",
	"No Status Received", "Abnormal Closure", "Invalid Frame Payload Data",
	"Policy Violation", "Message Too Big", "Mandatory Extension", "Internal Error",
	"Service Restart", "Try Again Later", "Bad Gateway", "TLS Handshake",
}

// Name returns the IANA name of the code ("Normal Closure", "Going Away", ...), "registered"
// for 3000-3999, "private" for 4000-4999, "reserved" for 1016-2999 and "invalid" otherwise.
func (c CloseCode) Name() string {
	switch {
	case c >= CloseNormal && c < firstUndefinedStandard:
		return standardNames[c-CloseNormal]
	case c >= 3000 && c <= 3999:
		return "registered"
	case c >= 4000 && c <= 4999:
		return "private"
	case c >= firstUndefinedStandard && c <= 2999:
		return "reserved"
	}
	return "invalid"
}

// String returns the code with its name, e.g. "1000 (Normal Closure)".
func (c CloseCode) String() string {
	if c >= CloseNormal && c < firstUndefinedStandard {
		return standardStrings[c-CloseNormal] // most close frames: no allocation per frame
	}
	return strconv.Itoa(int(c)) + " (" + c.Name() + ")"
}

// standardStrings are the Strings of the standard codes.
var standardStrings = func() (t [firstUndefinedStandard - CloseNormal]string) {
	for i := range t {
		c := CloseNormal + CloseCode(i)
		t[i] = strconv.Itoa(int(c)) + " (" + c.Name() + ")"
	}
	return t
}()

// Range returns the range the code belongs to.
func (c CloseCode) Range() CodeRange {
	switch {
	case c == CloseReserved1004:
		return RangeReserved
	case c >= CloseNormal && c < firstUndefinedStandard:
		return RangeStandard
	case c >= firstUndefinedStandard && c <= 2999:
		return RangeReserved
	case c >= 3000 && c <= 3999:
		return RangeRegistered
	case c >= 4000 && c <= 4999:
		return RangePrivate
	}
	return RangeInvalid
}

// MaySend reports whether an endpoint may put the code in a close frame: 1000-1003,
// 1007-1014 and 3000-4999. 1005, 1006 and 1015 are reserved for APIs to report
// conditions that have no close frame; 1004 and 1016-2999 are reserved; 0-999 and 5000+
// are not close codes.
func (c CloseCode) MaySend() bool {
	switch {
	case c >= CloseNormal && c <= CloseUnsupportedData:
		return true
	case c >= CloseInvalidPayload && c <= CloseBadGateway:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}

// wireProblem returns why the code may not appear in a close frame, or "" if it may.
func (c CloseCode) wireProblem() string {
	if c.MaySend() {
		return ""
	}
	s := strconv.Itoa(int(c))
	switch {
	case c == CloseNoStatus || c == CloseAbnormal || c == CloseTLSHandshake:
		return "code " + s + " must never be sent on the wire"
	case c == CloseReserved1004:
		return "code 1004 is reserved"
	case c >= firstUndefinedStandard && c <= 2999:
		return "code " + s + " is reserved for future use (1016-2999)"
	case c < CloseNormal:
		return "code " + s + " is not a valid close code (0-999 are unused)"
	}
	return "code " + s + " is not a valid close code (above 4999)"
}
