package pcapgen

import (
	"encoding/binary"
	"net/netip"
)

// LinkType is a pcap/pcapng link-layer header type (LINKTYPE_* value).
type LinkType uint16

// Link types the builders can frame.
const (
	LinkNull     LinkType = 0   // BSD loopback, address family in the writer's byte order
	LinkEthernet LinkType = 1   // Ethernet II
	LinkRaw      LinkType = 101 // raw IPv4 or IPv6, by version nibble
	LinkLoop     LinkType = 108 // OpenBSD loopback, address family big-endian
	LinkSLL      LinkType = 113 // Linux cooked capture v1
	LinkIPv4     LinkType = 228 // raw IPv4
	LinkIPv6     LinkType = 229 // raw IPv6
	LinkSLL2     LinkType = 276 // Linux cooked capture v2 (tcpdump -i any)
)

// EtherType values used in frames.
const (
	EtherTypeIPv4   = 0x0800
	EtherTypeARP    = 0x0806
	EtherTypeVLAN   = 0x8100
	EtherTypeIPv6   = 0x86dd
	EtherTypeQinQ   = 0x88a8
	EtherTypeTEB    = 0x6558 // transparent Ethernet bridging (GRE)
	EtherTypeERSPAN = 0x88be // ERSPAN type I/II (GRE)
	EtherTypeERSPN3 = 0x22eb // ERSPAN type III (GRE)
)

// Address family values for LinkNull/LinkLoop headers.
const (
	AFInet        = 2
	AFInet6Linux  = 10
	AFInet6BSD    = 24 // NetBSD, OpenBSD
	AFInet6FBSD   = 28 // FreeBSD
	AFInet6Darwin = 30 // macOS
)

// Default MAC addresses used by Link.Frame.
var (
	defaultSrcMAC = [6]byte{0x02, 0, 0, 0, 0, 0x01}
	defaultDstMAC = [6]byte{0x02, 0, 0, 0, 0, 0x02}
)

// Link describes the link layer of a capture interface.
type Link struct {
	Type LinkType
	// VLANs are 802.1Q VLAN IDs (Ethernet, SLL, SLL2 ignore them except Ethernet), outermost
	// first. With more than one tag the outer tags use the 802.1ad TPID 0x88a8 (QinQ).
	VLANs []uint16
	// Family6 is the address family written for IPv6 on LinkNull/LinkLoop; 0 means
	// AFInet6Darwin.
	Family6 uint32
	// BigEndian writes the LinkNull family in big-endian (as a big-endian host would).
	BigEndian bool
}

// Frame returns the IP packet ip with this link layer in front. The protocol (IPv4 or IPv6)
// is taken from the version nibble of ip.
func (l Link) Frame(ip []byte) []byte {
	v6 := len(ip) > 0 && ip[0]>>4 == 6
	etype := uint16(EtherTypeIPv4)
	if v6 {
		etype = EtherTypeIPv6
	}
	switch l.Type {
	case LinkEthernet:
		return EthernetFrame(etype, l.VLANs, ip)
	case LinkSLL:
		b := make([]byte, 16+len(ip))
		binary.BigEndian.PutUint16(b[0:], 0) // packet sent to us
		binary.BigEndian.PutUint16(b[2:], 1) // ARPHRD_ETHER
		binary.BigEndian.PutUint16(b[4:], 6)
		copy(b[6:], defaultSrcMAC[:])
		binary.BigEndian.PutUint16(b[14:], etype)
		copy(b[16:], ip)
		return b
	case LinkSLL2:
		b := make([]byte, 20+len(ip))
		binary.BigEndian.PutUint16(b[0:], etype)
		binary.BigEndian.PutUint32(b[4:], 2) // interface index
		binary.BigEndian.PutUint16(b[8:], 1) // ARPHRD_ETHER
		b[10] = 4                            // outgoing
		b[11] = 6
		copy(b[12:], defaultSrcMAC[:])
		copy(b[20:], ip)
		return b
	case LinkNull, LinkLoop:
		fam := uint32(AFInet)
		if v6 {
			fam = l.Family6
			if fam == 0 {
				fam = AFInet6Darwin
			}
		}
		b := make([]byte, 4+len(ip))
		if l.Type == LinkLoop || l.BigEndian {
			binary.BigEndian.PutUint32(b, fam)
		} else {
			binary.LittleEndian.PutUint32(b, fam)
		}
		copy(b[4:], ip)
		return b
	default: // LinkRaw, LinkIPv4, LinkIPv6 and anything unknown: the bytes as they are
		return append([]byte(nil), ip...)
	}
}

