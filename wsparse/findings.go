package wsparse

import (
	"sort"
	"time"
)

// Finding codes. The strings are stable: reports and golden files use them.
const (
	// Framing (RFC 6455 section 5).
	FindClientUnmasked      FindingCode = "client-frame-unmasked"
	FindServerMasked        FindingCode = "server-frame-masked"
	FindRSVWithoutExtension FindingCode = "rsv-without-extension"
	FindRSV1NotFirst        FindingCode = "rsv1-not-first-frame"
	FindReservedOpcode      FindingCode = "reserved-opcode"
	FindControlFragmented   FindingCode = "control-fragmented"
	FindControlTooLong      FindingCode = "control-too-long"
	FindUnexpectedContinue  FindingCode = "unexpected-continuation"
	FindMessageInterrupted  FindingCode = "message-interrupted"
	FindNonMinimalLength    FindingCode = "non-minimal-length"
	FindLengthTopBit        FindingCode = "length-top-bit"
	FindDataAfterClose      FindingCode = "data-after-close"
	FindDuplicateClose      FindingCode = "duplicate-close"
	FindInvalidUTF8         FindingCode = "invalid-utf8"
	FindCloseOneByte        FindingCode = "close-1-byte"
	FindCloseCodeInvalid    FindingCode = "close-code-invalid"
	FindCloseReasonTooLong  FindingCode = "close-reason-too-long"
	FindCloseReasonNotUTF8  FindingCode = "close-reason-invalid-utf8"
	FindIncompleteFrame     FindingCode = "incomplete-frame"
	FindHeaderTooLarge      FindingCode = "header-too-large"
	FindHTTPMalformed       FindingCode = "http-malformed"
	FindHeadersTruncated    FindingCode = "headers-truncated"
	FindCaptureGap          FindingCode = "capture-gap"
	FindUndecodable         FindingCode = "undecodable"
	FindHandshakeFailed     FindingCode = "handshake-failed"
)

// AllFindingCodes lists every code the package emits, in a fixed order.
func AllFindingCodes() []FindingCode {
	return []FindingCode{
		FindClientUnmasked, FindServerMasked, FindRSVWithoutExtension, FindRSV1NotFirst,
		FindReservedOpcode, FindControlFragmented, FindControlTooLong, FindUnexpectedContinue,
		FindMessageInterrupted, FindNonMinimalLength, FindLengthTopBit, FindDataAfterClose,
		FindDuplicateClose, FindInvalidUTF8, FindCloseOneByte, FindCloseCodeInvalid,
		FindCloseReasonTooLong, FindCloseReasonNotUTF8, FindIncompleteFrame,
		FindHeaderTooLarge, FindHTTPMalformed, FindHeadersTruncated, FindCaptureGap,
		FindUndecodable, FindHandshakeFailed,
	}
}

// addFinding records a finding, merging it into an earlier one of the same code and side.
// The first occurrence is also emitted as an EventFinding.
func (c *Conn) addFinding(code FindingCode, s Side, frame int, t time.Time, detail string) {
	if c.bump(code, s) {
		return
	}
	n := c.getNotes()
	n.findings = append(n.findings, Finding{Code: code, Side: s, Frame: frame, Time: t, Detail: detail, Count: 1})
	c.emit(Event{Kind: EventFinding, Side: s, Time: t, Frame: frame, Code: code, Detail: detail})
}

// bump counts one more occurrence of an existing finding; it reports false when the code
// has not been seen on s yet. Hot paths call it before building a detail string.
func (c *Conn) bump(code FindingCode, s Side) bool {
	if c.notes == nil {
		return false
	}
	for i := range c.notes.findings {
		if f := &c.notes.findings[i]; f.Code == code && f.Side == s {
			f.Count++
			return true
		}
	}
	return false
}

// Findings returns the findings ordered by time, then side, then code.
func (c *Conn) Findings() []Finding {
	var all []Finding
	if c.notes != nil {
		all = c.notes.findings
	}
	out := make([]Finding, len(all))
	copy(out, all)
	if len(out) < 2 {
		return out // nothing to sort, and sort.SliceStable would allocate to box the slice
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		if a.Side != b.Side {
			return a.Side < b.Side
		}
		return a.Code < b.Code
	})
	return out
}
