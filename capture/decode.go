package capture

import (
	"encoding/binary"
	"net/netip"

	"github.com/wsclosescan/wsclosescan/reassembly"
)

// result is the outcome of decoding a packet.
type result uint8

const (
	resTCP     result = iota // r.seg holds a TCP segment
	resNonTCP                // well-formed, no TCP inside
	resSkipped               // malformed; already counted
	resPending               // a fragment was stored; nothing to return yet
)

// Link types decoded (LINKTYPE_* values).
const (
	linkNull     = 0
	linkEthernet = 1
	linkRaw      = 101
	linkLoop     = 108
	linkSLL      = 113
	linkIPv4     = 228
	linkIPv6     = 229
	linkSLL2     = 276
)

// EtherTypes.
const (
	etIPv4   = 0x0800
	etIPv6   = 0x86dd
	etVLAN   = 0x8100
	etQinQ   = 0x88a8
	etQinQ2  = 0x9100
	etTEB    = 0x6558
	etERSPAN = 0x88be
	etERSPN3 = 0x22eb
	etMPLS   = 0x8847 // MPLS unicast
	etMPLSm  = 0x8848 // MPLS multicast
	etPPPoES = 0x8864 // PPPoE session stage
	etPBB    = 0x88e7 // 802.1ah provider backbone bridging (MAC-in-MAC)
	etMACsec = 0x88e5
	etNSH    = 0x894f // network service header
	etETag   = 0x893f // 802.1BR E-tag
	etVNTag  = 0x8926
	etTRILL  = 0x22f3
	etWCCP   = 0x883e // WCCP redirection (GRE)
	etPPP    = 0x880b // PPP (PPTP's enhanced GRE)
)

// maxDepth bounds tunnel nesting.
const maxDepth = 4

// link decodes a frame of the given link type.
func (r *Reader) link(lt uint32, b []byte, depth int) result {
	switch lt {
	case linkEthernet:
		return r.ethernet(b, depth)
	case linkSLL:
		if len(b) < 16 {
			return r.linkShort("Linux cooked", len(b))
		}
		return r.etherType(binary.BigEndian.Uint16(b[14:]), b[16:], depth)
	case linkSLL2:
		if len(b) < 20 {
			return r.linkShort("Linux cooked v2", len(b))
		}
		return r.etherType(binary.BigEndian.Uint16(b), b[20:], depth)
	case linkRaw:
		return r.ipByVersion(b, depth)
	case linkIPv4:
		return r.ipv4(b, depth)
	case linkIPv6:
		return r.ipv6(b, depth)
	case linkNull, linkLoop:
		if len(b) < 4 {
			return r.linkShort("loopback", len(b))
		}
		fam := binary.BigEndian.Uint32(b)
		if lt == linkNull && fam > 0xffff {
			fam = binary.LittleEndian.Uint32(b) // written in a little-endian host's order
		}
		switch fam {
		case 2:
			return r.ipv4(b[4:], depth)
		case 10, 24, 28, 30:
			return r.ipv6(b[4:], depth)
		}
		return r.unsupported("loopback address family %d", int(fam))
	}
	r.skip(SkipUnknownLinkType, "link type %d", lt)
	return resSkipped
}

func (r *Reader) linkShort(what string, n int) result {
	r.skip(SkipBadLinkHeader, "%s header truncated (%d bytes)", what, n)
	return resSkipped
}

// ethernet decodes an Ethernet II frame with any number of VLAN tags (at most 8).
func (r *Reader) ethernet(b []byte, depth int) result {
	if len(b) < 14 {
		return r.linkShort("Ethernet", len(b))
	}
	et, off := binary.BigEndian.Uint16(b[12:]), 14
	for i := 0; et == etVLAN || et == etQinQ || et == etQinQ2; i++ {
		if len(b) < off+4 || i == 8 {
			return r.linkShort("VLAN", len(b))
		}
		et = binary.BigEndian.Uint16(b[off+2:])
		off += 4
	}
	return r.etherType(et, b[off:], depth)
}

