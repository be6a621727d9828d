package wsparse

import "strconv"

// Explanation describes a close code for a human: what it means, who usually sends it,
// what the peer's WebSocket API reports, and where to look when it shows up unexpectedly.
// It backs the CLI command "wsclosescan explain CODE".
type Explanation struct {
	Code    CloseCode
	Name    string // IANA name, or "registered" / "private" / "reserved" / "invalid"
	Range   string // CodeRange.String()
	MaySend bool   // whether the code may appear in a close frame
	// Meaning is what the code says about why the connection is closing.
	Meaning string
	// UsuallySentBy says which side (and which software) typically sends it.
	UsuallySentBy string
	// PeerSees is what the other endpoint's API reports (e.g. the browser's CloseEvent).
	PeerSees string
	// WhatToCheck lists where to look when the code is unexpected.
	WhatToCheck string
	// Reference is the defining document.
	Reference string
}

type explainText struct {
	meaning, sentBy, peerSees, check, ref string
}

// standardExplain is indexed by code - 1000.
var standardExplain = [...]explainText{
	1000 - CloseNormal: {
		"the purpose of the connection is fulfilled; an orderly, intentional close",
		"either side, when the application closes on purpose with code 1000 (note: a browser's close() without arguments sends a close frame with no code, which the peer reports as 1005)",
		"CloseEvent.code 1000, wasClean true when the closing handshake completed",
		"nothing is wrong at the WebSocket layer; if the close was unexpected, look at the application logic that decided to close (logout, page navigation handled in code, server-side session end)",
		"RFC 6455 section 7.4.1",
	},
	1001 - CloseNormal: {
		"the endpoint is going away: a server shutting down or restarting, or a browser leaving the page",
		"browsers on navigation, tab close or reload; servers and proxies during shutdown or deploys",
		"CloseEvent.code 1001; clients usually reconnect",
		"correlate with deploys, rolling restarts, pod evictions, load balancer draining, or the user navigating away; many closes at the same time point at a server-side restart",
		"RFC 6455 section 7.4.1",
	},
	1002 - CloseNormal: {
		"the endpoint is terminating the connection because it received something that violates the protocol",
		"the side that received a malformed frame: unmasked client frame, masked server frame, bad RSV bits, reserved opcode, fragmented or oversized control frame, bad continuation",
		"CloseEvent.code 1002; the connection is usually torn down right after",
		"look at the findings of the other direction just before the close: the frame that broke the rules is usually the last one the peer sent; check proxies that rewrite frames and compression (permessage-deflate) mismatches",
		"RFC 6455 section 7.4.1",
	},
	1003 - CloseNormal: {
		"the endpoint received a data type it cannot accept (e.g. binary when it only understands text)",
		"servers or clients that only handle one message type",
		"CloseEvent.code 1003",
		"check which message type (text or binary) the peer sent last and what the receiving application expects",
		"RFC 6455 section 7.4.1",
	},
	1004 - CloseNormal: {
		"reserved; no meaning is defined",
		"nobody; it must not be sent",
		"a conforming receiver fails the connection (usually 1002)",
		"a 1004 on the wire is a bug in the sending implementation",
		"RFC 6455 section 7.4.1",
	},
	1005 - CloseNormal: {
		"no status code was present: the close frame had an empty payload",
		"never sent; the receiving API reports 1005 when the peer's close frame carried no code (e.g. a browser's ws.close() called without arguments)",
		"CloseEvent.code 1005, wasClean true",
		"the peer closed cleanly but without a code; nothing is broken. Seeing 1005 inside a close frame is a bug in the sender",
		"RFC 6455 section 7.4.1",
	},
	1006 - CloseNormal: {
		"the connection was closed abnormally: no close frame was received",
		"never on the wire; the API reports it when the TCP connection ended (FIN, RST, timeout) without a close frame",
		"CloseEvent.code 1006, wasClean false; browsers hide the underlying reason",
		"look at how the TCP connection ended: RST or FIN without a close frame, and from whom; proxy or load balancer idle timeouts (often 60 s without traffic: check ping intervals), NAT or firewall state expiry, process crashes or kills, network loss, TLS errors. A 1006 inside a close frame is a bug in the sender",
		"RFC 6455 section 7.4.1",
	},
	1007 - CloseNormal: {
		"the endpoint received data inconsistent with the message type, typically a text message that is not valid UTF-8",
		"the receiver of the bad message",
		"CloseEvent.code 1007",
		"look for invalid UTF-8 findings in the other direction; check code that splits strings at byte boundaries or sends binary data as text",
		"RFC 6455 section 7.4.1",
	},
	1008 - CloseNormal: {
		"the endpoint received a message that violates its policy; a generic code when no better one fits",
		"servers enforcing authentication, authorization, origin checks or rate limits",
		"CloseEvent.code 1008, often with a reason string",
		"read the close reason; check authentication tokens, allowed origins, rate limits and application policy on the sending side",
		"RFC 6455 section 7.4.1",
	},
	1009 - CloseNormal: {
		"the endpoint received a message too big for it to process",
		"servers or clients with a maximum message or frame size",
		"CloseEvent.code 1009",
		"compare the size of the last messages of the other direction with the receiver's limit (e.g. read limits in the server library, proxy buffer sizes)",
		"RFC 6455 section 7.4.1",
	},
	1010 - CloseNormal: {
		"the client expected the server to negotiate one or more extensions, and it did not",
		"clients only (a server would fail the handshake instead)",
		"the server sees 1010, the reason names the missing extensions",
		"compare Sec-WebSocket-Extensions offered by the client with those in the server's 101 response",
		"RFC 6455 section 7.4.1",
	},
	1011 - CloseNormal: {
		"the server hit an unexpected condition that prevented it from fulfilling the request",
		"servers, on unhandled exceptions or backend failures",
		"CloseEvent.code 1011",
		"check server logs around the close time for exceptions, panics or failed backend calls",
		"RFC 6455 section 7.4.1",
	},
	1012 - CloseNormal: {
		"the service is restarting",
		"servers and proxies during restarts or deploys",
		"CloseEvent.code 1012; clients should reconnect, ideally after a randomized delay",
		"correlate with deploys and restarts; make sure clients back off instead of reconnecting all at once",
		"IANA WebSocket Close Code Number Registry",
	},
	1013 - CloseNormal: {
		"the service is overloaded or temporarily unavailable; try again later",
		"servers and gateways under load",
		"CloseEvent.code 1013; clients should reconnect after a randomized delay",
		"check server load, connection limits and upstream capacity at the close time",
		"IANA WebSocket Close Code Number Registry",
	},
	1014 - CloseNormal: {
		"the server was acting as a gateway or proxy and received an invalid response from the upstream server",
		"reverse proxies and gateways",
		"CloseEvent.code 1014",
		"check the proxy's upstream: backend availability, upstream handshake failures, upstream timeouts",
		"IANA WebSocket Close Code Number Registry",
	},
	1015 - CloseNormal: {
		"the TLS handshake failed (e.g. the server certificate could not be verified)",
		"never on the wire; the API reports it when the connection failed during TLS setup",
		"CloseEvent.code 1015, wasClean false",
		"check certificates, trust chains, SNI, TLS versions and cipher suites; a 1015 inside a close frame is a bug in the sender",
		"RFC 6455 section 7.4.1",
	},
}

