package gencap

import (
	"encoding/binary"
	"math/rand/v2"
	"strconv"
)

// Message size distribution: mostly small, a long tail up to maxMessage.
const (
	maxMessage = 1 << 20
	poolSize   = 4 << 20 // each payload pool; a message is a slice of one
)

// messageSize draws a data message's payload size: 92.7% are 20-500 bytes (skewed small),
// 6.95% 500 bytes-16 KiB and 0.35% 16 KiB-1 MiB, both about log-uniform. Integer
// arithmetic only, so that every platform draws the same sizes (floating-point results
// may differ where the compiler fuses multiply-adds).
func messageSize(r *rand.Rand) int {
	x := r.IntN(10000)
	switch {
	case x < 9270:
		u := r.Uint64N(1 << 16)
		return 20 + int(480*u*u>>32)
	case x < 9965:
		return logUniform(r, 500, 16<<10)
	}
	return logUniform(r, 16<<10, maxMessage)
}

// logUniform draws from [lo, hi] with a piecewise log-uniform distribution: an octave
// [lo<<k, lo<<(k+1)) chosen uniformly, then a uniform value within it.
func logUniform(r *rand.Rand, lo, hi int) int {
	octaves := 0
	for lo<<(octaves+1) <= hi {
		octaves++
	}
	if octaves == 0 {
		return lo + r.IntN(hi-lo+1)
	}
	base := lo << r.IntN(octaves)
	return min(base+r.IntN(base), hi)
}

// pools are the bytes payloads are cut from: JSON-like ASCII text for text messages and
// random bytes for binary ones.
type pools struct {
	text, binary []byte
}

func newPools(r *rand.Rand) *pools {
	p := &pools{binary: make([]byte, poolSize), text: make([]byte, 0, poolSize+512)}
	for i := 0; i+8 <= len(p.binary); i += 8 {
		binary.LittleEndian.PutUint64(p.binary[i:], r.Uint64())
	}
	kinds := []string{"tick", "quote", "chat", "presence", "update", "heartbeat", "ack", "delta"}
	syms := []string{"BTC-USD", "ETH-USD", "EUR-USD", "AAPL", "MSFT", "room-42", "lobby", "user-7"}
	b := p.text
	for len(b) < poolSize {
		b = append(b, `{"type":"`...)
		b = append(b, kinds[r.IntN(len(kinds))]...)
		b = append(b, `","seq":`...)
		b = strconv.AppendInt(b, int64(r.IntN(1e7)), 10)
		b = append(b, `,"channel":"`...)
		b = append(b, syms[r.IntN(len(syms))]...)
		b = append(b, `","price":`...)
		b = strconv.AppendFloat(b, float64(r.IntN(1e7))/100, 'f', 2, 64)
		b = append(b, `,"qty":`...)
		b = strconv.AppendInt(b, int64(r.IntN(5000)), 10)
		b = append(b, `,"ts":`...)
		b = strconv.AppendInt(b, 1772442000000+int64(r.IntN(1e9)), 10)
		b = append(b, "}\n"...)
	}
	p.text = b[:poolSize]
	return p
}

// slice returns n bytes of the text or binary pool at a random offset.
func (p *pools) slice(r *rand.Rand, text bool, n int) []byte {
	src := p.binary
	if text {
		src = p.text
	}
	n = min(n, len(src))
	off := r.IntN(len(src) - n + 1)
	return src[off : off+n]
}

// appendFrame appends a frame with the given first byte (FIN, opcode) and payload, masked
// with key when masked.
func appendFrame(b []byte, b0 byte, payload []byte, masked bool, key uint32) []byte {
	var mb byte
	if masked {
		mb = 0x80
	}
	n := len(payload)
	switch {
	case n <= 125:
		b = append(b, b0, mb|byte(n))
	case n <= 0xffff:
		b = append(b, b0, mb|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, b0, mb|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if !masked {
		return append(b, payload...)
	}
	b = binary.BigEndian.AppendUint32(b, key)
	start := len(b)
	b = append(b, payload...)
	mask(b[start:], key)
	return b
}

// mask XORs p with the 4-byte masking key (RFC 6455 5.3), eight bytes at a time.
func mask(p []byte, key uint32) {
	k8 := uint64(key)<<32 | uint64(key)
	for len(p) >= 8 {
		binary.BigEndian.PutUint64(p, binary.BigEndian.Uint64(p)^k8)
		p = p[8:]
	}
	var k [4]byte
	binary.BigEndian.PutUint32(k[:], key)
	for i := range p {
		p[i] ^= k[i&3]
	}
}

// frameOverhead is the largest frame header: 2 bytes, 8 of length, 4 of key.
const frameOverhead = 14
