package capture

import "encoding/binary"

// This file decodes the mobile-core and carrier encapsulations: GTP-U, MPLS, PPP (in
// PPPoE, L2TPv2 and PPTP), Geneve and EtherIP. Every length is checked against the bytes
// captured, and a header cut by the snapshot length is told apart from a malformed one
// (cutOrBad).

// maxGTPExt bounds the GTP-U extension header chain, maxLabels the MPLS label stack.
const (
	maxGTPExt = 16
	maxLabels = 16
)

// gtpu decodes a GTPv1-U message (3GPP TS 29.281) from a UDP payload. Only a G-PDU
// (message type 255) carries user data, an IPv4 or IPv6 packet; echo requests and
// responses, error indications and end markers are signalling, not TCP. The 4-byte block of
// sequence number, N-PDU number and next extension header type is present when any of the
// E, S or PN flags is set; with E, extension headers follow, each a length in 4-byte units
// (0 is invalid), its content and the type of the next one (0: none).
func (r *Reader) gtpu(b []byte, depth int) result {
	if len(b) < 8 {
		return r.cutOrBad(SkipBadTunnel, "GTP-U header", len(b))
	}
	flags := b[0]
	if flags>>5 != 1 || flags&0x10 == 0 { // version 1, protocol type GTP (not GTP')
		r.skip(SkipBadTunnel, "GTP-U flags 0x%02x: not GTPv1", flags)
		return resSkipped
	}
	if b[1] != 0xff {
		return resNonTCP
	}
	end := 8 + int(binary.BigEndian.Uint16(b[2:]))
	if end <= len(b) {
		b = b[:end]
	} else if !r.cut {
		r.skip(SkipBadTunnel, "GTP-U length %d past the datagram (%d bytes)", end-8, len(b)-8)
		return resSkipped
	}
	off := 8
	if flags&0x07 != 0 {
		off = 12
		if end < off {
			r.skip(SkipBadTunnel, "GTP-U length %d too short for its optional fields", end-8)
			return resSkipped
		}
		if len(b) < off {
			return r.cutOrBad(SkipBadTunnel, "GTP-U header", len(b))
		}
		if flags&0x04 != 0 {
			for i, next := 0, b[11]; next != 0; i++ {
				if i == maxGTPExt {
					r.skip(SkipBadTunnel, "more than %d GTP-U extension headers", maxGTPExt)
					return resSkipped
				}
				if off >= end {
					r.skip(SkipBadTunnel, "GTP-U extension header 0x%02x past the message", next)
					return resSkipped
				}
				if off >= len(b) {
					return r.cutOrBad(SkipBadTunnel, "GTP-U extension header", len(b))
				}
				n := int(b[off]) * 4
				if n == 0 {
					r.skip(SkipBadTunnel, "GTP-U extension header 0x%02x with length 0", next)
					return resSkipped
				}
				if off+n > end {
					r.skip(SkipBadTunnel, "GTP-U extension header 0x%02x of %d bytes past the message", next, n)
					return resSkipped
				}
				if off+n > len(b) {
					return r.cutOrBad(SkipBadTunnel, "GTP-U extension header", len(b))
				}
				next, off = b[off+n-1], off+n
			}
		}
	}
	p := b[off:]
	if len(p) == 0 {
		if end > off {
			return r.cutOrBad(SkipBadTunnel, "G-PDU", len(b))
		}
		r.skip(SkipBadTunnel, "G-PDU without a payload")
		return resSkipped
	}
	if depth >= maxDepth {
		return r.tooDeep()
	}
	switch p[0] >> 4 {
	case 4:
		return r.ipv4(p, depth+1)
	case 6:
		return r.ipv6(p, depth+1)
	}
	return r.unsupported("G-PDU that is not IP (first byte 0x%02x): an Ethernet or unstructured PDU session?", int(p[0]))
}

// mpls decodes an MPLS label stack (RFC 3032) down to the bottom-of-stack label and the
// packet behind it: IPv4 or IPv6 by the version nibble, else an Ethernet pseudowire, with a
// control word (first nibble 0, RFC 4385) or without, when the EtherType where it would be
// is one this package knows. Anything else is counted as not decoded.
func (r *Reader) mpls(b []byte, depth int) result {
	for i := 0; ; i++ {
		if i == maxLabels {
			r.skip(SkipBadTunnel, "more than %d MPLS labels", maxLabels)
			return resSkipped
		}
		if len(b) < 4 {
			return r.cutOrBad(SkipBadTunnel, "MPLS label stack", len(b))
		}
		bottom := b[2]&1 != 0
		b = b[4:]
		if bottom {
			break
		}
	}
	if len(b) == 0 {
		return r.cutOrBad(SkipBadTunnel, "MPLS payload", 0)
	}
	switch b[0] >> 4 {
	case 4:
		return r.ipv4(b, depth)
	case 6:
		return r.ipv6(b, depth)
	}
	for _, cw := range [...]int{4, 0} { // with a control word, then without
		if (cw == 0 || b[0]>>4 == 0) && len(b) >= cw+14 && pseudowireEtherType(binary.BigEndian.Uint16(b[cw+12:])) {
			if depth >= maxDepth {
				return r.tooDeep()
			}
			return r.ethernet(b[cw:], depth+1)
		}
	}
	if r.cut && len(b) < 18 {
		return r.cutOrBad(SkipBadTunnel, "MPLS payload", len(b))
	}
	return r.unsupported("MPLS payload that is neither IP nor Ethernet (first byte 0x%02x)", int(b[0]))
}

