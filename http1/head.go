package http1

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// Request is what a request header block says, as far as a WebSocket upgrade goes.
type Request struct {
	Method            string
	Target            string // the request-target as sent, e.g. "/chat?room=1"
	Host              string
	Origin, UserAgent string
	WSVersion         string // Sec-WebSocket-Version
	WSKey             string // Sec-WebSocket-Key
	// XForwardedFor and Forwarded are the values of every such header joined by ", ", as
	// a proxy sent them (RFC 7239 for Forwarded); "" when absent.
	XForwardedFor, Forwarded string
	Protocols                []string // Sec-WebSocket-Protocol items, in order, over every such header
	Extensions               []string // Sec-WebSocket-Extensions offers, parameters included
	// UpgradeWebSocket: an Upgrade header lists "websocket". UpgradeOther: Upgrade lists
	// only other protocols (h2c, say).
	UpgradeWebSocket, UpgradeOther bool
	ContentLength                  int64 // the body's length; 0 without a Content-Length
	Chunked                        bool  // the body is chunked
	// LineOnly is set when a truncated block ends inside its request line: only Method is
	// known, and only if the line got that far.
	LineOnly bool
}

// Response is what a response header block says, as far as a WebSocket upgrade goes.
//
// Upgrade and Connection are as on the wire. net/http deletes a response's Connection
// header when it lists "close" (its readTransfer treats it as hop-by-hop state); a
// WebSocket client judging a 101 must see the header as sent, so it is read from the block.
type Response struct {
	Status int
	Reason string // the reason phrase as sent, trimmed, e.g. "Switching Protocols"
	// Upgrade and Connection hold every such header's value, joined by ", ";
	// HasUpgrade and HasConnection say whether there was any such header.
	Upgrade, Connection       string
	HasUpgrade, HasConnection bool
	UpgradeWebSocket          bool // an Upgrade item is "websocket"
	ConnectionUpgrade         bool // a Connection item is "upgrade"
	Accept                    string
	HasAccept                 bool   // a Sec-WebSocket-Accept header was sent (perhaps empty)
	Subprotocol               string // the first Sec-WebSocket-Protocol value, trimmed
	HasProtocol               bool
	Extensions                []string // Sec-WebSocket-Extensions items, parameters included
	HasExtensions             bool
	WSVersions                string // the first Sec-WebSocket-Version value (a 426 lists those supported)
	ContentLength             int64  // -1 when unknown: the body runs until the connection closes
	Chunked                   bool
	// LineOnly is set when a truncated block ends inside its status line: only Status and
	// Reason are known.
	LineOnly bool
}

// HasWebSocketHeaders reports whether the response carries a header only a WebSocket
// server sends (an Upgrade naming websocket, or a Sec-WebSocket-* header).
func (r *Response) HasWebSocketHeaders() bool {
	return r.HasAccept || r.UpgradeWebSocket || r.HasProtocol || r.HasExtensions || r.WSVersions != ""
}

var errNoStatus = errors.New("http1: truncated response has no status code")

// A Parser parses header blocks. It keeps the bufio.Reader that net/http reads a block
// through, so that parsing many blocks costs no allocation for it. The zero value is
// ready to use; a Parser must not be used concurrently.
type Parser struct {
	rd bytes.Reader
	br *bufio.Reader
}

// Request parses a request header block, from the request line to the blank line that ends
// the block included. truncated says the capture cut the block: the complete lines are
// parsed. The block is not kept.
func (p *Parser) Request(block []byte, truncated bool) (Request, error) {
	return parseRequest(block, truncated, p.reader)
}

// Response parses a response header block as Request does; head says the request was a
// HEAD (the response then has no body, whatever its Content-Length).
func (p *Parser) Response(block []byte, truncated, head bool) (Response, error) {
	return parseResponse(block, truncated, head, p.reader)
}

// ParseRequest is Parser.Request for a single block.
func ParseRequest(block []byte, truncated bool) (Request, error) {
	return parseRequest(block, truncated, blockReader)
}

