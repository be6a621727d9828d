// Package tlsdec turns the two TCP byte streams of one connection into its TLS plaintext
// streams, given the secrets of an NSS key log (SSLKEYLOGFILE), and describes the TLS session
// (version, suite, SNI, ALPN, alerts, close_notify) from what is visible without them.
//
// It decrypts TLS 1.3 (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305, KeyUpdate, 0-RTT when its
// secret is logged) and TLS 1.2 (AES-GCM, ChaCha20-Poly1305 and AES-CBC suites, resumption
// by session ID or ticket through a shared Sessions cache). Memory is bounded per
// direction: one record (at most 16 KiB + 2 KiB) and one handshake message (64 KiB).
//
// Feed both directions in capture order: a direction's protection starts with a message the
// other direction sends (the ServerHello), so the calls must interleave as the bytes did.
package tlsdec

import (
	"time"
)

// Dir is the direction of a byte stream, named by its sender.
type Dir uint8

const (
	// ClientToServer is the direction of the ClientHello's sender.
	ClientToServer Dir = 0
	// ServerToClient is the other direction.
	ServerToClient Dir = 1
)

// String names the sender: "client" or "server".
func (d Dir) String() string {
	if d == ClientToServer {
		return "client"
	}
	return "server"
}

// Options configures a Conn.
type Options struct {
	// Keys holds the key log secrets. It may be nil: then nothing is decrypted but Info is
	// still filled from the cleartext handshake.
	Keys *KeyLog
	// Sessions, shared by the Conns of a capture, remembers TLS 1.2 master secrets by
	// session ID and ticket so that resumed handshakes can be decrypted. May be nil.
	Sessions *Sessions
	// Plaintext receives decrypted application_data bytes in stream order per direction,
	// with the capture time of the record that carried them (when its last byte arrived).
	// data is only valid during the call.
	Plaintext func(dir Dir, data []byte, t time.Time)
	// PlainGap reports that plaintext bytes of dir are missing (a record that could not be
	// decrypted, or bytes lost in the capture); length 0 = unknown.
	PlainGap func(dir Dir, length int64, t time.Time)
}

// Alert is one TLS alert.
type Alert struct {
	Dir  Dir
	Time time.Time
	// Level is 1 (warning) or 2 (fatal), or 0 when the alert was encrypted and could not be
	// decrypted: then Description is meaningless too.
	Level       uint8
	Description uint8
	// Encrypted says the alert travelled in a protected record.
	Encrypted bool
}

// Alert descriptions with a meaning here.
const (
	AlertCloseNotify uint8 = 0
)

// maxAlerts bounds Info.Alerts.
const maxAlerts = 64

// Info describes a TLS connection as far as it was seen.
type Info struct {
	// Version is "TLS 1.3", "TLS 1.2", ... from the ServerHello (supported_versions
	// included), or "" if unknown.
	Version string
	// CipherSuite is the IANA name, e.g. "TLS_AES_128_GCM_SHA256", or "" if unknown.
	CipherSuite string
	SNI         string
	ALPNOffered []string
	// ALPN is the protocol the server chose: TLS 1.2 from the ServerHello, TLS 1.3 from the
	// EncryptedExtensions, so only when decrypted.
	ALPN string
	// Resumed: a PSK was accepted (TLS 1.3), or the session ID was echoed (TLS 1.2).
	Resumed bool
	// Decryption is "full" (every protected record decrypted, no bytes missing), "partial",
	// "none" (secrets found, nothing decrypted, or no ClientHello seen), "no_keys" (no
	// secrets for this client random) or "unsupported" (version or suite).
	Decryption string
	// CloseNotify holds, per Dir, when that side sent close_notify, or nil.
	CloseNotify [2]*time.Time
	// Alerts lists the alerts seen (at most 64).
	Alerts []Alert
	// HandshakeFailed: an alert arrived before both Finished messages, or (TLS 1.3, not
	// decrypted) the client's first protected record has the size of an alert (19 bytes)
	// instead of its Finished.
	HandshakeFailed bool
	// HandshakeDone: both Finished messages were seen; without keys inferred from the
	// records (TLS 1.2: each side sent ChangeCipherSpec and a protected handshake record;
	// TLS 1.3: the client sent a protected record that is not alert-sized).
	HandshakeDone bool
	// Records counts the records seen per Dir.
	Records [2]int
	// Last holds, per Dir, the last records seen (at most LastRecords, oldest first): what
	// record sizes can tell without keys (see the README's TLS notes).
	Last [2][]RecordSeen
}

// LastRecords is how many of each direction's last records Info.Last keeps.
const LastRecords = 4

// RecordSeen is one record as the wire shows it, protected or not.
type RecordSeen struct {
	Type   uint8 // outer content type: 20 ChangeCipherSpec, 21 alert, 22 handshake, 23 application data
	Length int   // the record's length field
	Time   time.Time
}

