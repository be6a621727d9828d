package analyze

import (
	"slices"
	"strconv"
	"strings"

	"github.com/wsclosescan/wsclosescan/layers"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
	"github.com/wsclosescan/wsclosescan/tlsdec"
	"github.com/wsclosescan/wsclosescan/wsparse"
)

// TLS: the record's tls object, and what TLS shows of a connection that could not be
// decrypted.

// tlsCandidate reports whether an undecrypted TLS connection may carry an HTTP/1.1
// WebSocket: it offered only http/1.1 over ALPN, as browsers do for a WebSocket of its own,
// or no ALPN at all, as most libraries do. A connection that also offered h2 is a browser's
// ordinary HTTPS connection (its WebSockets, over HTTP/2, need the keys to be seen at all):
// listing every one of those would bury the candidates.
func tlsCandidate(in *tlsdec.Info) bool {
	for _, p := range in.ALPNOffered {
		if p != "http/1.1" {
			return false
		}
	}
	return true
}

// tlsRecord is the record's tls object, sides resolved.
func tlsRecord(c *layers.Conn, in *tlsdec.Info) *report.TLS {
	t := &report.TLS{Version: in.Version, CipherSuite: in.CipherSuite, SNI: in.SNI,
		ALPNOffered: nonNil(in.ALPNOffered), Resumed: in.Resumed, Decryption: in.Decryption, Alerts: []report.TLSAlert{}}
	if in.ALPN != "" {
		t.ALPN = new(in.ALPN)
	}
	for d, at := range in.CloseNotify {
		if at == nil {
			continue
		}
		tm := &report.Time{Time: *at}
		if c.SideOf(reassembly.Dir(d)) == wsparse.Client {
			t.CloseNotify.Client = tm
		} else {
			t.CloseNotify.Server = tm
		}
	}
	for _, a := range in.Alerts {
		t.Alerts = append(t.Alerts, report.TLSAlert{From: recordSide(c.SideOf(reassembly.Dir(a.Dir))),
			Time: report.Time{Time: a.Time}, Level: alertLevel(a), Description: alertDescription(a)})
	}
	return t
}

func alertLevel(a tlsdec.Alert) string {
	switch a.Level {
	case 0:
		return "encrypted"
	case 1:
		return "warning"
	case 2:
		return "fatal"
	}
	return strconv.Itoa(int(a.Level))
}

// alertNames are the RFC 8446 section 6 alert descriptions.
var alertNames = map[uint8]string{
	0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 22: "record_overflow",
	40: "handshake_failure", 42: "bad_certificate", 43: "unsupported_certificate",
	44: "certificate_revoked", 45: "certificate_expired", 46: "certificate_unknown",
	47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied", 50: "decode_error",
	51: "decrypt_error", 70: "protocol_version", 71: "insufficient_security", 80: "internal_error",
	86: "inappropriate_fallback", 90: "user_canceled", 100: "no_renegotiation",
	109: "missing_extension", 110: "unsupported_extension", 112: "unrecognized_name",
	113: "bad_certificate_status_response", 115: "unknown_psk_identity",
	116: "certificate_required", 120: "no_application_protocol",
}

func alertDescription(a tlsdec.Alert) string {
	if a.Level == 0 {
		return "unknown"
	}
	if n, ok := alertNames[a.Description]; ok {
		return n
	}
	return strconv.Itoa(int(a.Description))
}

// tlsHints explains what the TLS layer hides or shows.
func tlsHints(in *tlsdec.Info, websocket bool) []string {
	var h []string
	switch in.Decryption {
	case "no_keys":
		what := "TLS"
		if in.Version != "" {
			what = in.Version
		}
		if in.SNI != "" {
			what += " to " + in.SNI
		}
		h = append(h, "this "+what+" connection could not be decrypted: no key log entry matches its ClientHello; "+
			"decrypt with --keylog FILE (SSLKEYLOGFILE=FILE for browsers, node --tls-keylog=FILE, Go's "+
			"tls.Config.KeyLogWriter, Python's SSLContext.keylog_filename)")
	case "unsupported":
		v := in.Version
		if v == "" {
			v = "TLS"
		}
		h = append(h, "this "+v+" connection uses "+in.CipherSuite+", a combination the tool cannot decrypt")
	case "partial":
		h = append(h, "part of this TLS connection could not be decrypted (records lost from the capture or not "+
			"authenticated): what they carried is unknown")
	}
	if !websocket && in.ALPN == "" && in.Decryption != "full" && len(in.ALPNOffered) > 0 && !slices.Contains(in.ALPNOffered, "http/1.1") {
		h = append(h, "this TLS connection offered only HTTP/2 (ALPN "+strings.Join(in.ALPNOffered, ", ")+
			"): with its keys, its WebSocket streams (RFC 8441), if any, get records of their own")
	}
	if in.HandshakeFailed {
		h = append(h, "the TLS handshake failed (an alert before both Finished messages): the WebSocket client reports 1006")
	}
	return h
}

