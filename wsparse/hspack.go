package wsparse

import (
	"encoding/base64"
	"encoding/binary"
	"iter"
	"math"
	"net/http"
	"strings"
	"time"
	"unsafe"
)

// The packed handshake.
//
// Every WebSocket connection keeps its opening handshake until its record is made, and a
// Handshake is 392 bytes of fields (string headers, slices, two time.Time) that point
// into the allocations the HTTP parser made for the request's and the response's strings.
// Once the response is judged, Conn keeps instead one string that holds all of it: a head
// (the times, the status, the flags), then each string field as a uvarint and its bytes,
// or the index of a string the Pool's connections share (hsDict), and each list as a
// uvarint count (plus one; zero for nil) and its items. A Sec-WebSocket-Accept that is the
// one the key asks for and a reason phrase that is the standard one for the status are not
// stored but made again by unpack, and a Sec-WebSocket-Key is stored as the 16 bytes it
// encodes. Handshake rebuilds the struct from it, its strings pointing into the packed one
// or the dictionary.

// The packed head: its length (uint32: a Conn keeps only a pointer to the first byte), the
// flags (uint16), then the request time when set (Unix seconds, int64, and nanoseconds,
// uint32), the response time when set (the same, or with hspRespDelta nanoseconds after
// the request's as a uint32), the status (none for 101, a uint16, or an int64 with
// hspStatusWide), a mask of the string fields that are not empty. The fields follow.
const (
	hspLen   = 0 // offset of the length
	hspFlags = 4 // offset of the flags
	hspTimes = 6 // offset of the first time

	hspStrings = 14 // string fields, before the four lists
	hspKey     = 6  // the index of Key among them
)

// hspShared says which of the string fields, in their packed order, may be shared through
// the dictionary: those that many connections repeat (a server's host and origins, the
// browsers' User-Agents, a refusal's wording), not those that are each connection's own
// (path, key, forwarding headers) and would fill it. List items are shared too.
var hspShared = [hspStrings]bool{true, false, true, true, true, true, false, false, false, true, true, true, true, true}

// An hsDict holds strings that the packed handshakes of a Pool's Conns share, each once:
// a packed field names it by its index. It only grows (an index stays valid while a Conn
// may hold it), to at most maxDictStrings strings of at most maxDictString bytes and
// maxDictBytes in all; a string that does not fit is packed in place.
type hsDict struct {
	strs  []string
	index map[string]uint32
	bytes int
}

const (
	maxDictStrings = 4096
	maxDictString  = 256
	maxDictBytes   = 256 << 10
)

// ref returns the index of s, adding it when there is room; false for a string that is
// not shared (or empty: it costs one byte in place), or when d is nil or full.
func (d *hsDict) ref(s string, shared bool) (uint32, bool) {
	if d == nil || !shared || s == "" || len(s) > maxDictString {
		return 0, false
	}
	if i, ok := d.index[s]; ok {
		return i, true
	}
	if len(d.strs) >= maxDictStrings || d.bytes+len(s) > maxDictBytes {
		return 0, false
	}
	if d.index == nil {
		d.index = make(map[string]uint32)
	}
	s = strings.Clone(s) // s may point into a whole header block
	i := uint32(len(d.strs))
	d.strs = append(d.strs, s)
	d.index[s] = i
	d.bytes += len(s)
	return i, true
}

// dict returns the dictionary of c's packed handshake: its Pool's, or none.
func (c *Conn) dict() *hsDict {
	if c.pool == nil {
		return nil
	}
	return &c.pool.dict
}

// Flags of the packed head.
const (
	hspRequestSeen uint16 = 1 << iota
	hspResponseSeen
	hspDeflate
	hspTunnel
	hspHeadersTruncated
	hspUpgraded
	hspReqTruncated
	hspRespTruncated
	hspAcceptDerived     // Accept is acceptKey(Key)
	hspStatusTextDerived // StatusText is http.StatusText(Status)
	hspReqTimeSet        // RequestTime is not the zero time
	hspRespTimeSet       // ResponseTime is not the zero time
	hspRespDelta         // ResponseTime is stored as nanoseconds after RequestTime
	hspStatusWide        // Status does not fit a uint16
	hspKeyRaw            // Key is the base64 of the 16 bytes stored
	hspStatus101         // Status is 101 (and not stored)
)

