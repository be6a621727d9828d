package wsparse

import (
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/wsclosescan/wsclosescan/http1"
)

// websocketGUID is appended to the key to compute Sec-WebSocket-Accept (RFC 6455 4.2.2).
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// acceptLen is the length of a Sec-WebSocket-Accept: the base64 of a SHA-1.
const acceptLen = 28

// acceptKey returns base64(SHA-1(key + GUID)).
func acceptKey(key string) string { return string(appendAcceptKey(nil, key)) }

// appendAcceptKey appends acceptKey(key) to dst (without allocating for a key of up to 64
// bytes).
func appendAcceptKey(dst []byte, key string) []byte {
	var buf [64 + len(websocketGUID)]byte
	in := append(buf[:0], key...)
	h := sha1.Sum(append(in, websocketGUID...))
	n := len(dst)
	dst = append(dst, make([]byte, acceptLen)...)
	base64.StdEncoding.Encode(dst[n:], h[:])
	return dst
}

// acceptMatches reports whether accept is acceptKey(key), without allocating.
func acceptMatches(key, accept string) bool {
	if len(accept) != acceptLen {
		return false
	}
	var buf [acceptLen]byte
	return string(appendAcceptKey(buf[:0], key)) == accept
}

// judge applies RFC 6455 section 4.1 (the client's checks of the server's response) to the
// parsed handshake and sets Upgraded, Failure, Unchecked and Deflate. A check whose input
// is missing (truncated headers, request not captured) is listed in Unchecked, never
// reported as a failure.
//
// The checks come in two parts. upgradeProblem is HTTP/1.1's: a 101 with Upgrade,
// Connection and Sec-WebSocket-Accept, read from the head as sent. The rest (the wording of
// a refusal, the subprotocol and extensions chosen, permessage-deflate) holds for any
// transport, and is what RFC 8441's extended CONNECT over HTTP/2 (a 200, without those
// three headers) will share.
func (c *Conn) judge(r *http1.Response) {
	h := c.hs
	h.Upgraded, h.Failure, h.Unchecked, h.Deflate, h.acceptOK = false, "", nil, false, false
	if !h.ResponseSeen {
		return
	}
	if h.Status != http.StatusSwitchingProtocols {
		h.Failure = statusFailure(h)
		return
	}
	full := !h.respTruncated
	reqFull := h.RequestSeen && !h.reqTruncated
	fail := upgradeProblem(h, r, full)
	if f := subprotocolProblem(h, full, reqFull); fail == "" {
		fail = f
	}
	if f := extensionProblem(h, reqFull); fail == "" {
		fail = f
	}
	for _, e := range h.ChosenExtensions {
		if extensionName(e) == "permessage-deflate" {
			h.Deflate = true
		}
	}
	h.Failure = fail
	h.Upgraded = fail == ""
}

// upgradeProblem checks the headers that make an HTTP/1.1 101 a WebSocket upgrade:
// Upgrade: websocket, Connection: Upgrade and the Sec-WebSocket-Accept derived from the
// request's key. full says the response head was complete.
func upgradeProblem(h *Handshake, r *http1.Response, full bool) string {
	fail := ""
	switch {
	case r.HasUpgrade && !r.UpgradeWebSocket:
		fail = "server answered 101 with Upgrade: " + r.Upgrade + " instead of websocket"
	case !r.HasUpgrade && full:
		fail = "server answered 101 without Upgrade: websocket"
	case r.HasConnection && !r.ConnectionUpgrade:
		fail = "server answered 101 with Connection: " + r.Connection + " instead of Upgrade"
	case !r.HasConnection && full:
		fail = "server answered 101 without Connection: Upgrade"
	}
	if !r.HasUpgrade && !full {
		h.Unchecked = append(h.Unchecked, "Upgrade")
	}
	if !r.HasConnection && !full {
		h.Unchecked = append(h.Unchecked, "Connection")
	}
	switch {
	case r.HasAccept && h.RequestSeen && h.Key != "":
		if fail == "" {
			if h.acceptOK = acceptMatches(h.Key, r.Accept); !h.acceptOK {
				fail = "accept key does not match the request key"
			}
		}
	case r.HasAccept:
		h.Unchecked = append(h.Unchecked, "Sec-WebSocket-Accept")
	case full:
		if fail == "" {
			fail = "server answered 101 without Sec-WebSocket-Accept"
		}
	default:
		h.Unchecked = append(h.Unchecked, "Sec-WebSocket-Accept")
	}
	return fail
}

// statusFailure words a non-101 answer.
func statusFailure(h *Handshake) string {
	text := h.StatusText
	if text == "" {
		text = http.StatusText(h.Status)
	}
	if h.Status == http.StatusUpgradeRequired && h.ServerVersions != "" {
		v := h.Version
		if v == "" {
			v = "the requested version"
		}
		return "server does not support WebSocket version " + v + " (it supports " +
			strings.Join(http1.CommaList([]string{h.ServerVersions}), ", ") + ")"
	}
	s := "server answered " + strconv.Itoa(h.Status)
	if text != "" {
		s += " " + text
	}
	return s
}

// subprotocolProblem checks the chosen subprotocol against the offer.
func subprotocolProblem(h *Handshake, full, reqFull bool) string {
	if h.Subprotocol != "" {
		if !reqFull {
			h.Unchecked = append(h.Unchecked, "Sec-WebSocket-Protocol")
			return ""
		}
		for _, p := range h.Protocols {
			if p == h.Subprotocol {
				return ""
			}
		}
		return "server chose subprotocol " + strconv.Quote(h.Subprotocol) + " that the client did not offer"
	}
	if len(h.Protocols) == 0 {
		return ""
	}
	if !full {
		h.Unchecked = append(h.Unchecked, "Sec-WebSocket-Protocol")
		return ""
	}
	quoted := make([]string, len(h.Protocols))
	for i, p := range h.Protocols {
		quoted[i] = strconv.Quote(p)
	}
	if len(quoted) == 1 {
		return "server ignored the requested subprotocol " + quoted[0]
	}
	return "server ignored the requested subprotocols " + strings.Join(quoted, ", ")
}

// extensionProblem checks that every extension the server chose was offered.
func extensionProblem(h *Handshake, reqFull bool) string {
	if len(h.ChosenExtensions) == 0 {
		return ""
	}
	if !reqFull {
		h.Unchecked = append(h.Unchecked, "Sec-WebSocket-Extensions")
		return ""
	}
	for _, e := range h.ChosenExtensions {
		name := extensionName(e)
		offered := false
		for _, o := range h.Extensions {
			if extensionName(o) == name {
				offered = true
				break
			}
		}
		if !offered {
			return "server chose extension " + strconv.Quote(name) + " that the client did not offer"
		}
	}
	return ""
}

// extensionName returns the name of an extension offer, e.g. "permessage-deflate" for
// "permessage-deflate; client_max_window_bits".
func extensionName(ext string) string {
	name, _, _ := strings.Cut(ext, ";")
	return strings.ToLower(strings.TrimSpace(name))
}
