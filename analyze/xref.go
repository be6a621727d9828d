package analyze

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
	"strconv"
	"time"

	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/wsparse"
)

// What lets a reader find a connection in Wireshark, Zeek or Suricata: the frame numbers of
// its milestones, a display filter and its Community ID.

// ringSize is how many of a direction's latest segments (with distinct capture times) keep
// their frame numbers for the decoder's events, which carry only a time.
const ringSize = 8

// stampRing holds the frame numbers of a direction's latest segments. The decoder reports
// a frame it completed with the capture time of the segment that completed it: the
// segment being fed, or, for bytes it held back (a lookahead after a gap, bytes before the
// 101), one of the few before it.
type stampRing struct {
	unix  [ringSize]int64 // capture time, UnixNano
	frame [ringSize]uint64
	next  uint8
}

// add remembers the frame of a segment delivered at t.
func (r *stampRing) add(at reassembly.Stamp) {
	t := at.Time.UnixNano()
	last := (r.next + ringSize - 1) % ringSize
	if r.frame[last] != 0 && r.unix[last] == t {
		r.frame[last] = at.Frame // several segments at one time: the decoder sees the last
		return
	}
	r.unix[r.next], r.frame[r.next] = t, at.Frame
	r.next = (r.next + 1) % ringSize
}

// find returns the frame of the latest segment delivered at t, or 0.
func (r *stampRing) find(t time.Time) uint64 {
	u := t.UnixNano()
	for i := range uint8(ringSize) {
		k := (r.next + ringSize - 1 - i) % ringSize
		if r.frame[k] != 0 && r.unix[k] == u {
			return r.frame[k]
		}
	}
	return 0
}

// frameAt returns the frame number of what side s's decoder reported at t: the segment
// that delivered it, or 0 when it is no longer known.
func (c *conn) frameAt(s wsparse.Side, t time.Time) uint64 {
	d := c.dirOf(s)
	if f := c.stamps[d].find(t); f != 0 {
		return f
	}
	if f := c.stamps[d.Reverse()].find(t); f != 0 {
		return f
	}
	if t.Equal(c.last) {
		return c.lastFrame
	}
	return 0
}

// refs are the frame numbers of the connection's milestones, noted as the decoder finds
// them (a time alone would not find them later).
type refs struct {
	reqT, respT       int64 // UnixNano of what was numbered
	request, response uint64
	closes            [2]uint64 // by wsparse.Side
	closeT            [2]int64
	closesKnown       bool // both close frames are numbered: nothing more to look for
}

// noteFrames numbers what the decoder found since the last call.
func (c *conn) noteFrames() {
	if hs := c.ws.Handshake(); hs != nil {
		if hs.RequestSeen && hs.RequestTime.UnixNano() != c.refs.reqT {
			c.refs.reqT, c.refs.request = hs.RequestTime.UnixNano(), c.frameAt(wsparse.Client, hs.RequestTime)
		}
		if hs.ResponseSeen && hs.ResponseTime.UnixNano() != c.refs.respT {
			c.refs.respT, c.refs.response = hs.ResponseTime.UnixNano(), c.frameAt(wsparse.Server, hs.ResponseTime)
		}
	}
	if c.refs.closesKnown {
		return
	}
	for _, s := range []wsparse.Side{wsparse.Client, wsparse.Server} {
		if cl := c.ws.Close(s); cl != nil && cl.Time.UnixNano() != c.refs.closeT[s] {
			c.refs.closeT[s], c.refs.closes[s] = cl.Time.UnixNano(), c.frameAt(s, cl.Time)
		}
	}
	c.refs.closesKnown = c.refs.closes[0] != 0 && c.refs.closes[1] != 0
}

// displayFilter is the Wireshark display filter that selects the connection's packets.
func displayFilter(a, b netip.AddrPort) string {
	var buf [160]byte
	return string(appendDisplayFilter(buf[:0], a, b))
}

