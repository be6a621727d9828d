package tlsdec

import (
	"bytes"
	"time"
)

// Record content types.
const (
	recChangeCipherSpec = 20
	recAlert            = 21
	recHandshake        = 22
	recAppData          = 23
)

const (
	recordHeaderLen = 5
	maxPlaintext    = 1 << 14
	// maxCiphertext bounds a record body: TLS 1.2 allows 2^14 + 2048.
	maxCiphertext = maxPlaintext + 2048
	// seqWindow is how many sequence numbers are tried after a gap or failure.
	seqWindow = 64
	// maxFailures ends decryption in a direction after this many records in a row failed.
	maxFailures = 64
	// maxCandidates ends authenticated resynchronisation after this many plausible headers
	// failed; later headers are then taken on trust.
	maxCandidates = 32
)

// 1.3 phases of a direction.
const (
	phasePlain     = iota // before the ServerHello
	phaseHandshake        // handshake traffic keys
	phaseApp              // application traffic keys
)

// direction is the state of one byte stream.
type direction struct {
	dir Dir

	last  [LastRecords]RecordSeen // ring of the last records
	lastN int                     // records put in the ring

	// Framing.
	hdr      [recordHeaderLen]byte
	hdrN     int
	body     []byte // the record body so far, when it spans chunks
	recLen   int
	have     int
	damaged  bool // bytes of the current record were lost: discard it
	started  bool
	notTLS   bool // the first header was not TLS: ignore the direction
	lostSync bool // record boundaries lost: scanning for a header
	scan     []byte
	tries    int // authenticated resynchronisation candidates that failed

	// unsureGap: bytes were lost before this direction was known to be protected; the next
	// decrypted application data reports a gap of unknown length first.
	unsureGap bool
	// afterGap: the next protected record may carry any of the next seqWindow numbers.
	afterGap bool
	// deferGap: the PlainGap for lost records waits for resynchronisation, which may tell
	// its length: gapBytes lost bytes (-1: unknown) of which scanned bytes were not records.
	deferGap bool
	gapBytes int64
	scanned  int

	hs hsBuffer

	// Protection.
	protected bool
	phase     int
	cur       *recordCipher
	app       *recordCipher   // TLS 1.3 application traffic secret 0, until in use
	next      *recordCipher   // TLS 1.3 next KeyUpdate generation, tried after a gap
	early     []*recordCipher // TLS 1.3 client 0-RTT candidates
	cands     [8]*recordCipher
	out       []byte
	protRecs  int
	fails     int
	dead      bool // too many failures: stop decrypting
	// Set by handshake messages, acted on after the record.
	gotFinished, gotKeyUpdate bool
}

// plausibleHeader reports whether h can be a record header. strict (for resynchronisation)
// also demands the TLS 1.0–1.2 record versions and a body.
func plausibleHeader(h []byte, strict bool) bool {
	if h[0] < recChangeCipherSpec || h[0] > recAppData || h[1] != 3 || h[2] > 4 {
		return false
	}
	n := int(h[3])<<8 | int(h[4])
	if n > maxCiphertext {
		return false
	}
	if strict {
		return h[2] >= 1 && h[2] <= 3 && n > 0
	}
	return true
}

func (c *Conn) feed(dir Dir, data []byte, t time.Time) {
	d := &c.dirs[dir]
	d.dir = dir
	for len(data) > 0 && !d.notTLS {
		if d.lostSync {
			data = c.resync(d, data, t)
			continue
		}
		if d.hdrN < recordHeaderLen {
			data = c.feedHeader(d, data, t)
			continue
		}
		data = c.feedBody(d, data, t)
	}
}

// feedHeader consumes header bytes, or whole records straight from data.
func (c *Conn) feedHeader(d *direction, data []byte, t time.Time) []byte {
	if d.hdrN == 0 && len(data) >= recordHeaderLen {
		if !c.checkHeader(d, data[:recordHeaderLen], nil, t) {
			return data // rescanned from its first byte
		}
		n := int(data[3])<<8 | int(data[4])
		if len(data) >= recordHeaderLen+n {
			copy(d.hdr[:], data)
			c.record(d, data[recordHeaderLen:recordHeaderLen+n], t)
			return data[recordHeaderLen+n:]
		}
	}
	k := copy(d.hdr[d.hdrN:], data)
	d.hdrN += k
	data = data[k:]
	if d.hdrN == recordHeaderLen {
		if !c.checkHeader(d, d.hdr[:], d.hdr[:], t) {
			d.hdrN = 0
			return data
		}
		d.recLen, d.have, d.damaged = int(d.hdr[3])<<8|int(d.hdr[4]), 0, false
		d.body = d.body[:0]
		if d.recLen == 0 {
			c.endRecord(d, nil, t)
		}
	}
	return data
}

