// Package report holds the per-connection record that wsclosescan produces — a stable
// contract whose JSON field names are documented in the README — and writes records as a
// table, JSON, JSON lines, CSV, Markdown or a timeline ladder.
package report

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// Handshake states of a record.
const (
	HandshakeCompleted  = "completed"
	HandshakeRejected   = "rejected"
	HandshakeIncomplete = "incomplete"
	HandshakeNotSeen    = "not_seen"
)

// Verdict is how a connection ended, in one word; see the README for the definitions.
type Verdict string

// Verdicts of a record.
const (
	VerdictClean           Verdict = "clean"
	VerdictHalfClosed      Verdict = "half_closed"
	VerdictAbnormal        Verdict = "abnormal"
	VerdictHandshakeFailed Verdict = "handshake_failed"
	VerdictOpenAtEnd       Verdict = "open_at_end"
	// VerdictUnknown: bytes missing from the capture hide how the connection ended (a close
	// frame may be among them); Record.Unknown names what could not be established.
	VerdictUnknown Verdict = "unknown"
	// VerdictNotWebSocket marks plain TCP connections, listed only with --all.
	VerdictNotWebSocket Verdict = "not_websocket"
)

// Verdicts lists every verdict in the order summaries print them.
var Verdicts = []Verdict{
	VerdictClean, VerdictHalfClosed, VerdictAbnormal, VerdictHandshakeFailed,
	VerdictOpenAtEnd, VerdictUnknown, VerdictNotWebSocket,
}

// Side names an endpoint of a connection: the client or the server. It is written as
// "client" or "server" (SideNone, for what no side sent, as "").
type Side uint8

// Sides.
const (
	SideNone Side = iota
	SideClient
	SideServer
)

// String returns "client", "server", or "" for SideNone.
func (s Side) String() string {
	switch s {
	case SideClient:
		return "client"
	case SideServer:
		return "server"
	}
	return ""
}

// Other returns the peer of s (SideNone for SideNone).
func (s Side) Other() Side {
	switch s {
	case SideClient:
		return SideServer
	case SideServer:
		return SideClient
	}
	return SideNone
}

// MarshalText writes the side as String does.
func (s Side) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads "client", "server" or "".
func (s *Side) UnmarshalText(b []byte) error {
	switch string(b) {
	case "client":
		*s = SideClient
	case "server":
		*s = SideServer
	case "":
		*s = SideNone
	default:
		return fmt.Errorf("report: unknown side %q", b)
	}
	return nil
}

// Record describes how one TCP connection, usually a WebSocket, ended.
type Record struct {
	File   string `json:"file"`
	Client string `json:"client"`
	Server string `json:"server"`
	// ClientAddr and ServerAddr are Client and Server as addresses, for selecting records
	// without parsing the strings back; they are not part of the JSON contract.
	ClientAddr netip.AddrPort `json:"-"`
	ServerAddr netip.AddrPort `json:"-"`
	// Released is when wsclosescan let the connection go, in capture time: the key of
	// --order end. Zero when not known; not part of the JSON contract.
	Released time.Time `json:"-"`
	// CommunityID is the Community ID flow hash (v1, seed 0) of the connection, as Zeek,
	// Suricata and Arkime log it: "1:" and base64.
	CommunityID string `json:"community_id"`
	// DisplayFilter is a Wireshark display filter selecting the connection's packets.
	DisplayFilter string  `json:"display_filter"`
	Start         Time    `json:"start"`
	End           Time    `json:"end"`
	DurationS     float64 `json:"duration_s"`
	// WebSocket is false for plain TCP connections (listed with --all).
	WebSocket bool `json:"websocket"`
	// TLS describes the TLS session the connection carried, nil for cleartext.
	TLS *TLS `json:"tls"`
	// H2 describes the HTTP/2 stream that carried the WebSocket (RFC 8441), nil for one
	// upgraded from HTTP/1.1.
	H2 *H2 `json:"h2"`

	Handshake      string   `json:"handshake"`
	HTTPStatus     *int     `json:"http_status"`
	HandshakeError *string  `json:"handshake_error"`
	Request        *Request `json:"request"`
	// RequestTime and ResponseTime are when the upgrade request and its response were
	// completed on the wire; null when not seen.
	RequestTime  *Time    `json:"request_time"`
	ResponseTime *Time    `json:"response_time"`
	Subprotocol  *string  `json:"subprotocol"`
	Extensions   []string `json:"extensions"`

	ClientClose *Close `json:"client_close"`
	ServerClose *Close `json:"server_close"`
	FirstClose  *Side  `json:"first_close"`
	TCPEnd      TCPEnd `json:"tcp_end"`
	// FrameNumbers are the Wireshark frame numbers of the connection's milestones.
	FrameNumbers   FrameNumbers `json:"frame_numbers"`
	ClientObserved *int         `json:"client_observed"`
	ServerObserved *int         `json:"server_observed"`
	Verdict        Verdict      `json:"verdict"`
	// Unknown names the fields whose true value the capture cannot establish because bytes
	// are missing or encrypted: "websocket" and "handshake" (a TLS connection that could not
	// be decrypted), "client_close", "server_close" (null there then means "not seen", not
	// "none sent"), "client_close_code", "server_close_code", "client_close_reason",
	// "server_close_reason" (cut by the capture), "client_observed",
	// "server_observed" and "verdict".
	Unknown []string `json:"unknown"`

	MissingBytes   PerSide  `json:"missing_bytes"`
	Frames         PerSide  `json:"frames"`
	Messages       PerSide  `json:"messages"`
	Bytes          PerSide  `json:"bytes"`
	LastActivity   *Time    `json:"last_activity"`
	IdleBeforeEndS *float64 `json:"idle_before_end_s"`
	Pings          []Ping   `json:"pings"`
	// Keepalive sums up the pings: counts, the unanswered ones, intervals, round trips.
	Keepalive Keepalive `json:"keepalive"`

	Problems []string `json:"problems"`
	Hints    []string `json:"hints"`
	// Proxy pairs this connection with the other leg of the same WebSocket through a proxy
	// (see package match); nil when no other leg was found.
	Proxy *Proxy `json:"proxy"`
	// LastMessages is filled only with --payloads.
	LastMessages *LastMessages `json:"last_messages,omitempty"`
	// Timeline is filled only when a timeline was asked for.
	Timeline []TimelineEntry `json:"timeline,omitempty"`
}