func appendDisplayFilter(dst []byte, a, b netip.AddrPort) []byte {
	if !a.IsValid() || !b.IsValid() {
		return dst
	}
	ip := func(dst []byte, x netip.Addr) []byte {
		if x.Is4() {
			dst = append(dst, "ip.addr=="...)
		} else {
			dst = append(dst, "ipv6.addr=="...)
		}
		return x.AppendTo(dst)
	}
	aa, ba := a.Addr().Unmap().WithZone(""), b.Addr().Unmap().WithZone("")
	dst = ip(dst, aa)
	if aa != ba {
		dst = ip(append(dst, " && "...), ba)
	}
	dst = strconv.AppendUint(append(dst, " && tcp.port=="...), uint64(a.Port()), 10)
	if a.Port() != b.Port() {
		dst = strconv.AppendUint(append(dst, " && tcp.port=="...), uint64(b.Port()), 10)
	}
	return dst
}

// xrefStrings returns the Community ID and the display filter of the connection between a
// and b, in one allocation.
func xrefStrings(a, b netip.AddrPort) (communityID, filter string) {
	var buf [192]byte
	out := appendCommunityID(buf[:0], a, b, protoTCP, 0)
	n := len(out)
	out = appendDisplayFilter(out, a, b)
	s := string(out)
	return s[:n], s[n:]
}

// protoTCP is TCP's IP protocol number.
const protoTCP = 6

// communityID is the Community ID flow hash, version 1
// (https://github.com/corelight/community-id-spec), of the flow between a and b: "1:" and
// the base64 of the SHA-1 of seed, the addresses, protocol, a zero byte and the ports, the
// smaller endpoint (address, then port) first. Zeek, Suricata and Arkime log it.
func communityID(a, b netip.AddrPort, proto uint8, seed uint16) string {
	var buf [32]byte
	return string(appendCommunityID(buf[:0], a, b, proto, seed))
}

func appendCommunityID(dst []byte, a, b netip.AddrPort, proto uint8, seed uint16) []byte {
	if !a.IsValid() || !b.IsValid() {
		return dst
	}
	aa, ba := a.Addr().Unmap().WithZone(""), b.Addr().Unmap().WithZone("")
	if aa.Is4() != ba.Is4() {
		return dst
	}
	if c := aa.Compare(ba); c > 0 || (c == 0 && a.Port() > b.Port()) {
		a, b, aa, ba = b, a, ba, aa
	}
	var buf [2 + 16 + 16 + 2 + 4]byte
	binary.BigEndian.PutUint16(buf[:], seed)
	n := 2
	for _, x := range [2]netip.Addr{aa, ba} {
		if x.Is4() {
			a4 := x.As4()
			n += copy(buf[n:], a4[:])
		} else {
			a16 := x.As16()
			n += copy(buf[n:], a16[:])
		}
	}
	buf[n], buf[n+1] = proto, 0
	n += 2
	binary.BigEndian.PutUint16(buf[n:], a.Port())
	binary.BigEndian.PutUint16(buf[n+2:], b.Port())
	n += 4
	sum := sha1.Sum(buf[:n])
	return base64.StdEncoding.AppendEncode(append(dst, "1:"...), sum[:])
}

// frameNumbers fills the record's frame_numbers.
func (c *conn) frameNumbers(f *facts, st *recordStore) {
	fn := &st.rec.FrameNumbers
	if hs := f.hs; hs != nil {
		if hs.RequestSeen && hs.RequestTime.UnixNano() == c.refs.reqT {
			fn.Request = st.frame(0, c.refs.request)
		}
		if hs.ResponseSeen && hs.ResponseTime.UnixNano() == c.refs.respT {
			fn.Response = st.frame(1, c.refs.response)
		}
	}
	if cl := f.close[wsparse.Client]; cl != nil && cl.Time.UnixNano() == c.refs.closeT[wsparse.Client] {
		fn.ClientClose = st.frame(2, c.refs.closes[wsparse.Client])
	}
	if cl := f.close[wsparse.Server]; cl != nil && cl.Time.UnixNano() == c.refs.closeT[wsparse.Server] {
		fn.ServerClose = st.frame(3, c.refs.closes[wsparse.Server])
	}
	if f.tcpEnded {
		_, _, n := f.ends[f.endSide].firstFrame()
		fn.TCPEnd = st.frame(4, n)
	}
}
