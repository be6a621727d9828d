package reassembly

// Wrap-safe TCP sequence number arithmetic (RFC 1982 style, as gVisor's seqnum): a is before b
// when the signed 32-bit difference a-b is negative. Valid while the numbers compared are
// within 2^31 of each other, which holds for any real TCP window.

// seqDiff returns a-b as a signed distance.
func seqDiff(a, b uint32) int32 { return int32(a - b) }

// seqLT reports whether a comes before b.
func seqLT(a, b uint32) bool { return int32(a-b) < 0 }

// seqLE reports whether a comes before or is b.
func seqLE(a, b uint32) bool { return int32(a-b) <= 0 }

// seqGT reports whether a comes after b.
func seqGT(a, b uint32) bool { return int32(a-b) > 0 }

// seqGE reports whether a comes after or is b.
func seqGE(a, b uint32) bool { return int32(a-b) >= 0 }

// seqMin returns whichever of a and b comes first.
func seqMin(a, b uint32) uint32 {
	if seqLT(b, a) {
		return b
	}
	return a
}