// Proxy names the other leg of a WebSocket relayed by a proxy, and what changed between
// the legs.
type Proxy struct {
	// Leg is this record's leg: "client" (the client to the proxy) or "backend" (the proxy
	// to the server).
	Leg string `json:"leg"`
	// MatchedBy is the evidence that paired the legs: "key" (the same Sec-WebSocket-Key),
	// "forwarded" (X-Forwarded-For or Forwarded naming the client leg's client) or
	// "timing" (the backend handshake nested in the client's, from the proxy's address).
	MatchedBy string `json:"matched_by"`
	// Other is the other leg.
	Other ProxyLeg `json:"other"`
	// Story says where the ending changed between the legs, in plain words.
	Story string `json:"story"`
}

// ProxyLeg identifies a connection.
type ProxyLeg struct {
	Client      string `json:"client"`
	Server      string `json:"server"`
	CommunityID string `json:"community_id"`
	Start       Time   `json:"start"`
}

// Leg identifies r's connection.
func (r *Record) Leg() ProxyLeg {
	return ProxyLeg{Client: r.Client, Server: r.Server, CommunityID: r.CommunityID, Start: r.Start}
}

// TLS is what the capture shows of a connection's TLS session.
type TLS struct {
	Version     string   `json:"version"`      // "TLS 1.3", "TLS 1.2"; "" when not seen
	CipherSuite string   `json:"cipher_suite"` // IANA name; "" when not seen
	SNI         string   `json:"sni"`
	ALPNOffered []string `json:"alpn_offered"`
	ALPN        *string  `json:"alpn"` // chosen; null when none or not visible (TLS 1.3 without keys)
	Resumed     bool     `json:"resumed"`
	// Decryption is "full", "partial", "none" (keys known, nothing decrypted), "no_keys" or
	// "unsupported" (a cipher suite the tool cannot decrypt).
	Decryption string `json:"decryption"`
	// CloseNotify is when each side sent its close_notify alert; null when it sent none, or
	// when that cannot be seen (listed in the record's unknown as "client_close_notify").
	CloseNotify TLSCloseNotify `json:"close_notify"`
	Alerts      []TLSAlert     `json:"alerts"`
}

// H2 is the HTTP/2 stream of a WebSocket carried by RFC 8441's extended CONNECT.
type H2 struct {
	StreamID uint32 `json:"stream_id"`
	// ConnectEnabled: the server had announced SETTINGS_ENABLE_CONNECT_PROTOCOL.
	ConnectEnabled bool `json:"connect_enabled"`
	// End is how the stream ended: "end_stream" (both ways), "rst_stream", "goaway" or
	// "tcp" (the TCP connection ended with the stream open).
	End             string    `json:"end"`
	ClientEndStream *Time     `json:"client_end_stream"`
	ServerEndStream *Time     `json:"server_end_stream"`
	RSTCode         *string   `json:"rst_code"` // e.g. "NO_ERROR", "CANCEL"
	RSTBy           *Side     `json:"rst_by"`
	GoAway          *H2GoAway `json:"goaway"`
}

// H2GoAway is the GOAWAY that ended (or preceded the end of) a stream.
type H2GoAway struct {
	From         Side   `json:"from"`
	Code         string `json:"code"`
	LastStreamID uint32 `json:"last_stream_id"`
	Time         Time   `json:"time"`
}

// TLSCloseNotify is the close_notify time of each side.
type TLSCloseNotify struct {
	Client *Time `json:"client"`
	Server *Time `json:"server"`
}

