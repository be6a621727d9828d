package http1

import (
	"bytes"
	"encoding/binary"
	"strings"
)

// The fast path reads the plain header blocks that make up almost all upgrades without
// net/http, whose parse (a map, a canonical key and a string per header, URL parsing, the
// Request or Response) cost more than all the frames of a typical connection: 17% of the
// CPU on the benchmark capture. net/http stays the parser of record. The fast path takes
// only blocks of which every line is plain, as defined below; net/http accepts every such
// block and yields the same Request or Response (FuzzFastPath and
// TestFastPathMatchesNetHTTP check exactly that on mutations of real handshakes). Every
// other block, including every malformed one, is parsed by net/http.
//
// A plain block has CRLF line endings and no line starting with a blank (no folding); a
// first line "GET <target> HTTP/1.1", with an origin-form target of printable ASCII other
// than blanks and '%' (nothing to unescape), or "HTTP/1.1 <3 digits>[ <reason>]"; at most
// maxFastFields header lines of a name of letters, digits and '-', a colon, and a value
// of printable ASCII and tabs; no Transfer-Encoding or Trailer header; at most one
// Content-Length, of 1 to 18 digits; for a request at most one Host.

// maxFastFields is the most header lines the fast path takes.
const maxFastFields = 48

// fastField is one header line: the kind of header and its value without surrounding
// blanks, as offsets into the block.
type fastField struct {
	value span
	kind  hdrKind
}

// span is the half-open byte range [lo, hi) of a block.
type span struct{ lo, hi int32 }

func (s span) of(b []byte) []byte { return b[s.lo:s.hi] }

// hdrKind names the headers a head is read from.
type hdrKind uint8

const (
	hdrOther hdrKind = iota
	kindHost
	kindOrigin
	kindUserAgent
	kindUpgrade
	kindConnection
	kindWSKey
	kindWSVersion
	kindWSProtocol
	kindWSExtensions
	kindWSAccept
	kindContentLength
	kindXForwardedFor
	kindForwarded
	kindUnsupported // Transfer-Encoding, Trailer: left to net/http
)

// kindOf classifies a header name, ASCII case-insensitively (names are letters, digits
// and '-', which textproto canonicalizes by case only).
func kindOf(name []byte) hdrKind {
	if len(name) >= len(kindsByLen) {
		return hdrOther
	}
	for _, i := range kindsByLen[len(name)] {
		if k := &fastKinds[i]; equalFoldASCII(name, k.name) {
			return k.kind
		}
	}
	return hdrOther
}

// kindsByLen lists the indexes in fastKinds of the names of each length, so that kindOf
// compares a name with at most two others.
var kindsByLen = func() (t [32][]uint8) {
	for i, k := range fastKinds {
		t[len(k.name)] = append(t[len(k.name)], uint8(i))
	}
	return t
}()

// equalFoldASCII reports whether b and s are equal but for the case of ASCII letters.
func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		x, y := b[i], s[i]
		if x != y && (x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z') {
			return false
		}
	}
	return true
}

var fastKinds = [...]struct {
	name string
	kind hdrKind
}{
	{hdrWSKey, kindWSKey}, {hdrWSVersion, kindWSVersion}, {hdrWSProtocol, kindWSProtocol},
	{hdrWSExtensions, kindWSExtensions}, {hdrWSAccept, kindWSAccept}, {"Host", kindHost},
	{hdrOrigin, kindOrigin}, {hdrUserAgent, kindUserAgent}, {hdrUpgrade, kindUpgrade},
	{hdrConnection, kindConnection}, {"Content-Length", kindContentLength},
	{hdrXForwardedFor, kindXForwardedFor}, {hdrForwarded, kindForwarded},
	{"Transfer-Encoding", kindUnsupported}, {"Trailer", kindUnsupported},
}

// fastBlock is a header block split into its first line and header lines.
type fastBlock struct {
	b      []byte
	line   span
	fields [maxFastFields]fastField
	n      int
}

