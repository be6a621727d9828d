package reassembly

import (
	"net/netip"
	"time"
)

// Dir is the direction of a byte stream within a connection, named by its sender.
type Dir uint8

const (
	// ClientToServer is the direction of bytes sent by the client (the SYN sender).
	ClientToServer Dir = 0
	// ServerToClient is the direction of bytes sent by the server.
	ServerToClient Dir = 1
)

// Reverse returns the opposite direction.
func (d Dir) Reverse() Dir { return d ^ 1 }

// String names the sender: "client" or "server".
func (d Dir) String() string {
	if d == ClientToServer {
		return "client"
	}
	return "server"
}

// TCPFlags holds the TCP header flags of a segment.
type TCPFlags uint8

// TCP flag bits as they appear in the header's flag byte.
const (
	FlagFIN TCPFlags = 1 << iota
	FlagSYN
	FlagRST
	FlagPSH
	FlagACK
	FlagURG
	FlagECE
	FlagCWR
)

// Has reports whether all bits of f are set.
func (t TCPFlags) Has(f TCPFlags) bool { return t&f == f }

// Segment is one decoded TCP segment, as the capture layer hands it to the assembler.
type Segment struct {
	// Time is the capture timestamp of the packet.
	Time time.Time
	// Src and Dst are the sender's and receiver's addresses and ports.
	Src, Dst netip.AddrPort
	Seq, Ack uint32
	Flags    TCPFlags
	Window   uint16
	// Payload is the captured TCP payload; it is only valid during Assembler.Add.
	Payload []byte
	// Missing counts payload bytes that were on the wire (per the IP length) but cut off by
	// the capture's snapshot length. They follow Payload in sequence space.
	Missing int
	// WScale is the shift count of the window scale option (RFC 7323) carried by a SYN or
	// SYN-ACK, and HasWScale whether the option was present. Only SYN segments are
	// consulted; the assembler uses them to judge whether an RST is within the window, and
	// assumes the largest scale (14) unless both SYNs carried the option.
	WScale    uint8
	HasWScale bool
	// Frame is the packet's number in its capture file, counting from 1 as Wireshark does
	// (every packet record, TCP or not); 0 when not known.
	Frame uint64
}

// Stamp returns where the segment is in the capture: its time and frame number.
func (s *Segment) Stamp() Stamp { return Stamp{Time: s.Time, Frame: s.Frame} }

// Stamp locates a packet in the capture: its capture time and its frame number (see
// Segment.Frame; 0 when not known). Data and gaps carry the stamp of the segment that
// delivered them, events the frame of the segment that caused them.
type Stamp struct {
	Time  time.Time
	Frame uint64
}

// ClientBy says how the assembler decided which side is the client.
type ClientBy uint8

const (
	// ClientBySYN: the client sent the connection's SYN.
	ClientBySYN ClientBy = iota
	// ClientBySYNACK: only the SYN-ACK was captured; its receiver is the client.
	ClientBySYNACK
	// ClientByPort: no SYN was captured. If exactly one port is below 1024, or else exactly
	// one port is below 32768, the other (ephemeral-looking) side is the client; failing
	// that, the sender of the first captured segment.
	ClientByPort
)

// String returns a short description such as "SYN".
func (c ClientBy) String() string {
	switch c {
	case ClientBySYN:
		return "SYN"
	case ClientBySYNACK:
		return "SYN-ACK"
	default:
		return "port heuristic"
	}
}

// ConnInfo describes a connection when the assembler first sees it.
type ConnInfo struct {
	// Client and Server are the two endpoints; see By for how the roles were decided.
	Client, Server netip.AddrPort
	By             ClientBy
	// Start is the capture time of the connection's first segment.
	Start time.Time
	// Acks lets the Stream ask to be told when bytes it was handed are acknowledged (nil in
	// the connection's own copy, and for a Stream not made by an Assembler).
	Acks *AckWatch
}

// AckWatch is a connection's one-shot acknowledgment watch, one per direction.
type AckWatch conn

