package capture

import "fmt"

// SkipKind classifies a packet (or capture record) that was skipped because it is malformed
// or cannot be decoded.
type SkipKind uint8

// Kinds of skipped packets.
const (
	// SkipBadRecord: a pcap record or pcapng packet block with impossible lengths (captured
	// length over 256 KiB or past the block, block shorter than its fixed fields, or trailing
	// block length different from the leading one).
	SkipBadRecord SkipKind = iota
	// SkipUnknownInterface: a pcapng packet refers to an interface not described in its
	// section.
	SkipUnknownInterface
	// SkipUnknownLinkType: the link-layer type is not one this package decodes.
	SkipUnknownLinkType
	// SkipBadLinkHeader: the link-layer header is truncated or invalid.
	SkipBadLinkHeader
	// SkipBadIPv4: bad IPv4 version, header length or total length.
	SkipBadIPv4
	// SkipBadIPv6: bad IPv6 version, payload length or extension header chain.
	SkipBadIPv6
	// SkipBadTCP: TCP header shorter than 20 bytes or data offset past the segment.
	SkipBadTCP
	// SkipHeaderCut: the snapshot length cut the packet inside its IP or TCP header.
	SkipHeaderCut
	// SkipBadTunnel: a malformed VXLAN, VXLAN-GPE, Geneve, GRE, EtherIP, GTP-U, L2TP, PPP,
	// MPLS or NSH header, or tunnels nested too deep.
	SkipBadTunnel
	// SkipBadFragment: an IP fragment cut by the snapshot length, past 64 KiB, or one
	// fragment too many for a datagram.
	SkipBadFragment
	// SkipFragmentTimeout: a partly received fragmented datagram was dropped because its
	// fragments did not all arrive within the timeout, the buffers were full, or the capture
	// ended. Counted once per datagram.
	SkipFragmentTimeout
	// SkipUnsupportedEncap: a well-formed encapsulation this package does not look into,
	// so any TCP inside is lost: IPsec ESP, MACsec, L2TPv3, a GRE protocol, a GTP-U or
	// MPLS payload that is not IP, and the like.
	SkipUnsupportedEncap

	numSkipKinds
)

var skipNames = [numSkipKinds]string{
	SkipBadRecord:        "bad packet record",
	SkipUnknownInterface: "unknown pcapng interface",
	SkipUnknownLinkType:  "unsupported link type",
	SkipBadLinkHeader:    "bad link-layer header",
	SkipBadIPv4:          "bad IPv4 header",
	SkipBadIPv6:          "bad IPv6 header",
	SkipBadTCP:           "bad TCP header",
	SkipHeaderCut:        "headers cut by snapshot length",
	SkipBadTunnel:        "bad tunnel header",
	SkipBadFragment:      "bad IP fragment",
	SkipFragmentTimeout:  "incomplete fragmented datagram",
	SkipUnsupportedEncap: "encapsulation not decoded",
}

// String returns a short description such as "bad IPv4 header".
func (k SkipKind) String() string {
	if k < numSkipKinds {
		return skipNames[k]
	}
	return "unknown skip kind"
}

// SkipCount counts the skipped packets of one kind.
type SkipCount struct {
	Kind  SkipKind
	Count int64
	// First describes the first occurrence, such as "packet 17: bad IPv4 header length 3".
	First string
}

// Stats counts what the reader has seen so far.
type Stats struct {
	// Packets is the number of packet records read (including skipped ones).
	Packets int64
	// TCPSegments is the number of segments returned by Next.
	TCPSegments int64
	// NonTCP counts well-formed packets that carry no TCP segment (ARP, UDP, ICMP, ...).
	NonTCP int64
	// SnaplenCut counts returned segments whose payload was cut by the snapshot length
	// (Segment.Missing > 0).
	SnaplenCut int64
	// Fragments counts IP fragments received; Reassembled the datagrams rebuilt from them.
	Fragments, Reassembled int64
	// SecretsBlocks counts the pcapng Decryption Secrets Blocks read, of any secrets type;
	// UnknownSecrets those of a type other than SecretsTLSKeyLog, and BadSecrets those whose
	// secrets run past the block (or whose trailing block length is wrong, or which are
	// larger than 256 MiB), whose secrets are not passed to Options.Secrets.
	SecretsBlocks, UnknownSecrets, BadSecrets int64
	// Clamped counts the packets whose pcapng timestamp falls outside the years 1678-2262,
	// which no capture was made in (a broken clock, or a damaged if_tsresol or
	// if_tsoffset) and which a time in nanoseconds cannot hold, as every layer above keeps
	// times: the packet is kept, at the nearest bound. FirstClamped describes the first.
	Clamped      int64
	FirstClamped string
	// Skipped lists, in SkipKind order, the kinds of skipped packets seen at least once.
	Skipped []SkipCount
}

// skipStats accumulates skip counts without allocating after a kind's first occurrence.
type skipStats struct {
	count [numSkipKinds]int64
	first [numSkipKinds]string
}

func (s *skipStats) list() []SkipCount {
	var out []SkipCount
	for k := range numSkipKinds {
		if s.count[k] > 0 {
			out = append(out, SkipCount{Kind: k, Count: s.count[k], First: s.first[k]})
		}
	}
	return out
}

// skip counts a skipped packet of kind k; the detail is formatted only the first time.
func (r *Reader) skip(k SkipKind, format string, args ...any) {
	if r.skips.count[k] == 0 {
		r.skips.first[k] = fmt.Sprintf("packet %d: ", r.stats.Packets) + fmt.Sprintf(format, args...)
	}
	r.skips.count[k]++
}
