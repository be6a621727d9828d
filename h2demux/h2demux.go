// Package h2demux decodes the HTTP/2 layer of one connection from its two byte streams and
// hands the bytes of each WebSocket stream (RFC 8441 extended CONNECT) to the caller.
//
// The input is what follows the client preface's position on the wire: a cleartext h2c
// connection with prior knowledge, an h2c connection after its `Upgrade: h2c` exchange (the
// caller strips the HTTP/1.1 request and the 101), or the plaintext of a TLS connection that
// negotiated ALPN h2. The client direction must start with the preface
// "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".
//
// Frames are parsed as pushed bytes arrive, in chunks of any size; the results do not depend
// on how the bytes were split. Memory is bounded per direction: one frame header, a few bytes
// of a control frame, and the HPACK decoder's state (its dynamic table, at most 64 KiB, and
// a partial header field, at most about 64 KiB). DATA payloads are passed to the sink as
// sub-slices of the fed bytes, never buffered; header blocks are decoded as their fragments
// arrive.
//
// Header blocks are decoded with golang.org/x/net/http2/hpack, one decoder per direction.
// HPACK's dynamic table makes every block depend on the blocks before it, so a decoding error
// or a gap inside a header block leaves that direction's header state unknown: later blocks
// of that direction are skipped and counted in Info.
package h2demux

import (
	"strconv"
	"time"
)

// Dir is the direction of a byte stream, named by its sender.
type Dir uint8

const (
	// ClientToServer is the direction that sends the client preface.
	ClientToServer Dir = 0
	// ServerToClient is the other direction.
	ServerToClient Dir = 1
)

// String names the sender: "client" or "server".
func (d Dir) String() string {
	if d == ClientToServer {
		return "client"
	}
	return "server"
}

// DefaultMaxStreams is Options.MaxStreams when it is 0 or less.
const DefaultMaxStreams = 1000

// Options configures a Conn.
type Options struct {
	// MaxStreams bounds the WebSocket streams followed at once (DefaultMaxStreams if 0).
	// A WebSocket stream opened while that many are open is counted in Info.Untracked and
	// its bytes are ignored.
	MaxStreams int
	// Stream is called when the client opens a stream with an extended CONNECT whose
	// :protocol is websocket. It returns the sink for the stream, or nil to ignore it.
	// s is only valid during the call.
	Stream func(s *StreamInfo) Sink
	// Event, if not nil, reports connection-level events for timelines: a SETTINGS frame
	// carrying ENABLE_CONNECT_PROTOCOL, a GOAWAY, a PING.
	Event func(e ConnEvent)
}

// Sink receives what happens on one WebSocket stream. Its methods are called in the order
// the frames were fed.
type Sink interface {
	// Data gives DATA payload bytes of the stream sent by dir, in order, padding removed.
	// data is only valid during the call.
	Data(dir Dir, data []byte, t time.Time)
	// Gap reports that length stream bytes sent by dir are missing (0 = unknown). After a
	// Gap(dir, 0) that follows a loss of the frame boundaries nothing more comes from dir.
	Gap(dir Dir, length int64, t time.Time)
	// Response gives a HEADERS block the server sent on the stream: the response, an
	// interim 1xx one, or trailers (Status 0).
	Response(r *Response, t time.Time)
	// End is called once, when the stream ended, and nothing is called after it.
	End(e StreamEnd)
}

// StreamInfo describes an extended CONNECT request that opened a WebSocket stream.
type StreamInfo struct {
	ID   uint32
	Time time.Time // when the request's header block was complete
	// Path, Authority and Scheme are the pseudo-header fields; Origin, Version
	// (sec-websocket-version), Protocols (sec-websocket-protocol) and Extensions
	// (sec-websocket-extensions) the header fields, several fields joined with ", ".
	Path, Authority, Scheme string
	Origin, Version         string
	Protocols, Extensions   string
	UserAgent               string // user-agent
	// ConnectEnabled: the server's SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 was seen before the
	// request (RFC 8441 forbids the request otherwise).
	ConnectEnabled bool
	// EndStream: the request carried END_STREAM (the client will send no DATA).
	EndStream bool
}

// Response is a HEADERS block the server sent on a WebSocket stream.
type Response struct {
	// Status is the :status value, 0 if missing or not a number (trailers have none).
	Status int
	// Protocol and Extensions are sec-websocket-protocol and sec-websocket-extensions.
	Protocol, Extensions string
	// EndStream: the block carried END_STREAM.
	EndStream bool
	// Undecoded: the block could not be decoded (the header state was unknown), so only
	// EndStream is known.
	Undecoded bool
}

// How a stream ended, StreamEnd.How.
const (
	// EndStream: both sides sent END_STREAM.
	EndStream = "end_stream"
	// EndRST: a side sent RST_STREAM.
	EndRST = "rst_stream"
	// EndGoAway: a GOAWAY ended the stream: one with an error code, or a graceful one
	// whose last stream id is below the stream's.
	EndGoAway = "goaway"
	// EndTCP: the stream was still open when the connection ended (Finish).
	EndTCP = "tcp"
)

