package capture

import "encoding/binary"

// UDP ports of the encapsulations looked for in UDP.
const (
	vxlanPort    = 4789 // VXLAN (destination port)
	vxlanGPEPort = 4790 // VXLAN-GPE, either port
	genevePort   = 6081 // Geneve (destination port)
	gtpuPort     = 2152 // GTP-U, either port: uplink and downlink both use it
	l2tpPort     = 1701 // L2TP, either port
	mplsUDPPort  = 6635 // MPLS in UDP (RFC 7510, destination port)
	natTPort     = 4500 // IPsec NAT traversal: IKE and ESP in UDP, either port
)

// udp decodes the tunnels carried in UDP (VXLAN, VXLAN-GPE, Geneve, GTP-U, L2TPv2, MPLS); other UDP
// traffic is not TCP, except for encapsulations that are counted as not decoded.
func (r *Reader) udp(b []byte, depth int) result {
	if len(b) < 8 {
		return resNonTCP
	}
	sp, dp := binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:])
	p := b[8:]
	switch {
	case dp == vxlanPort:
		return r.vxlan(p, depth)
	case dp == genevePort:
		return r.geneve(p, depth)
	case sp == gtpuPort || dp == gtpuPort:
		return r.gtpu(p, depth)
	case sp == l2tpPort || dp == l2tpPort:
		return r.l2tp(p, depth)
	case dp == mplsUDPPort:
		if depth >= maxDepth {
			return r.tooDeep()
		}
		return r.mpls(p, depth+1)
	case dp == vxlanGPEPort || sp == vxlanGPEPort:
		return r.vxlanGPE(p, depth)
	case sp == natTPort || dp == natTPort:
		// A single 0xff is a NAT keep-alive, four zero bytes start an IKE message;
		// anything else is ESP (RFC 3948).
		if len(p) >= 8 && binary.BigEndian.Uint32(p) != 0 {
			return r.unsupported("IPsec ESP in UDP (port %d), encrypted", natTPort)
		}
	}
	return resNonTCP
}

// vxlan decodes a VXLAN header and the Ethernet frame behind it.
func (r *Reader) vxlan(vx []byte, depth int) result {
	if depth >= maxDepth {
		return r.tooDeep()
	}
	if len(vx) < 8 {
		return r.cutOrBad(SkipBadTunnel, "VXLAN header", len(vx))
	}
	if vx[0]&0x08 == 0 { // no valid VNI: not VXLAN as we know it
		r.skip(SkipBadTunnel, "VXLAN flags %#02x without the I bit", vx[0])
		return resSkipped
	}
	return r.ethernet(vx[8:], depth+1)
}

// gre decodes GRE version 0 carrying IPv4, IPv6, Ethernet (transparent Ethernet bridging),
// ERSPAN type I, II or III, MPLS or WCCP redirection, and PPTP's enhanced GRE (version 1)
// carrying PPP. Other protocols are counted as not decoded.
func (r *Reader) gre(b []byte, depth int) result {
	if len(b) < 4 {
		return r.cutOrBad(SkipBadTunnel, "GRE header", len(b))
	}
	flags, proto := binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:])
	switch v := flags & 0x7; v {
	case 0:
	case 1:
		return r.pptp(b, flags, proto, depth)
	default:
		r.skip(SkipBadTunnel, "GRE version %d", v)
		return resSkipped
	}
	if flags&0x4000 != 0 { // source routing (RFC 1701): obsolete
		r.skip(SkipBadTunnel, "GRE with source routing")
		return resSkipped
	}
	n := 4
	for _, bit := range [...]uint16{0x8000, 0x2000, 0x1000} { // checksum, key, sequence
		if flags&bit != 0 {
			n += 4
		}
	}
	if len(b) < n {
		return r.cutOrBad(SkipBadTunnel, "GRE header", len(b))
	}
	if depth >= maxDepth {
		return r.tooDeep()
	}
	p := b[n:]
	switch proto {
	case etIPv4:
		return r.ipv4(p, depth+1)
	case etIPv6:
		return r.ipv6(p, depth+1)
	case etTEB:
		return r.ethernet(p, depth+1)
	case etERSPAN:
		if flags&0x1000 != 0 { // type II has a sequence number and an 8-byte header
			if len(p) < 8 {
				return r.cutOrBad(SkipBadTunnel, "ERSPAN header", len(p))
			}
			p = p[8:]
		}
		return r.ethernet(p, depth+1)
	case etERSPN3:
		if len(p) < 12 {
			return r.cutOrBad(SkipBadTunnel, "ERSPAN header", len(p))
		}
		hl := 12
		if p[11]&1 != 0 { // optional platform-specific subheader
			hl += 8
		}
		if len(p) < hl {
			return r.cutOrBad(SkipBadTunnel, "ERSPAN header", len(p))
		}
		return r.ethernet(p[hl:], depth+1)
	case etMPLS, etMPLSm:
		return r.mpls(p, depth+1)
	case etWCCP: // WCCPv2 puts a 4-byte redirect header in front of the IPv4 packet, v1 none
		if len(p) > 0 && p[0]>>4 != 4 {
			if len(p) < 4 {
				return r.cutOrBad(SkipBadTunnel, "WCCP redirect header", len(p))
			}
			p = p[4:]
		}
		return r.ipv4(p, depth+1)
	case 0: // a keep-alive's reply (Cisco), or nothing at all
		return resNonTCP
	}
	return r.unsupported("GRE protocol 0x%04x", int(proto))
}

// pptp decodes PPTP's enhanced GRE (RFC 2637): an 8-byte header with payload length and
// call ID, optional sequence and acknowledgment numbers, then a PPP frame.
func (r *Reader) pptp(b []byte, flags, proto uint16, depth int) result {
	if proto != etPPP {
		r.skip(SkipBadTunnel, "enhanced GRE protocol 0x%04x", proto)
		return resSkipped
	}
	n := 8
	if flags&0x1000 != 0 { // sequence number
		n += 4
	}
	if flags&0x0080 != 0 { // acknowledgment number
		n += 4
	}
	if len(b) < n {
		return r.cutOrBad(SkipBadTunnel, "enhanced GRE header", len(b))
	}
	p := b[n:]
	if pl := int(binary.BigEndian.Uint16(b[4:])); pl <= len(p) {
		p = p[:pl]
	} else if !r.cut {
		r.skip(SkipBadTunnel, "enhanced GRE payload length %d past the packet (%d bytes)", pl, len(p))
		return resSkipped
	}
	if len(p) == 0 { // an acknowledgment alone
		return resNonTCP
	}
	if depth >= maxDepth {
		return r.tooDeep()
	}
	return r.ppp(p, depth+1)
}
