package tlsdec

import (
	"bytes"

	"golang.org/x/crypto/cryptobyte"
)

// Handshake message types (RFC 8446, 4; RFC 5246, 7.4).
const (
	hsClientHello         = 1
	hsServerHello         = 2
	hsNewSessionTicket    = 4
	hsEndOfEarlyData      = 5
	hsEncryptedExtensions = 8
	hsFinished            = 20
	hsKeyUpdate           = 24
)

// Extension numbers used here.
const (
	extServerName        = 0
	extALPN              = 16
	extEncryptThenMAC    = 22
	extSessionTicket     = 35
	extPreSharedKey      = 41
	extEarlyData         = 42
	extSupportedVersions = 43
)

// maxHandshakeMsg bounds a buffered handshake message. Bigger messages of a type this
// package parses are skipped; messages it does not parse (certificates) are never buffered.
const maxHandshakeMsg = 64 << 10

// helloRetryRandom is the ServerHello random of a HelloRetryRequest (RFC 8446, 4.1.3).
var helloRetryRandom = [32]byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

// wantHandshake reports whether messages of type t are parsed (and so buffered).
func wantHandshake(t uint8) bool {
	switch t {
	case hsClientHello, hsServerHello, hsNewSessionTicket, hsEndOfEarlyData,
		hsEncryptedExtensions, hsFinished, hsKeyUpdate:
		return true
	}
	return false
}

// hsBuffer reassembles handshake messages of one direction across records.
type hsBuffer struct {
	buf  []byte // a message's header and the body so far, when split
	skip int    // body bytes of a skipped message still to come
}

// reset drops a partial message (at a key change, where messages may not span).
func (h *hsBuffer) reset() { h.buf, h.skip = h.buf[:0], 0 }

// feed consumes handshake record content and calls fn for each complete message of a wanted
// type. body is only valid during the call.
func (h *hsBuffer) feed(data []byte, fn func(typ uint8, body []byte)) {
	for len(data) > 0 {
		if h.skip > 0 {
			n := min(h.skip, len(data))
			h.skip -= n
			data = data[n:]
			continue
		}
		if len(h.buf) == 0 && len(data) >= 4 {
			typ, n := data[0], int(data[1])<<16|int(data[2])<<8|int(data[3])
			if len(data) >= 4+n && wantHandshake(typ) {
				fn(typ, data[4:4+n])
				data = data[4+n:]
				continue
			}
		}
		if len(h.buf) < 4 {
			n := min(4-len(h.buf), len(data))
			h.buf = append(h.buf, data[:n]...)
			data = data[n:]
			if len(h.buf) < 4 {
				return
			}
		}
		typ, n := h.buf[0], int(h.buf[1])<<16|int(h.buf[2])<<8|int(h.buf[3])
		if !wantHandshake(typ) || n > maxHandshakeMsg {
			h.skip = n - (len(h.buf) - 4)
			h.buf = h.buf[:0]
			continue
		}
		take := min(4+n-len(h.buf), len(data))
		h.buf = append(h.buf, data[:take]...)
		data = data[take:]
		if len(h.buf) == 4+n {
			fn(typ, h.buf[4:])
			h.buf = h.buf[:0]
		}
	}
}

// clientHello holds what this package reads from a ClientHello.
type clientHello struct {
	random    [32]byte
	sessionID []byte
	sni       string
	alpn      []string
	versions  []uint16
	ticket    []byte // session_ticket extension data: a TLS 1.2 ticket offered for resumption
	earlyData bool
}

// serverHello holds what this package reads from a ServerHello or HelloRetryRequest.
type serverHello struct {
	random    [32]byte
	sessionID []byte
	suite     uint16
	version   uint16 // supported_versions if present, else legacy_version
	alpn      string
	psk       bool
	etm       bool
	hrr       bool
}