// pack returns the packed form of h; strings found in (or added to) d are kept as its
// indexes.
func pack(h *Handshake, d *hsDict) string {
	var flags uint16
	for _, f := range [...]struct {
		on   bool
		flag uint16
	}{{h.RequestSeen, hspRequestSeen}, {h.ResponseSeen, hspResponseSeen}, {h.Deflate, hspDeflate},
		{h.Tunnel, hspTunnel}, {h.HeadersTruncated, hspHeadersTruncated}, {h.Upgraded, hspUpgraded},
		{h.reqTruncated, hspReqTruncated}, {h.respTruncated, hspRespTruncated},
		{!h.RequestTime.IsZero(), hspReqTimeSet}, {!h.ResponseTime.IsZero(), hspRespTimeSet}} {
		if f.on {
			flags |= f.flag
		}
	}
	accept, statusText := h.Accept, h.StatusText
	if accept != "" && h.Key != "" && (h.acceptOK && accept == h.Accept || acceptMatches(h.Key, accept)) {
		accept, flags = "", flags|hspAcceptDerived
	}
	if statusText != "" && statusText == http.StatusText(h.Status) {
		statusText, flags = "", flags|hspStatusTextDerived
	}
	key := h.Key
	var raw [18]byte
	if rawKey(&raw, key) {
		key, flags = unsafe.String(&raw[0], 16), flags|hspKeyRaw
	}
	var head [hspTimes + 12 + 12 + 8 + 2]byte
	hn := hspTimes
	if flags&hspReqTimeSet != 0 {
		putTime(head[hn:], h.RequestTime)
		hn += 12
	}
	if flags&hspRespTimeSet != 0 {
		delta := h.ResponseTime.Sub(h.RequestTime)
		if flags&hspReqTimeSet != 0 && delta >= 0 && delta <= math.MaxUint32 &&
			hspTime(head[:], hspTimes).Add(delta) == h.ResponseTime {
			binary.LittleEndian.PutUint32(head[hn:], uint32(delta))
			hn, flags = hn+4, flags|hspRespDelta
		} else {
			putTime(head[hn:], h.ResponseTime)
			hn += 12
		}
	}
	switch {
	case h.Status == http.StatusSwitchingProtocols:
		flags |= hspStatus101
	case h.Status >= 0 && h.Status <= math.MaxUint16:
		binary.LittleEndian.PutUint16(head[hn:], uint16(h.Status))
		hn += 2
	default:
		binary.LittleEndian.PutUint64(head[hn:], uint64(int64(h.Status)))
		hn, flags = hn+8, flags|hspStatusWide
	}
	strs := [...]string{h.Method, h.Path, h.Host, h.Origin, h.UserAgent, h.Version, key,
		h.XForwardedFor, h.Forwarded, statusText, accept, h.Subprotocol, h.ServerVersions, h.Failure}
	// Which string fields are not empty (an empty one takes no byte).
	var present uint16
	for i, s := range strs {
		if s != "" {
			present |= 1 << i
		}
	}
	binary.LittleEndian.PutUint16(head[hn:], present)
	hn += 2
	lists := [...][]string{h.Protocols, h.Extensions, h.ChosenExtensions, h.Unchecked}
	// A field is a uvarint v and, when v is even, v/2 bytes; an odd v is the index v/2 of
	// d's strings. The first pass adds to d what it takes, so that the second finds it.
	field := func(s string, shared bool) (uint64, bool) {
		if i, ok := d.ref(s, shared); ok {
			return uint64(i)<<1 | 1, true
		}
		return uint64(len(s)) << 1, false
	}
	size := hn
	for i, s := range strs {
		if s == "" {
			continue
		}
		v, ref := field(s, hspShared[i])
		size += uvarintLen(v)
		if !ref {
			size += len(s)
		}
	}
	for _, l := range lists {
		size += uvarintLen(uint64(len(l) + 1))
		for _, s := range l {
			v, ref := field(s, true)
			size += uvarintLen(v)
			if !ref {
				size += len(s)
			}
		}
	}
	binary.LittleEndian.PutUint32(head[hspLen:], uint32(size))
	binary.LittleEndian.PutUint16(head[hspFlags:], flags)
	var sb strings.Builder // one allocation, of the packed size
	sb.Grow(size)
	sb.Write(head[:hn])
	put := func(s string, shared bool) {
		v, ref := field(s, shared)
		writeUvarint(&sb, v)
		if !ref {
			sb.WriteString(s)
		}
	}
	for i, s := range strs {
		if s != "" {
			put(s, hspShared[i])
		}
	}
	for _, l := range lists {
		if l == nil {
			writeUvarint(&sb, 0)
			continue
		}
		writeUvarint(&sb, uint64(len(l)+1))
		for _, s := range l {
			put(s, true)
		}
	}
	return sb.String()
}

