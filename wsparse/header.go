package wsparse

import "encoding/binary"

// Frame headers: parse first, judge second.
//
// parseHeader reads what a header says (RFC 6455 section 5.2) and judges nothing;
// headerViolations applies the rules to a parsed header and the direction's state and
// reports every rule it breaks as a bit. The incremental decoder (frames.go) turns bits into
// findings, the resync (resync.go) rejects a candidate boundary on any bit, and the evidence
// check (evidence.go) withdraws a mid-stream chain on the bits no real peer sets.

// maxHeaderLen is the largest frame header: 2 bytes, a 64-bit length and a masking key.
const maxHeaderLen = 14

// header is a frame header as it is on the wire.
type header struct {
	fin    bool
	rsv    byte // RSV1, RSV2, RSV3 as bits 2, 1, 0
	op     Opcode
	masked bool
	key    [4]byte // the masking key, when masked
	// length is the payload length. It is negative when a 64-bit length has its most
	// significant bit set (vLengthTopBit): the payload length is then unknown.
	length int64
	// lenBytes is the size of the extended length: 0 (7-bit form), 2 or 8.
	lenBytes uint8
}

// headerLen returns the header size announced by the first two header bytes.
func headerLen(b0, b1 byte) int {
	n := 2
	switch b1 & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

// parseHeader decodes the frame header at the start of b into h and returns its size n.
// When b holds less than the whole header, ok is false, h is left as it was, and n is how
// many bytes are needed to go on: 2 while the first two are missing, else the header's
// size. (h is the caller's so that the decoder parses into its own state, without a copy.)
func parseHeader(b []byte, h *header) (n int, ok bool) {
	if len(b) < 2 {
		return 2, false
	}
	b0, b1 := b[0], b[1]
	n = headerLen(b0, b1)
	if len(b) < n {
		return n, false
	}
	h.fin = b0&0x80 != 0
	h.rsv = (b0 >> 4) & 7
	h.op = Opcode(b0 & 0x0F)
	h.masked = b1&0x80 != 0
	rest := b[2:n]
	switch l7 := b1 & 0x7F; l7 {
	case 126:
		h.length, h.lenBytes = int64(binary.BigEndian.Uint16(rest)), 2
		rest = rest[2:]
	case 127:
		h.length, h.lenBytes = int64(binary.BigEndian.Uint64(rest)), 8
		rest = rest[8:]
	default:
		h.length, h.lenBytes = int64(l7), 0
	}
	if h.masked {
		copy(h.key[:], rest)
	}
	return n, true
}

// known reports whether op is defined by RFC 6455 (the others are reserved).
func (op Opcode) known() bool { return op <= OpBinary || (op >= OpClose && op <= OpPong) }

// violations is a set of rules a frame header breaks, with its direction's state.
type violations uint16

// The rules, RFC 6455 section 5 unless noted. A reserved opcode gives meaning to nothing
// after it: only vMask and the length bits are judged with it.
const (
	vMask                   violations = 1 << iota // masked though the sender must not mask, or the reverse (5.1, 5.3)
	vReservedOpcode                                // opcode 0x3-0x7 or 0xB-0xF (5.2)
	vRSV23                                         // RSV2 or RSV3: no extension defines them (5.2)
	vRSV1NoExtension                               // RSV1 on a first data frame without a negotiated extension (5.2)
	vRSV1NotFirst                                  // RSV1 on a continuation or control frame (RFC 7692 6)
	vNonMinimalLength                              // a length in a longer form than needed (5.2)
	vLengthTopBit                                  // a 64-bit length with the most significant bit set (5.2)
	vControlFragmented                             // a control frame with FIN clear (5.5)
	vControlTooLong                                // a control payload over 125 bytes (5.5)
	vCloseOneByte                                  // a close payload of 1 byte (5.5.1)
	vUnexpectedContinuation                        // a continuation frame with no message in progress (5.4)
	vMessageInterrupted                            // a new data message while one is in progress (5.4)
	vDataAfterClose                                // a data frame after the sender's close frame (5.5.1)
	vDuplicateClose                                // a second close frame (5.5.1)
	// vEmptyFragment is no violation: an empty non-final data frame is legal but no real
	// peer sends one, so a chain holding one was found by chance (resync.go).
	vEmptyFragment
)

// fragState is what a direction knows about message fragmentation.
type fragState uint8

const (
	fragNone    fragState = iota // between messages
	fragOpen                     // a fragmented data message is in progress
	fragUnknown                  // not known: bytes were lost, or decoding started mid-stream
)

// afterData returns the fragmentation state after data frame h. A final frame ends the
// message; a non-final continuation whose message started before lost bytes leaves the
// state unknown.
func (f fragState) afterData(h *header) fragState {
	switch {
	case h.fin:
		return fragNone
	case f == fragUnknown && h.op == OpContinuation:
		return fragUnknown
	}
	return fragOpen
}

// headerRules is the state of a direction that the rules depend on.
type headerRules struct {
	wantMask  bool      // the sender must mask (it is the client)
	maskKnown bool      // wantMask is known; if not, the mask bit is not judged
	rsv1OK    bool      // RSV1 may be set on a first data frame (compression may be in use)
	frag      fragState // before this frame
	closeSent bool      // the sender already sent a close frame
}

// headerViolations applies the header rules to h. It is pure: the caller updates its
// state and decides what each rule means for it.
func headerViolations(h *header, r headerRules) violations {
	var v violations
	if r.maskKnown && h.masked != r.wantMask {
		v |= vMask
	}
	switch h.lenBytes {
	case 2:
		if h.length < 126 {
			v |= vNonMinimalLength
		}
	case 8:
		if h.length < 0 {
			v |= vLengthTopBit
		} else if h.length <= 0xFFFF {
			v |= vNonMinimalLength
		}
	}
	if !h.op.known() {
		return v | vReservedOpcode
	}
	if h.rsv&3 != 0 {
		v |= vRSV23
	}
	first := h.op == OpText || h.op == OpBinary
	if h.rsv&4 != 0 {
		switch {
		case !first:
			v |= vRSV1NotFirst
		case !r.rsv1OK:
			v |= vRSV1NoExtension
		}
	}
	if h.op.IsControl() {
		if !h.fin {
			v |= vControlFragmented
		}
		if h.length > 125 {
			v |= vControlTooLong
		}
		if h.op == OpClose {
			if h.length == 1 {
				v |= vCloseOneByte
			}
			if r.closeSent {
				v |= vDuplicateClose
			}
		}
		return v
	}
	if r.closeSent {
		v |= vDataAfterClose
	}
	if !h.fin && h.length == 0 {
		v |= vEmptyFragment
	}
	switch {
	case h.op == OpContinuation && r.frag == fragNone:
		v |= vUnexpectedContinuation
	case h.op != OpContinuation && r.frag == fragOpen:
		v |= vMessageInterrupted
	}
	return v
}