// checkHeader judges a header at a record boundary. The first one must be TLS, or the
// direction is ignored; a later bad one means the boundaries were lost, and scanning starts
// at pending (the header bytes already consumed, if any) and the data that follows.
func (c *Conn) checkHeader(d *direction, h, pending []byte, t time.Time) bool {
	if plausibleHeader(h, false) {
		d.started = true
		return true
	}
	if !d.started {
		d.notTLS = true
		return false
	}
	c.loseSync(d, pending, t)
	return false
}

// feedBody consumes body bytes of the current record.
func (c *Conn) feedBody(d *direction, data []byte, t time.Time) []byte {
	n := min(d.recLen-d.have, len(data))
	if !d.damaged {
		if d.body == nil {
			d.body = make([]byte, 0, maxCiphertext)
		}
		d.body = append(d.body, data[:n]...)
	}
	d.have += n
	if d.have == d.recLen {
		c.endRecord(d, d.body, t)
	}
	return data[n:]
}

// endRecord handles a record completed in the buffer (or damaged).
func (c *Conn) endRecord(d *direction, body []byte, t time.Time) {
	d.hdrN = 0
	if d.damaged {
		c.damagedRecord(d, t)
	} else {
		c.record(d, body, t)
	}
	d.body = d.body[:0]
}

// damagedRecord accounts for a record some bytes of which were lost.
func (c *Conn) damagedRecord(d *direction, t time.Time) {
	d.damaged = false
	c.info.Records[d.dir]++
	if d.protected || d.hdr[0] == recAppData {
		d.protRecs++
		c.lost++
		c.lostPlaintext(d, d.hdr[0], d.recLen, t)
		if d.cur != nil {
			d.cur.seq++ // it used a sequence number
		}
		d.afterGap = true
		return
	}
	d.hs.reset()
}

// lostPlaintext reports a protected record of outer type typ and body length n that was
// not decrypted, if it may have carried application data and keys exist to miss it.
func (c *Conn) lostPlaintext(d *direction, typ uint8, n int, t time.Time) {
	if c.noKeys || c.opts.Keys == nil && c.opts.Sessions == nil || typ != recAppData {
		return
	}
	if c.version == 0x0304 {
		if d.phase == phaseApp || (d.dir == ClientToServer && c.ch != nil && c.ch.earlyData && c.finished[1] == false) {
			c.plainGap(d.dir, 0, t)
		}
		return
	}
	if c.suite != nil {
		if o := overhead12(c.suite); o >= 0 && n >= o {
			c.plainGap(d.dir, int64(n-o), t)
			return
		}
	}
	c.plainGap(d.dir, 0, t)
}

func (c *Conn) gap(dir Dir, length int64, t time.Time) {
	d := &c.dirs[dir]
	d.dir = dir
	if d.notTLS {
		return
	}
	if d.lostSync {
		d.scan = d.scan[:0] // the bytes before and after are not contiguous
		d.gapBytes = -1
		return
	}
	if !d.started && d.hdrN == 0 {
		// Nothing seen yet: whatever comes first must still look like TLS.
		d.unsureGap = true
		d.started = true
		c.loseSync(d, nil, t)
		return
	}
	if d.hdrN == recordHeaderLen && length > 0 && length <= int64(d.recLen-d.have) {
		d.damaged = true
		d.have += int(length)
		if d.have == d.recLen {
			c.endRecord(d, nil, t)
		}
		return
	}
	if d.hdrN == 0 && length > 0 && d.protected {
		// Whole records are lost: resynchronisation may tell how many.
		d.deferGap, d.gapBytes = true, length
	}
	c.loseSync(d, nil, t)
}

