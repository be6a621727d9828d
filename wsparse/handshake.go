package wsparse

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// reqHead is what the decoder keeps of an HTTP request header block.
type reqHead struct {
	method, uri, host, origin, userAgent string
	version, key                         string
	protocols, extensions                []string
	upgradeWS                            bool // Upgrade lists "websocket"
	upgradeOther                         bool // Upgrade lists something else only
	contentLength                        int64
	chunked                              bool
	lineOnly                             bool // truncated inside the request line
}

// respHead is what the decoder keeps of an HTTP response header block.
type respHead struct {
	status                 int
	reason                 string
	upgrade, connection    string
	accept                 string
	hasAccept              bool
	subprotocol            string
	extensions             []string
	versions               string
	contentLength          int64 // -1 when unknown
	chunked                bool
	hasWSHeaders, lineOnly bool
	hasUpgrade, hasConnHdr bool
	upgradeWS, connUpgrade bool
	protocolHeader, extHdr bool
}

var errNoStatus = errors.New("wsparse: truncated response has no status code")

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

// parseRequest parses a request header block: a plain one by the fast path (see
// fasthttp.go), any other with net/http, reading it through reader(block).
func parseRequest(block []byte, truncated bool, reader func([]byte) *bufio.Reader) (reqHead, error) {
	if !truncated {
		if r, ok := fastRequest(block); ok {
			return r, nil
		}
	}
	var r reqHead
	if truncated {
		b, ok := closeBlock(block)
		if !ok {
			if m, _, found := strings.Cut(string(block), " "); found {
				r.method = m
			}
			r.lineOnly = true
			return r, nil
		}
		block = b
	}
	return netRequest(reader(block))
}

// netRequest parses a complete request block with net/http.
func netRequest(br *bufio.Reader) (reqHead, error) {
	var r reqHead
	req, err := http.ReadRequest(br)
	if err != nil {
		return r, err
	}
	h := req.Header
	r.method, r.uri, r.host = req.Method, req.RequestURI, req.Host
	r.origin, r.userAgent = first(h[hdrOrigin]), first(h[hdrUserAgent])
	r.version, r.key = first(h[hdrWSVersion]), first(h[hdrWSKey])
	r.protocols = commaList(h[hdrWSProtocol])
	r.extensions = commaList(h[hdrWSExtensions])
	up := commaList(h[hdrUpgrade])
	r.upgradeWS = hasToken(up, "websocket")
	r.upgradeOther = !r.upgradeWS && len(up) > 0
	r.contentLength = req.ContentLength
	r.chunked = len(req.TransferEncoding) > 0 && req.TransferEncoding[0] == "chunked"
	return r, nil
}

// parseResponse parses a response header block: a plain one by the fast path (see
// fasthttp.go), any other with net/http, reading it through reader(block). head says the
// request was a HEAD (the response then has no body).
func parseResponse(block []byte, truncated, head bool, reader func([]byte) *bufio.Reader) (respHead, error) {
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
	return netResponse(reader(block), head)
}

// netResponse parses a complete response block with net/http.
func netResponse(br *bufio.Reader, head bool) (respHead, error) {
	r := respHead{contentLength: -1}
	var req *http.Request
	if head {
		req = &http.Request{Method: http.MethodHead}
	}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return r, err
	}
	h := resp.Header
	r.status = resp.StatusCode
	if _, reason, ok := strings.Cut(resp.Status, " "); ok {
		r.reason = strings.TrimSpace(reason)
	}
	up, conn := h[hdrUpgrade], h[hdrConnection]
	r.upgrade, r.connection = strings.Join(up, ", "), strings.Join(conn, ", ")
	r.hasUpgrade, r.hasConnHdr = len(up) > 0, len(conn) > 0
	r.upgradeWS = hasToken(commaList(up), "websocket")
	r.connUpgrade = hasToken(commaList(conn), "upgrade")
	r.accept, r.hasAccept = first(h[hdrWSAccept]), len(h[hdrWSAccept]) > 0
	r.protocolHeader = len(h[hdrWSProtocol]) > 0
	r.subprotocol = strings.TrimSpace(first(h[hdrWSProtocol]))
	r.extHdr = len(h[hdrWSExtensions]) > 0
	r.extensions = commaList(h[hdrWSExtensions])
	r.versions = first(h[hdrWSVersion])
	r.hasWSHeaders = r.hasAccept || r.upgradeWS || r.protocolHeader || r.extHdr || r.versions != ""
	r.contentLength = resp.ContentLength
	r.chunked = len(resp.TransferEncoding) > 0 && resp.TransferEncoding[0] == "chunked"
	return r, nil
}

// Header names in the canonical form net/http stores them under (textproto's
// CanonicalMIMEHeaderKey), so that the parsed header map is indexed directly: Header.Get
// canonicalizes its argument on every call, and "WebSocket" is not canonical.
const (
	hdrOrigin       = "Origin"
	hdrUserAgent    = "User-Agent"
	hdrUpgrade      = "Upgrade"
	hdrConnection   = "Connection"
	hdrWSKey        = "Sec-Websocket-Key"
	hdrWSVersion    = "Sec-Websocket-Version"
	hdrWSProtocol   = "Sec-Websocket-Protocol"
	hdrWSExtensions = "Sec-Websocket-Extensions"
	hdrWSAccept     = "Sec-Websocket-Accept"
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
func statusOnly(block []byte) (respHead, error) {
	r := respHead{contentLength: -1, lineOnly: true}
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
	r.status = code
	r.reason = strings.TrimSpace(rest[3:])
	return r, nil
}

// commaList splits comma-separated header values, trimming ASCII blanks and dropping
// empty items. Commas inside double quotes (extension parameters) do not split.
func commaList(values []string) []string {
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

// extensionName returns the name of an extension offer, e.g. "permessage-deflate" for
// "permessage-deflate; client_max_window_bits".
func extensionName(ext string) string {
	name, _, _ := strings.Cut(ext, ";")
	return strings.ToLower(strings.TrimSpace(name))
}

// blockReader returns a bufio.Reader over a complete header block, sized to the block
// rather than bufio's 4 KiB default: net/http needs a *bufio.Reader, and the default size
// made the buffer the largest allocation of every connection.
func blockReader(block []byte) *bufio.Reader {
	return bufio.NewReaderSize(bytes.NewReader(block), max(len(block), 16))
}
