package tlsdec

import (
	"bytes"
	"encoding/binary"
	"time"
)

// record handles one complete record whose header is in d.hdr.
func (c *Conn) record(d *direction, body []byte, t time.Time) {
	c.info.Records[d.dir]++
	d.last[d.lastN%LastRecords] = RecordSeen{Type: d.hdr[0], Length: len(body), Time: t}
	d.lastN++
	typ := d.hdr[0]
	tls13 := c.version == 0x0304
	switch {
	case d.protected && (!tls13 || typ == recAppData):
		c.protectedRecord(d, body, t)
		return
	case typ == recAppData:
		c.unexpectedAppData(d, body, t)
		return
	}
	switch typ {
	case recChangeCipherSpec:
		c.changeCipherSpec(d)
	case recAlert:
		c.alerts(d.dir, body, false, t)
	case recHandshake:
		c.handshakeContent(d, body, t)
	}
}

// unexpectedAppData handles application data in a direction not (yet) known to be
// protected: TLS 1.3 0-RTT before the ServerHello, or TLS 1.2 data whose ChangeCipherSpec
// was lost.
func (c *Conn) unexpectedAppData(d *direction, body []byte, t time.Time) {
	switch {
	case d.dir == ClientToServer && c.sh == nil && c.ch != nil && c.ch.earlyData:
		c.protectedRecord(d, body, t)
	case c.sh != nil && c.version != 0x0304:
		c.changeCipherSpec(d)
		d.afterGap = true
		c.protectedRecord(d, body, t)
	default:
		d.protRecs++
		c.lost++
	}
}

// protectedRecord decrypts a protected record and handles its content.
func (c *Conn) protectedRecord(d *direction, body []byte, t time.Time) {
	d.protRecs++
	plain, inner, _, ok := c.trial(d, &d.hdr, body, true, t)
	if !ok {
		c.lost++
		c.inferUndecrypted(d, body, t)
		c.lostPlaintext(d, d.hdr[0], len(body), t)
		return
	}
	c.decrypted++
	if inner == recAppData && d.unsureGap {
		d.unsureGap = false
		c.plainGap(d.dir, 0, t)
	}
	switch inner {
	case recAppData:
		c.plaintext(d.dir, plain, t)
	case recAlert:
		c.alerts(d.dir, plain, true, t)
	case recHandshake:
		c.handshakeContent(d, plain, t)
	}
	c.afterRecord(d)
}

// afterRecord applies key changes that handshake messages of the record asked for.
func (c *Conn) afterRecord(d *direction) {
	if c.version != 0x0304 {
		d.gotFinished, d.gotKeyUpdate = false, false
		return
	}
	if d.gotFinished {
		d.gotFinished = false
		d.cur, d.app, d.next, d.phase = d.app, nil, nil, phaseApp
		d.hs.reset()
	}
	if d.gotKeyUpdate {
		d.gotKeyUpdate = false
		d.cur, d.next = d.cur.keyUpdate(), nil
		d.hs.reset()
	}
}

// inferUndecrypted draws what the outer record shows when it could not be decrypted.
func (c *Conn) inferUndecrypted(d *direction, body []byte, t time.Time) {
	first := d.protRecs == 1
	if c.version != 0x0304 {
		switch d.hdr[0] {
		case recHandshake:
			if first {
				c.finished[d.dir] = true // the Finished
			}
		case recAlert:
			c.addAlert(d.dir, 0, 0, true, t)
		}
		return
	}
	if d.dir != ClientToServer || !first || d.phase != phaseHandshake || c.ch == nil || c.ch.earlyData {
		return
	}
	if len(body) == 2+1+16 {
		c.info.HandshakeFailed = true // an alert instead of the Finished
		return
	}
	c.finished[0], c.finished[1] = true, true
}