// Watch asks for an EventAcked when the other side first acknowledges every byte of dir
// delivered so far (during Stream.Data: up to the end of data), in a segment that is not a
// RST. It replaces a watch of dir still pending. An acknowledgment already sent is not
// reported. Call it only from the Stream's methods, before End.
func (w *AckWatch) Watch(dir Dir) {
	h := &w.h[dir&1]
	h.watch, h.watching = h.next, true
}

// Info returns the ConnInfo the connection's Stream was created with (Acks is w), for a
// Stream that rebuilds its state (see Sleeper).
func (w *AckWatch) Info() ConnInfo {
	return ConnInfo{Client: w.info.Client, Server: w.info.Server, By: w.by, Start: time.Unix(0, w.info.start).UTC(), Acks: w}
}

// EventKind names a TCP event.
type EventKind uint8

// TCP events delivered to Stream.Event.
const (
	EventSYN EventKind = iota + 1
	EventSYNACK
	EventFIN
	EventRST
	// EventDataAfterFIN: the sender sent payload bytes at or beyond its own FIN's sequence
	// number. Those bytes are not delivered.
	EventDataAfterFIN
	// EventRetransmitMismatch: a retransmitted or overlapping segment carried bytes that
	// differ from bytes for the same sequence numbers still held in the out-of-order
	// buffer. (Bytes already delivered are not kept, so they are never compared.)
	EventRetransmitMismatch
	// EventAcked: the sender acknowledged the other direction's bytes up to Offset,
	// covering what AckWatch.Watch asked for (once per Watch).
	EventAcked
)

var eventNames = [...]string{
	EventSYN:                "SYN",
	EventSYNACK:             "SYN-ACK",
	EventFIN:                "FIN",
	EventRST:                "RST",
	EventDataAfterFIN:       "data after FIN",
	EventRetransmitMismatch: "retransmission with different bytes",
	EventAcked:              "ACK",
}

// String returns the event's name, such as "FIN".
func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return "unknown event"
}

// Event is a TCP event with its direction (by sender) and capture time.
type Event struct {
	Kind EventKind
	Dir  Dir
	Time time.Time
	// Frame is the frame number of the segment that carried the FIN, RST, SYN or bytes
	// (see Segment.Frame).
	Frame uint64
	// Offset is the position in Dir's byte stream that the event refers to: for SYN and
	// SYN-ACK 0; for FIN the stream length at the FIN; for RST the stream offset of its
	// sequence number (may be below the stream position, even negative); for mismatches the
	// first differing byte; for data after FIN the FIN's offset.
	Offset int64
	// WithACK is set for a RST that also has the ACK flag (RST+ACK).
	WithACK bool
	// OutOfWindow is set for a RST whose sequence number is outside the receiver's window
	// (a receiver following RFC 5961 ignores it).
	OutOfWindow bool
}

// GapCause says why bytes are missing from a stream.
type GapCause uint8

const (
	// GapLost: the segments carrying the bytes were never captured.
	GapLost GapCause = iota
	// GapSnaplen: the bytes were on the wire but cut off by the snapshot length.
	GapSnaplen
	// GapMidstream: the capture started after the connection did; bytes before the first
	// captured segment are unknown. Reported once per direction, at offset 0 with length 0,
	// when no SYN or SYN-ACK of the connection was captured.
	GapMidstream
	// GapBufferLimit: an out-of-order buffer limit was reached and the oldest hole was
	// declared missing.
	GapBufferLimit
)

// String returns a short description such as "lost".
func (g GapCause) String() string {
	switch g {
	case GapLost:
		return "lost"
	case GapSnaplen:
		return "snaplen"
	case GapMidstream:
		return "capture started mid-stream"
	default:
		return "buffer limit"
	}
}

// Keeper is implemented by a Stream that can tell whether its connection is worth more
// than others when MaxConns or MaxMemory forces one out: Keep reports that it carries, or
// may carry, what the caller is looking for. Among the oldest connections, one whose
// Stream does not keep is released before the one idle the longest. A Stream that does
// not implement Keeper keeps.
type Keeper interface {
	Keep() bool
}

