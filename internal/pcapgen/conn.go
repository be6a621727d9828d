package pcapgen

import (
	"net/netip"
	"time"

	"github.com/wsclosescan/wsclosescan/reassembly"
)

// Packet is one captured frame.
type Packet struct {
	// Time is the capture timestamp.
	Time time.Time
	// Data are the link-layer bytes (Link.Frame output, for example).
	Data []byte
	// OrigLen is the length on the wire; 0 means len(Data). The Writer cuts Data to the
	// interface's snapshot length and keeps OrigLen.
	OrigLen int
	// Iface is the pcapng interface index within the current section (ignored for pcap).
	Iface int
	// Seg is the segment a capture reader should decode from this packet, or nil. For a
	// segment split by Conn.Encap into several packets (fragments), it is set on the last one.
	// Its Payload is the whole TCP payload: a test that cuts packets by snaplen adjusts it.
	Seg *reassembly.Segment
}

// Conn builds the packets of one TCP connection, keeping each direction's next sequence
// number and a clock. Set the exported fields before the first call; the zero values of
// Link, IP and Encap give Ethernet frames around plain IP packets.
type Conn struct {
	Client, Server netip.AddrPort
	// Link frames every packet.
	Link Link
	// IP is the template for IP headers (TTL, IPv4 options, IPv6 extension headers);
	// addresses and protocol are filled in per packet. The IPv4 ID increments per packet.
	IP IP
	// Encap, if set, turns each IP packet into one or more IP packets before framing, e.g.
	// fragmentation or a Tunnel. See Fragmenter4, Fragmenter6 and Tunnel.Wrap.
	Encap func(ip []byte) [][]byte
	// Time is the timestamp of the next packet; each packet advances it by Step.
	Time time.Time
	Step time.Duration
	// Window is the advertised window of every segment.
	Window uint16
	// Iface is copied into every Packet.
	Iface int

	next [2]uint32 // next sequence number per direction
	ack  [2]bool   // whether the direction has seen the peer's SYN (ACK flag set)
}

// NewConn returns a Conn with client ISN 1000, server ISN 5000, Ethernet framing, a clock
// starting at 2024-01-02 03:04:05 UTC advancing 1ms per packet, and window 65535.
func NewConn(client, server netip.AddrPort) *Conn {
	return &Conn{
		Client: client, Server: server,
		Link:   Link{Type: LinkEthernet},
		Time:   time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		Step:   time.Millisecond,
		Window: 65535,
		next:   [2]uint32{1000, 5000},
	}
}

// Fragmenter4 returns an Encap that fragments IPv4 packets into pieces of size bytes.
func Fragmenter4(size int) func([]byte) [][]byte {
	return func(ip []byte) [][]byte {
		fs, err := FragmentIPv4(ip, size)
		if err != nil {
			return [][]byte{ip}
		}
		return fs
	}
}

// Fragmenter6 returns an Encap that fragments IPv6 packets into pieces of size bytes,
// with identifications counting up from 1.
func Fragmenter6(size int) func([]byte) [][]byte {
	var id uint32
	return func(ip []byte) [][]byte {
		id++
		fs, err := FragmentIPv6(ip, size, id)
		if err != nil {
			return [][]byte{ip}
		}
		return fs
	}
}

// NextSeq returns the next sequence number dir will use.
func (c *Conn) NextSeq(dir reassembly.Dir) uint32 { return c.next[dir&1] }

// SetNextSeq sets the next sequence number of dir (to model a capture that starts
// mid-stream, or a jump).
func (c *Conn) SetNextSeq(dir reassembly.Dir, seq uint32) { c.next[dir&1] = seq }

func (c *Conn) ends(dir reassembly.Dir) (src, dst netip.AddrPort) {
	if dir == reassembly.ClientToServer {
		return c.Client, c.Server
	}
	return c.Server, c.Client
}

// Segment builds the packet(s) of one segment sent in dir with exactly the given flags,
// sequence number and acknowledgment number; it does not change the Conn's sequence numbers.
func (c *Conn) Segment(dir reassembly.Dir, flags reassembly.TCPFlags, seq, ack uint32, payload []byte) []Packet {
	src, dst := c.ends(dir)
	t := TCP{Src: src, Dst: dst, Seq: seq, Ack: ack, Flags: flags, Window: c.Window, Payload: payload}
	ipPkts := [][]byte{t.Packet(c.IP)}
	c.IP.ID++
	if c.Encap != nil {
		ipPkts = c.Encap(ipPkts[0])
	}
	out := make([]Packet, len(ipPkts))
	for i, ip := range ipPkts {
		out[i] = Packet{Time: c.Time, Data: c.Link.Frame(ip), Iface: c.Iface}
		c.Time = c.Time.Add(c.Step)
	}
	if len(out) > 0 {
		seg := t.Segment(out[len(out)-1].Time)
		out[len(out)-1].Seg = &seg
	}
	return out
}

