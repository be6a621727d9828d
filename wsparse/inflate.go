package wsparse

import "errors"

// An inflater decodes a DEFLATE stream (RFC 1951) pushed to it in chunks of any size, as
// permessage-deflate (RFC 7692) needs: the compressed bytes of a message arrive spread
// over frames and segments, and the message is never held. Its memory is fixed: the
// 32 KiB sliding window, the Huffman tables and a 64-bit bit buffer (about 34 KiB in
// all). Each decoding step (a block header, a code length, a literal, a length with its
// distance) runs only once all of its bits are in the buffer, so a step never stops
// half-way and a chunk boundary can fall anywhere.
//
// The window survives from message to message (context takeover) until reset; only the
// first inflatePreview bytes of each message's output are kept.
type inflater struct {
	win   [windowSize]byte
	wpos  int   // next write position in win
	total int64 // bytes output since the last reset (back-references must not reach further)

	bits uint64 // unread input bits, the next one lowest
	nb   uint   // how many bits are in bits

	state   inflateState
	final   bool // the current block is the stream's last
	stored  int  // bytes left in a stored block
	lit     *huffman
	dist    *huffman
	dynLit  huffman
	dynDist huffman
	clen    huffman
	lens    [maxLitCodes + maxDistCodes]uint8
	hlit    int
	hdist   int
	hclen   int
	ci      int // code lengths read so far in a dynamic block header

	out  [inflatePreview]byte // the first bytes of the current message's output
	outN int
	outT int64 // bytes the current message inflated to
	err  error
}

const (
	windowSize     = 1 << 15
	inflatePreview = 64
	maxLitCodes    = 286
	maxDistCodes   = 30
	maxCodeBits    = 15
)

type inflateState uint8

const (
	stHeader inflateState = iota
	stStoredLen
	stStored
	stDynHeader
	stCodeLens
	stLens
	stCodes
	stDone // the final block ended: the rest of the message is ignored
)

// errBeforeCapture is a back-reference to bytes output before the inflater started: the
// window holds data it never saw (the capture began after the connection did, or bytes
// were lost).
var errBeforeCapture = errors.New("refers to data from before the capture")

// reset forgets the window: a new DEFLATE stream.
func (f *inflater) reset() {
	f.wpos, f.total, f.err = 0, 0, nil
	f.startMessage()
}

// startMessage prepares for the next message of the stream: the window is kept (context
// takeover), the block state and the bit buffer start afresh.
func (f *inflater) startMessage() {
	f.bits, f.nb, f.state, f.final, f.outN, f.outT = 0, 0, stHeader, false, 0, 0
}

// endMessage pushes the empty stored block that the sender removed from the end of the
// message (RFC 7692 section 7.2.2).
func (f *inflater) endMessage() { f.write([]byte{0, 0, 0xff, 0xff}) }

// write inflates p. After an error, it does nothing until reset.
func (f *inflater) write(p []byte) {
	for f.err == nil && f.state != stDone {
		for f.nb <= 56 && len(p) > 0 {
			f.bits |= uint64(p[0]) << f.nb
			f.nb += 8
			p = p[1:]
		}
		if !f.step() && len(p) == 0 {
			return
		}
	}
}

func (f *inflater) fail(what string) bool {
	f.err = errors.New(what)
	return false
}

func (f *inflater) drop(n uint) {
	f.bits >>= n
	f.nb -= n
}

// step runs one decoding step, if its bits are all buffered; it reports whether it did.
func (f *inflater) step() bool {
	switch f.state {
	case stHeader:
		if f.nb < 3 {
			return false
		}
		f.final = f.bits&1 == 1
		typ := (f.bits >> 1) & 3
		f.drop(3)
		switch typ {
		case 0:
			f.drop(f.nb % 8)
			f.state = stStoredLen
		case 1:
			f.lit, f.dist, f.state = &fixedLit, &fixedDist, stCodes
		case 2:
			f.state = stDynHeader
		default:
			return f.fail("invalid block type 3")
		}
	case stStoredLen:
		if f.nb < 32 {
			return false
		}
		n, nn := uint16(f.bits), uint16(f.bits>>16)
		f.drop(32)
		if n != ^nn {
			return f.fail("stored block length does not match its complement")
		}
		f.stored = int(n)
		f.state = stStored
		if n == 0 {
			f.endBlock()
		}
	case stStored:
		if f.nb < 8 {
			return false
		}
		for f.nb >= 8 && f.stored > 0 {
			f.put(byte(f.bits))
			f.drop(8)
			f.stored--
		}
		if f.stored == 0 {
			f.endBlock()
		}
	case stDynHeader:
		if f.nb < 14 {
			return false
		}
		f.hlit = int(f.bits&31) + 257
		f.hdist = int(f.bits>>5&31) + 1
		f.hclen = int(f.bits>>10&15) + 4
		f.drop(14)
		if f.hlit > maxLitCodes || f.hdist > maxDistCodes {
			return f.fail("dynamic block has too many codes")
		}
		f.ci = 0
		f.state = stCodeLens
	case stCodeLens:
		if f.nb < 3 {
			return false
		}
		for f.nb >= 3 && f.ci < f.hclen {
			f.lens[clenOrder[f.ci]] = uint8(f.bits & 7)
			f.drop(3)
			f.ci++
		}
		if f.ci < f.hclen {
			return true
		}
		for _, i := range clenOrder[f.hclen:] {
			f.lens[i] = 0
		}
		if !f.clen.build(f.lens[:19]) {
			return f.fail("invalid code length code")
		}
		f.ci = 0
		f.state = stLens
	case stLens:
		return f.codeLength()
	case stCodes:
		return f.code()
	}
	return true
}

