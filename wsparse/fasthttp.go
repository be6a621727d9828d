package wsparse

import (
	"strconv"
	"strings"
)

// The fast path parses the common, simple header blocks without net/http, which costs
// more than all the frames of a typical connection (a map, canonical keys and a string per
// header, URL parsing). It accepts only blocks whose every line is plain: CRLF line
// endings, no folded lines, header names of letters, digits and '-', values of printable
// ASCII and tabs, at most maxFastFields headers, no Transfer-Encoding or Trailer header,
// at most one Content-Length (digits only), and for requests "GET /path HTTP/1.1" with
// no '%' in the path and at most one Host header; for responses an "HTTP/1.1" status
// line. For those, net/http's ReadRequest and ReadResponse succeed and yield the values
// computed here (TestFastPathMatchesNetHTTP checks that on mutated blocks). Anything else
// goes to net/http.

// maxFastFields is the most header lines the fast path takes.
const maxFastFields = 48

// field is one header line: name as written, value trimmed of blanks.
type field struct{ name, value string }

// fastBlock is a header block split into its first line and header lines. The strings
// point into one copy of the block.
type fastBlock struct {
	line   string
	fields [maxFastFields]field
	n      int
}

// split splits a complete header block, reporting false when a line is not plain.
func (fb *fastBlock) split(block []byte) bool {
	s := string(block)
	first := true
	for {
		i := strings.IndexByte(s, '\n')
		if i < 1 || s[i-1] != '\r' {
			return false
		}
		line := s[:i-1]
		s = s[i+1:]
		if first {
			if !plainText(line) {
				return false
			}
			fb.line, first = line, false
			continue
		}
		if line == "" {
			return s == ""
		}
		colon := strings.IndexByte(line, ':')
		if colon < 1 || fb.n == maxFastFields || !plainName(line[:colon]) || !plainText(line[colon+1:]) {
			return false
		}
		f := field{name: line[:colon], value: strings.Trim(line[colon+1:], " \t")}
		if strings.EqualFold(f.name, "Transfer-Encoding") || strings.EqualFold(f.name, "Trailer") {
			return false
		}
		fb.fields[fb.n] = f
		fb.n++
	}
}

// plainName reports whether s is a non-empty run of letters, digits and '-'.
func plainName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if !(c >= 'a' && c <= 'z' || s[i] >= '0' && s[i] <= '9' || s[i] == '-') {
			return false
		}
	}
	return true
}

// plainText reports whether s holds only printable ASCII and tabs.
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c > 0x7e {
			return false
		}
	}
	return true
}

// get returns the first value of the header name, like http.Header.Get.
func (fb *fastBlock) get(name string) string {
	for i := range fb.n {
		if strings.EqualFold(fb.fields[i].name, name) {
			return fb.fields[i].value
		}
	}
	return ""
}

