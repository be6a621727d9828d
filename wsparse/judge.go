package wsparse

import (
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
)

// websocketGUID is appended to the key to compute Sec-WebSocket-Accept (RFC 6455 4.2.2).
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// acceptKey returns base64(SHA-1(key + GUID)).
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + websocketGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// judge applies RFC 6455 section 4.1 (the client's checks of the server's response) to the
// parsed handshake and sets Upgraded, Failure, Unchecked and Deflate. A check whose input
// is missing (truncated headers, request not captured) is listed in Unchecked, never
// reported as a failure.
func (c *Conn) judge() {
	h := &c.hs
	h.Upgraded, h.Failure, h.Unchecked, h.Deflate = false, "", nil, false
	if !h.ResponseSeen {
		return
	}
	if h.Status != http.StatusSwitchingProtocols {
		h.Failure = statusFailure(h)
		return
	}
	r := &h.resp
	full := !h.respTruncated
	reqFull := h.RequestSeen && !h.reqTruncated
	fail := ""
	switch {
	case r.hasUpgrade && !r.upgradeWS:
		fail = "server answered 101 with Upgrade: " + r.upgrade + " instead of websocket"
	case !r.hasUpgrade && full:
		fail = "server answered 101 without Upgrade: websocket"
	case r.hasConnHdr && !r.connUpgrade:
		fail = "server answered 101 with Connection: " + r.connection + " instead of Upgrade"
	case !r.hasConnHdr && full:
		fail = "server answered 101 without Connection: Upgrade"
	}
	if !r.hasUpgrade && !full {
		h.Unchecked = append(h.Unchecked, "Upgrade")
	}
	if !r.hasConnHdr && !full {
		h.Unchecked = append(h.Unchecked, "Connection")
	}
	switch {
	case r.hasAccept && h.RequestSeen && h.Key != "":
		if fail == "" && r.accept != acceptKey(h.Key) {
			fail = "accept key does not match the request key"
		}
	case r.hasAccept:
		h.Unchecked = append(h.Unchecked, "Sec-WebSocket-Accept")
	case full:
		if fail == "" {
			fail = "server answered 101 without Sec-WebSocket-Accept"
		}
	default:
		h.Unchecked = append(h.Unchecked, "Sec-WebSocket-Accept")
	}
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
			strings.Join(commaList([]string{h.ServerVersions}), ", ") + ")"
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