// parseClientHello parses a ClientHello body. Extensions past a malformed one are ignored.
func parseClientHello(body []byte) (*clientHello, bool) {
	s := cryptobyte.String(body)
	var ch clientHello
	var random, sid []byte
	var suites, comp cryptobyte.String
	if !s.Skip(2) || !s.ReadBytes(&random, 32) || !s.ReadUint8LengthPrefixed((*cryptobyte.String)(&sid)) ||
		!s.ReadUint16LengthPrefixed(&suites) || !s.ReadUint8LengthPrefixed(&comp) {
		return nil, false
	}
	copy(ch.random[:], random)
	ch.sessionID = bytes.Clone(sid)
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) {
		return &ch, true // no extensions
	}
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			break
		}
		ch.parseExtension(typ, data)
	}
	return &ch, true
}

func (ch *clientHello) parseExtension(typ uint16, data cryptobyte.String) {
	switch typ {
	case extServerName:
		var list cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) {
			return
		}
		for !list.Empty() {
			var nameType uint8
			var name cryptobyte.String
			if !list.ReadUint8(&nameType) || !list.ReadUint16LengthPrefixed(&name) {
				return
			}
			if nameType == 0 && ch.sni == "" {
				ch.sni = string(name)
			}
		}
	case extALPN:
		ch.alpn = parseALPNList(data)
	case extSupportedVersions:
		var list cryptobyte.String
		if !data.ReadUint8LengthPrefixed(&list) {
			return
		}
		for !list.Empty() {
			var v uint16
			if !list.ReadUint16(&v) {
				return
			}
			ch.versions = append(ch.versions, v)
		}
	case extSessionTicket:
		ch.ticket = bytes.Clone(data)
	case extEarlyData:
		ch.earlyData = true
	}
}

// parseALPNList parses a ProtocolNameList.
func parseALPNList(data cryptobyte.String) []string {
	var list cryptobyte.String
	if !data.ReadUint16LengthPrefixed(&list) {
		return nil
	}
	var out []string
	for !list.Empty() {
		var p cryptobyte.String
		if !list.ReadUint8LengthPrefixed(&p) {
			break
		}
		out = append(out, string(p))
	}
	return out
}

// parseServerHello parses a ServerHello (or HelloRetryRequest) body.
func parseServerHello(body []byte) (*serverHello, bool) {
	s := cryptobyte.String(body)
	var sh serverHello
	var random, sid []byte
	var comp uint8
	if !s.ReadUint16(&sh.version) || !s.ReadBytes(&random, 32) ||
		!s.ReadUint8LengthPrefixed((*cryptobyte.String)(&sid)) || !s.ReadUint16(&sh.suite) || !s.ReadUint8(&comp) {
		return nil, false
	}
	copy(sh.random[:], random)
	sh.sessionID = bytes.Clone(sid)
	sh.hrr = sh.random == helloRetryRandom
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) {
		return &sh, true
	}
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			break
		}
		switch typ {
		case extSupportedVersions:
			var v uint16
			if data.ReadUint16(&v) {
				sh.version = v
			}
		case extALPN:
			if l := parseALPNList(data); len(l) > 0 {
				sh.alpn = l[0]
			}
		case extPreSharedKey:
			sh.psk = true
		case extEncryptThenMAC:
			sh.etm = true
		}
	}
	return &sh, true
}

// parseEncryptedExtensions returns the ALPN protocol a TLS 1.3 server chose, if any.
func parseEncryptedExtensions(body []byte) (alpn string) {
	s := cryptobyte.String(body)
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) {
		return ""
	}
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			break
		}
		if typ == extALPN {
			if l := parseALPNList(data); len(l) > 0 {
				alpn = l[0]
			}
		}
	}
	return alpn
}

// parseTicket12 returns the ticket of a TLS 1.2 NewSessionTicket (RFC 5077, 3.3).
func parseTicket12(body []byte) []byte {
	s := cryptobyte.String(body)
	var ticket cryptobyte.String
	if !s.Skip(4) || !s.ReadUint16LengthPrefixed(&ticket) || len(ticket) == 0 {
		return nil
	}
	return bytes.Clone(ticket)
}
