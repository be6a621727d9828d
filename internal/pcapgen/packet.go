package pcapgen

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/wsclosescan/wsclosescan/reassembly"
)

// IP protocol numbers used by the builders.
const (
	ProtoHopByHop = 0
	ProtoIPIP     = 4
	ProtoTCP      = 6
	ProtoUDP      = 17
	ProtoIPv6     = 41
	ProtoRouting  = 43
	ProtoFragment = 44
	ProtoGRE      = 47
	ProtoNoNext   = 59
	ProtoDestOpts = 60
)

// TCP describes one TCP segment to build.
type TCP struct {
	Src, Dst netip.AddrPort
	Seq, Ack uint32
	Flags    reassembly.TCPFlags
	Window   uint16
	// Options are raw TCP option bytes, zero-padded to a multiple of 4 (at most 40 bytes are
	// kept).
	Options []byte
	Payload []byte
}

// Bytes returns the TCP header and payload with a correct checksum for t.Src and t.Dst.
func (t TCP) Bytes() []byte {
	opts := pad(t.Options, 4, 40)
	hl := 20 + len(opts)
	b := make([]byte, hl+len(t.Payload))
	binary.BigEndian.PutUint16(b[0:], t.Src.Port())
	binary.BigEndian.PutUint16(b[2:], t.Dst.Port())
	binary.BigEndian.PutUint32(b[4:], t.Seq)
	binary.BigEndian.PutUint32(b[8:], t.Ack)
	b[12] = byte(hl/4) << 4
	b[13] = byte(t.Flags)
	binary.BigEndian.PutUint16(b[14:], t.Window)
	copy(b[20:], opts)
	copy(b[hl:], t.Payload)
	sum := pseudoHeaderSum(t.Src.Addr(), t.Dst.Addr(), ProtoTCP, len(b))
	binary.BigEndian.PutUint16(b[16:], ^fold(sum+sumBytes(b)))
	return b
}

// Packet returns t in an IP packet built from the template ip (addresses and protocol are
// taken from t).
func (t TCP) Packet(ip IP) []byte {
	ip.Src, ip.Dst, ip.Proto = t.Src.Addr(), t.Dst.Addr(), ProtoTCP
	return ip.Packet(t.Bytes())
}

// Segment returns the segment a capture reader should decode from t captured at ts.
func (t TCP) Segment(ts time.Time) reassembly.Segment {
	return reassembly.Segment{
		Time: ts, Src: t.Src, Dst: t.Dst, Seq: t.Seq, Ack: t.Ack,
		Flags: t.Flags, Window: t.Window, Payload: append([]byte(nil), t.Payload...),
	}
}

// UDP returns a UDP datagram (header and payload) with a correct checksum.
func UDP(src, dst netip.AddrPort, payload []byte) []byte {
	b := make([]byte, 8+len(payload))
	binary.BigEndian.PutUint16(b[0:], src.Port())
	binary.BigEndian.PutUint16(b[2:], dst.Port())
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)))
	copy(b[8:], payload)
	sum := pseudoHeaderSum(src.Addr(), dst.Addr(), ProtoUDP, len(b))
	c := ^fold(sum + sumBytes(b))
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(b[6:], c)
	return b
}

// Ext is an IPv6 extension header.
type Ext struct {
	// Type is the header's protocol number: ProtoHopByHop, ProtoRouting, ProtoDestOpts or
	// ProtoFragment (others are written in the generic format too).
	Type uint8
	// Data is the header body after the next-header and length bytes. It is zero-padded so
	// that the header is a multiple of 8 bytes (a fragment header is always 8 bytes: Data is
	// its 6 bytes of offset/flags and identification). Padding with zeros yields Pad1 options.
	Data []byte
}

// IP is a template for an IPv4 or IPv6 header; the family is taken from Src.
type IP struct {
	Src, Dst netip.Addr
	Proto    uint8
	// TTL is the IPv4 time to live or IPv6 hop limit; 0 means 64.
	TTL uint8
	// ID is the IPv4 identification.
	ID uint16
	// DontFragment sets the IPv4 DF bit.
	DontFragment bool
	// Options are IPv4 option bytes, zero-padded to a multiple of 4 (at most 40 kept).
	Options []byte
	// Ext are IPv6 extension headers placed, in order, between the fixed header and the
	// payload.
	Ext []Ext
}

// Packet returns an IP packet carrying payload. Src decides the family: an IPv4 (or
// 4-in-6 mapped) address gives IPv4, anything else IPv6.
func (h IP) Packet(payload []byte) []byte {
	if h.Src.Unmap().Is4() {
		return h.ipv4(payload)
	}
	return h.ipv6(payload)
}

func (h IP) ttl() byte {
	if h.TTL == 0 {
		return 64
	}
	return h.TTL
}

func (h IP) ipv4(payload []byte) []byte {
	opts := pad(h.Options, 4, 40)
	hl := 20 + len(opts)
	b := make([]byte, hl+len(payload))
	b[0] = 0x40 | byte(hl/4)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[4:], h.ID)
	if h.DontFragment {
		b[6] = 0x40
	}
	b[8] = h.ttl()
	b[9] = h.Proto
	src, dst := h.Src.Unmap().As4(), h.Dst.Unmap().As4()
	copy(b[12:], src[:])
	copy(b[16:], dst[:])
	copy(b[20:], opts)
	binary.BigEndian.PutUint16(b[10:], ^fold(sumBytes(b[:hl])))
	copy(b[hl:], payload)
	return b
}

func (h IP) ipv6(payload []byte) []byte {
	var ext []byte
	for i, e := range h.Ext {
		next := h.Proto
		if i+1 < len(h.Ext) {
			next = h.Ext[i+1].Type
		}
		ext = append(ext, extBytes(e, next)...)
	}
	first := h.Proto
	if len(h.Ext) > 0 {
		first = h.Ext[0].Type
	}
	b := make([]byte, 40+len(ext)+len(payload))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(ext)+len(payload)))
	b[6] = first
	b[7] = h.ttl()
	src, dst := h.Src.As16(), h.Dst.As16()
	copy(b[8:], src[:])
	copy(b[24:], dst[:])
	copy(b[40:], ext)
	copy(b[40+len(ext):], payload)
	return b
}

func extBytes(e Ext, next uint8) []byte {
	if e.Type == ProtoFragment {
		b := make([]byte, 8)
		b[0] = next
		copy(b[2:], e.Data)
		return b
	}
	n := (len(e.Data) + 2 + 7) / 8 * 8
	if n > 2048 {
		n = 2048
	}
	b := make([]byte, n)
	b[0] = next
	b[1] = byte(n/8 - 1)
	copy(b[2:], e.Data)
	return b
}

// pad returns b zero-padded to a multiple of m, cut to at most max bytes.
func pad(b []byte, m, max int) []byte {
	if len(b) > max {
		b = b[:max]
	}
	n := (len(b) + m - 1) / m * m
	out := make([]byte, n)
	copy(out, b)
	return out
}

func pseudoHeaderSum(src, dst netip.Addr, proto uint8, length int) uint32 {
	var sum uint32
	if src.Unmap().Is4() {
		s, d := src.Unmap().As4(), dst.Unmap().As4()
		sum = sumBytes(s[:]) + sumBytes(d[:])
	} else {
		s, d := src.As16(), dst.As16()
		sum = sumBytes(s[:]) + sumBytes(d[:])
	}
	return sum + uint32(proto) + uint32(length>>16) + uint32(length&0xffff)
}

func sumBytes(b []byte) uint32 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	return sum
}

func fold(sum uint32) uint16 {
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum)
}
