// Package reassembly turns captured TCP segments into ordered, timestamped byte streams per
// connection and direction, plus the TCP events (SYN, FIN, RST, ...) that explain how each
// connection ended.
//
// The caller feeds segments in capture order with Assembler.Add and calls Flush at the end
// of the capture; the assembler calls the Stream created for each connection with in-order
// data, gaps and events, synchronously, from the goroutine that calls Add and Flush. Payload
// slices are only valid during the call that delivers them: a Stream that needs bytes later
// copies them. In-order payload is handed over straight from Segment.Payload; only
// out-of-order bytes are copied (into pooled buffers). Streams must not call back into the
// Assembler.
//
// # Connections and roles
//
// A connection is keyed by its unordered 4-tuple (IPv6 zones are ignored). The client is
// decided on the first segment of the connection, once:
//
//   - a SYN without ACK: its sender (ClientBySYN);
//   - a SYN-ACK: its receiver (ClientBySYNACK);
//   - otherwise (ClientByPort): if exactly one port is below 1024, the other side; else if
//     exactly one port is below 32768, the other side (ephemeral ports are 32768 and up on
//     Linux, 49152 and up per IANA); else the sender of that first segment.
//
// ConnInfo.Start is the capture time of that first segment.
//
// # Half-open connections
//
// A connection whose segments so far are only a SYN without payload, the SYN-ACK that
// answers it, and identical retransmissions of those, is kept compactly (under 200 bytes)
// and gets no Stream yet: a SYN flood or port scan costs little. The first other segment
// creates the Stream, which is then handed the stored segments, in order, with their own
// times and frame numbers, before that segment: what a Stream sees is the same either way,
// only NewStream comes later. One never promoted gets its Stream when it is released
// (Flush, IdleTimeout, MaxConns), and its SYNs at once, unless the StreamFactory takes it
// without a Stream (HalfOpenTaker). HalfOpenStart tells a caller that orders records by
// start time how far back such a connection goes.
//
// # Sleeping Streams
//
// While many connections are tracked (Options.SleepFrom), the assembler looks at one per
// segment, going round in creation order, and asks the Stream of one that has carried no
// segment for Options.SleepIdle segments, open or closed, to make its state small
// (Sleeper). It is a request, between two segments: a Stream that cannot sleep refuses, and
// one that slept wakes by itself on its next call. Nothing else changes: the calls a Stream
// gets, and their order, are the same.
//
// # Streams
//
// Each direction is a byte stream named by its sender. Its offset 0 is the byte after the
// sender's SYN (SYN payload, as with TCP Fast Open, is delivered as the first bytes). A
// direction whose SYN was not captured starts at the first sequence number known for it:
// the ACK number of the first segment its peer sent, or else its own first segment's
// sequence number, whichever comes first in capture order. Bytes before that point are never
// reported. If no SYN or SYN-ACK of the connection was captured at all, each direction
// opens with Gap(dir, 0, 0, GapMidstream, t): zero length, because the amount is unknown.
//
// For every direction the calls satisfy: the offset passed to Gap equals the sum of the
// lengths of all earlier Data and Gap calls of that direction (so data plus gap lengths is
// always the stream position), and no Data or Gap follows the direction's FIN event. A
// Stream sees End exactly once, and nothing after it.
//
// Data's t is the capture time of the segment that carried the bytes (for bytes released
// from the out-of-order buffer, the time of their own segment, which may be earlier than the
// segment that filled the hole). Each Data call holds bytes of one segment.
//
// # Segment processing order
//
// For a segment sent in direction d (peer direction p), Add does, in this order:
//
//  1. Expiry: if the capture time advanced, closed connections past ClosedLinger and (with
//     an IdleTimeout) idle ones are released first, oldest activity first.
//  2. SYN handling: a SYN (or SYN-ACK) is delivered as EventSYN/EventSYNACK at once. A SYN
//     with the same sequence number as the one seen is a retransmission (counted, no event).
//     A SYN with a new sequence number on a connection that is closing (a FIN or RST seen),
//     carried no payload yet, or has been silent for at least ClosedLinger ends the old
//     connection with End(EndReused) and starts a new one; on a live connection the whole segment is ignored
//     (AssemblerStats.IgnoredSYNs). A side's first SYN is accepted even after the peer's
//     ACK started its stream.
//  3. The ACK number (unless the segment is an out-of-window RST) applies to p: when it
//     acknowledges bytes of p the capture lacks, they become Gap(p, ..., GapLost, t) at the
//     time of this ACK, followed by the buffered bytes of p they were holding back (and p's
//     FIN, if it becomes reachable). A receiver only acknowledges bytes it received, so this
//     is how a packet lost by the capture but not by the network is detected early. An ACK
//     exactly one past the last byte, with nothing buffered and no FIN seen, is taken to
//     acknowledge a FIN the capture lacks and declares nothing.
//  4. RST: see below; the segment's payload and FIN flag are ignored.
//  5. Payload of d: keep-alives and zero-window probes are counted, not delivered. Bytes
//     already delivered (or declared missing) are dropped and the segment counted as a
//     retransmission; bytes at the next expected sequence number are delivered at once,
//     followed by any buffered bytes that became contiguous; bytes beyond a hole are copied
//     into the out-of-order buffer. Snaplen-missing bytes (Segment.Missing) are a
//     Gap(GapSnaplen) right after the captured bytes they follow, at the same time as them;
//     a later segment carrying them is treated as a retransmission, and buffered bytes for
//     the same sequence numbers are dropped.
//  6. FIN of d: delivered as EventFIN once all bytes before it were delivered or declared
//     missing, so for each direction Data/Gap always come before its FIN. Event.Time is
//     the capture time of the FIN segment, even when the FIN had to wait for a hole.
//
// # Holes
//
// A hole (bytes not captured, with later bytes buffered or a FIN or RST beyond them) is
// declared a gap, and the stream continues after it, when:
//
//   - the peer acknowledges past it (GapLost, at the ACK's time; see step 3);
//   - the sender's RST (within the window) arrives (GapLost, at the RST's time): the RST
//     ends the sender's stream, so all its holes are declared, its buffered bytes and a
//     pending FIN are delivered, and bytes between the last known byte and the RST's
//     sequence number become a gap, before the EventRST;
//   - the buffer limits are exceeded (GapBufferLimit, at the time of the segment that
//     exceeded them): MaxBufferedPerConn first declares the connection's oldest hole (of the
//     direction whose buffer became non-empty first), repeatedly, until under the limit;
//     then MaxBufferedTotal does the same with the connection that started buffering first;
//   - the connection is released (End for any reason, including Flush): every remaining hole
//     becomes GapLost, its buffered bytes are delivered, then a FIN still waiting, all at the
//     capture time of the connection's last segment.
//
// # Overlaps and mismatches
//
// Only new bytes are delivered: a segment overlapping delivered bytes is trimmed. Where a
// segment overlaps bytes still in the out-of-order buffer, the bytes are compared and the
// first difference is reported once per segment as EventRetransmitMismatch (Offset is the
// stream offset of the first differing byte); the bytes that become deliverable first win.
// Bytes already delivered are not kept, so a retransmission of delivered bytes is only
// counted, never compared.
//
// Keep-alive: a segment without SYN, FIN or RST with 0 or 1 byte at the next expected
// sequence number minus one. Zero-window probe: the same shape, or one byte at the next
// expected sequence number, while the receiver's last advertised window is zero; the latter
// byte is new data and is delivered.
//
// Sequence numbers are compared wrap-safely (int32(a-b) < 0).
//
// # FIN and data after FIN
//
// The first FIN of a direction fixes its end: EventFIN comes once per direction, and later
// FINs are only counted (as retransmissions when they repeat the first). Payload at or
// beyond the FIN's sequence number, whether it arrives later or was buffered before the FIN
// was seen, is not delivered; it is reported as EventDataAfterFIN, once per segment (Offset:
// the FIN's stream offset, Time: the segment carrying it). A FIN whose sequence number is
// behind bytes already delivered is reported at once with the offset of its sequence number.
//
// # RST
//
// An RST is delivered as EventRST immediately (after steps 1-3, so any in-order data already
// receivable, including the peer's bytes released by the RST's ACK, comes first). Offset is
// the stream offset of its sequence number (it can be below the stream position, or even
// negative, for a stale or forged RST). WithACK is set for RST+ACK. Every RST captured
// produces an event, in or out of the window.
//
// OutOfWindow rule: let rcv be the receiver's last acknowledgment number and wnd its last
// advertised window. If the receiver has not sent any ACK yet, the RST is in the window
// (this covers the RST answering a SYN). Otherwise, with wnd zero the RST is in the window
// only if seq == rcv; else it is in the window if rcv <= seq < rcv+wnd, where wnd is
// scaled by the receiver's window scale when both SYNs were captured and both carried the
// option (Segment.WScale/HasWScale), and otherwise by the largest shift, 14 (so without
// that evidence OutOfWindow is only claimed when no scale could make the RST acceptable; a
// window from a SYN is never scaled). An out-of-window RST changes nothing else: its ACK is
// ignored, no gap is declared and the connection is not closed.
//
// # Connection release
//
// A connection is closed once a FIN was seen in both directions or an in-window RST was
// seen. It stays tracked for ClosedLinger of capture time after its last segment, so that
// late retransmissions or an RST after the FINs reach the same Stream, and is then released
// with End(EndClosed). With an IdleTimeout, an open connection without segments for that
// long is released with End(EndIdle) (half-open ones in the order they started). A port
// reuse releases with End(EndReused); Flush (or FlushSome, in steps) releases everything
// left with End(EndFlushed), by start time.
// Before End, the connection's holes are resolved as described above (client direction
// first). Expiry costs O(1) amortised per segment: connections sit in lists ordered by last
// activity and only the lists' heads are examined, when capture time advances.
package reassembly