// codeLength reads one code length of a dynamic block header (with its repeat count).
func (f *inflater) codeLength() bool {
	sym, n := f.clen.decode(f.bits, f.nb)
	if n == 0 {
		return false
	}
	if n < 0 {
		return f.fail("invalid code length")
	}
	total := f.hlit + f.hdist
	if sym < 16 {
		f.drop(uint(n))
		f.lens[f.ci] = uint8(sym)
		f.ci++
	} else {
		extra, base, val := uint(2), 3, uint8(0)
		switch sym {
		case 16:
			if f.ci == 0 {
				return f.fail("repeated code length with no previous length")
			}
			val = f.lens[f.ci-1]
		case 17:
			extra = 3
		case 18:
			extra, base = 7, 11
		}
		if f.nb < uint(n)+extra {
			return false
		}
		rep := base + int(f.bits>>uint(n)&(1<<extra-1))
		f.drop(uint(n) + extra)
		if f.ci+rep > total {
			return f.fail("code lengths overflow the header")
		}
		for range rep {
			f.lens[f.ci] = val
			f.ci++
		}
	}
	if f.ci < total {
		return true
	}
	if f.lens[256] == 0 {
		return f.fail("dynamic block has no end-of-block code")
	}
	if !f.dynLit.build(f.lens[:f.hlit]) || !f.dynDist.build(f.lens[f.hlit:total]) {
		return f.fail("invalid literal/length or distance code")
	}
	f.lit, f.dist, f.state = &f.dynLit, &f.dynDist, stCodes
	return true
}

// code decodes a literal, the end of the block, or a length and its distance.
func (f *inflater) code() bool {
	sym, n := f.lit.decode(f.bits, f.nb)
	if n == 0 {
		return false
	}
	if n < 0 {
		return f.fail("invalid literal/length code")
	}
	if sym < 256 {
		f.drop(uint(n))
		f.put(byte(sym))
		return true
	}
	if sym == 256 {
		f.drop(uint(n))
		f.endBlock()
		return true
	}
	sym -= 257
	if sym >= 29 {
		return f.fail("invalid length symbol")
	}
	used := uint(n)
	e := uint(lenExtra[sym])
	if f.nb < used+e {
		return false
	}
	length := int(lenBase[sym]) + int(f.bits>>used&(1<<e-1))
	used += e
	dsym, dn := f.dist.decode(f.bits>>used, f.nb-used)
	if dn == 0 {
		return false
	}
	if dn < 0 || dsym >= 30 {
		return f.fail("invalid distance code")
	}
	used += uint(dn)
	e = uint(distExtra[dsym])
	if f.nb < used+e {
		return false
	}
	dist := int(distBase[dsym]) + int(f.bits>>used&(1<<e-1))
	used += e
	if int64(dist) > f.total {
		f.err = errBeforeCapture
		return false
	}
	f.drop(used)
	for range length {
		f.put(f.win[(f.wpos-dist)&(windowSize-1)])
	}
	return true
}

func (f *inflater) endBlock() {
	f.state = stHeader
	if f.final {
		f.state = stDone
	}
}

// put outputs one byte: into the window, and into the preview while it has room.
func (f *inflater) put(b byte) {
	f.win[f.wpos] = b
	f.wpos = (f.wpos + 1) & (windowSize - 1)
	f.total++
	if f.outN < len(f.out) {
		f.out[f.outN] = b
		f.outN++
	}
	f.outT++
}

// huffman is a canonical Huffman code as RFC 1951 section 3.2.2 builds it from code
// lengths: how many codes have each length, and the symbols in code order.
type huffman struct {
	count  [maxCodeBits + 1]uint16
	symbol [288]uint16
}

// build makes the code for lengths. It refuses an over-subscribed set of lengths; an
// incomplete one is accepted (a single distance code is legal), and a code it lacks is
// an error when decoded.
func (h *huffman) build(lengths []uint8) bool {
	h.count = [maxCodeBits + 1]uint16{}
	for _, l := range lengths {
		h.count[l]++
	}
	left := 1
	for l := 1; l <= maxCodeBits; l++ {
		left = left<<1 - int(h.count[l])
		if left < 0 {
			return false
		}
	}
	var offs [maxCodeBits + 1]uint16
	for l := 1; l < maxCodeBits; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	for sym, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = uint16(sym)
			offs[l]++
		}
	}
	return true
}

// decode reads one symbol from the nb bits in bits without consuming them; it returns the
// symbol and its length in bits, 0 when more bits are needed, -1 for a code not in h.
func (h *huffman) decode(bits uint64, nb uint) (sym, n int) {
	code, first, index := 0, 0, 0
	for l := 1; l <= maxCodeBits; l++ {
		if uint(l) > nb {
			return 0, 0
		}
		code |= int(bits & 1)
		bits >>= 1
		count := int(h.count[l])
		if code-first < count {
			return int(h.symbol[index+code-first]), l
		}
		index += count
		first = (first + count) << 1
		code <<= 1
	}
	return 0, -1
}

var clenOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

var (
	lenBase   = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra  = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase  = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// The fixed codes of RFC 1951 section 3.2.6.
var fixedLit, fixedDist = fixedCodes()

func fixedCodes() (lit, dist huffman) {
	var l [288]uint8
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	lit.build(l[:])
	var d [30]uint8
	for i := range d {
		d[i] = 5
	}
	dist.build(d[:])
	return lit, dist
}

// errString describes an inflate error for a record.
func inflateErrString(err error) string {
	if err == errBeforeCapture {
		return "could not inflate: it " + err.Error() + " (the compression window is not known)"
	}
	return "could not inflate: " + err.Error()
}
