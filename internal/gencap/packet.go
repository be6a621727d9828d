package gencap

import (
	"encoding/binary"
	"net/netip"
)

// TCP flag bits as they appear in byte 13 of the TCP header.
const (
	flagFIN = 0x01
	flagSYN = 0x02
	flagRST = 0x04
	flagPSH = 0x08
	flagACK = 0x10
)

// Header sizes of the packets the generator writes.
const (
	ethLen   = 14
	ipv4Len  = 20
	ipv6Len  = 40
	tcpLen   = 32 // 20 bytes plus NOP, NOP, timestamps
	tcpSYN   = 40 // 20 bytes plus MSS, SACK permitted, timestamps, NOP, window scale
	maxHdr   = ethLen + ipv6Len + tcpSYN
	wscale   = 7
	mssIPv4  = 1448 // 1500 - 20 - 32
	mssIPv6  = 1428 // 1500 - 40 - 32
	synWin   = 64240
	ipTTL    = 64
	etherIP4 = 0x0800
	etherIP6 = 0x86dd
)

// MAC addresses of the capture point's two neighbours: the router on the client side and
// the server.
var (
	macRouter = [6]byte{0x00, 0x1c, 0x73, 0x42, 0x10, 0x01}
	macServer = [6]byte{0x52, 0x54, 0x00, 0x8a, 0x3c, 0x02}
)

// seg is one TCP segment to encode.
type seg struct {
	src, dst netip.AddrPort
	seq, ack uint32
	flags    uint8
	win      uint16
	ipID     uint16
	tsVal    uint32
	tsEcr    uint32
	toServer bool
	payload  []byte
}

// encodeHeaders appends the Ethernet, IP and TCP headers of s to b, with the IP and TCP
// checksums computed over the headers and s.payload; the payload itself is not appended.
func encodeHeaders(b []byte, s *seg) []byte {
	v6 := !s.src.Addr().Unmap().Is4()
	if s.toServer {
		b = append(b, macServer[:]...)
		b = append(b, macRouter[:]...)
	} else {
		b = append(b, macRouter[:]...)
		b = append(b, macServer[:]...)
	}
	thl := tcpLen
	if s.flags&flagSYN != 0 {
		thl = tcpSYN
	}
	tcpTotal := thl + len(s.payload)
	if v6 {
		b = binary.BigEndian.AppendUint16(b, etherIP6)
		b = append(b, 0x60, 0, 0, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(tcpTotal))
		b = append(b, 6, ipTTL)
		src, dst := s.src.Addr().As16(), s.dst.Addr().As16()
		b = append(b, src[:]...)
		b = append(b, dst[:]...)
	} else {
		b = binary.BigEndian.AppendUint16(b, etherIP4)
		ipStart := len(b)
		b = append(b, 0x45, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(ipv4Len+tcpTotal))
		b = binary.BigEndian.AppendUint16(b, s.ipID)
		b = append(b, 0x40, 0, ipTTL, 6, 0, 0)
		src, dst := s.src.Addr().Unmap().As4(), s.dst.Addr().Unmap().As4()
		b = append(b, src[:]...)
		b = append(b, dst[:]...)
		binary.BigEndian.PutUint16(b[ipStart+10:], ^fold(sum(b[ipStart:ipStart+ipv4Len])))
	}
	tcp := len(b)
	b = binary.BigEndian.AppendUint16(b, s.src.Port())
	b = binary.BigEndian.AppendUint16(b, s.dst.Port())
	b = binary.BigEndian.AppendUint32(b, s.seq)
	b = binary.BigEndian.AppendUint32(b, s.ack)
	b = append(b, byte(thl/4)<<4, s.flags)
	b = binary.BigEndian.AppendUint16(b, s.win)
	b = append(b, 0, 0, 0, 0) // checksum, urgent pointer
	if s.flags&flagSYN != 0 {
		b = append(b, 2, 4)
		b = binary.BigEndian.AppendUint16(b, uint16(mssFor(v6)))
		b = append(b, 4, 2, 8, 10)
		b = binary.BigEndian.AppendUint32(b, s.tsVal)
		b = binary.BigEndian.AppendUint32(b, s.tsEcr)
		b = append(b, 1, 3, 3, wscale)
	} else {
		b = append(b, 1, 1, 8, 10)
		b = binary.BigEndian.AppendUint32(b, s.tsVal)
		b = binary.BigEndian.AppendUint32(b, s.tsEcr)
	}
	c := pseudoSum(s.src.Addr(), s.dst.Addr(), tcpTotal, v6) + sum(b[tcp:]) + sum(s.payload)
	binary.BigEndian.PutUint16(b[tcp+16:], ^fold(c))
	return b
}

func mssFor(v6 bool) int {
	if v6 {
		return mssIPv6
	}
	return mssIPv4
}

// pseudoSum is the one's complement sum of the TCP pseudo-header.
func pseudoSum(src, dst netip.Addr, length int, v6 bool) uint64 {
	var s uint64
	if v6 {
		a, b := src.As16(), dst.As16()
		s = sum(a[:]) + sum(b[:])
	} else {
		a, b := src.Unmap().As4(), dst.Unmap().As4()
		s = sum(a[:]) + sum(b[:])
	}
	return s + 6 + uint64(length)
}

// sum adds b as big-endian 16-bit words (an odd last byte is padded with zero) into a
// 64-bit accumulator, four words at a time; fold reduces it to 16 bits.
func sum(b []byte) uint64 {
	var s uint64
	for len(b) >= 8 {
		v := binary.BigEndian.Uint64(b)
		s += v>>32 + v&0xffffffff
		b = b[8:]
	}
	if len(b) >= 4 {
		s += uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		s += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	return s
}

func fold(s uint64) uint16 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}
