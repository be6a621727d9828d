// Package pcapgen builds synthetic packet captures for tests, so that test data is generated
// in code instead of committed as opaque binary files.
//
// It works in three layers, each usable on its own:
//
//   - Packets: TCP.Bytes builds a TCP segment with a correct checksum, IP.Packet wraps a
//     transport payload in an IPv4 (with options) or IPv6 (with extension headers) packet,
//     FragmentIPv4 and FragmentIPv6 split an IP packet into fragments, Tunnel wraps an IP
//     packet in VXLAN or GRE (plain, transparent Ethernet bridging, ERSPAN II/III), and
//     Link.Frame adds the link layer (Ethernet with VLAN/QinQ tags, Linux cooked v1/v2, raw
//     IP, BSD NULL/LOOP).
//   - Conversations: Conn keeps the sequence numbers and the clock of one TCP connection and
//     returns []Packet for a handshake, data sent with a chosen segmentation, FIN, RST, RST+ACK
//     and keep-alives. Each Packet also carries the reassembly.Segment a capture reader is
//     expected to decode from it, so a test can reorder, duplicate, drop or interleave packets
//     and still know what to expect.
//   - Files: Writer writes packets as pcap (microsecond or nanosecond timestamps, either byte
//     order) or pcapng (several interfaces with different link types, several sections),
//     optionally gzip-compressed, cutting packets to the snapshot length.
//
// A typical end-to-end test:
//
//	c := pcapgen.NewConn(netip.MustParseAddrPort("10.0.0.1:50000"), netip.MustParseAddrPort("10.0.0.2:80"))
//	var pkts []pcapgen.Packet
//	pkts = append(pkts, c.Handshake()...)
//	pkts = append(pkts, c.Send(reassembly.ClientToServer, request)...)
//	pkts = append(pkts, c.Send(reassembly.ServerToClient, response, 100, 100)...) // 2 segments of 100 bytes, then the rest
//	pkts = append(pkts, c.Close(reassembly.ClientToServer)...)
//	data, err := pcapgen.Capture(pcapgen.Options{Format: pcapgen.FormatPcapNG}, pkts)
//
// All builders return fresh slices; nothing is shared between packets. Functions never panic
// on bad arguments they can detect: they return an error or clamp, as documented.
package pcapgen