// ParseResponse is Parser.Response for a single block.
func ParseResponse(block []byte, truncated, head bool) (Response, error) {
	return parseResponse(block, truncated, head, blockReader)
}

// reader returns a bufio.Reader over block for net/http, reusing the Parser's.
func (p *Parser) reader(block []byte) *bufio.Reader {
	p.rd.Reset(block)
	if p.br == nil {
		p.br = bufio.NewReader(&p.rd)
	} else {
		p.br.Reset(&p.rd)
	}
	return p.br
}

// blockReader returns a bufio.Reader over a complete header block, sized to the block
// rather than bufio's 4 KiB default: net/http needs a *bufio.Reader, and the default size
// made the buffer the largest allocation of every connection.
func blockReader(block []byte) *bufio.Reader {
	return bufio.NewReaderSize(bytes.NewReader(block), max(len(block), 16))
}

// closeBlock makes a truncated header block parseable: it keeps the complete lines and adds
// the blank line. It reports false when not even the first line is complete.
func closeBlock(block []byte) ([]byte, bool) {
	i := bytes.LastIndexByte(block, '\n')
	if i < 0 {
		return nil, false
	}
	out := make([]byte, 0, i+3)
	out = append(out, block[:i+1]...)
	return append(out, '\r', '\n'), true
}

// parseRequest parses a request header block: a plain one by the fast path (see fast.go),
// any other with net/http, reading it through reader(block).
func parseRequest(block []byte, truncated bool, reader func([]byte) *bufio.Reader) (Request, error) {
	if !truncated {
		if r, ok := fastRequest(block); ok {
			return r, nil
		}
	}
	var r Request
	if truncated {
		b, ok := closeBlock(block)
		if !ok {
			if m, _, found := strings.Cut(string(block), " "); found {
				r.Method = m
			}
			r.LineOnly = true
			return r, nil
		}
		block = b
	}
	return netRequest(reader(block))
}

// netRequest parses a complete request block with net/http.
func netRequest(br *bufio.Reader) (Request, error) {
	var r Request
	req, err := http.ReadRequest(br)
	if err != nil {
		return r, err
	}
	h := req.Header
	r.Method, r.Target, r.Host = req.Method, req.RequestURI, req.Host
	r.Origin, r.UserAgent = first(h[hdrOrigin]), first(h[hdrUserAgent])
	r.WSVersion, r.WSKey = first(h[hdrWSVersion]), first(h[hdrWSKey])
	r.XForwardedFor, r.Forwarded = strings.Join(h[hdrXForwardedFor], ", "), strings.Join(h[hdrForwarded], ", ")
	r.Protocols = CommaList(h[hdrWSProtocol])
	r.Extensions = CommaList(h[hdrWSExtensions])
	up := CommaList(h[hdrUpgrade])
	r.UpgradeWebSocket = hasToken(up, "websocket")
	r.UpgradeOther = !r.UpgradeWebSocket && len(up) > 0
	r.ContentLength = req.ContentLength
	r.Chunked = len(req.TransferEncoding) > 0 && req.TransferEncoding[0] == "chunked"
	return r, nil
}

// parseResponse parses a response header block: a plain one by the fast path (see
// fast.go), any other with net/http, reading it through reader(block).
func parseResponse(block []byte, truncated, head bool, reader func([]byte) *bufio.Reader) (Response, error) {
	if !truncated {
		if r, ok := fastResponse(block, head); ok {
			return r, nil
		}
	}
	if truncated {
		b, ok := closeBlock(block)
		if !ok {
			return statusOnly(block)
		}
		block = b
	}
	return netResponse(block, head, reader)
}