// addTLS fills the record's tls object and, for a TLS connection whose content could not be
// seen but may be a WebSocket, says that everything about the WebSocket is unknown: such a
// connection is listed (it is what a wss user is looking for), never called plain TCP.
func addTLS(c *layers.Conn, in *tlsdec.Info, r *report.Record) {
	r.TLS = tlsRecord(c, in)
	hidden := !r.WebSocket && in.Decryption != "full" && in.Decryption != "partial" && tlsCandidate(in)
	if hidden {
		r.Verdict = report.VerdictUnknown
		r.Unknown = []string{"websocket", "handshake", "client_close", "server_close", "client_observed", "server_observed", "verdict"}
		r.ClientObserved, r.ServerObserved = nil, nil
		r.Hints = append(r.Hints, sizeHints(c, in)...)
	}
	r.Hints = append(r.Hints, tlsHints(in, r.WebSocket)...)
}

// aeadOverhead is what protection adds to a record's plaintext: 17 bytes in TLS 1.3 (tag and
// inner type), 24 for TLS 1.2 AES-GCM (explicit nonce and tag), 16 for ChaCha20-Poly1305; 0
// when it is not fixed (CBC) or unknown.
func aeadOverhead(in *tlsdec.Info) int {
	switch {
	case in.Version == "TLS 1.3":
		return 17
	case in.Version != "TLS 1.2":
		return 0
	case strings.Contains(in.CipherSuite, "_GCM_"):
		return 24
	case strings.Contains(in.CipherSuite, "CHACHA20"):
		return 16
	}
	return 0
}

// sizeHints reads the last records each side sent before it ended TCP, as the issue's
// measurements describe: with a fixed AEAD overhead o, a close_notify is 2+o bytes, a
// server's close frame with an r-byte reason 4+r+o and a client's (masked) 8+r+o. Sizes are
// evidence, not proof: the hint says "likely".
func sizeHints(c *layers.Conn, in *tlsdec.Info) []string {
	o := aeadOverhead(in)
	if o == 0 {
		return nil
	}
	var h []string
	for d := range 2 {
		dir := reassembly.Dir(d)
		if end := c.End(dir); end.FIN.IsZero() && end.RST.IsZero() {
			continue // the last record before the end of TCP is what tells
		}
		side := c.SideOf(dir)
		recs := in.Last[d]
		var sizes []string
		notify := false
		for len(recs) > 0 {
			r := recs[len(recs)-1]
			isNotify := r.Length == 2+o && (r.Type == 21 || (o == 17 && r.Type == 23))
			if !isNotify || notify {
				break
			}
			notify = true
			recs = recs[:len(recs)-1]
		}
		if len(recs) == 0 || recs[len(recs)-1].Type != 23 {
			continue
		}
		last := recs[len(recs)-1]
		head := 4
		if side == wsparse.Client {
			head = 8
		}
		reason := last.Length - o - head
		if reason < 0 || reason > 123 {
			continue
		}
		sizes = append(sizes, strconv.Itoa(last.Length))
		what := "a close frame with a code"
		if reason > 0 {
			what += " and a " + strconv.Itoa(reason) + "-byte reason"
		}
		if notify {
			sizes = append(sizes, strconv.Itoa(2+o))
			what += ", then a close_notify"
		}
		label := "record before it ended TCP is "
		if len(sizes) > 1 {
			label = "records before it ended TCP are "
		}
		h = append(h, "the "+side.String()+"'s last TLS "+label+strings.Join(sizes, " and ")+" bytes, the "+
			in.Version+" sizes of "+what+": if this is a WebSocket, that is likely how the "+side.String()+
			" closed it (a data frame of the same size is possible; decrypt to be sure)")
	}
	return h
}
