package tlsdec

import "bytes"

// changeCipherSpec handles a ChangeCipherSpec: in TLS 1.2 the direction's later records are
// protected (sequence numbers from 0); in TLS 1.3 it is only for middleboxes.
func (c *Conn) changeCipherSpec(d *direction) {
	if c.sh == nil || c.sh.hrr || c.version == 0x0304 || d.protected {
		return
	}
	d.protected = true
	d.protRecs = 0
	c.keys12()
	d.cur = c.c12[d.dir]
}

// keys12 finds the TLS 1.2 master secret once and derives the record ciphers from it: logged for this client random, or cached
// for the offered ticket or the echoed session ID.
func (c *Conn) keys12() {
	if c.keysTried {
		return
	}
	c.keysTried = true
	if c.ch == nil || c.sh == nil {
		return
	}
	if sec := c.opts.Keys.lookup(c.ch.random); sec != nil && sec[secMaster] != nil {
		c.master = sec[secMaster]
	}
	if c.master == nil && len(c.ch.ticket) > 0 {
		c.master = c.opts.Sessions.get(sessionTicketKey(c.ch.ticket))
	}
	if c.master == nil && c.info.Resumed {
		c.master = c.opts.Sessions.get(sessionIDKey(c.sh.sessionID))
	}
	if c.master == nil {
		c.noKeys = true
		return
	}
	if len(c.sh.sessionID) > 0 {
		c.opts.Sessions.put(sessionIDKey(c.sh.sessionID), c.master)
	}
	c.c12 = c.ciphers12()
}

// ciphers12 derives both directions' record ciphers from the key block (RFC 5246, 6.3), or
// returns nils when the suite or master secret is missing.
func (c *Conn) ciphers12() [2]*recordCipher {
	if c.suite == nil || c.master == nil {
		return [2]*recordCipher{}
	}
	s := c.suite
	macLen, ivLen := 0, 4
	switch s.bulk {
	case bulkChaCha:
		ivLen = 12
	case bulkAESCBC:
		macLen, ivLen = s.mac.size(), 16
	}
	seed := append(append([]byte(nil), c.sh.random[:]...), c.ch.random[:]...)
	kb := prf12(s.prf, c.master, "key expansion", seed, 2*(macLen+s.keyLen+ivLen))
	take := func(n int) []byte {
		b := kb[:n]
		kb = kb[n:]
		return b
	}
	cMAC, sMAC := take(macLen), take(macLen)
	cKey, sKey := take(s.keyLen), take(s.keyLen)
	cIV, sIV := take(ivLen), take(ivLen)
	etm := c.sh.etm && s.bulk == bulkAESCBC
	return [2]*recordCipher{newCipher12(s, cKey, cIV, cMAC, etm), newCipher12(s, sKey, sIV, sMAC, etm)}
}

// newSessionTicket12 remembers the master secret under a TLS 1.2 ticket, for a later
// connection that resumes with it.
func (c *Conn) newSessionTicket12(body []byte) {
	c.keys12()
	if ticket := parseTicket12(body); ticket != nil && c.master != nil {
		c.opts.Sessions.put(sessionTicketKey(ticket), bytes.Clone(c.master))
	}
}