// etherType decodes the payload b of a frame of EtherType et: after VLAN tags (as Linux
// cooked captures may leave them), IP, MPLS, PPPoE sessions, MAC-in-MAC and LLC/SNAP.
// EtherTypes of encapsulations that are not decoded are counted as SkipUnsupportedEncap;
// other protocols (ARP, LLDP, ...) are not TCP.
func (r *Reader) etherType(et uint16, b []byte, depth int) result {
	for i := 0; et == etVLAN || et == etQinQ || et == etQinQ2; i++ {
		if len(b) < 4 || i == 8 {
			return r.linkShort("VLAN", len(b))
		}
		et, b = binary.BigEndian.Uint16(b[2:]), b[4:]
	}
	switch et {
	case etIPv4:
		return r.ipv4(b, depth)
	case etIPv6:
		return r.ipv6(b, depth)
	case etMPLS, etMPLSm:
		return r.mpls(b, depth)
	case etPPPoES:
		return r.pppoe(b, depth)
	case etPBB: // a 4-byte I-TAG, then the customer's Ethernet frame
		if len(b) < 4 {
			return r.linkShort("802.1ah I-TAG", len(b))
		}
		if depth >= maxDepth {
			return r.tooDeep()
		}
		return r.ethernet(b[4:], depth+1)
	case etMACsec:
		return r.unsupported("MACsec (EtherType 0x%04x), encrypted", int(et))
	case etNSH:
		return r.nsh(b, depth)
	case etETag:
		return r.unsupported("802.1BR E-tag (EtherType 0x%04x)", int(et))
	case etVNTag:
		return r.unsupported("VN-tag (EtherType 0x%04x)", int(et))
	case etTRILL:
		return r.unsupported("TRILL (EtherType 0x%04x)", int(et))
	}
	// An 802.3 length (or a Linux cooked 802.2 frame): IP behind an LLC/SNAP header with
	// OUI 0 carries an EtherType.
	if et <= 1500 && len(b) >= 8 && b[0] == 0xaa && b[1] == 0xaa && b[2] == 0x03 && b[3]|b[4]|b[5] == 0 {
		if inner := binary.BigEndian.Uint16(b[6:]); inner > 1500 {
			return r.etherType(inner, b[8:], depth)
		}
	}
	return resNonTCP
}

func (r *Reader) ipByVersion(b []byte, depth int) result {
	if len(b) == 0 {
		return r.linkShort("raw IP", 0)
	}
	switch b[0] >> 4 {
	case 4:
		return r.ipv4(b, depth)
	case 6:
		return r.ipv6(b, depth)
	}
	return resNonTCP
}

// cutOrBad counts a packet whose header is incomplete: cut by the snapshot length when
// the record was cut, malformed otherwise.
func (r *Reader) cutOrBad(bad SkipKind, what string, n int) result {
	if r.cut {
		r.skip(SkipHeaderCut, "%s cut at %d bytes", what, n)
	} else {
		r.skip(bad, "truncated %s (%d bytes)", what, n)
	}
	return resSkipped
}

// ipv4 decodes an IPv4 packet.
func (r *Reader) ipv4(b []byte, depth int) result {
	if len(b) < 20 {
		return r.cutOrBad(SkipBadIPv4, "IPv4 header", len(b))
	}
	if b[0]>>4 != 4 {
		r.skip(SkipBadIPv4, "bad IPv4 version %d", b[0]>>4)
		return resSkipped
	}
	hl := int(b[0]&0x0f) * 4
	if hl < 20 {
		r.skip(SkipBadIPv4, "bad IPv4 header length %d", hl/4)
		return resSkipped
	}
	if hl > len(b) {
		return r.cutOrBad(SkipBadIPv4, "IPv4 header", len(b))
	}
	total := int(binary.BigEndian.Uint16(b[2:]))
	if total == 0 {
		total = len(b) // TCP segmentation offload: the length is left to the hardware
	}
	if total < hl {
		r.skip(SkipBadIPv4, "bad IPv4 total length %d (header %d)", total, hl)
		return resSkipped
	}
	if total > len(b) && !r.cut {
		r.skip(SkipBadIPv4, "IPv4 total length %d past the packet (%d bytes)", total, len(b))
		return resSkipped
	}
	b = b[:min(total, len(b))]
	src := netip.AddrFrom4([4]byte(b[12:16]))
	dst := netip.AddrFrom4([4]byte(b[16:20]))
	proto := b[9]
	fo := binary.BigEndian.Uint16(b[6:])
	if fo&0x3fff != 0 { // more fragments, or an offset
		return r.fragment4(b, hl, total, src, dst, proto, fo, depth)
	}
	return r.transport(src, dst, proto, b[hl:], total-hl, depth)
}

