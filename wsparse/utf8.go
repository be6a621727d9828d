package wsparse

import (
	"encoding/binary"
	"math/bits"
)

// hiBits has the top bit of every byte of a word: set bits mean non-ASCII bytes.
const hiBits = 0x8080808080808080

// utf8State validates UTF-8 incrementally: bytes can be pushed in any split and the verdict
// is the same as utf8.Valid on their concatenation. The zero value is at a character
// boundary. It follows the Unicode well-formed byte sequence table (no overlong forms, no
// surrogates, nothing above U+10FFFF).
type utf8State struct {
	need   uint8 // continuation bytes still expected
	lo, hi byte  // allowed range of the next continuation byte
}

// push validates p; it returns false at the first byte that cannot be part of valid UTF-8.
func (u *utf8State) push(p []byte) bool { return u.pushMasked(p, [4]byte{}, 0) }

// pushMasked validates p XORed with the masking key, p starting at payload offset pos,
// without writing the unmasked bytes anywhere: the ASCII fast path unmasks and tests 8
// bytes at a time with a rotated 64-bit key, the rest goes byte by byte.
func (u *utf8State) pushMasked(p []byte, key [4]byte, pos int64) bool {
	var rk [4]byte // the key rotated so that rk[i&3] masks p[i]
	for i := range rk {
		rk[i] = key[(int(pos)+i)&3]
	}
	k32 := uint64(binary.LittleEndian.Uint32(rk[:]))
	k64 := k32 | k32<<32
	i := 0
	for i < len(p) {
		if u.need == 0 {
			k := bits.RotateLeft64(k64, -8*(i&3)) // byte j of k masks p[i+j]
			for ; i+32 <= len(p); i += 32 {
				q := p[i : i+32 : i+32]
				if ((binary.LittleEndian.Uint64(q)^k)|(binary.LittleEndian.Uint64(q[8:])^k)|
					(binary.LittleEndian.Uint64(q[16:])^k)|(binary.LittleEndian.Uint64(q[24:])^k))&hiBits != 0 {
					break
				}
			}
			for i+8 <= len(p) {
				if w := (binary.LittleEndian.Uint64(p[i:]) ^ k) & hiBits; w != 0 {
					i += bits.TrailingZeros64(w) >> 3 // skip to the first non-ASCII byte
					break
				}
				i += 8
			}
			if i >= len(p) {
				return true
			}
			b := p[i] ^ rk[i&3]
			i++
			if b < 0x80 {
				continue
			}
			if !u.lead(b) {
				return false
			}
			continue
		}
		b := p[i] ^ rk[i&3]
		if b < u.lo || b > u.hi {
			return false
		}
		i++
		u.need--
		u.lo, u.hi = 0x80, 0xBF
	}
	return true
}

// lead sets the state after the lead byte b of a multi-byte sequence.
func (u *utf8State) lead(b byte) bool {
	u.lo, u.hi = 0x80, 0xBF
	switch {
	case b >= 0xC2 && b <= 0xDF:
		u.need = 1
	case b == 0xE0:
		u.need, u.lo = 2, 0xA0
	case b == 0xED:
		u.need, u.hi = 2, 0x9F
	case b >= 0xE1 && b <= 0xEF:
		u.need = 2
	case b == 0xF0:
		u.need, u.lo = 3, 0x90
	case b == 0xF4:
		u.need, u.hi = 3, 0x8F
	case b >= 0xF1 && b <= 0xF3:
		u.need = 3
	default:
		return false
	}
	return true
}

// complete reports whether the bytes pushed so far end at a character boundary.
func (u *utf8State) complete() bool { return u.need == 0 }

// validUTF8 reports whether p is valid UTF-8 (same verdict as unicode/utf8.Valid).
func validUTF8(p []byte) bool {
	var u utf8State
	return u.push(p) && u.complete()
}