// candidates lists the ciphers a protected record of d may be under.
func (c *Conn) candidates(d *direction, hdr *[recordHeaderLen]byte) []*recordCipher {
	if d.dead {
		return nil
	}
	list := d.cands[:0]
	if d.cur != nil {
		list = append(list, d.cur)
	}
	if c.version == 0x0304 || c.sh == nil {
		if d.phase == phaseHandshake && d.app != nil {
			list = append(list, d.app)
		}
		if d.dir == ClientToServer && d.phase != phaseApp {
			for _, e := range d.early {
				if len(list) < cap(list) {
					list = append(list, e)
				}
			}
		}
		if d.afterGap && d.phase == phaseApp && d.cur != nil {
			if d.next == nil {
				d.next = d.cur.keyUpdate()
			}
			if d.next != nil {
				list = append(list, d.next)
			}
		}
	}
	return list
}

// trial opens a record under the candidate ciphers: the expected sequence number, or after
// a gap the next seqWindow ones. skipped is how many numbers the record is past the expected
// one under d's current cipher (0 under another). With commit it also moves d to the cipher
// and number that worked, or counts the failure.
func (c *Conn) trial(d *direction, hdr *[recordHeaderLen]byte, body []byte, commit bool, t time.Time) (plain []byte, inner uint8, skipped uint64, ok bool) {
	if d.out == nil {
		d.out = make([]byte, 0, maxCiphertext)
	}
	window := uint64(1)
	if d.afterGap {
		window = seqWindow
	}
	for _, rc := range c.candidates(d, hdr) {
		plain, inner, seq, ok := openWindow(rc, d.out, hdr, body, window)
		if !ok {
			continue
		}
		if rc == d.cur {
			skipped = seq - rc.seq
		}
		if commit {
			c.adopt(d, rc, seq, t)
		}
		return plain, inner, skipped, true
	}
	if commit {
		d.afterGap = true // the record may not have used a number (rejected 0-RTT), or did
		if d.fails++; d.fails >= maxFailures {
			d.dead = true
		}
	}
	return nil, 0, 0, false
}

// openWindow tries sequence numbers rc.seq … rc.seq+window-1, the record's explicit nonce
// first for TLS 1.2 AES-GCM (implementations send the sequence number there).
func openWindow(rc *recordCipher, dst []byte, hdr *[recordHeaderLen]byte, body []byte, window uint64) ([]byte, uint8, uint64, bool) {
	if window > 1 && !rc.tls13 && rc.suite.bulk == bulkAESGCM && len(body) >= 8 {
		if s := binary.BigEndian.Uint64(body); s-rc.seq < window {
			plain, inner, ok := rc.open(dst, hdr, body, s)
			return plain, inner, s, ok
		}
	}
	for i := uint64(0); i < window; i++ {
		if plain, inner, ok := rc.open(dst, hdr, body, rc.seq+i); ok {
			return plain, inner, rc.seq + i, true
		}
	}
	return nil, 0, 0, false
}

// adopt makes rc, which opened record seq, the cipher of d where it is a key change.
func (c *Conn) adopt(d *direction, rc *recordCipher, seq uint64, t time.Time) {
	rc.seq = seq + 1
	d.afterGap, d.fails = false, 0
	switch {
	case rc == d.cur:
	case rc == d.app:
		// The Finished was missed (or not decrypted): application keys are in use, and
		// records before this one under them were lost.
		d.cur, d.app, d.next, d.phase = rc, nil, nil, phaseApp
		c.finished[d.dir] = true
		if seq > 0 {
			c.lostPlaintext(d, recAppData, 0, t)
		}
	case rc == d.next:
		d.cur, d.next = rc, nil
	default:
		// 0-RTT: keep the one early cipher that works.
		d.early = append(d.early[:0], rc)
	}
}

// handshakeContent feeds handshake record content to the message reassembly.
func (c *Conn) handshakeContent(d *direction, b []byte, t time.Time) {
	d.hs.feed(b, func(typ uint8, body []byte) { c.handshakeMsg(d, typ, body, t) })
}