// netResponse parses a complete response block with net/http, reading it through
// reader(block).
func netResponse(block []byte, head bool, reader func([]byte) *bufio.Reader) (Response, error) {
	r := Response{ContentLength: -1}
	var req *http.Request
	if head {
		req = &http.Request{Method: http.MethodHead}
	}
	resp, err := http.ReadResponse(reader(block), req)
	if err != nil {
		return r, err
	}
	h := resp.Header
	r.Status = resp.StatusCode
	if _, reason, ok := strings.Cut(resp.Status, " "); ok {
		r.Reason = strings.TrimSpace(reason)
	}
	up, conn := h[hdrUpgrade], h[hdrConnection]
	if len(conn) == 0 {
		conn = wireValues(reader(block), hdrConnection) // perhaps deleted by net/http
	}
	r.Upgrade, r.Connection = strings.Join(up, ", "), strings.Join(conn, ", ")
	r.HasUpgrade, r.HasConnection = len(up) > 0, len(conn) > 0
	r.UpgradeWebSocket = hasToken(CommaList(up), "websocket")
	r.ConnectionUpgrade = hasToken(CommaList(conn), "upgrade")
	r.Accept, r.HasAccept = first(h[hdrWSAccept]), len(h[hdrWSAccept]) > 0
	r.HasProtocol = len(h[hdrWSProtocol]) > 0
	r.Subprotocol = strings.TrimSpace(first(h[hdrWSProtocol]))
	r.HasExtensions = len(h[hdrWSExtensions]) > 0
	r.Extensions = CommaList(h[hdrWSExtensions])
	r.WSVersions = first(h[hdrWSVersion])
	r.ContentLength = resp.ContentLength
	r.Chunked = len(resp.TransferEncoding) > 0 && resp.TransferEncoding[0] == "chunked"
	return r, nil
}

// wireValues returns the values of the header name (canonical) in the block that br reads,
// read as net/http reads them (textproto: folded lines joined, names canonicalized) but
// without net/http's changes to what it treats as hop-by-hop: it deletes a response's
// Connection header that lists "close".
func wireValues(br *bufio.Reader, name string) []string {
	tp := textproto.NewReader(br)
	if _, err := tp.ReadLine(); err != nil {
		return nil
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		return nil
	}
	return h[name]
}

// Header names in the canonical form net/http stores them under (textproto's
// CanonicalMIMEHeaderKey), so that the parsed header map is indexed directly: Header.Get
// canonicalizes its argument on every call, and "WebSocket" is not canonical.
const (
	hdrOrigin        = "Origin"
	hdrUserAgent     = "User-Agent"
	hdrUpgrade       = "Upgrade"
	hdrConnection    = "Connection"
	hdrWSKey         = "Sec-Websocket-Key"
	hdrWSVersion     = "Sec-Websocket-Version"
	hdrWSProtocol    = "Sec-Websocket-Protocol"
	hdrWSExtensions  = "Sec-Websocket-Extensions"
	hdrWSAccept      = "Sec-Websocket-Accept"
	hdrXForwardedFor = "X-Forwarded-For"
	hdrForwarded     = "Forwarded"
)

// first returns the first of a header's values, or "" (as Header.Get does).
func first(values []string) string {
	if len(values) == 0 {
		return ""
	}
	return values[0]
}

// statusOnly reads the status code of a response cut inside its status line, e.g.
// "HTTP/1.1 101 Swi".
func statusOnly(block []byte) (Response, error) {
	r := Response{ContentLength: -1, LineOnly: true}
	s := string(block)
	if !strings.HasPrefix(s, "HTTP/") {
		return r, errNoStatus
	}
	_, rest, ok := strings.Cut(s, " ")
	if !ok || len(rest) < 3 {
		return r, errNoStatus
	}
	code, err := strconv.Atoi(rest[:3])
	if err != nil || code < 100 {
		return r, errNoStatus
	}
	r.Status = code
	r.Reason = strings.TrimSpace(rest[3:])
	return r, nil
}

// CommaList splits comma-separated header values (RFC 9110 section 5.6.1), trimming ASCII
// blanks and dropping empty items. Commas inside double quotes (extension parameters) do
// not split.
func CommaList(values []string) []string {
	var out []string
	for _, v := range values {
		eachItem(v, func(lo, hi int) { out = append(out, v[lo:hi]) })
	}
	return out
}

// hasToken reports whether list holds tok, case-insensitively.
func hasToken(list []string, tok string) bool {
	for _, v := range list {
		if strings.EqualFold(v, tok) {
			return true
		}
	}
	return false
}
