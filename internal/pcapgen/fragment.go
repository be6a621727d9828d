package pcapgen

import (
	"encoding/binary"
	"errors"
)

// FragmentIPv4 splits the IPv4 packet pkt into fragments carrying at most size payload bytes
// each (rounded down to a multiple of 8, at least 8), in order. Options are copied into every
// fragment. A packet that fits in one fragment is returned unchanged as the only element.
func FragmentIPv4(pkt []byte, size int) ([][]byte, error) {
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		return nil, errors.New("pcapgen: not an IPv4 packet")
	}
	hl := int(pkt[0]&0x0f) * 4
	if hl < 20 || hl > len(pkt) {
		return nil, errors.New("pcapgen: bad IPv4 header length")
	}
	size = fragSize(size)
	hdr, payload := pkt[:hl], pkt[hl:]
	if len(payload) <= size {
		return [][]byte{append([]byte(nil), pkt...)}, nil
	}
	var out [][]byte
	for off := 0; off < len(payload); off += size {
		end := min(off+size, len(payload))
		f := make([]byte, hl+end-off)
		copy(f, hdr)
		copy(f[hl:], payload[off:end])
		binary.BigEndian.PutUint16(f[2:], uint16(len(f)))
		fo := uint16(off / 8)
		if end < len(payload) {
			fo |= 0x2000 // more fragments
		}
		binary.BigEndian.PutUint16(f[6:], fo)
		f[10], f[11] = 0, 0
		binary.BigEndian.PutUint16(f[10:], ^fold(sumBytes(f[:hl])))
		out = append(out, f)
	}
	return out, nil
}

// FragmentIPv6 splits the IPv6 packet pkt into fragments with identification id, each
// carrying at most size bytes of the fragmentable part (rounded down to a multiple of 8, at
// least 8). Hop-by-hop and routing headers at the start of the chain stay in every fragment
// (the unfragmentable part); a fragment header follows them. A packet whose fragmentable
// part fits in one fragment is returned unchanged as the only element.
func FragmentIPv6(pkt []byte, size int, id uint32) ([][]byte, error) {
	if len(pkt) < 40 || pkt[0]>>4 != 6 {
		return nil, errors.New("pcapgen: not an IPv6 packet")
	}
	// Find the end of the unfragmentable part and the next-header field pointing past it.
	nhOff, off := 6, 40
	for pkt[nhOff] == ProtoHopByHop || pkt[nhOff] == ProtoRouting {
		if off+8 > len(pkt) {
			return nil, errors.New("pcapgen: truncated IPv6 extension header")
		}
		n := (int(pkt[off+1]) + 1) * 8
		if off+n > len(pkt) {
			return nil, errors.New("pcapgen: truncated IPv6 extension header")
		}
		nhOff, off = off, off+n
	}
	size = fragSize(size)
	unfrag, rest := pkt[:off], pkt[off:]
	if len(rest) <= size {
		return [][]byte{append([]byte(nil), pkt...)}, nil
	}
	next := pkt[nhOff]
	var out [][]byte
	for o := 0; o < len(rest); o += size {
		end := min(o+size, len(rest))
		f := make([]byte, len(unfrag)+8+end-o)
		copy(f, unfrag)
		f[nhOff] = ProtoFragment
		fh := f[len(unfrag):]
		fh[0] = next
		fo := uint16(o/8) << 3
		if end < len(rest) {
			fo |= 1
		}
		binary.BigEndian.PutUint16(fh[2:], fo)
		binary.BigEndian.PutUint32(fh[4:], id)
		copy(fh[8:], rest[o:end])
		binary.BigEndian.PutUint16(f[4:], uint16(len(f)-40))
		out = append(out, f)
	}
	return out, nil
}

func fragSize(size int) int {
	size = size / 8 * 8
	if size < 8 {
		size = 8
	}
	return size
}