// unpack rebuilds the Handshake that pack packed into p with d. Its strings point into p or
// d; its four lists share one backing array (each capped at its length).
func unpack(p string, d *hsDict) *Handshake {
	h := new(Handshake)
	flags := hspFlagsOf(p)
	h.RequestSeen, h.ResponseSeen = flags&hspRequestSeen != 0, flags&hspResponseSeen != 0
	h.Deflate, h.Tunnel = flags&hspDeflate != 0, flags&hspTunnel != 0
	h.HeadersTruncated, h.Upgraded = flags&hspHeadersTruncated != 0, flags&hspUpgraded != 0
	h.reqTruncated, h.respTruncated = flags&hspReqTruncated != 0, flags&hspRespTruncated != 0
	var at int
	h.RequestTime, h.ResponseTime, h.Status, at = hspHeadOf(p)
	present := uint16(p[at]) | uint16(p[at+1])<<8
	r := hspReader{p: p, at: at + 2, d: d}
	for i, s := range [...]*string{&h.Method, &h.Path, &h.Host, &h.Origin, &h.UserAgent, &h.Version, &h.Key,
		&h.XForwardedFor, &h.Forwarded, &h.StatusText, &h.Accept, &h.Subprotocol, &h.ServerVersions, &h.Failure} {
		if present&(1<<i) != 0 {
			*s = r.str()
		}
	}
	// The items of every list, counted on a copy of the reader, for one backing array.
	total := 0
	peek := r
	for range 4 {
		n := int(peek.uvarint()) - 1
		for j := 0; j < n; j++ {
			peek.str()
		}
		total += max(n, 0)
	}
	all := make([]string, 0, total) // not nil when empty: an empty list stays empty, not nil
	for _, l := range [...]*[]string{&h.Protocols, &h.Extensions, &h.ChosenExtensions, &h.Unchecked} {
		n := int(r.uvarint()) - 1
		if n < 0 {
			continue
		}
		start := len(all)
		for j := 0; j < n; j++ {
			all = append(all, r.str())
		}
		*l = all[start:len(all):len(all)]
	}
	if flags&(hspKeyRaw|hspAcceptDerived) != 0 {
		// The key and the accept key made again, in one allocation.
		b := make([]byte, 0, keyLen+acceptLen)
		if flags&hspKeyRaw != 0 {
			b = base64.StdEncoding.AppendEncode(b, []byte(h.Key))
		} else {
			b = append(b, h.Key...)
		}
		kn := len(b)
		if flags&hspAcceptDerived != 0 {
			b = appendAcceptKey(b, string(b[:kn]))
		}
		s := unsafe.String(unsafe.SliceData(b), len(b))
		h.Key = s[:kn]
		if flags&hspAcceptDerived != 0 {
			h.Accept = s[kn:]
		}
	}
	if flags&hspStatusTextDerived != 0 {
		h.StatusText = http.StatusText(h.Status)
	}
	return h
}

// packed returns c's packed handshake ("" for none).
func (c *Conn) packed() string {
	if c.hsp == nil {
		return ""
	}
	n := unsafe.String(c.hsp, 4)
	return unsafe.String(c.hsp, int(uint32(n[0])|uint32(n[1])<<8|uint32(n[2])<<16|uint32(n[3])<<24))
}

// hspFlagsOf returns the flags of the packed handshake p.
func hspFlagsOf(p string) uint16 {
	return uint16(p[hspFlags]) | uint16(p[hspFlags+1])<<8
}

// keyLen is the length of a Sec-WebSocket-Key: the base64 of 16 bytes.
const keyLen = 24