// Explain returns a human explanation of the close code.
func Explain(c CloseCode) Explanation {
	e := Explanation{Code: c, Name: c.Name(), Range: c.Range().String(), MaySend: c.MaySend()}
	var t explainText
	switch r := c.Range(); {
	case c >= CloseNormal && c < firstUndefinedStandard:
		t = standardExplain[c-CloseNormal]
	case r == RangeRegistered:
		t = explainText{
			"a code registered with IANA by a library, framework or application; its meaning is defined by the registrant",
			"applications and frameworks (e.g. 3000 Unauthorized, 3003 Forbidden, 3008 Timeout are registered by some frameworks)",
			"CloseEvent.code " + strconv.Itoa(int(c)) + " with the reason as sent",
			"look the code up in the IANA WebSocket Close Code Number Registry and in the documentation of the framework in use; read the close reason",
			"RFC 6455 section 7.4.2, IANA registry",
		}
	case r == RangePrivate:
		t = explainText{
			"a private-use code; its meaning is agreed between the application's client and server",
			"the application itself (not the WebSocket library)",
			"CloseEvent.code " + strconv.Itoa(int(c)) + " with the reason as sent",
			"look for the code in the application's source and documentation; read the close reason",
			"RFC 6455 section 7.4.2",
		}
	case r == RangeReserved:
		t = explainText{
			"a reserved code with no defined meaning",
			"nobody; it must not be sent",
			"a conforming receiver fails the connection (usually 1002)",
			"a reserved code on the wire is a bug in the sending implementation",
			"RFC 6455 section 7.4.2",
		}
	default:
		t = explainText{
			"not a close code: 0-999 are unused and codes above 4999 are outside every range",
			"nobody; it must not be sent",
			"a conforming receiver fails the connection (usually 1002)",
			"an invalid code on the wire is a bug in the sending implementation, or the bytes were not a close frame (check for decoding problems after capture gaps)",
			"RFC 6455 section 7.4.2",
		}
	}
	e.Meaning, e.UsuallySentBy, e.PeerSees, e.WhatToCheck, e.Reference = t.meaning, t.sentBy, t.peerSees, t.check, t.ref
	return e
}
