package wsparse

import (
	"net/http"
	"strings"
	"time"

	"github.com/wsclosescan/wsclosescan/http1"
)

// Tunnels.
//
// A WebSocket carried in an HTTP/2 stream (RFC 8441) has no HTTP/1.1 upgrade: its opening
// handshake is an extended CONNECT (:protocol websocket) and the server's HEADERS, and both
// directions of the stream carry frames from their first byte. The caller (the HTTP/2 layer)
// gives the handshake; Feed then takes the stream's DATA.

// TunnelRequest is the extended CONNECT that opened a WebSocket stream.
type TunnelRequest struct {
	Time                           time.Time
	Path, Authority, Origin        string
	Version, Protocols, Extensions string // sec-websocket-version, -protocol and -extensions as sent
	UserAgent                      string
}

// StartTunnel makes c the decoder of a WebSocket carried in an HTTP/2 stream opened by req:
// the fed Client side is the client, and both sides carry frames. Call it before Feed.
func (c *Conn) StartTunnel(req TunnelRequest) {
	c.ws, c.wsWanted, c.hsSeen, c.httpSeen = true, true, true, true
	c.roleKnown = true
	c.hsp, c.deflate = nil, false
	if c.hs == nil {
		c.hs = c.newHandshake()
	}
	*c.hs = Handshake{RequestSeen: true, RequestTime: req.Time, Method: http.MethodConnect, Path: req.Path,
		Host: req.Authority, Origin: req.Origin, UserAgent: req.UserAgent, Version: req.Version,
		Protocols: http1.CommaList([]string{req.Protocols}), Extensions: splitOffers(req.Extensions), Tunnel: true}
	for i := range c.dirs {
		d := &c.dirs[i]
		d.fedAny = true
		d.mode = modeFrames
		d.fs.reset(false)
	}
	c.emit(Event{Kind: EventRequest, Side: Client, Time: req.Time, Frame: -1, Detail: "CONNECT " + req.Path + " (:protocol websocket)"})
}

// splitOffers splits a Sec-WebSocket-Extensions value into its offers, parameters kept.
func splitOffers(v string) []string {
	var out []string
	for _, o := range strings.Split(v, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}

// TunnelResponse records the server's answer to the extended CONNECT and judges it: 200
// accepts the WebSocket (RFC 8441 section 5), anything else refuses it; the subprotocol and
// extension checks are those of an HTTP/1.1 upgrade.
func (c *Conn) TunnelResponse(status int, protocol, extensions string, t time.Time) {
	h := c.handshake()
	h.ResponseSeen, h.ResponseTime = true, t
	h.Status, h.StatusText = status, http.StatusText(status)
	h.Subprotocol, h.ChosenExtensions = strings.TrimSpace(protocol), splitOffers(extensions)
	h.Upgraded, h.Failure, h.Unchecked, h.Deflate = false, "", nil, false
	c.emit(Event{Kind: EventResponse, Side: Server, Time: t, Frame: -1, Status: status, Detail: itoa64(int64(status)) + " " + h.StatusText})
	if status != http.StatusOK {
		h.Failure = statusFailure(h)
		c.addFinding(FindHandshakeFailed, Server, -1, t, h.Failure)
		for i := range c.dirs {
			c.dirs[i].mode = modeDead // a refused stream carries no WebSocket frames
		}
		c.packHandshake()
		return
	}
	fail := subprotocolProblem(h, true, true)
	if f := extensionProblem(h, true); fail == "" {
		fail = f
	}
	for _, e := range h.ChosenExtensions {
		if extensionName(e) == "permessage-deflate" {
			h.Deflate = true
		}
	}
	h.Failure, h.Upgraded = fail, fail == ""
	c.server101, c.extKnown = true, true
	if fail != "" {
		c.addFinding(FindHandshakeFailed, Server, -1, t, fail)
	}
	c.packHandshake()
}