// Conn decodes one TLS connection. It is not safe for concurrent use.
type Conn struct {
	opts Options
	dirs [2]direction

	ch      *clientHello
	sh      *serverHello
	version uint16
	suiteID uint16
	suite   *suite // nil: unknown or not decryptable
	sec     *secrets
	master  []byte           // TLS 1.2
	c12     [2]*recordCipher // TLS 1.2 ciphers per Dir, from the key block

	keysTried bool // TLS 1.2 key block derived (or found impossible)
	noKeys    bool
	ended     bool

	info     Info
	finished [2]bool
	// Protected records that were decrypted, and those that were not or were lost.
	decrypted, lost int
}

// NewConn returns a decoder for one connection.
func NewConn(opts Options) *Conn {
	return &Conn{opts: opts}
}

// Info returns what is known about the connection so far.
func (c *Conn) Info() Info {
	in := c.info
	in.Alerts = append([]Alert(nil), c.info.Alerts...)
	for i, p := range c.info.CloseNotify {
		if p != nil {
			t := *p
			in.CloseNotify[i] = &t
		}
	}
	in.HandshakeDone = c.finished[0] && c.finished[1]
	for i := range c.dirs {
		d := &c.dirs[i]
		for k := max(0, d.lastN-LastRecords); k < d.lastN; k++ {
			in.Last[i] = append(in.Last[i], d.last[k%LastRecords])
		}
	}
	in.Decryption = c.decryptionStatus()
	return in
}

// decryptionStatus summarises how much was decrypted.
func (c *Conn) decryptionStatus() string {
	switch {
	case c.opts.Keys == nil && c.opts.Sessions == nil:
		return "no_keys"
	case c.ch == nil:
		return "none"
	case c.sh != nil && !c.sh.hrr && c.suite == nil:
		return "unsupported"
	case c.noKeys:
		return "no_keys"
	case c.lost == 0 && c.sh != nil && !c.sh.hrr:
		return "full"
	case c.decrypted > 0:
		return "partial"
	}
	return "none"
}

// LooksLikeTLS reports whether b (the first bytes of a direction) starts a TLS handshake
// record: content type 22, version 3.x, a sane length and, if present, a ClientHello or
// ServerHello message type. It needs at least 5 bytes.
func LooksLikeTLS(b []byte) bool {
	if len(b) < 5 || b[0] != recHandshake || b[1] != 3 || b[2] > 4 {
		return false
	}
	n := int(b[3])<<8 | int(b[4])
	if n < 4 || n > maxPlaintext {
		return false
	}
	return len(b) < 6 || b[5] == hsClientHello || b[5] == hsServerHello
}

// Feed gives the next TCP bytes of dir, in order, in chunks of any size.
func (c *Conn) Feed(dir Dir, data []byte, t time.Time) {
	if c.ended {
		return
	}
	c.feed(dir&1, data, t)
}

// Gap reports that length TCP bytes of dir are missing (0 = unknown) at this point.
func (c *Conn) Gap(dir Dir, length int64, t time.Time) {
	if c.ended {
		return
	}
	c.gap(dir&1, length, t)
}

// Finish ends the connection: a record still incomplete is reported as missing plaintext.
// Feed and Gap do nothing after it.
func (c *Conn) Finish(t time.Time) {
	if c.ended {
		return
	}
	c.ended = true
	for i := range c.dirs {
		d := &c.dirs[i]
		if !d.lostSync && d.hdrN == recordHeaderLen && d.protected {
			c.lost++
			c.plainGap(Dir(i), 0, t)
		}
		if d.lostSync {
			c.endDeferredGap(d, -1, t)
		}
	}
}

// plainGap calls Options.PlainGap.
func (c *Conn) plainGap(dir Dir, n int64, t time.Time) {
	if c.opts.PlainGap != nil {
		c.opts.PlainGap(dir, n, t)
	}
}

// plaintext calls Options.Plaintext for non-empty data.
func (c *Conn) plaintext(dir Dir, data []byte, t time.Time) {
	if len(data) > 0 && c.opts.Plaintext != nil {
		c.opts.Plaintext(dir, data, t)
	}
}

// addAlert records an alert and what it implies.
func (c *Conn) addAlert(dir Dir, level, desc uint8, encrypted bool, t time.Time) {
	if len(c.info.Alerts) < maxAlerts {
		c.info.Alerts = append(c.info.Alerts, Alert{Dir: dir, Time: t, Level: level, Description: desc, Encrypted: encrypted})
	}
	if level != 0 && desc == AlertCloseNotify && c.info.CloseNotify[dir] == nil {
		tt := t
		c.info.CloseNotify[dir] = &tt
	}
	if !(c.finished[0] && c.finished[1]) {
		c.info.HandshakeFailed = true
	}
}

// alerts parses the content of an alert record.
func (c *Conn) alerts(dir Dir, b []byte, encrypted bool, t time.Time) {
	for len(b) >= 2 {
		c.addAlert(dir, b[0], b[1], encrypted, t)
		b = b[2:]
	}
}