// pseudowireEtherType reports whether et, read where an Ethernet frame behind MPLS would
// have its EtherType, is likely one.
func pseudowireEtherType(et uint16) bool {
	switch et {
	case etIPv4, etIPv6, etVLAN, etQinQ, etQinQ2, etMPLS, etMPLSm, etPPPoES, 0x0806: // 0x0806: ARP
		return true
	}
	return false
}

// pppoe decodes a PPPoE session-stage frame (RFC 2516): version and type 0x11, code 0,
// session ID, length, then a PPP protocol field and its packet.
func (r *Reader) pppoe(b []byte, depth int) result {
	if len(b) < 6 {
		return r.linkShort("PPPoE", len(b))
	}
	if b[0] != 0x11 || b[1] != 0 {
		r.skip(SkipBadLinkHeader, "PPPoE version and type 0x%02x, code 0x%02x", b[0], b[1])
		return resSkipped
	}
	p := b[6:]
	if n := int(binary.BigEndian.Uint16(b[4:])); n <= len(p) {
		p = p[:n]
	} else if !r.cut {
		r.skip(SkipBadLinkHeader, "PPPoE length %d past the frame (%d bytes)", n, len(p))
		return resSkipped
	}
	return r.ppp(p, depth)
}

// ppp decodes a PPP frame without HDLC framing: an optional address and control field
// (0xff 0x03), then a protocol field of one byte (compressed, odd) or two. IPv4, IPv6 and
// MPLS are decoded; compressed or encrypted datagrams and multilink fragments are counted
// as not decoded; link and network control protocols are not TCP.
func (r *Reader) ppp(b []byte, depth int) result {
	if len(b) >= 2 && b[0] == 0xff && b[1] == 0x03 {
		b = b[2:]
	}
	if len(b) == 0 {
		return r.cutOrBad(SkipBadTunnel, "PPP header", 0)
	}
	proto, n := uint16(b[0]), 1
	if b[0]&1 == 0 {
		if len(b) < 2 {
			return r.cutOrBad(SkipBadTunnel, "PPP header", len(b))
		}
		proto, n = binary.BigEndian.Uint16(b), 2
	}
	p := b[n:]
	switch proto {
	case 0x0021:
		return r.ipv4(p, depth)
	case 0x0057:
		return r.ipv6(p, depth)
	case 0x0281, 0x0283:
		return r.mpls(p, depth)
	case 0x00fb, 0x00fd:
		return r.unsupported("PPP compressed or encrypted datagram (protocol 0x%04x)", int(proto))
	case 0x003d:
		return r.unsupported("PPP multilink fragment (protocol 0x%04x)", int(proto))
	}
	return resNonTCP
}

// l2tp decodes an L2TPv2 data message (RFC 2661) carrying PPP; control messages are not
// TCP, and L2TPv3 sessions over UDP are counted as not decoded.
func (r *Reader) l2tp(b []byte, depth int) result {
	if len(b) < 2 {
		return r.cutOrBad(SkipBadTunnel, "L2TP header", len(b))
	}
	flags := binary.BigEndian.Uint16(b)
	if flags&0x8000 != 0 { // control message
		return resNonTCP
	}
	switch v := flags & 0xf; v {
	case 2:
	case 3:
		return r.unsupported("L2TPv3 over UDP (version %d)", 3)
	default:
		r.skip(SkipBadTunnel, "L2TP version %d", v)
		return resSkipped
	}
	n := 6 // flags, tunnel ID, session ID
	if flags&0x4000 != 0 {
		n += 2 // length
	}
	if flags&0x0800 != 0 {
		n += 4 // Ns, Nr
	}
	if flags&0x0200 != 0 {
		n += 2 // offset size, then that many bytes of padding
		if len(b) < n {
			return r.cutOrBad(SkipBadTunnel, "L2TP header", len(b))
		}
		n += int(binary.BigEndian.Uint16(b[n-2:]))
	}
	if flags&0x4000 != 0 && len(b) >= 4 {
		switch l := int(binary.BigEndian.Uint16(b[2:])); {
		case l < n:
			r.skip(SkipBadTunnel, "L2TP length %d shorter than its header (%d bytes)", l, n)
			return resSkipped
		case l <= len(b):
			b = b[:l]
		case !r.cut:
			r.skip(SkipBadTunnel, "L2TP length %d past the datagram (%d bytes)", l, len(b))
			return resSkipped
		}
	}
	if len(b) < n {
		return r.cutOrBad(SkipBadTunnel, "L2TP header", len(b))
	}
	if len(b) == n { // a zero-length body: an acknowledgment
		return resNonTCP
	}
	if depth >= maxDepth {
		return r.tooDeep()
	}
	return r.ppp(b[n:], depth+1)
}