// split splits a complete header block, reporting false when it is not plain.
func (fb *fastBlock) split(block []byte) bool {
	if len(block) > 1<<30 {
		return false
	}
	fb.b, fb.n = block, 0
	pos := 0
	for first := true; ; first = false {
		i := bytes.IndexByte(block[pos:], '\n')
		if i < 1 || block[pos+i-1] != '\r' {
			return false
		}
		lo, hi := pos, pos+i-1
		pos += i + 1
		line := block[lo:hi]
		if first {
			if !plainText(line) {
				return false
			}
			fb.line = span{int32(lo), int32(hi)}
			continue
		}
		if len(line) == 0 {
			return pos == len(block)
		}
		colon := 0
		for colon < len(line) && isNameByte(line[colon]) {
			colon++
		}
		if colon == 0 || colon == len(line) || line[colon] != ':' || fb.n == maxFastFields ||
			!plainText(line[colon+1:]) {
			return false
		}
		vlo, vhi := lo+colon+1, hi
		for vlo < vhi && (block[vlo] == ' ' || block[vlo] == '\t') {
			vlo++
		}
		for vhi > vlo && (block[vhi-1] == ' ' || block[vhi-1] == '\t') {
			vhi--
		}
		k := kindOf(line[:colon])
		if k == kindUnsupported {
			return false
		}
		fb.fields[fb.n] = fastField{value: span{int32(vlo), int32(vhi)}, kind: k}
		fb.n++
	}
}

// isNameByte reports whether c may be in a plain header name: a letter, digit or '-'.
func isNameByte(c byte) bool { return nameBytes[c] }

var nameBytes = func() (t [256]bool) {
	for c := range t {
		t[c] = c|0x20 >= 'a' && c|0x20 <= 'z' || c >= '0' && c <= '9' || c == '-'
	}
	return t
}()

// plainText reports whether b holds only printable ASCII and tabs.
func plainText(b []byte) bool {
	// Eight bytes at a time: a lane above 0x7e has its top bit set, or gets it adding 1; a
	// lane below 0x20 borrows subtracting 0x20. A word with either (or a tab) is looked at
	// byte by byte.
	const low, high = 0x0101010101010101, 0x8080808080808080
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		if ((x+low)|x|(x-0x20*low)&^x)&high != 0 && !plainBytes(b[:8]) {
			return false
		}
		b = b[8:]
	}
	return plainBytes(b)
}

// plainBytes is plainText a byte at a time.
func plainBytes(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 && c != '\t') || c > 0x7e {
			return false
		}
	}
	return true
}

// count returns how many header lines are of kind k.
func (fb *fastBlock) count(k hdrKind) int {
	n := 0
	for i := range fb.n {
		if fb.fields[i].kind == k {
			n++
		}
	}
	return n
}

// first returns the value of the first header of kind k, or nil.
func (fb *fastBlock) first(k hdrKind) []byte {
	for i := range fb.n {
		if fb.fields[i].kind == k {
			return fb.fields[i].value.of(fb.b)
		}
	}
	return nil
}

// list returns the comma-separated items of every header of kind k, as CommaList does
// with net/http's values, taking the values' strings from st (queued by addAll(fb, k)).
func (fb *fastBlock) list(k hdrKind, st *strTable) []string {
	var out []string
	for i := range fb.n {
		if f := &fb.fields[i]; f.kind == k {
			out = appendItems(out, f.value.of(fb.b), st.next())
		}
	}
	return out
}

