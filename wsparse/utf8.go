package wsparse

// utf8State validates UTF-8 incrementally: bytes can be pushed in any split and the verdict
// is the same as utf8.Valid on their concatenation. The zero value is at a character
// boundary. It follows the Unicode well-formed byte sequence table (no overlong forms, no
// surrogates, nothing above U+10FFFF).
type utf8State struct {
	need   uint8 // continuation bytes still expected
	lo, hi byte  // allowed range of the next continuation byte
}

// push validates p; it returns false at the first byte that cannot be part of valid UTF-8.
func (u *utf8State) push(p []byte) bool {
	i := 0
	for i < len(p) {
		if u.need == 0 {
			// ASCII fast path, 8 bytes at a time.
			for i+8 <= len(p) {
				w := uint64(p[i]) | uint64(p[i+1])<<8 | uint64(p[i+2])<<16 | uint64(p[i+3])<<24 |
					uint64(p[i+4])<<32 | uint64(p[i+5])<<40 | uint64(p[i+6])<<48 | uint64(p[i+7])<<56
				if w&0x8080808080808080 != 0 {
					break
				}
				i += 8
			}
			if i >= len(p) {
				return true
			}
			b := p[i]
			i++
			if b < 0x80 {
				continue
			}
			if !u.lead(b) {
				return false
			}
			continue
		}
		b := p[i]
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