// handshakeMsg handles one complete handshake message.
func (c *Conn) handshakeMsg(d *direction, typ uint8, body []byte, t time.Time) {
	switch typ {
	case hsClientHello:
		if d.dir == ClientToServer {
			c.clientHello(body)
		}
	case hsServerHello:
		if d.dir == ServerToClient {
			c.serverHello(body)
		}
	case hsEncryptedExtensions:
		c.info.ALPN = parseEncryptedExtensions(body)
	case hsFinished:
		c.finished[d.dir] = true
		d.gotFinished = true
	case hsKeyUpdate:
		d.gotKeyUpdate = true
	case hsEndOfEarlyData:
		d.early = nil
	case hsNewSessionTicket:
		if d.dir == ServerToClient && c.version != 0x0304 {
			c.newSessionTicket12(body)
		}
	}
}

// clientHello handles a ClientHello; after a HelloRetryRequest the second one keeps the
// first one's random (they must be equal) and cannot carry 0-RTT.
func (c *Conn) clientHello(body []byte) {
	ch, ok := parseClientHello(body)
	if !ok {
		return
	}
	if c.ch != nil {
		c.ch.earlyData = false
		c.dirs[ClientToServer].early = nil
		return
	}
	c.ch = ch
	c.info.SNI, c.info.ALPNOffered = ch.sni, ch.alpn
	if ch.earlyData {
		c.setupEarly()
	}
}

// setupEarly prepares 0-RTT ciphers for each suite the early secret may belong to: the
// ServerHello, which names the suite, comes after the early data.
func (c *Conn) setupEarly() {
	sec := c.opts.Keys.lookup(c.ch.random)
	if sec == nil || sec[secClientEarly] == nil {
		return
	}
	d := &c.dirs[ClientToServer]
	for i := range suites {
		if s := &suites[i]; s.tls13 {
			if rc := newCipher13(s, sec[secClientEarly]); rc != nil {
				d.early = append(d.early, rc)
			}
		}
	}
}

// serverHello handles a ServerHello or HelloRetryRequest.
func (c *Conn) serverHello(body []byte) {
	sh, ok := parseServerHello(body)
	if !ok || (c.sh != nil && !c.sh.hrr) {
		return
	}
	c.sh, c.version, c.suiteID = sh, sh.version, sh.suite
	c.info.Version, c.info.CipherSuite = versionName(sh.version), suiteName(sh.suite)
	if sh.hrr {
		return
	}
	s := suiteByID(sh.suite)
	if s != nil && (s.tls13 && sh.version == 0x0304 || !s.tls13 && sh.version == 0x0303) {
		c.suite = s
	}
	if sh.version != 0x0304 {
		c.info.ALPN = sh.alpn
		c.info.Resumed = c.ch != nil && len(sh.sessionID) > 0 && bytes.Equal(sh.sessionID, c.ch.sessionID)
		return
	}
	c.info.Resumed = sh.psk
	c.setup13()
}

// setup13 installs the TLS 1.3 handshake traffic keys for both directions.
func (c *Conn) setup13() {
	for i := range c.dirs {
		c.dirs[i].dir = Dir(i)
		c.dirs[i].protected, c.dirs[i].phase = true, phaseHandshake
	}
	if c.suite == nil || c.ch == nil {
		return
	}
	c.sec = c.opts.Keys.lookup(c.ch.random)
	if c.sec == nil {
		c.noKeys = true
		return
	}
	cl, sv := &c.dirs[ClientToServer], &c.dirs[ServerToClient]
	cl.cur, sv.cur = newCipher13(c.suite, c.sec[secClientHS]), newCipher13(c.suite, c.sec[secServerHS])
	cl.app, sv.app = newCipher13(c.suite, c.sec[secClientApp]), newCipher13(c.suite, c.sec[secServerApp])
	// Keep only early ciphers of the suite now known.
	early := cl.early[:0]
	for _, e := range cl.early {
		if e.suite == c.suite {
			early = append(early, e)
		}
	}
	cl.early = early
}
