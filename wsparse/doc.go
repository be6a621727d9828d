// Package wsparse decodes what the WebSocket layer did on a connection from its two
// reassembled byte streams: the HTTP opening handshake, every frame header, every control
// frame in full, and the RFC 6455 / RFC 7692 violations seen on the wire.
//
// Bytes are pushed in arbitrary chunks with Conn.Feed; the results do not depend on how the
// bytes were split. Data payloads are counted and skipped, never buffered: a 4 GiB message
// costs no memory. Text messages are validated as UTF-8 on the fly, except compressed ones
// (RSV1 with permessage-deflate).
//
// # Parse first, judge second
//
// Package http1 parses the header blocks that httpflow.go cuts from each side's bytes into
// typed heads, keeping what was on the wire, and skips their bodies; judge.go applies the
// client's checks of RFC 6455 section 4.1 to the heads and words the failure. Frame headers
// are read by one parser and judged by one function (header.go): parseHeader reports what
// the bits say, headerViolations which rules they break, as a bit set. The incremental
// decoder (frames.go, control.go) turns the bits into findings, the resync (resync.go)
// rejects a candidate frame boundary on any of them, and the evidence check (evidence.go)
// withdraws a mid-stream chain on those no real peer breaks. A violation is a Finding,
// never an error, and decoding goes on.
//
// # Per-side flow
//
// Each direction starts by sniffing its first bytes: an HTTP request (the side is the
// client), an HTTP response (the server), or anything else (mid-stream: the frame boundary
// must be proven, see resync.go). Keep-alive requests before the upgrade are skipped with
// their bodies. After an upgrade request the client's bytes wait (up to 64 KiB) for the
// server's answer: a 101 makes them frames, anything else HTTP again.
//
// # Gaps
//
// A gap of known length inside a data payload keeps the decoder in sync. Any other gap makes
// the direction look for a provable frame boundary (a chain of plausible headers, see
// resync.go); until then nothing is decoded, and if the direction ends before one is found,
// DirStats.Undecodable is set: a close frame may have been among the lost bytes. A close
// frame is never invented.
//
// # Sides
//
// Results are by true side. When the evidence (an HTTP request on the side fed as Server, or
// mid-stream the masking of frames) shows that the sides were fed the wrong way round,
// Conn.SidesSwapped reports true and Close(Client), Stats(Client), findings, pings and events
// all refer to the true client, i.e. the bytes fed as Server. Mid-stream, the first side to
// show a chain of frames decides: masked frames are the client's, unmasked the server's,
// unless the other side already holds a chain with the same mask bit (one endpoint then
// breaks the masking rule and the sides are kept as fed).
package wsparse