// ipv6 decodes an IPv6 packet and its extension headers.
func (r *Reader) ipv6(b []byte, depth int) result {
	if len(b) < 40 {
		return r.cutOrBad(SkipBadIPv6, "IPv6 header", len(b))
	}
	if b[0]>>4 != 6 {
		r.skip(SkipBadIPv6, "bad IPv6 version %d", b[0]>>4)
		return resSkipped
	}
	total := 40 + int(binary.BigEndian.Uint16(b[4:]))
	if total == 40 {
		total = len(b) // jumbogram or offloaded length
	}
	if total > len(b) && !r.cut {
		r.skip(SkipBadIPv6, "IPv6 payload length %d past the packet (%d bytes)", total-40, len(b)-40)
		return resSkipped
	}
	b = b[:min(total, len(b))]
	src := netip.AddrFrom16([16]byte(b[8:24]))
	dst := netip.AddrFrom16([16]byte(b[24:40]))
	return r.ipv6Chain(src, dst, b[6], b[40:], total-40, depth)
}

// ipv6Chain walks the IPv6 extension headers starting with header next at b[0]; wire is
// the length of b according to the IPv6 header (larger than len(b) when cut).
func (r *Reader) ipv6Chain(src, dst netip.Addr, next uint8, b []byte, wire, depth int) result {
	off := 0
	for range 16 {
		switch next {
		case 0, 43, 60, 51: // hop-by-hop, routing, destination options, AH
			if off+8 > len(b) {
				return r.cutOrBad(SkipBadIPv6, "IPv6 extension header", len(b))
			}
			n := (int(b[off+1]) + 1) * 8
			if next == 51 {
				n = (int(b[off+1]) + 2) * 4
			}
			if off+n > wire {
				r.skip(SkipBadIPv6, "IPv6 extension header length %d past the packet", n)
				return resSkipped
			}
			if off+n > len(b) {
				return r.cutOrBad(SkipBadIPv6, "IPv6 extension header", len(b))
			}
			next, off = b[off], off+n
		case 44: // fragment
			if off+8 > len(b) {
				return r.cutOrBad(SkipBadIPv6, "IPv6 fragment header", len(b))
			}
			fh := b[off : off+8]
			if binary.BigEndian.Uint16(fh[2:])&0xfff9 == 0 { // atomic fragment: offset 0, last
				next, off = fh[0], off+8
				continue
			}
			return r.fragment6(src, dst, fh, b[off+8:], wire-off-8, depth)
		case 59: // no next header
			return resNonTCP
		default:
			return r.transport(src, dst, next, b[off:], wire-off, depth)
		}
	}
	r.skip(SkipBadIPv6, "more than 16 IPv6 extension headers")
	return resSkipped
}