// loseSync starts scanning for the next record header. pending holds bytes already taken
// from the stream that must be scanned too.
func (c *Conn) loseSync(d *direction, pending []byte, t time.Time) {
	if d.protected {
		// At least one protected record is lost with the boundaries.
		d.protRecs++
		c.lost++
		if !d.deferGap {
			c.lostPlaintext(d, recAppData, 0, t)
		}
	} else {
		d.unsureGap = true
	}
	d.hs.reset()
	d.lostSync, d.afterGap, d.hdrN, d.damaged, d.tries, d.scanned = true, true, 0, false, 0, 0
	d.body = d.body[:0]
	if d.scan == nil {
		d.scan = make([]byte, 0, recordHeaderLen+maxCiphertext)
	}
	d.scan = append(d.scan[:0], pending...)
}

// resync scans for a record header that authenticates (or, without keys, looks right), and
// returns the bytes of data it did not take.
func (c *Conn) resync(d *direction, data []byte, t time.Time) []byte {
	n := min(cap(d.scan)-len(d.scan), len(data))
	d.scan = append(d.scan, data[:n]...)
	data = data[n:]
	for {
		i := findHeader(d.scan)
		if i < 0 {
			keep := min(len(d.scan), recordHeaderLen-1)
			d.scanned += len(d.scan) - keep
			d.scan = append(d.scan[:0], d.scan[len(d.scan)-keep:]...)
			return data
		}
		d.scanned += i
		d.scan = append(d.scan[:0], d.scan[i:]...)
		if len(d.scan) < recordHeaderLen {
			return data
		}
		end := recordHeaderLen + (int(d.scan[3])<<8 | int(d.scan[4]))
		if len(d.scan) < end {
			return data
		}
		if ok, skipped := c.acceptCandidate(d, d.scan[:end]); ok {
			rest := bytes.Clone(d.scan[end:])
			copy(d.hdr[:], d.scan)
			body := bytes.Clone(d.scan[recordHeaderLen:end])
			d.lostSync, d.scan, d.hdrN = false, d.scan[:0], 0
			c.endDeferredGap(d, skipped, t)
			c.record(d, body, t)
			c.feed(d.dir, rest, t)
			return data
		}
		d.scanned++
		d.scan = append(d.scan[:0], d.scan[1:]...)
	}
}

// findHeader returns the index of the first strictly plausible header in b (possibly a
// prefix of one at its end), or -1.
func findHeader(b []byte) int {
	for i := range b {
		rest := b[i:]
		if len(rest) < recordHeaderLen {
			if rest[0] >= recChangeCipherSpec && rest[0] <= recAppData && (len(rest) < 2 || rest[1] == 3) {
				return i
			}
			continue
		}
		if plausibleHeader(rest, true) {
			return i
		}
	}
	return -1
}

// acceptCandidate decides whether rec (a whole record) ends the resynchronisation: it
// authenticates under a current key (skipped numbers past the expected one; -1 if unknown),
// or no key can tell and its header looks right.
func (c *Conn) acceptCandidate(d *direction, rec []byte) (ok bool, skipped int64) {
	var hdr [recordHeaderLen]byte
	copy(hdr[:], rec)
	if !d.protected || d.dead || d.tries >= maxCandidates || len(c.candidates(d, &hdr)) == 0 {
		return true, -1
	}
	if hdr[0] != recAppData && c.version == 0x0304 {
		return false, 0
	}
	if _, _, n, ok := c.trial(d, &hdr, rec[recordHeaderLen:], false, time.Time{}); ok {
		return true, int64(n)
	}
	d.tries++
	return false, 0
}

// endDeferredGap reports the plaintext lost before resynchronisation. For TLS 1.2 AEAD
// suites, when the gap's length is known and every lost byte belonged to the skipped
// records, that is the lost length less each record's header and overhead.
func (c *Conn) endDeferredGap(d *direction, skipped int64, t time.Time) {
	if !d.deferGap {
		return
	}
	d.deferGap = false
	n := int64(0)
	if c.suite != nil && c.version == 0x0303 && d.gapBytes > 0 && d.scanned == 0 && skipped > 0 {
		if o := overhead12(c.suite); o >= 0 {
			n = max(d.gapBytes-skipped*int64(recordHeaderLen+o), 0)
		}
	}
	if n > 0 {
		c.plainGap(d.dir, n, t)
		return
	}
	c.lostPlaintext(d, recAppData, 0, t)
}
