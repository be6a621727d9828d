package report

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"unicode/utf8"
)

// This file encodes records by hand, byte for byte as encoding/json's Marshal and Encoder
// do (HTML escaping on), without reflection or per-record allocations.

// appendRecord appends r to dst as compact JSON, exactly as json.Marshal(r) would write it.
// A non-finite float, which json.Marshal refuses, is written as by strconv; callers check
// floatError first.
func appendRecord(dst []byte, r *Record) []byte {
	dst = append(dst, `{"file":`...)
	dst = appendString(dst, r.File)
	dst = append(dst, `,"client":`...)
	dst = appendString(dst, r.Client)
	dst = append(dst, `,"server":`...)
	dst = appendString(dst, r.Server)
	dst = append(dst, `,"community_id":`...)
	dst = appendString(dst, r.CommunityID)
	dst = append(dst, `,"display_filter":`...)
	dst = appendString(dst, r.DisplayFilter)
	dst = append(dst, `,"start":`...)
	dst = appendTime(dst, r.Start)
	dst = append(dst, `,"end":`...)
	dst = appendTime(dst, r.End)
	dst = append(dst, `,"duration_s":`...)
	dst = appendFloat(dst, r.DurationS)
	dst = append(dst, `,"websocket":`...)
	dst = strconv.AppendBool(dst, r.WebSocket)
	dst = append(dst, `,"tls":`...)
	dst = appendTLS(dst, r.TLS)
	dst = append(dst, `,"h2":`...)
	dst = appendH2(dst, r.H2)
	dst = append(dst, `,"handshake":`...)
	dst = appendString(dst, r.Handshake)
	dst = append(dst, `,"http_status":`...)
	dst = appendIntPtr(dst, r.HTTPStatus)
	dst = append(dst, `,"handshake_error":`...)
	dst = appendStringPtr(dst, r.HandshakeError)
	dst = append(dst, `,"request":`...)
	dst = appendRequest(dst, r.Request)
	dst = append(dst, `,"request_time":`...)
	dst = appendTimePtr(dst, r.RequestTime)
	dst = append(dst, `,"response_time":`...)
	dst = appendTimePtr(dst, r.ResponseTime)
	dst = append(dst, `,"subprotocol":`...)
	dst = appendStringPtr(dst, r.Subprotocol)
	dst = append(dst, `,"extensions":`...)
	dst = appendStrings(dst, r.Extensions)
	dst = append(dst, `,"client_close":`...)
	dst = appendClose(dst, r.ClientClose)
	dst = append(dst, `,"server_close":`...)
	dst = appendClose(dst, r.ServerClose)
	dst = append(dst, `,"first_close":`...)
	dst = appendSidePtr(dst, r.FirstClose)
	dst = append(dst, `,"tcp_end":{"first":`...)
	dst = appendSidePtr(dst, r.TCPEnd.First)
	dst = append(dst, `,"how":`...)
	dst = appendStringPtr(dst, r.TCPEnd.How)
	dst = append(dst, `,"time":`...)
	dst = appendTimePtr(dst, r.TCPEnd.Time)
	dst = append(dst, `},"frame_numbers":{"request":`...)
	dst = appendUintPtr(dst, r.FrameNumbers.Request)
	dst = append(dst, `,"response":`...)
	dst = appendUintPtr(dst, r.FrameNumbers.Response)
	dst = append(dst, `,"client_close":`...)
	dst = appendUintPtr(dst, r.FrameNumbers.ClientClose)
	dst = append(dst, `,"server_close":`...)
	dst = appendUintPtr(dst, r.FrameNumbers.ServerClose)
	dst = append(dst, `,"tcp_end":`...)
	dst = appendUintPtr(dst, r.FrameNumbers.TCPEnd)
	dst = append(dst, `},"client_observed":`...)
	dst = appendIntPtr(dst, r.ClientObserved)
	dst = append(dst, `,"server_observed":`...)
	dst = appendIntPtr(dst, r.ServerObserved)
	dst = append(dst, `,"verdict":`...)
	dst = appendString(dst, string(r.Verdict))
	dst = append(dst, `,"unknown":`...)
	dst = appendStrings(dst, r.Unknown)
	dst = append(dst, `,"missing_bytes":`...)
	dst = appendPerSide(dst, r.MissingBytes)
	dst = append(dst, `,"frames":`...)
	dst = appendPerSide(dst, r.Frames)
	dst = append(dst, `,"messages":`...)
	dst = appendPerSide(dst, r.Messages)
	dst = append(dst, `,"bytes":`...)
	dst = appendPerSide(dst, r.Bytes)
	dst = append(dst, `,"last_activity":`...)
	dst = appendTimePtr(dst, r.LastActivity)
	dst = append(dst, `,"idle_before_end_s":`...)
	dst = appendFloatPtr(dst, r.IdleBeforeEndS)
	dst = append(dst, `,"pings":`...)
	dst = appendPings(dst, r.Pings)
	dst = append(dst, `,"keepalive":{"pings":`...)
	dst = appendPerSide(dst, r.Keepalive.Pings)
	dst = append(dst, `,"unanswered":`...)
	dst = appendPerSide(dst, r.Keepalive.Unanswered)
	dst = append(dst, `,"interval_s":{"client":`...)
	dst = appendFloatPtr(dst, r.Keepalive.IntervalS.Client)
	dst = append(dst, `,"server":`...)
	dst = appendFloatPtr(dst, r.Keepalive.IntervalS.Server)
	dst = append(dst, `},"rtt_ms":`...)
	if rt := r.Keepalive.RTTMs; rt == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, `{"min":`...)
		dst = appendFloat(dst, rt.Min)
		dst = append(dst, `,"median":`...)
		dst = appendFloat(dst, rt.Median)
		dst = append(dst, `,"max":`...)
		dst = appendFloat(dst, rt.Max)
		dst = append(dst, '}')
	}
	dst = append(dst, '}')
	dst = append(dst, `,"problems":`...)
	dst = appendStrings(dst, r.Problems)
	dst = append(dst, `,"hints":`...)
	dst = appendStrings(dst, r.Hints)
	dst = append(dst, `,"proxy":`...)
	dst = appendProxy(dst, r.Proxy)
	if lm := r.LastMessages; lm != nil { // omitempty
		dst = append(dst, `,"last_messages":{"client":`...)
		dst = appendMessage(dst, lm.Client)
		dst = append(dst, `,"server":`...)
		dst = appendMessage(dst, lm.Server)
		dst = append(dst, '}')
	}
	if len(r.Timeline) > 0 { // omitempty
		dst = append(dst, `,"timeline":[`...)
		for i, e := range r.Timeline {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"offset_s":`...)
			dst = appendFloat(dst, e.OffsetS)
			dst = append(dst, `,"from":`...)
			dst = appendSide(dst, e.From)
			dst = append(dst, `,"what":`...)
			dst = appendString(dst, e.What)
			if e.Frame != 0 { // omitempty
				dst = append(dst, `,"frame":`...)
				dst = strconv.AppendUint(dst, e.Frame, 10)
			}
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

func appendH2(dst []byte, h *H2) []byte {
	if h == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, `{"stream_id":`...)
	dst = strconv.AppendUint(dst, uint64(h.StreamID), 10)
	dst = append(dst, `,"connect_enabled":`...)
	dst = strconv.AppendBool(dst, h.ConnectEnabled)
	dst = append(dst, `,"end":`...)
	dst = appendString(dst, h.End)
	dst = append(dst, `,"client_end_stream":`...)
	dst = appendTimePtr(dst, h.ClientEndStream)
	dst = append(dst, `,"server_end_stream":`...)
	dst = appendTimePtr(dst, h.ServerEndStream)
	dst = append(dst, `,"rst_code":`...)
	dst = appendStringPtr(dst, h.RSTCode)
	dst = append(dst, `,"rst_by":`...)
	dst = appendSidePtr(dst, h.RSTBy)
	dst = append(dst, `,"goaway":`...)
	if g := h.GoAway; g == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, `{"from":`...)
		dst = appendSide(dst, g.From)
		dst = append(dst, `,"code":`...)
		dst = appendString(dst, g.Code)
		dst = append(dst, `,"last_stream_id":`...)
		dst = strconv.AppendUint(dst, uint64(g.LastStreamID), 10)
		dst = append(dst, `,"time":`...)
		dst = appendTime(dst, g.Time)
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

func appendTLS(dst []byte, t *TLS) []byte {
	if t == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, `{"version":`...)
	dst = appendString(dst, t.Version)
	dst = append(dst, `,"cipher_suite":`...)
	dst = appendString(dst, t.CipherSuite)
	dst = append(dst, `,"sni":`...)
	dst = appendString(dst, t.SNI)
	dst = append(dst, `,"alpn_offered":`...)
	dst = appendStrings(dst, t.ALPNOffered)
	dst = append(dst, `,"alpn":`...)
	dst = appendStringPtr(dst, t.ALPN)
	dst = append(dst, `,"resumed":`...)
	dst = strconv.AppendBool(dst, t.Resumed)
	dst = append(dst, `,"decryption":`...)
	dst = appendString(dst, t.Decryption)
	dst = append(dst, `,"close_notify":{"client":`...)
	dst = appendTimePtr(dst, t.CloseNotify.Client)
	dst = append(dst, `,"server":`...)
	dst = appendTimePtr(dst, t.CloseNotify.Server)
	dst = append(dst, `},"alerts":`...)
	if t.Alerts == nil {
		return append(dst, "null}"...)
	}
	dst = append(dst, '[')
	for i := range t.Alerts {
		a := &t.Alerts[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"from":`...)
		dst = appendSide(dst, a.From)
		dst = append(dst, `,"time":`...)
		dst = appendTime(dst, a.Time)
		dst = append(dst, `,"level":`...)
		dst = appendString(dst, a.Level)
		dst = append(dst, `,"description":`...)
		dst = appendString(dst, a.Description)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

func appendRequest(dst []byte, q *Request) []byte {
	if q == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, `{"method":`...)
	dst = appendString(dst, q.Method)
	dst = append(dst, `,"path":`...)
	dst = appendString(dst, q.Path)
	dst = append(dst, `,"host":`...)
	dst = appendString(dst, q.Host)
	dst = append(dst, `,"origin":`...)
	dst = appendString(dst, q.Origin)
	dst = append(dst, `,"user_agent":`...)
	dst = appendString(dst, q.UserAgent)
	dst = append(dst, `,"protocols":`...)
	dst = appendStrings(dst, q.Protocols)
	dst = append(dst, `,"extensions":`...)
	dst = appendStrings(dst, q.Extensions)
	dst = append(dst, `,"key":`...)
	dst = appendString(dst, q.Key)
	dst = append(dst, `,"x_forwarded_for":`...)
	dst = appendString(dst, q.XForwardedFor)
	dst = append(dst, `,"forwarded":`...)
	dst = appendString(dst, q.Forwarded)
	return append(dst, '}')
}

func appendProxy(dst []byte, p *Proxy) []byte {
	if p == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, `{"leg":`...)
	dst = appendString(dst, p.Leg)
	dst = append(dst, `,"matched_by":`...)
	dst = appendString(dst, p.MatchedBy)
	dst = append(dst, `,"other":{"client":`...)
	dst = appendString(dst, p.Other.Client)
	dst = append(dst, `,"server":`...)
	dst = appendString(dst, p.Other.Server)
	dst = append(dst, `,"community_id":`...)
	dst = appendString(dst, p.Other.CommunityID)
	dst = append(dst, `,"start":`...)
	dst = appendTime(dst, p.Other.Start)
	dst = append(dst, `},"story":`...)
	dst = appendString(dst, p.Story)
	return append(dst, '}')
}

func appendClose(dst []byte, c *Close) []byte {
	if c == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, `{"code":`...)
	dst = appendIntPtr(dst, c.Code)
	dst = append(dst, `,"reason":`...)
	dst = appendString(dst, c.Reason)
	dst = append(dst, `,"time":`...)
	dst = appendTime(dst, c.Time)
	dst = append(dst, `,"valid":`...)
	dst = strconv.AppendBool(dst, c.Valid)
	dst = append(dst, `,"problems":`...)
	dst = appendStrings(dst, c.Problems)
	return append(dst, '}')
}

func appendPings(dst []byte, pings []Ping) []byte {
	if pings == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i := range pings {
		p := &pings[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"from":`...)
		dst = appendSide(dst, p.From)
		dst = append(dst, `,"time":`...)
		dst = appendTime(dst, p.Time)
		dst = append(dst, `,"rtt_ms":`...)
		dst = appendFloatPtr(dst, p.RTTMs)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

func appendPerSide(dst []byte, p PerSide) []byte {
	dst = append(dst, `{"client":`...)
	dst = strconv.AppendInt(dst, p.Client, 10)
	dst = append(dst, `,"server":`...)
	dst = strconv.AppendInt(dst, p.Server, 10)
	return append(dst, '}')
}

// appendStrings writes a nil slice as null and an empty one as [], like encoding/json.
func appendStrings(dst []byte, ss []string) []byte {
	if ss == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, s)
	}
	return append(dst, ']')
}

// appendSide writes a side as its MarshalText does (no name needs escaping).
func appendSide(dst []byte, s Side) []byte {
	dst = append(dst, '"')
	return append(append(dst, s.String()...), '"')
}

func appendSidePtr(dst []byte, s *Side) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	return appendSide(dst, *s)
}

func appendStringPtr(dst []byte, s *string) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	return appendString(dst, *s)
}

func appendIntPtr(dst []byte, v *int) []byte {
	if v == nil {
		return append(dst, "null"...)
	}
	return strconv.AppendInt(dst, int64(*v), 10)
}

func appendUintPtr(dst []byte, v *uint64) []byte {
	if v == nil {
		return append(dst, "null"...)
	}
	return strconv.AppendUint(dst, *v, 10)
}

func appendFloatPtr(dst []byte, f *float64) []byte {
	if f == nil {
		return append(dst, "null"...)
	}
	return appendFloat(dst, *f)
}

func appendTimePtr(dst []byte, t *Time) []byte {
	if t == nil {
		return append(dst, "null"...)
	}
	return appendTime(dst, *t)
}

// appendTime writes t as Time.MarshalJSON does: a quoted RFC 3339 timestamp with nine
// fractional digits, in UTC. It formats years 0 to 9999 itself, being several times faster
// than AppendFormat.
func appendTime(dst []byte, t Time) []byte {
	// Seconds from 0000-03-01 (the start of a 400-year era, with leap days at the end of
	// years) of the civil calendar; years 0 to 9999 only, the rest as AppendFormat writes.
	const toMarch0 = 719468 * 86400
	abs := t.Unix() + toMarch0
	if abs < 0 || abs >= 3652425*86400 {
		dst = append(dst, '"')
		return append(t.UTC().AppendFormat(dst, Layout), '"')
	}
	days, daySec := int(abs/86400), int(abs%86400)
	era, doe := days/146097, days%146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	year, day, month := era*400+yoe, doy-(153*mp+2)/5+1, mp+3
	if mp >= 10 {
		year, month = year+1, mp-9
	}
	if year > 9999 {
		dst = append(dst, '"')
		return append(t.UTC().AppendFormat(dst, Layout), '"')
	}
	ns := t.Nanosecond()
	b := [...]byte{'"', 0, 0, 0, 0, '-', 0, 0, '-', 0, 0, 'T', 0, 0, ':', 0, 0, ':', 0, 0, '.',
		0, 0, 0, 0, 0, 0, 0, 0, 0, 'Z', '"'}
	put2(b[1:], year/100)
	put2(b[3:], year%100)
	put2(b[6:], month)
	put2(b[9:], day)
	put2(b[12:], daySec/3600)
	put2(b[15:], daySec/60%60)
	put2(b[18:], daySec%60)
	b[21] = byte('0' + ns/1e8)
	put2(b[22:], ns/1e6%100)
	put2(b[24:], ns/1e4%100)
	put2(b[26:], ns/100%100)
	put2(b[28:], ns%100)
	return append(dst, b[:]...)
}

// put2 writes v, 0 to 99, as two digits.
func put2(b []byte, v int) {
	_ = b[1]
	b[0], b[1] = twoDigits[2*v], twoDigits[2*v+1]
}

const twoDigits = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// appendFloat writes f like encoding/json does for a float64: the shortest representation,
// in exponent form (with at least one exponent digit) only below 1e-6 or from 1e21 on.
func appendFloat(dst []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if n := len(dst); format == 'e' && n-start >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
		// e-07 becomes e-7.
		dst[n-2] = dst[n-1]
		dst = dst[:n-1]
	}
	return dst
}

// floatError returns the error json.Marshal gives for r when one of its floats is NaN or
// infinite, checking them in field order, or nil.
func floatError(r *Record) error {
	if err := finite(r.DurationS); err != nil {
		return err
	}
	if r.IdleBeforeEndS != nil {
		if err := finite(*r.IdleBeforeEndS); err != nil {
			return err
		}
	}
	for _, p := range r.Pings {
		if p.RTTMs != nil {
			if err := finite(*p.RTTMs); err != nil {
				return err
			}
		}
	}
	k := &r.Keepalive
	for _, f := range []*float64{k.IntervalS.Client, k.IntervalS.Server} {
		if f != nil {
			if err := finite(*f); err != nil {
				return err
			}
		}
	}
	if k.RTTMs != nil {
		for _, f := range []float64{k.RTTMs.Min, k.RTTMs.Median, k.RTTMs.Max} {
			if err := finite(f); err != nil {
				return err
			}
		}
	}
	for _, e := range r.Timeline {
		if err := finite(e.OffsetS); err != nil {
			return err
		}
	}
	return nil
}

func finite(f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return &json.UnsupportedValueError{Value: reflect.ValueOf(f), Str: strconv.FormatFloat(f, 'g', -1, 64)}
	}
	return nil
}

// htmlSafe reports whether the ASCII byte b needs no escaping in a JSON string with HTML
// escaping on.
func htmlSafe(b byte) bool {
	return b >= ' ' && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
}

const hexDigits = "0123456789abcdef"

// Byte lanes of a 64-bit word.
const (
	lanesLow  = 0x0101010101010101
	lanesHigh = 0x8080808080808080
)

// le64 returns the first 8 bytes of s as a little-endian word.
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// safeWord reports whether every byte of x is ASCII that htmlSafe passes. It may report
// false for a word whose bytes all pass (a borrow between lanes), never true for one with
// a byte that does not.
func safeWord(x uint64) bool {
	zero := func(y uint64) uint64 { return (y - lanesLow) &^ y } // a lane of y is 0
	bad := x | (x-' '*lanesLow)&^x | zero(x^'"'*lanesLow) | zero(x^'\\'*lanesLow) | zero(x^'<'*lanesLow) |
		zero(x^'>'*lanesLow) | zero(x^'&'*lanesLow)
	return bad&lanesHigh == 0
}

// appendString writes s as a JSON string exactly as encoding/json does with HTML escaping
// on: <, > and & as \u003c, \u003e and \u0026, U+2028 and U+2029 escaped, and every byte
// that is not valid UTF-8 as \ufffd.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time while none needs a look (most strings: addresses, times,
		// user agents).
		for i+8 <= len(s) && safeWord(le64(s[i:])) {
			i += 8
		}
		if i == len(s) {
			break
		}
		if b := s[i]; b < utf8.RuneSelf {
			if htmlSafe(b) {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendIndent appends src, valid compact JSON such as appendRecord writes, indented as
// json.Indent(dst, src, prefix, indent) would: each element on its own line, starting with
// prefix and one indent per level, and empty arrays and objects kept as [] and {}. It is
// several times faster than json.Indent, which validates its input as it goes.
func appendIndent(dst, src []byte, prefix, indent string) []byte {
	depth := 0
	newline := func(dst []byte) []byte {
		dst = append(dst, '\n')
		dst = append(dst, prefix...)
		for range depth {
			dst = append(dst, indent...)
		}
		return dst
	}
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '"':
			// Copy the string: up to the first quote after an even number of backslashes.
			j := i + 1
			for {
				j += bytes.IndexByte(src[j:], '"')
				k := j
				for src[k-1] == '\\' {
					k--
				}
				if (j-k)%2 == 0 {
					break
				}
				j++
			}
			dst = append(dst, src[i:j+1]...)
			i = j
		case '{', '[':
			if next := src[i+1]; next == '}' || next == ']' {
				dst = append(dst, c, next)
				i++
				break
			}
			depth++
			dst = newline(append(dst, c))
		case '}', ']':
			depth--
			dst = append(newline(dst), c)
		case ',':
			dst = newline(append(dst, c))
		case ':':
			dst = append(dst, ':', ' ')
		default: // a number, true, false or null
			j := i + 1
			for j < len(src) && src[j] != ',' && src[j] != '}' && src[j] != ']' {
				j++
			}
			dst = append(dst, src[i:j]...)
			i = j - 1
		}
	}
	return dst
}