// TLSAlert is one TLS alert.
type TLSAlert struct {
	From        Side   `json:"from"`
	Time        Time   `json:"time"`
	Level       string `json:"level"`       // "warning", "fatal" or a number
	Description string `json:"description"` // "close_notify", "handshake_failure", ... or a number
}

// Request is what the client's upgrade request asked for.
type Request struct {
	Method     string   `json:"method"`
	Path       string   `json:"path"`
	Host       string   `json:"host"`
	Origin     string   `json:"origin"`
	UserAgent  string   `json:"user_agent"`
	Protocols  []string `json:"protocols"`
	Extensions []string `json:"extensions"`
	// Key is the Sec-WebSocket-Key; a proxy forwards it, which pairs its two legs.
	Key string `json:"key"`
	// XForwardedFor and Forwarded are the forwarding headers a proxy added (every such
	// header joined by ", "); "" when absent.
	XForwardedFor string `json:"x_forwarded_for"`
	Forwarded     string `json:"forwarded"`
}

// Close is a close frame one side sent.
type Close struct {
	// Code is nil for a close frame with an empty payload.
	Code     *int     `json:"code"`
	Reason   string   `json:"reason"`
	Time     Time     `json:"time"`
	Valid    bool     `json:"valid"`
	Problems []string `json:"problems"`
}

// TCPEnd is the first FIN or RST of the connection; all fields are nil while it is open.
type TCPEnd struct {
	First *Side   `json:"first"`
	How   *string `json:"how"`
	Time  *Time   `json:"time"`
}

// FrameNumbers are frame numbers as Wireshark shows them (1-based, per capture file, every
// packet counted): of the packet that completed the upgrade request, the response, each
// side's first close frame, and the first FIN or RST. Null when there is none, or when it
// is not known (a frame decoded from bytes held back long after they arrived).
type FrameNumbers struct {
	Request     *uint64 `json:"request"`
	Response    *uint64 `json:"response"`
	ClientClose *uint64 `json:"client_close"`
	ServerClose *uint64 `json:"server_close"`
	TCPEnd      *uint64 `json:"tcp_end"`
}

// PerSide holds one count per side.
type PerSide struct {
	Client int64 `json:"client"`
	Server int64 `json:"server"`
}

// Keepalive is what a connection's pings show.
type Keepalive struct {
	// Pings counts the ping frames each side sent (all of them, past the cap on pings).
	Pings PerSide `json:"pings"`
	// Unanswered counts each side's pings (among those listed) that no pong from the peer
	// with the same payload answered.
	Unanswered PerSide `json:"unanswered"`
	// IntervalS is the median time between a side's pings; null with fewer than two.
	IntervalS SideFloats `json:"interval_s"`
	// RTTMs sums up the round-trip times of the answered pings; null when none was.
	RTTMs *RTTStats `json:"rtt_ms"`
}

// SideFloats holds one nullable number per side.
type SideFloats struct {
	Client *float64 `json:"client"`
	Server *float64 `json:"server"`
}

// RTTStats are the smallest, median and largest round-trip time, in milliseconds.
type RTTStats struct {
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
}

// Ping is a ping frame and, when a pong answered it, the round-trip time.
type Ping struct {
	From  Side     `json:"from"`
	Time  Time     `json:"time"`
	RTTMs *float64 `json:"rtt_ms"`
}

// TimelineEntry is one line of the ladder diagram.
type TimelineEntry struct {
	// Offset is the time since the connection's first packet.
	OffsetS float64 `json:"offset_s"`
	// From is the sender, SideNone ("") for something that is not a packet (a gap).
	From Side   `json:"from"`
	What string `json:"what"`
	// Frame is the frame number of the packet (for a gap, of the packet that revealed it);
	// absent when not known.
	Frame uint64 `json:"frame,omitempty"`
}

// Time is a timestamp that marshals as RFC 3339 with nanoseconds, in UTC.
type Time struct{ time.Time }

// Layout is the timestamp layout of records: RFC 3339, nine fractional digits, UTC.
const Layout = "2006-01-02T15:04:05.000000000Z07:00"

// MarshalJSON writes the time as an RFC 3339 string with nanoseconds in UTC.
func (t Time) MarshalJSON() ([]byte, error) {
	return appendTime(make([]byte, 0, len(Layout)+2), t), nil
}

// String formats the time like MarshalJSON, without quotes.
func (t Time) String() string { return t.UTC().Format(Layout) }

// CodeText formats a nullable close code: "1000", or "none" for nil.
// IsUnknown reports whether field is listed in r.Unknown.
func (r *Record) IsUnknown(field string) bool {
	for _, f := range r.Unknown {
		if f == field {
			return true
		}
	}
	return false
}

func CodeText(c *int) string {
	if c == nil {
		return "none"
	}
	return strconv.Itoa(*c)
}

// StreamEndName is what ends an HTTP/2 stream in place of a TCP "fin" or "rst": END_STREAM
// or RST_STREAM.
func StreamEndName(how string) string {
	if how == "rst" {
		return "RST_STREAM"
	}
	return "END_STREAM"
}
