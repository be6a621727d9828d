package wsparse

import (
	"math"
	"strings"
	"time"
)

// Side names an endpoint of the connection.
type Side uint8

const (
	// Client is the side that sent (or, mid-stream, would have sent) the upgrade request.
	Client Side = 0
	// Server is the other side.
	Server Side = 1
)

// Other returns the opposite side.
func (s Side) Other() Side { return s ^ 1 }

// String returns "client" or "server".
func (s Side) String() string {
	if s == Client {
		return "client"
	}
	return "server"
}

// Opcode is a WebSocket frame opcode.
type Opcode uint8

// Opcodes defined by RFC 6455 section 5.2.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether op is a control opcode (0x8-0xF).
func (op Opcode) IsControl() bool { return op&0x8 != 0 }

// Handshake is the opening handshake as seen on the wire, and the judgement of it.
type Handshake struct {
	RequestSeen, ResponseSeen bool
	RequestTime, ResponseTime time.Time

	// From the client's request.
	Method, Path, Host, Origin, UserAgent string
	Version                               string // Sec-WebSocket-Version
	Key                                   string // Sec-WebSocket-Key
	// XForwardedFor and Forwarded are the request's forwarding headers as a proxy sent them
	// (every such header joined by ", "); "" when absent.
	XForwardedFor, Forwarded string
	Protocols                []string // offered subprotocols, in order
	Extensions               []string // offered extensions, one entry per offer, parameters included

	// From the server's response.
	Status           int    // HTTP status code; 0 when no response was seen
	StatusText       string // reason phrase as sent, e.g. "Forbidden"
	Accept           string // Sec-WebSocket-Accept
	Subprotocol      string // chosen subprotocol, "" if none
	ChosenExtensions []string
	ServerVersions   string // Sec-WebSocket-Version of a 426 response

	// Failure is the human reason a compliant client failed the handshake, e.g.
	// "server answered 403 Forbidden"; empty when Upgraded or no response was seen.
	Failure string
	// Unchecked lists the checks that could not be made because headers were truncated
	// or the request was not captured, e.g. "Sec-WebSocket-Accept".
	Unchecked []string

	// Deflate is set when the server's 101 selected permessage-deflate (RSV1 then legal on
	// first frames), even if the client did not offer it (Failure then says so).
	Deflate bool
	// Tunnel is set for a WebSocket carried in an HTTP/2 stream (RFC 8441): the request is an
	// extended CONNECT and the accepting answer is 200, not 101.
	Tunnel bool
	// HeadersTruncated is set when the request or response headers were cut short (snaplen,
	// lost bytes, end of capture); the fields hold what could be read.
	HeadersTruncated bool
	// Upgraded is set when a compliant client would have accepted the response: a 101 with
	// the right Upgrade/Connection headers, accept key, subprotocol and extensions.
	Upgraded                    bool
	reqTruncated, respTruncated bool
	acceptOK                    bool // judge found Accept to be the one Key asks for (pack needs no SHA-1)
}

// CloseFrame is a close frame as sent by Side, and what is wrong with it.
type CloseFrame struct {
	Side  Side
	Time  time.Time // capture time of the segment that completed the frame
	Frame int       // index of the frame in its direction, counting from 0
	// HasCode is false for an empty payload (the receiver's API reports 1005), and also
	// when the code bytes were not captured (Incomplete set, PayloadLen >= 2).
	HasCode bool
	Code    CloseCode
	// Reason holds the reason bytes as sent (up to the control payload cap); it may be
	// invalid UTF-8.
	Reason []byte
	// PayloadLen is the payload length announced by the frame header.
	PayloadLen int64
	// Incomplete is set when part of the payload is missing from the capture.
	Incomplete bool
	count      int32 // in the first close frame of a side: how many the side sent (CloseCount)
	// Problems lists violations, e.g. "reason is 256 bytes (limit 123)". Empty when valid.
	Problems []string
}

// ReasonString returns the reason as text, with invalid UTF-8 bytes replaced by U+FFFD.
func (c *CloseFrame) ReasonString() string { return strings.ToValidUTF8(string(c.Reason), "\uFFFD") }

// Valid reports whether the frame is a well-formed close frame.
func (c *CloseFrame) Valid() bool { return len(c.Problems) == 0 }

// FindingCode identifies a kind of finding. Its string form is stable and used in reports.
type FindingCode string

// Finding is a violation of RFC 6455 / RFC 7692 (or a capture problem that affects the
// decoding) seen on one side. Repeated findings of the same code and side are merged into
// the first one, with Count holding how many times it occurred.
type Finding struct {
	Code   FindingCode
	Side   Side
	Frame  int // frame index in Side's direction; -1 when not about a frame
	Time   time.Time
	Detail string // human description, e.g. "client frame 3 is not masked"
	Count  int
}

// Ping is a ping or pong control frame.
type Ping struct {
	Side    Side
	Time    time.Time
	Pong    bool
	Payload []byte // up to the control payload cap
}

// DirStats counts the frames one side sent.
type DirStats struct {
	Frames   int64
	Messages int64 // completed data messages (final fragment seen)
	// PayloadBytes counts data frame payload bytes that were on the wire: those decoded
	// plus those missing inside a frame whose boundaries are known (never a length that a
	// header announced but the capture does not show).
	PayloadBytes int64
	Pings, Pongs int64
	// LastFrameTime is the capture time of the last complete frame of this side.
	LastFrameTime time.Time
	// MissingBytes counts bytes of this direction the decoder was told were missing.
	MissingBytes int64
	// Resyncs counts how often decoding resumed after a gap by finding a frame boundary.
	Resyncs int32
	// Undecodable is set when the direction ended while the decoder could not find a frame
	// boundary after a gap: a close frame may have been among the missing or later bytes.
	Undecodable bool
	// Unscanned is set with Undecodable when the direction's bytes were dropped without being
	// scanned for a frame boundary (a mid-stream start that showed none in time).
	Unscanned bool
}

// dirStats is what a Conn keeps of a DirStats: the last frame's time in 8 bytes.
type dirStats struct {
	Frames, Messages, PayloadBytes, Pings, Pongs int64
	lastFrame                                    nanoTime
	MissingBytes                                 int64
	Resyncs                                      int32
	Undecodable, Unscanned                       bool
}

// nanoTime is a capture time in 8 bytes: 0 for the zero time, else its UnixNano; or
// farTime for a time that does not come back as it was from its UnixNano (after 2262,
// before 1678, not in UTC, with a monotonic reading) or is the Unix epoch itself, which the
// Conn keeps in full elsewhere.
type nanoTime int64

const farTime = nanoTime(math.MinInt64)

// toNanoTime returns t as a nanoTime.
func toNanoTime(t time.Time) nanoTime {
	if t.IsZero() {
		return 0
	}
	ns := t.UnixNano()
	if ns == 0 || ns == int64(farTime) || time.Unix(0, ns).UTC() != t {
		return farTime
	}
	return nanoTime(ns)
}

// time returns the time (the zero time for 0 and farTime).
func (n nanoTime) time() time.Time {
	if n == 0 || n == farTime {
		return time.Time{}
	}
	return time.Unix(0, int64(n)).UTC()
}