// rawKey decodes a Sec-WebSocket-Key that is the canonical base64 of 16 bytes into raw,
// without allocating, and reports whether it was.
func rawKey(raw *[18]byte, key string) bool {
	if len(key) != keyLen {
		return false
	}
	var src [keyLen]byte
	copy(src[:], key)
	n, err := base64.StdEncoding.Decode(raw[:], src[:])
	if err != nil || n != 16 {
		return false
	}
	var enc [keyLen]byte
	base64.StdEncoding.Encode(enc[:], raw[:16])
	return string(enc[:]) == key
}

// hspHeadOf returns the times and the status in the head of the packed handshake p, and
// the offset of the mask of the string fields present (uint16), which the fields follow.
func hspHeadOf(p string) (req, resp time.Time, status, fields int) {
	flags := hspFlagsOf(p)
	at := hspTimes
	if flags&hspReqTimeSet != 0 {
		req, at = hspTime(p, at), at+12
	}
	switch {
	case flags&hspRespTimeSet == 0:
	case flags&hspRespDelta != 0:
		resp, at = req.Add(time.Duration(le32(p[at:]))), at+4
	default:
		resp, at = hspTime(p, at), at+12
	}
	switch {
	case flags&hspStatus101 != 0:
		status = http.StatusSwitchingProtocols
	case flags&hspStatusWide != 0:
		status, at = int(int64(le64(p[at:]))), at+8
	default:
		status, at = int(p[at])|int(p[at+1])<<8, at+2
	}
	return req, resp, status, at
}

// le32 reads a little-endian uint32 from the start of s.
func le32(s string) uint32 {
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// hspTime returns the time stored at off of the packed handshake p.
func hspTime[S string | []byte](p S, off int) time.Time {
	b := p[off : off+12]
	var sec uint64
	for i := 7; i >= 0; i-- {
		sec = sec<<8 | uint64(b[i])
	}
	nsec := uint32(b[8]) | uint32(b[9])<<8 | uint32(b[10])<<16 | uint32(b[11])<<24
	return time.Unix(int64(sec), int64(nsec)).UTC()
}

// putTime stores t at the start of b: Unix seconds (8 bytes), then nanoseconds (4).
func putTime(b []byte, t time.Time) {
	if t.IsZero() {
		return
	}
	binary.LittleEndian.PutUint64(b, uint64(t.Unix()))
	binary.LittleEndian.PutUint32(b[8:], uint32(t.Nanosecond()))
}

// le64 reads a little-endian uint64 from the start of s.
func le64(s string) uint64 {
	v := uint64(0)
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(s[i])
	}
	return v
}

// hspReader reads the fields of a packed handshake in order.
type hspReader struct {
	p  string
	at int
	d  *hsDict
}

func (r *hspReader) uvarint() uint64 {
	var v uint64
	for shift := 0; ; shift += 7 {
		c := r.p[r.at]
		r.at++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
}

func (r *hspReader) str() string {
	v := r.uvarint()
	if v&1 != 0 {
		return r.d.strs[v>>1]
	}
	n := int(v >> 1)
	s := r.p[r.at : r.at+n]
	r.at += n
	return s
}

// writeUvarint writes v as a uvarint.
func writeUvarint(sb *strings.Builder, v uint64) {
	var n [binary.MaxVarintLen64]byte
	sb.Write(binary.AppendUvarint(n[:0], v))
}

// uvarintLen returns the size of v as a uvarint.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// chosenExtensions returns the extensions the judged response chose (Handshake's
// ChosenExtensions), without building a Handshake.
func (c *Conn) chosenExtensions() iter.Seq[string] {
	return func(yield func(string) bool) {
		if c.hs != nil {
			for _, e := range c.hs.ChosenExtensions {
				if !yield(e) {
					return
				}
			}
			return
		}
		if c.hsp == nil {
			return
		}
		p := c.packed()
		_, _, _, at := hspHeadOf(p)
		present := uint16(p[at]) | uint16(p[at+1])<<8
		r := hspReader{p: p, at: at + 2, d: c.dict()}
		for i := range hspStrings {
			if present&(1<<i) != 0 {
				r.str()
			}
		}
		for range 2 { // Protocols, Extensions
			for n := int(r.uvarint()) - 1; n > 0; n-- {
				r.str()
			}
		}
		for n := int(r.uvarint()) - 1; n > 0; n-- {
			if !yield(r.str()) {
				return
			}
		}
	}
}
