package capture

import "encoding/binary"

// vxlanPort is the IANA VXLAN UDP port.
const vxlanPort = 4789

// udp decodes VXLAN (UDP destination port 4789); other UDP traffic is not TCP.
func (r *Reader) udp(b []byte, depth int) result {
	if len(b) < 8 || binary.BigEndian.Uint16(b[2:]) != vxlanPort {
		return resNonTCP
	}
	if depth >= maxDepth {
		return r.tooDeep()
	}
	vx := b[8:]
	if len(vx) < 8 {
		return r.cutOrBad(SkipBadTunnel, "VXLAN header", len(vx))
	}
	if vx[0]&0x08 == 0 { // no valid VNI: not VXLAN as we know it
		r.skip(SkipBadTunnel, "VXLAN flags %#02x without the I bit", vx[0])
		return resSkipped
	}
	return r.ethernet(vx[8:], depth+1)
}

// gre decodes GRE version 0 carrying IPv4, IPv6, Ethernet (transparent Ethernet bridging)
// or ERSPAN type I, II or III.
func (r *Reader) gre(b []byte, depth int) result {
	if len(b) < 4 {
		return r.cutOrBad(SkipBadTunnel, "GRE header", len(b))
	}
	flags, proto := binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:])
	if flags&0x7 != 0 { // version 1 is PPTP's enhanced GRE: no TCP to find for us
		return resNonTCP
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
	}
	return resNonTCP
}
