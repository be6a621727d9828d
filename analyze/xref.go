package analyze

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
	"strconv"

	"github.com/wsclosescan/wsclosescan/layers"
	"github.com/wsclosescan/wsclosescan/wsparse"
)

// What lets a reader find a connection in Wireshark, Zeek or Suricata: the frame numbers of
// its milestones (numbered by the layers), a display filter and its Community ID.

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

// frameNumbers fills the record's frame_numbers from the milestones the layers numbered,
// each for the milestone the record reports.
func frameNumbers(c *layers.Conn, f *facts, st *recordStore) {
	fn, m := &st.rec.FrameNumbers, &c.Frames
	if hs := f.hs; hs != nil {
		if hs.RequestSeen && hs.RequestTime.UnixNano() == m.RequestT {
			fn.Request = st.frame(0, m.Request)
		}
		if hs.ResponseSeen && hs.ResponseTime.UnixNano() == m.ResponseT {
			fn.Response = st.frame(1, m.Response)
		}
	}
	if cl := f.close[wsparse.Client]; cl != nil && cl.Time.UnixNano() == m.CloseT[wsparse.Client] {
		fn.ClientClose = st.frame(2, m.Closes[wsparse.Client])
	}
	if cl := f.close[wsparse.Server]; cl != nil && cl.Time.UnixNano() == m.CloseT[wsparse.Server] {
		fn.ServerClose = st.frame(3, m.Closes[wsparse.Server])
	}
	if f.tcpEnded {
		_, _, n := f.ends[f.endSide].First()
		fn.TCPEnd = st.frame(4, n)
	}
}