// geneve decodes a Geneve header (RFC 8926) and its options, then the Ethernet frame or IP
// packet its protocol type names.
func (r *Reader) geneve(b []byte, depth int) result {
	if depth >= maxDepth {
		return r.tooDeep()
	}
	if len(b) < 8 {
		return r.cutOrBad(SkipBadTunnel, "Geneve header", len(b))
	}
	if v := b[0] >> 6; v != 0 {
		r.skip(SkipBadTunnel, "Geneve version %d", v)
		return resSkipped
	}
	n := 8 + int(b[0]&0x3f)*4
	if len(b) < n {
		return r.cutOrBad(SkipBadTunnel, "Geneve header", len(b))
	}
	p := b[n:]
	switch proto := binary.BigEndian.Uint16(b[2:]); proto {
	case etTEB:
		return r.ethernet(p, depth+1)
	case etIPv4:
		return r.ipv4(p, depth+1)
	case etIPv6:
		return r.ipv6(p, depth+1)
	default:
		return r.unsupported("Geneve protocol 0x%04x", int(proto))
	}
}

// vxlanGPE decodes a VXLAN-GPE header (draft-ietf-nvo3-vxlan-gpe): 8 bytes with the next
// protocol in the fourth. Like Wireshark, it does not insist on the P bit, which senders
// leave clear.
func (r *Reader) vxlanGPE(b []byte, depth int) result {
	if depth >= maxDepth {
		return r.tooDeep()
	}
	if len(b) < 8 {
		return r.cutOrBad(SkipBadTunnel, "VXLAN-GPE header", len(b))
	}
	return r.nextProtocol("VXLAN-GPE", b[3], b[8:], depth+1)
}

// nsh decodes a network service header (RFC 8300): a base header whose length (in 4-byte
// words) covers the service path header and any metadata, then the next protocol.
func (r *Reader) nsh(b []byte, depth int) result {
	if depth >= maxDepth {
		return r.tooDeep()
	}
	if len(b) < 8 {
		return r.cutOrBad(SkipBadTunnel, "NSH header", len(b))
	}
	if v := b[0] >> 6; v != 0 {
		r.skip(SkipBadTunnel, "NSH version %d", v)
		return resSkipped
	}
	n := int(binary.BigEndian.Uint16(b)&0x3f) * 4
	if n < 8 {
		r.skip(SkipBadTunnel, "NSH length %d under 8 bytes", n)
		return resSkipped
	}
	if len(b) < n {
		return r.cutOrBad(SkipBadTunnel, "NSH header", len(b))
	}
	return r.nextProtocol("NSH", b[3], b[n:], depth+1)
}

// nextProtocol decodes what a VXLAN-GPE or NSH header's next protocol field names.
func (r *Reader) nextProtocol(what string, np byte, p []byte, depth int) result {
	switch np {
	case 1:
		return r.ipv4(p, depth)
	case 2:
		return r.ipv6(p, depth)
	case 3:
		return r.ethernet(p, depth)
	case 4:
		return r.nsh(p, depth)
	case 5:
		return r.mpls(p, depth)
	}
	if what == "NSH" {
		return r.unsupported("NSH next protocol %d", int(np))
	}
	return r.unsupported("VXLAN-GPE next protocol %d", int(np))
}

// etherIP decodes EtherIP (RFC 3378, IP protocol 97): a 2-byte header with version 3,
// then an Ethernet frame.
func (r *Reader) etherIP(b []byte, depth int) result {
	if depth >= maxDepth {
		return r.tooDeep()
	}
	if len(b) < 2 {
		return r.cutOrBad(SkipBadTunnel, "EtherIP header", len(b))
	}
	if v := b[0] >> 4; v != 3 {
		r.skip(SkipBadTunnel, "EtherIP version %d", v)
		return resSkipped
	}
	return r.ethernet(b[2:], depth+1)
}