// StreamEnd says how a WebSocket stream ended.
type StreamEnd struct {
	Time time.Time
	How  string // EndStream, EndRST, EndGoAway or EndTCP
	// ClientEndStream and ServerEndStream hold when each side sent END_STREAM, or nil.
	ClientEndStream, ServerEndStream *time.Time
	// RSTCode and RSTBy are set for EndRST.
	RSTCode *uint32
	RSTBy   *Dir
	// GoAway is the GOAWAY that ended the stream (EndGoAway), or for EndTCP the last GOAWAY
	// seen while the stream was open (a graceful shutdown the stream outlived), else nil.
	GoAway *GoAwayInfo
}

// GoAwayInfo is one GOAWAY frame.
type GoAwayInfo struct {
	Time         time.Time
	By           Dir
	LastStreamID uint32
	Code         uint32
	// Debug is the start of the additional debug data (at most 256 bytes, as sent).
	Debug string
}

// Event kinds, ConnEvent.Kind.
const (
	EventSettings = "settings" // a SETTINGS frame with ENABLE_CONNECT_PROTOCOL
	EventGoAway   = "goaway"
	EventPing     = "ping"
)

// ConnEvent is a connection-level event.
type ConnEvent struct {
	Time time.Time
	Dir  Dir
	Kind string // EventSettings, EventGoAway or EventPing
	// ConnectProtocol is the ENABLE_CONNECT_PROTOCOL value (EventSettings).
	ConnectProtocol uint32
	// GoAway is set for EventGoAway.
	GoAway *GoAwayInfo
	// Ack and Ping are the PING's ACK flag and opaque data (EventPing).
	Ack  bool
	Ping uint64
}

// Settings describes what one side announced in its SETTINGS frames.
type Settings struct {
	// Frames counts the SETTINGS frames (not acknowledgements).
	Frames int
	// ConnectProtocol: ENABLE_CONNECT_PROTOCOL was sent; EnableConnectProtocol: its last
	// value was 1.
	ConnectProtocol, EnableConnectProtocol bool
	// HeaderTableSize and MaxFrameSize are the last values, or the defaults (4096, 16384).
	HeaderTableSize, MaxFrameSize uint32
}

// Info describes an HTTP/2 connection as far as it was seen.
type Info struct {
	// Preface: the client preface was seen.
	Preface bool
	// Settings per Dir.
	Settings [2]Settings
	// GoAways lists the GOAWAY frames (at most 16).
	GoAways []GoAwayInfo
	// Frames counts the frame headers seen per Dir.
	Frames [2]int
	// Streams counts the streams the client opened; WebSocketStreams those that were
	// extended CONNECTs with :protocol websocket; Untracked the WebSocket streams ignored
	// because MaxStreams were open.
	Streams, WebSocketStreams, Untracked int
	// HeaderBlocks counts the header blocks per Dir; HeaderFailures those that could not be
	// decoded: an HPACK error, or skipped because the header state was unknown.
	HeaderBlocks, HeaderFailures [2]int
	// HeaderStateLost: per Dir, a decoding error or a gap left the HPACK state unknown.
	HeaderStateLost [2]bool
	// FramingLost: per Dir, a gap or a bad preface lost the frame boundaries; the rest of
	// that direction was ignored.
	FramingLost [2]bool
	// Problems describes protocol violations and lost data, at most 32; ProblemsDropped
	// counts those beyond.
	Problems        []string
	ProblemsDropped int
}

// HTTP/2 error codes (RFC 9113 section 7).
const (
	NoError            uint32 = 0x0
	ProtocolError      uint32 = 0x1
	InternalError      uint32 = 0x2
	FlowControlError   uint32 = 0x3
	SettingsTimeout    uint32 = 0x4
	StreamClosed       uint32 = 0x5
	FrameSizeError     uint32 = 0x6
	RefusedStream      uint32 = 0x7
	Cancel             uint32 = 0x8
	CompressionError   uint32 = 0x9
	ConnectError       uint32 = 0xa
	EnhanceYourCalm    uint32 = 0xb
	InadequateSecurity uint32 = 0xc
	HTTP11Required     uint32 = 0xd
)

var codeNames = [...]string{
	"NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
	"STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
	"CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
}

// CodeName names an HTTP/2 error code, e.g. "CANCEL", or "0x1f" for an unknown one.
func CodeName(code uint32) string {
	if int(code) < len(codeNames) {
		return codeNames[code]
	}
	return "0x" + strconv.FormatUint(uint64(code), 16)
}

// clientPreface starts the client direction (RFC 9113 section 3.4).
const clientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// LooksLikePreface reports whether b starts with the client preface. With fewer than 24
// bytes it reports whether b could be its beginning; it is false for an empty b.
func LooksLikePreface(b []byte) bool {
	n := min(len(b), len(clientPreface))
	return n > 0 && string(b[:n]) == clientPreface[:n]
}