// EthernetFrame returns an Ethernet II frame with the given EtherType, VLAN tags (outermost
// first; with more than one, the outer ones use TPID 0x88a8) and payload.
func EthernetFrame(etype uint16, vlans []uint16, payload []byte) []byte {
	b := make([]byte, 14+4*len(vlans)+len(payload))
	copy(b[0:], defaultDstMAC[:])
	copy(b[6:], defaultSrcMAC[:])
	off := 12
	for i, id := range vlans {
		tpid := uint16(EtherTypeVLAN)
		if i < len(vlans)-1 {
			tpid = EtherTypeQinQ
		}
		binary.BigEndian.PutUint16(b[off:], tpid)
		binary.BigEndian.PutUint16(b[off+2:], id&0x0fff)
		off += 4
	}
	binary.BigEndian.PutUint16(b[off:], etype)
	copy(b[off+2:], payload)
	return b
}

// TunnelKind selects an encapsulation for Tunnel.
type TunnelKind uint8

// Tunnel kinds.
const (
	// TunnelVXLAN: outer IP / UDP to port 4789 / VXLAN / inner Ethernet / IP.
	TunnelVXLAN TunnelKind = iota
	// TunnelGRE: outer IP / GRE (protocol IPv4 or IPv6) / inner IP.
	TunnelGRE
	// TunnelGRETEB: outer IP / GRE (protocol 0x6558) / inner Ethernet / IP.
	TunnelGRETEB
	// TunnelERSPAN2: outer IP / GRE with sequence number (0x88be) / ERSPAN II / Ethernet / IP.
	TunnelERSPAN2
	// TunnelERSPAN3: outer IP / GRE with sequence number (0x22eb) / ERSPAN III / Ethernet / IP.
	TunnelERSPAN3
)

// Tunnel wraps IP packets in an outer IP packet.
type Tunnel struct {
	Kind     TunnelKind
	Src, Dst netip.Addr // outer addresses
	// Key is the VXLAN network identifier, or the GRE key when GREKey is set.
	Key uint32
	// GREKey and GRECsum add the optional GRE key and checksum fields.
	GREKey, GRECsum bool
	// VLANs tag the inner Ethernet frame (VXLAN, TEB, ERSPAN).
	VLANs []uint16
}

// Wrap returns ip encapsulated in an outer IP packet.
func (t Tunnel) Wrap(ip []byte) []byte {
	v6 := len(ip) > 0 && ip[0]>>4 == 6
	etype := uint16(EtherTypeIPv4)
	if v6 {
		etype = EtherTypeIPv6
	}
	outer := IP{Src: t.Src, Dst: t.Dst, Proto: ProtoGRE}
	switch t.Kind {
	case TunnelVXLAN:
		vx := make([]byte, 8)
		vx[0] = 0x08
		binary.BigEndian.PutUint32(vx[4:], t.Key<<8)
		inner := EthernetFrame(etype, t.VLANs, ip)
		outer.Proto = ProtoUDP
		udp := UDP(netip.AddrPortFrom(t.Src, 49152), netip.AddrPortFrom(t.Dst, 4789), append(vx, inner...))
		return outer.Packet(udp)
	case TunnelGRETEB:
		return outer.Packet(t.gre(EtherTypeTEB, false, EthernetFrame(etype, t.VLANs, ip)))
	case TunnelERSPAN2:
		hdr := make([]byte, 8)
		hdr[0] = 0x10 // version 1 (type II)
		return outer.Packet(t.gre(EtherTypeERSPAN, true, append(hdr, EthernetFrame(etype, t.VLANs, ip)...)))
	case TunnelERSPAN3:
		hdr := make([]byte, 12)
		hdr[0] = 0x20 // version 2 (type III), O bit clear
		return outer.Packet(t.gre(EtherTypeERSPN3, true, append(hdr, EthernetFrame(etype, t.VLANs, ip)...)))
	default:
		return outer.Packet(t.gre(etype, false, ip))
	}
}

func (t Tunnel) gre(proto uint16, seq bool, payload []byte) []byte {
	var flags uint16
	n := 4
	if t.GRECsum {
		flags |= 0x8000
		n += 4
	}
	if t.GREKey {
		flags |= 0x2000
		n += 4
	}
	if seq {
		flags |= 0x1000
		n += 4
	}
	b := make([]byte, n+len(payload))
	binary.BigEndian.PutUint16(b[0:], flags)
	binary.BigEndian.PutUint16(b[2:], proto)
	off := 4
	if t.GRECsum {
		off += 4 // checksum filled in below
	}
	if t.GREKey {
		binary.BigEndian.PutUint32(b[off:], t.Key)
		off += 4
	}
	if seq {
		binary.BigEndian.PutUint32(b[off:], 1)
	}
	copy(b[n:], payload)
	if t.GRECsum {
		binary.BigEndian.PutUint16(b[4:], ^fold(sumBytes(b)))
	}
	return b
}