// contentLength returns the Content-Length (-1 when absent) and whether the fast path can
// take it: at most one header, of 1 to 18 digits.
func (fb *fastBlock) contentLength() (int64, bool) {
	switch fb.count(kindContentLength) {
	case 0:
		return -1, true
	case 1:
	default:
		return 0, false
	}
	v := fb.first(kindContentLength)
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	n := int64(0)
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// fastRequest parses a complete request block by the fast path.
func fastRequest(block []byte) (Request, bool) {
	var r Request
	var fb fastBlock
	if !fb.split(block) {
		return r, false
	}
	line := fb.line.of(block)
	const prefix, suffix = "GET ", " HTTP/1.1"
	if len(line) < len(prefix)+1+len(suffix) || string(line[:len(prefix)]) != prefix ||
		string(line[len(line)-len(suffix):]) != suffix {
		return r, false
	}
	target := line[len(prefix) : len(line)-len(suffix)]
	if target[0] != '/' {
		return r, false
	}
	for _, c := range target {
		if c <= ' ' || c == '%' { // url.ParseRequestURI rejects control bytes, tabs too
			return r, false
		}
	}
	if fb.count(kindHost) > 1 {
		return r, false // net/http: too many Host headers
	}
	cl, ok := fb.contentLength()
	if !ok {
		return r, false
	}
	var st strTable
	st.add(target, fb.first(kindHost), fb.first(kindOrigin), fb.first(kindUserAgent),
		fb.first(kindWSVersion), fb.first(kindWSKey))
	st.addJoined(&fb, kindXForwardedFor)
	st.addJoined(&fb, kindForwarded)
	st.addAll(&fb, kindWSProtocol)
	st.addAll(&fb, kindWSExtensions)
	st.build()
	r.Method = "GET"
	r.Target, r.Host, r.Origin, r.UserAgent = st.next(), st.next(), st.next(), st.next()
	r.WSVersion, r.WSKey = st.next(), st.next()
	r.XForwardedFor, r.Forwarded = st.next(), st.next()
	r.Protocols = fb.list(kindWSProtocol, &st)
	r.Extensions = fb.list(kindWSExtensions, &st)
	var anyUp bool
	r.UpgradeWebSocket, anyUp = fb.items(kindUpgrade, "websocket")
	r.UpgradeOther = !r.UpgradeWebSocket && anyUp
	r.ContentLength = max(cl, 0) // a request without Content-Length has no body
	return r, true
}

// fastResponse parses a complete response block by the fast path. head says the request
// was a HEAD.
func fastResponse(block []byte, head bool) (Response, bool) {
	r := Response{ContentLength: -1}
	var fb fastBlock
	if !fb.split(block) {
		return r, false
	}
	line := fb.line.of(block)
	if len(line) < len("HTTP/1.1 200") || string(line[:9]) != "HTTP/1.1 " {
		return r, false
	}
	status := line[9:]
	for len(status) > 0 && status[0] == ' ' {
		status = status[1:] // net/http trims blanks before the code
	}
	if len(status) < 3 || (len(status) > 3 && status[3] != ' ') {
		return r, false
	}
	code := 0
	for _, c := range status[:3] {
		if c < '0' || c > '9' {
			return r, false
		}
		code = code*10 + int(c-'0')
	}
	cl, ok := fb.contentLength()
	if !ok {
		return r, false
	}
	r.Status = code
	reason := status[3:]
	var st strTable
	st.add(bytes.Trim(reason, " \t"))
	st.addJoined(&fb, kindUpgrade)
	st.addJoined(&fb, kindConnection) // as sent, "close" included (see Response)
	st.add(fb.first(kindWSAccept), bytes.Trim(fb.first(kindWSProtocol), " \t"), fb.first(kindWSVersion))
	st.addAll(&fb, kindWSExtensions)
	st.build()
	r.Reason = st.next()
	r.Upgrade, r.Connection = st.next(), st.next()
	r.Accept, r.Subprotocol, r.WSVersions = st.next(), st.next(), st.next()
	r.HasUpgrade, r.HasConnection = fb.count(kindUpgrade) > 0, fb.count(kindConnection) > 0
	r.UpgradeWebSocket, _ = fb.items(kindUpgrade, "websocket")
	r.ConnectionUpgrade, _ = fb.items(kindConnection, "upgrade")
	r.HasAccept = fb.count(kindWSAccept) > 0
	r.HasProtocol = fb.count(kindWSProtocol) > 0
	r.HasExtensions = fb.count(kindWSExtensions) > 0
	r.Extensions = fb.list(kindWSExtensions, &st)
	// net/http's readTransfer: the Content-Length (-1 without one) for the response to a
	// HEAD; else no body for 1xx, 204 or 304, and the Content-Length or -1 otherwise.
	switch {
	case head:
		r.ContentLength = cl
	case code/100 == 1 || code == 204 || code == 304:
		r.ContentLength = 0
	default:
		r.ContentLength = cl
	}
	return r, true
}

// appendItems appends the comma-separated items of v as CommaList does (blanks trimmed,
// empty items dropped, commas inside double quotes kept), as substrings of base, the
// string form of v.
func appendItems(out []string, v []byte, base string) []string {
	eachItem(v, func(lo, hi int) { out = append(out, base[lo:hi]) })
	return out
}

// eachItem calls fn with the bounds of every item of v as CommaList splits it: at commas
// outside double quotes, trimmed of ASCII blanks, empty items skipped.
func eachItem[T string | []byte](v T, fn func(lo, hi int)) {
	start, quoted := 0, false
	for i := 0; i <= len(v); i++ {
		if i < len(v) {
			switch v[i] {
			case '"':
				quoted = !quoted
				continue
			case ',':
				if quoted {
					continue
				}
			default:
				continue
			}
		}
		lo, hi := start, i
		for lo < hi && isSpaceByte(v[lo]) {
			lo++
		}
		for hi > lo && isSpaceByte(v[hi-1]) {
			hi--
		}
		if lo < hi {
			fn(lo, hi)
		}
		start = i + 1
	}
}

// items reports, over every header of kind k split as CommaList does, whether any item is
// tok (ASCII case-insensitively, as hasToken compares) and whether there is any item.
func (fb *fastBlock) items(k hdrKind, tok string) (has, any bool) {
	for i := range fb.n {
		if f := &fb.fields[i]; f.kind == k {
			v := f.value.of(fb.b)
			eachItem(v, func(lo, hi int) {
				any = true
				has = has || equalFoldASCII(v[lo:hi], tok)
			})
		}
	}
	return has, any
}

// isSpaceByte reports whether c is ASCII white space, as strings.TrimSpace sees it.
func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// strTable gathers byte runs and turns them into strings with one allocation: the
// strings kept in records then hold only what they show, not the whole header block. It
// lives on the caller's stack (no field points into it).
type strTable struct {
	runs [maxStrRuns][]byte
	n    int // runs queued
	all  string
	at   int // offset in all of the next run
	i    int // index of the next run
}

// maxStrRuns is the most runs a strTable holds: eight values and a list per header line.
const maxStrRuns = 8 + maxFastFields

// add queues runs; after build, next returns them as strings in the same order.
func (st *strTable) add(runs ...[]byte) {
	for _, r := range runs {
		st.runs[st.n] = r
		st.n++
	}
}

// addAll queues the value of every header of kind k, in order.
func (st *strTable) addAll(fb *fastBlock, k hdrKind) {
	for i := range fb.n {
		if f := &fb.fields[i]; f.kind == k {
			st.add(f.value.of(fb.b))
		}
	}
}

// addJoined queues the values of every header of kind k joined by ", ", as strings.Join
// does with net/http's values.
func (st *strTable) addJoined(fb *fastBlock, k hdrKind) {
	if fb.count(k) <= 1 {
		st.add(fb.first(k))
		return
	}
	var joined []byte
	first := true
	for i := range fb.n {
		if f := &fb.fields[i]; f.kind == k {
			if !first {
				joined = append(joined, ", "...)
			}
			joined, first = append(joined, f.value.of(fb.b)...), false
		}
	}
	st.add(joined)
}

func (st *strTable) build() {
	size := 0
	for _, r := range st.runs[:st.n] {
		size += len(r)
	}
	var sb strings.Builder
	sb.Grow(size)
	for _, r := range st.runs[:st.n] {
		sb.Write(r)
	}
	st.all = sb.String()
}

// next returns the next queued run as a string.
func (st *strTable) next() string {
	n := len(st.runs[st.i])
	s := st.all[st.at : st.at+n]
	st.at += n
	st.i++
	return s
}