// emit sends a segment from dir at its next sequence number and advances it by n.
func (c *Conn) emit(dir reassembly.Dir, flags reassembly.TCPFlags, payload []byte, n uint32) []Packet {
	var ack uint32
	if c.ack[dir&1] {
		flags |= reassembly.FlagACK
		ack = c.next[(dir^1)&1]
	}
	p := c.Segment(dir, flags, c.next[dir&1], ack, payload)
	c.next[dir&1] += n
	return p
}

// Handshake returns SYN, SYN-ACK and ACK.
func (c *Conn) Handshake() []Packet {
	p := c.emit(reassembly.ClientToServer, reassembly.FlagSYN, nil, 1)
	c.ack[reassembly.ServerToClient] = true
	p = append(p, c.emit(reassembly.ServerToClient, reassembly.FlagSYN, nil, 1)...)
	c.ack[reassembly.ClientToServer] = true
	return append(p, c.Ack(reassembly.ClientToServer)...)
}

// Ack returns a pure ACK from dir.
func (c *Conn) Ack(dir reassembly.Dir) []Packet {
	c.ack[dir&1] = true
	return c.emit(dir, 0, nil, 0)
}

// Send returns payload sent from dir as segments of the given sizes; bytes left after the
// listed sizes go in one last segment (so Send(dir, p) is a single segment). Zero or
// negative sizes are skipped. The last segment has PSH set. All segments carry ACK once
// the handshake (or Ack) has been seen for dir.
func (c *Conn) Send(dir reassembly.Dir, payload []byte, segSizes ...int) []Packet {
	var out []Packet
	for _, n := range segSizes {
		if len(payload) == 0 {
			break
		}
		if n <= 0 {
			continue
		}
		n = min(n, len(payload))
		var f reassembly.TCPFlags
		if n == len(payload) {
			f = reassembly.FlagPSH
		}
		out = append(out, c.emit(dir, f, payload[:n], uint32(n))...)
		payload = payload[n:]
	}
	if len(payload) > 0 {
		out = append(out, c.emit(dir, reassembly.FlagPSH, payload, uint32(len(payload)))...)
	}
	return out
}

// Close returns a FIN (with ACK after the handshake) from dir; it uses one sequence number.
func (c *Conn) Close(dir reassembly.Dir) []Packet {
	return c.emit(dir, reassembly.FlagFIN, nil, 1)
}

// RST returns a bare RST (no ACK) from dir at its next sequence number.
func (c *Conn) RST(dir reassembly.Dir) []Packet {
	return c.Segment(dir, reassembly.FlagRST, c.next[dir&1], 0, nil)
}

// RSTACK returns a RST+ACK from dir at its next sequence number, acknowledging the peer's
// next sequence number.
func (c *Conn) RSTACK(dir reassembly.Dir) []Packet {
	return c.Segment(dir, reassembly.FlagRST|reassembly.FlagACK, c.next[dir&1], c.next[(dir^1)&1], nil)
}

// RSTAt returns a RST from dir with the given sequence number (for out-of-window tests),
// with ACK set when withACK is true.
func (c *Conn) RSTAt(dir reassembly.Dir, seq uint32, withACK bool) []Packet {
	f, ack := reassembly.FlagRST, uint32(0)
	if withACK {
		f |= reassembly.FlagACK
		ack = c.next[(dir^1)&1]
	}
	return c.Segment(dir, f, seq, ack, nil)
}

// KeepAlive returns a TCP keep-alive from dir: an ACK with sequence number one below the
// next one and no payload (set withByte to carry the one garbage byte some stacks send).
func (c *Conn) KeepAlive(dir reassembly.Dir, withByte bool) []Packet {
	var p []byte
	if withByte {
		p = []byte{0}
	}
	return c.Segment(dir, reassembly.FlagACK, c.next[dir&1]-1, c.next[(dir^1)&1], p)
}
