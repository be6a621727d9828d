// Package gencap generates large, realistic WebSocket captures with known ground truth, to
// measure and check wsclosescan on gigabyte inputs.
//
// Generate streams a pcap or pcapng capture (optionally gzip-compressed) to an io.Writer and
// never holds it in memory: many connections run concurrently and their packets are
// interleaved; each connection follows a plan drawn from a seeded random generator, so the
// same Options always give the same bytes. Traffic is shaped like a busy WebSocket
// service: mostly small messages (20-500 bytes) with a tail up to 1 MiB, masked client
// frames, fragmented messages, pings and pongs, MSS-sized segments (1448 bytes, 1428 over
// IPv6) with TCP timestamps and delayed ACKs, about 1% of data segments out of order and 1%
// retransmitted, and some IPv6.
//
// Connections end in every way wsclosescan distinguishes: clean closing handshakes started
// by either side with many codes, unanswered close frames, FIN or RST without a close frame,
// a close frame racing the peer's RST, rejected upgrades (403, 426, a wrong accept key, a
// subprotocol ignored or never offered) and connections still open when the capture ends.
// When the 101 ignores the requested subprotocol, a strict client (a browser, Node's ws)
// ends TCP at once without a frame, while a lenient one (Python websockets, gorilla; see
// Options.LenientProto) carries on and ends like any accepted connection: its truth says
// the handshake completed, the verdict follows from its ending, and handshake_error still
// says that the server ignored the subprotocol.
//
// That is the default shape, ShapeMixed; Options.Shape selects the others, which schedule
// every packet at a capture time so that thousands of connections overlap (see shape.go):
// ShapeBusy, a busy server (connections starting uniformly over ten minutes, bursts of
// activity two seconds apart, up to about 5,000 open at once at 1.5 GB, permessage-deflate
// on some connections); ShapeMass, 200,000 connections all open at once, then all closed
// cleanly; ShapeSYNFlood, a million unanswered SYNs and one WebSocket connection.
//
// For every connection Generate writes one line of ground truth (a Truth as JSON) to a
// second writer: the record fields wsclosescan must reproduce, derived from the plan with
// the rules of the report README (see deriveTruth; note that both observed codes are null
// for open_at_end, even when one side already received a close frame, while a clean
// closing handshake on a TCP connection still open reports the codes). CompareTruth checks
// wsclosescan's JSON records against it.
package gencap