// Stream consumes one connection's reassembled data and events. The assembler calls its
// methods from the goroutine that calls Add and Flush, in capture order.
type Stream interface {
	// Data delivers the next in-order bytes sent in dir. data is only valid during the call.
	// at is the capture time and frame number of the segment that carried (the end of)
	// these bytes.
	Data(dir Dir, data []byte, at Stamp)
	// Gap reports length bytes missing at stream offset in dir; the stream continues after
	// it. at is the segment that revealed the gap (the one after it, a RST, an ACK past it,
	// or the connection's last one when it is released).
	Gap(dir Dir, offset, length int64, cause GapCause, at Stamp)
	// Event reports a TCP event.
	Event(e Event)
	// End is called exactly once, when the assembler releases the connection (closed and
	// idle, port reused, or flushed at the end of the capture). No calls follow it.
	End(stats ConnStats)
}

// Sleeper is a Stream that can make its state small while its connection is idle, when
// many connections are tracked (Options.SleepFrom, SleepIdle). Sleep is called from the
// goroutine that calls Add, between segments, and reports whether the Stream went to
// sleep; the Stream wakes by itself when any of its methods is called next, and
// must then behave exactly as if it had never slept. Sleep is not called again until
// another segment of the connection has been seen.
type Sleeper interface {
	Sleep() bool
}

// StreamFactory creates the Stream for a new connection.
type StreamFactory interface {
	NewStream(info ConnInfo) Stream
}

// HalfOpenTaker is implemented by a StreamFactory that may need no Stream for a
// connection released while half-open (it only exchanged SYNs; see doc.go), such as one
// that counts those connections without reporting them. TakeHalfOpen is then called
// instead of NewStream, the replay of its SYNs and End, with its ConnInfo (Acks nil) and
// the reason it is released. When it reports true the connection is done with, counted in
// AssemblerStats.Ended and remembered by a tombstone as if its Stream had ended; when
// false it gets its Stream as usual.
type HalfOpenTaker interface {
	TakeHalfOpen(info ConnInfo, reason EndReason) bool
}

// HalfOpenCounter is a HalfOpenTaker that takes every half-open connection, whatever its
// ConnInfo and reason. Flush then lets them all go at once (TakeHalfOpens with their
// number and EndFlushed) instead of one TakeHalfOpen each.
type HalfOpenCounter interface {
	HalfOpenTaker
	TakeHalfOpens(n int, reason EndReason)
}

// DirStats counts what one direction carried.
type DirStats struct {
	Packets        int64
	Bytes          int64 // payload bytes delivered in order
	MissingBytes   int64 // bytes reported through Gap
	Retransmitted  int64 // segments (incl. bare SYN/FIN repeats) bringing no new bytes
	OutOfOrder     int64 // segments buffered because they arrived ahead of a hole
	KeepAlives     int64
	ZeroWindowProb int64
}

// ConnStats summarises a connection when it is released.
type ConnStats struct {
	Dirs [2]DirStats // indexed by Dir
	// Reason says why the connection was released.
	Reason EndReason
	// At is the capture time of the release, as it follows from the connection alone:
	// for EndClosed its last segment plus ClosedLinger, for EndIdle its last segment plus
	// IdleTimeout, else the assembler's clock (the segment that reused or evicted it, the
	// last time Flush knows of). It does not depend on when Advance was called, so a
	// caller that splits a capture between Assemblers can order releases by it.
	At time.Time
}

// EndReason says why the assembler released a connection.
type EndReason uint8

const (
	// EndFlushed: the capture ended (or Flush was called) with the connection still tracked.
	EndFlushed EndReason = iota
	// EndClosed: both sides finished (FIN both ways, or an in-window RST) and ClosedLinger
	// of capture time passed without further segments.
	EndClosed
	// EndReused: a new SYN on the same 4-tuple started another connection.
	EndReused
	// EndIdle: the connection saw no segment for longer than the idle timeout.
	EndIdle
	// EndEvicted: MaxConns connections (or MaxMemory) were tracked when another one
	// started, and this one was picked to make room (see Options.MaxConns).
	EndEvicted
)

// String returns a short description such as "closed".
func (r EndReason) String() string {
	switch r {
	case EndFlushed:
		return "flushed"
	case EndClosed:
		return "closed"
	case EndReused:
		return "port reused"
	case EndIdle:
		return "idle"
	case EndEvicted:
		return "evicted"
	default:
		return "unknown"
	}
}
