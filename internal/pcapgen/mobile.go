package pcapgen

import (
	"encoding/binary"
	"net/netip"
)

// Values for the mobile-core and carrier encapsulations built in this file.
const (
	GTPUPort          = 2152   // GTP-U UDP port
	EtherTypeQinQ9100 = 0x9100 // pre-standard QinQ TPID
	EtherTypeMPLS     = 0x8847 // MPLS unicast
	EtherTypePPPoES   = 0x8864 // PPPoE session stage
	ProtoESP          = 50     // IPsec ESP
	ProtoMPLS         = 137    // MPLS in IP
)

// GTPExt is a GTP-U extension header.
type GTPExt struct {
	// Type is the header's type, written in the next-extension-header field in front of it
	// (0x85 is the PDU session container, 0xc0 the PDCP PDU number).
	Type uint8
	// Content is zero-padded so that the length byte, the content and the next type byte
	// fill a multiple of 4 bytes (at most 1018 bytes are kept).
	Content []byte
}

// GTPU wraps IP packets in an outer IP packet, UDP and a GTPv1-U header (3GPP TS 29.281),
// as on an S1-U, S5-U or N3 interface.
type GTPU struct {
	Src, Dst netip.Addr // outer addresses
	// SrcPort and DstPort are the outer UDP ports; 0 means GTPUPort.
	SrcPort, DstPort uint16
	TEID             uint32
	// Seq and NPDU set the S and PN flags with a sequence number and an N-PDU number.
	Seq, NPDU bool
	// Ext are extension headers, in order; any sets the E flag.
	Ext []GTPExt
	// MsgType is the message type; 0 means 255 (G-PDU, user data).
	MsgType uint8
}

// Message returns the GTP-U header, with its optional fields and extension headers, and
// payload. The length field counts everything after the first 8 bytes (clamped to 65535).
func (g GTPU) Message(payload []byte) []byte {
	flags := byte(0x30) // version 1, protocol type GTP
	if len(g.Ext) > 0 {
		flags |= 0x04
	}
	if g.Seq {
		flags |= 0x02
	}
	if g.NPDU {
		flags |= 0x01
	}
	b := []byte{flags, g.MsgType, 0, 0, 0, 0, 0, 0}
	if b[1] == 0 {
		b[1] = 0xff
	}
	binary.BigEndian.PutUint32(b[4:], g.TEID)
	if flags&0x07 != 0 {
		var opt [4]byte
		if g.Seq {
			binary.BigEndian.PutUint16(opt[0:], 0x1234)
		}
		if g.NPDU {
			opt[2] = 7
		}
		if len(g.Ext) > 0 {
			opt[3] = g.Ext[0].Type
		}
		b = append(b, opt[:]...)
	}
	for i, e := range g.Ext {
		content := e.Content
		if len(content) > 1018 {
			content = content[:1018]
		}
		n := (len(content) + 2 + 3) / 4 * 4
		h := make([]byte, n)
		h[0] = byte(n / 4)
		copy(h[1:], content)
		if i+1 < len(g.Ext) {
			h[n-1] = g.Ext[i+1].Type
		}
		b = append(b, h...)
	}
	b = append(b, payload...)
	binary.BigEndian.PutUint16(b[2:], uint16(min(len(b)-8, 0xffff)))
	return b
}

// Wrap returns ip in an outer IP packet from Src to Dst carrying UDP and a GTP-U message.
func (g GTPU) Wrap(ip []byte) []byte {
	sp, dp := g.SrcPort, g.DstPort
	if sp == 0 {
		sp = GTPUPort
	}
	if dp == 0 {
		dp = GTPUPort
	}
	udp := UDP(netip.AddrPortFrom(g.Src, sp), netip.AddrPortFrom(g.Dst, dp), g.Message(ip))
	return IP{Src: g.Src, Dst: g.Dst, Proto: ProtoUDP}.Packet(udp)
}

// VLANTag is one 802.1Q tag: its TPID (EtherTypeVLAN, EtherTypeQinQ, EtherTypeQinQ9100) and
// VLAN ID.
type VLANTag struct {
	TPID, ID uint16
}

// EthernetFrameTagged is EthernetFrame with the TPID of every tag given, outermost first.
func EthernetFrameTagged(etype uint16, tags []VLANTag, payload []byte) []byte {
	b := make([]byte, 14+4*len(tags)+len(payload))
	copy(b[0:], defaultDstMAC[:])
	copy(b[6:], defaultSrcMAC[:])
	off := 12
	for _, t := range tags {
		binary.BigEndian.PutUint16(b[off:], t.TPID)
		binary.BigEndian.PutUint16(b[off+2:], t.ID&0x0fff)
		off += 4
	}
	binary.BigEndian.PutUint16(b[off:], etype)
	copy(b[off+2:], payload)
	return b
}

// MPLS returns payload behind an MPLS label stack (outermost label first, 20 bits each,
// TTL 64); the last label has the bottom-of-stack bit. No labels return a copy of payload.
func MPLS(labels []uint32, payload []byte) []byte {
	b := make([]byte, 4*len(labels), 4*len(labels)+len(payload))
	for i, l := range labels {
		v := (l&0xfffff)<<12 | 64
		if i == len(labels)-1 {
			v |= 1 << 8
		}
		binary.BigEndian.PutUint32(b[4*i:], v)
	}
	return append(b, payload...)
}

// PPPoESession returns the PPPoE session-stage payload (RFC 2516) carrying the IP packet
// ip in PPP: version and type 0x11, code 0, the session ID, the length, and PPP protocol
// 0x0021 (IPv4) or 0x0057 (IPv6) by the version nibble of ip.
func PPPoESession(session uint16, ip []byte) []byte {
	proto := uint16(0x0021)
	if len(ip) > 0 && ip[0]>>4 == 6 {
		proto = 0x0057
	}
	b := make([]byte, 8+len(ip))
	b[0] = 0x11
	binary.BigEndian.PutUint16(b[2:], session)
	binary.BigEndian.PutUint16(b[4:], uint16(min(2+len(ip), 0xffff)))
	binary.BigEndian.PutUint16(b[6:], proto)
	copy(b[8:], ip)
	return b
}
