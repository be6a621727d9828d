// Package http1 parses HTTP/1.x header blocks into typed heads: a Request or Response with
// the fields a WebSocket upgrade is judged by (RFC 6455 section 4) and those that frame the
// message's body. It parses; it does not judge (wsparse does) and it does not find blocks in
// a stream (wsparse's per-side flow hands it one block at a time, from the first line to the
// blank line).
//
// net/http is the parser of record: every block goes through http.ReadRequest or
// http.ReadResponse, except plain ones, which a fast path reads with the same result
// (fast.go; TestFastPathMatchesNetHTTP and FuzzFastPath check that). Two departures from
// what net/http returns, both so that the judge sees the wire: a response's Connection
// header is read from the block (net/http deletes it when it lists "close"), and a block
// the capture cut keeps its complete lines (or, cut inside its first line, the method or
// status code).
//
// A Parser reuses net/http's bufio.Reader between blocks; ParseRequest and ParseResponse
// parse a single block. A Body skips the message body that follows a head, Content-Length
// or chunked, without buffering it.
package http1