// transport decodes an IP payload of protocol proto. b holds the captured bytes; wire is
// the payload length according to the IP header (larger than len(b) when cut).
func (r *Reader) transport(src, dst netip.Addr, proto uint8, b []byte, wire, depth int) result {
	switch proto {
	case 6:
		return r.tcp(src, dst, b, wire)
	case 17:
		return r.udp(b, depth)
	case 47:
		return r.gre(b, depth)
	case 4:
		if depth >= maxDepth {
			return r.tooDeep()
		}
		return r.ipv4(b, depth+1)
	case 41:
		if depth >= maxDepth {
			return r.tooDeep()
		}
		return r.ipv6(b, depth+1)
	case 50:
		return r.unsupported("IPsec ESP (IP protocol %d), encrypted", 50)
	case 51:
		return r.ah(src, dst, b, wire, depth)
	case 97:
		return r.etherIP(b, depth)
	case 115:
		return r.unsupported("L2TPv3 (IP protocol %d)", 115)
	case 137:
		if depth >= maxDepth {
			return r.tooDeep()
		}
		return r.mpls(b, depth+1)
	}
	return resNonTCP
}

// ah skips an IPsec authentication header (RFC 4302) in front of the protocol it names.
func (r *Reader) ah(src, dst netip.Addr, b []byte, wire, depth int) result {
	bad := SkipBadIPv4
	if !src.Is4() {
		bad = SkipBadIPv6
	}
	if depth >= maxDepth {
		return r.tooDeep()
	}
	if len(b) < 8 {
		return r.cutOrBad(bad, "authentication header", len(b))
	}
	n := (int(b[1]) + 2) * 4
	if n > wire {
		r.skip(bad, "authentication header length %d past the packet", n)
		return resSkipped
	}
	if n > len(b) {
		return r.cutOrBad(bad, "authentication header", len(b))
	}
	return r.transport(src, dst, b[0], b[n:], wire-n, depth+1)
}

// tcp decodes a TCP segment into r.seg.
func (r *Reader) tcp(src, dst netip.Addr, b []byte, wire int) result {
	if len(b) < 20 {
		if wire >= 20 {
			return r.cutOrBad(SkipBadTCP, "TCP header", len(b))
		}
		r.skip(SkipBadTCP, "TCP segment of %d bytes", wire)
		return resSkipped
	}
	doff := int(b[12]>>4) * 4
	if doff < 20 || doff > wire {
		r.skip(SkipBadTCP, "TCP data offset %d past the segment (%d bytes)", doff, wire)
		return resSkipped
	}
	if doff > len(b) {
		return r.cutOrBad(SkipBadTCP, "TCP header", len(b))
	}
	s := r.seg
	s.Src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(b))
	s.Dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[2:]))
	s.Seq = binary.BigEndian.Uint32(b[4:])
	s.Ack = binary.BigEndian.Uint32(b[8:])
	s.Flags = reassembly.TCPFlags(b[13])
	s.Window = binary.BigEndian.Uint16(b[14:])
	s.Payload = b[doff:]
	s.Missing = max(wire-len(b), 0)
	s.WScale, s.HasWScale = 0, false
	if s.Flags.Has(reassembly.FlagSYN) {
		s.WScale, s.HasWScale = windowScale(b[20:doff])
	}
	return resTCP
}

// windowScale finds the window scale option (kind 3, RFC 7323) in a SYN's TCP options.
func windowScale(opts []byte) (uint8, bool) {
	for len(opts) > 0 {
		switch kind := opts[0]; kind {
		case 0: // end of option list
			return 0, false
		case 1: // no-operation
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 || opts[1] < 2 || int(opts[1]) > len(opts) {
			return 0, false // malformed: ignore the rest
		}
		if opts[0] == 3 && opts[1] == 3 {
			return min(opts[2], 14), true // RFC 7323 caps the shift at 14
		}
		opts = opts[opts[1]:]
	}
	return 0, false
}

// unsupported counts a packet in an encapsulation this package cannot look into. The
// detail is formatted only the first time, so that a capture full of them does not
// allocate per packet.
func (r *Reader) unsupported(format string, v int) result {
	if r.skips.count[SkipUnsupportedEncap] == 0 {
		r.skip(SkipUnsupportedEncap, format, v)
	} else {
		r.skips.count[SkipUnsupportedEncap]++
	}
	return resSkipped
}

func (r *Reader) tooDeep() result {
	r.skip(SkipBadTunnel, "tunnels nested more than %d deep", maxDepth)
	return resSkipped
}