// values returns every value of the header name in order, like http.Header.Values; buf
// is used as storage when large enough.
func (fb *fastBlock) values(name string, buf []string) []string {
	out := buf[:0]
	for i := range fb.n {
		if strings.EqualFold(fb.fields[i].name, name) {
			out = append(out, fb.fields[i].value)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// contentLength returns the Content-Length (-1 when absent) and whether it is usable by
// the fast path: one header of 1 to 18 digits.
func (fb *fastBlock) contentLength() (int64, bool) {
	var buf [2]string
	v := fb.values("Content-Length", buf[:])
	switch {
	case len(v) == 0:
		return -1, true
	case len(v) > 1 || v[0] == "" || len(v[0]) > 18:
		return 0, false
	}
	for i := 0; i < len(v[0]); i++ {
		if v[0][i] < '0' || v[0][i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(v[0], 10, 64)
	return n, err == nil
}

// fastRequest parses a complete request block by the fast path.
func fastRequest(block []byte) (reqHead, bool) {
	var r reqHead
	var fb fastBlock
	if !fb.split(block) {
		return r, false
	}
	method, rest, ok1 := strings.Cut(fb.line, " ")
	uri, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || method != "GET" || proto != "HTTP/1.1" || !plainURI(uri) {
		return r, false
	}
	var buf [4]string
	if len(fb.values("Host", buf[:])) > 1 {
		return r, false // net/http: "too many Host headers"
	}
	cl, ok := fb.contentLength()
	if !ok {
		return r, false
	}
	r.method, r.uri, r.host = method, uri, fb.get("Host")
	r.origin, r.userAgent = fb.get("Origin"), fb.get("User-Agent")
	r.version, r.key = fb.get("Sec-WebSocket-Version"), fb.get("Sec-WebSocket-Key")
	r.protocols = commaList(fb.values("Sec-WebSocket-Protocol", buf[:]))
	r.extensions = commaList(fb.values("Sec-WebSocket-Extensions", buf[:]))
	up := commaList(fb.values("Upgrade", buf[:]))
	r.upgradeWS = hasToken(up, "websocket")
	r.upgradeOther = !r.upgradeWS && len(up) > 0
	r.contentLength = max(cl, 0) // a request without Content-Length has no body
	r.method = "GET"
	// Copied, so that the records built from them do not keep the whole block alive.
	compact(r.protocols, r.extensions, &r.uri, &r.host, &r.origin, &r.userAgent, &r.version, &r.key)
	return r, true
}

// plainURI reports whether a request target is an origin-form path that url.ParseRequestURI
// accepts as it is: '/' then printable ASCII other than '%' (no escapes to check).
func plainURI(s string) bool {
	if s == "" || s[0] != '/' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= 0x20 || c > 0x7e || c == '%' {
			return false
		}
	}
	return true
}

// fastResponse parses a complete response block by the fast path. head says the request
// was a HEAD.
func fastResponse(block []byte, head bool) (respHead, bool) {
	r := respHead{contentLength: -1}
	var fb fastBlock
	if !fb.split(block) {
		return r, false
	}
	proto, status, ok := strings.Cut(fb.line, " ")
	if !ok || proto != "HTTP/1.1" {
		return r, false
	}
	status = strings.TrimLeft(status, " ")
	code, reason, _ := strings.Cut(status, " ")
	if len(code) != 3 || !isDigits(code) {
		return r, false
	}
	cl, ok := fb.contentLength()
	if !ok {
		return r, false
	}
	r.status, _ = strconv.Atoi(code)
	r.reason = strings.TrimSpace(reason)
	var buf, ubuf, cbuf [4]string
	upgrade, connection := fb.values("Upgrade", ubuf[:]), fb.values("Connection", cbuf[:])
	if containsToken(connection, "close") {
		connection = nil // net/http's shouldClose deletes a response's Connection header then
	}
	r.upgrade, r.connection = strings.Join(upgrade, ", "), strings.Join(connection, ", ")
	r.hasUpgrade, r.hasConnHdr = len(upgrade) > 0, len(connection) > 0
	r.upgradeWS = hasToken(commaList(upgrade), "websocket")
	r.connUpgrade = hasToken(commaList(connection), "upgrade")
	r.accept, r.hasAccept = fb.get("Sec-WebSocket-Accept"), len(fb.values("Sec-WebSocket-Accept", buf[:])) > 0
	r.protocolHeader = len(fb.values("Sec-WebSocket-Protocol", buf[:])) > 0
	r.subprotocol = strings.TrimSpace(fb.get("Sec-WebSocket-Protocol"))
	r.extHdr = len(fb.values("Sec-WebSocket-Extensions", buf[:])) > 0
	r.extensions = commaList(fb.values("Sec-WebSocket-Extensions", buf[:]))
	r.versions = fb.get("Sec-WebSocket-Version")
	r.hasWSHeaders = r.hasAccept || r.upgradeWS || r.protocolHeader || r.extHdr || r.versions != ""
	// net/http's readTransfer: the Content-Length (-1 without one) for the response to a
	// HEAD; else no body for 1xx, 204 or 304, and the Content-Length or -1 otherwise.
	switch {
	case head:
		r.contentLength = cl
	case r.status/100 == 1 || r.status == 204 || r.status == 304:
		r.contentLength = 0
	default:
		r.contentLength = cl
	}
	compact(r.extensions, nil, &r.reason, &r.upgrade, &r.connection, &r.accept, &r.subprotocol, &r.versions)
	return r, true
}

// containsToken reports whether a comma-separated item of values, trimmed of blanks, is tok
// (ASCII case-insensitively), like golang.org/x/net/http/httpguts.HeaderValuesContainsToken.
func containsToken(values []string, tok string) bool {
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.Trim(item, " \t"), tok) {
				return true
			}
		}
	}
	return false
}

// compact replaces the strings of the lists a and b and the strings ps point to by
// substrings of one new string holding just them (one allocation).
func compact(a, b []string, ps ...*string) {
	n := 0
	for _, l := range [2][]string{a, b} {
		for _, s := range l {
			n += len(s)
		}
	}
	for _, p := range ps {
		n += len(*p)
	}
	var sb strings.Builder
	sb.Grow(n)
	for _, l := range [2][]string{a, b} {
		for _, s := range l {
			sb.WriteString(s)
		}
	}
	for _, p := range ps {
		sb.WriteString(*p)
	}
	all, at := sb.String(), 0
	next := func(s string) string {
		at += len(s)
		return all[at-len(s) : at]
	}
	for _, l := range [2][]string{a, b} {
		for i, s := range l {
			l[i] = next(s)
		}
	}
	for _, p := range ps {
		*p = next(*p)
	}
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
