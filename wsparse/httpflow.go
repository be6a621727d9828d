package wsparse

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wsclosescan/wsclosescan/http1"
)

// reqInfo remembers what a response must be matched with.
type reqInfo struct {
	head, upgradeWS, upgradeOther bool
	cut                           bool // a GET whose headers the capture cut: perhaps an upgrade
}

const maxQueuedRequests = 32

// reqQueue holds the requests awaiting a response, oldest first, in 16 bytes: a 4-bit code
// each (1 + the flags head, cut, upgradeWS, upgradeOther as bits 0 to 3; head and cut are
// never both set, a HEAD not being a GET, so the code fits), 0 past the last.
type reqQueue [2]uint64

// code returns the code of r.
func (r reqInfo) code() uint64 {
	var f uint64
	for i, b := range [...]bool{r.head, r.cut, r.upgradeWS, r.upgradeOther} {
		if b {
			f |= 1 << i
		}
	}
	return 1 + f
}

// len returns how many requests q holds.
func (q *reqQueue) len() int {
	n := 0
	for n < maxQueuedRequests && q.at(n) != 0 {
		n++
	}
	return n
}

// at returns the code of the i-th request.
func (q *reqQueue) at(i int) uint64 { return q[i/16] >> (4 * (i % 16)) & 0xf }

// push appends r; the caller checks that q has room.
func (q *reqQueue) push(r reqInfo) {
	i := q.len()
	q[i/16] |= r.code() << (4 * (i % 16))
}

// first returns the oldest request.
func (q *reqQueue) first() reqInfo {
	f := q.at(0) - 1
	return reqInfo{head: f&1 != 0, cut: f&2 != 0, upgradeWS: f&4 != 0, upgradeOther: f&8 != 0}
}

// pop drops the oldest request.
func (q *reqQueue) pop() { q[0], q[1] = q[0]>>4|q[1]<<60, q[1]>>4 }

// headerBytes accumulates a header block until its blank line.
func (c *Conn) headerBytes(d *direction, data []byte, t time.Time) int {
	skip := 0
	if len(d.hdrBytes()) == 0 {
		// Empty lines before a request or response line are ignored (RFC 9112 2.2).
		for skip < len(data) && (data[skip] == '\r' || data[skip] == '\n') {
			skip++
		}
		data = data[skip:]
	}
	return skip + c.headerLine(d, data, t)
}

// headerLine looks for the blank line that ends the block: a '\n' right after "\n" or
// "\n\r" (d.eoh carries that state across calls). It jumps from '\n' to '\n'; only the
// bytes between two of them matter.
func (c *Conn) headerLine(d *direction, data []byte, t time.Time) int {
	eoh, pos := d.eoh, 0
	for {
		i := bytes.IndexByte(data[pos:], '\n')
		if i < 0 {
			break
		}
		eoh = afterRun(eoh, data[pos:pos+i])
		end := pos + i + 1
		if eoh != 0 {
			d.eoh = 0
			if len(d.hdrBytes())+end > c.opts.MaxHeaderBytes {
				c.headerTooLarge(d, t)
				return end
			}
			if len(d.hdrBytes()) == 0 {
				c.parseBlock(d, data[:end], t, false) // the usual case: no copy
				c.dropHTTP()                          // a buffer from an earlier block, or from the Pool
			} else {
				h := d.http
				h.hdr = append(h.hdr, data[:end]...)
				c.headerEnd(d, t, false)
			}
			return end
		}
		eoh, pos = 1, end
	}
	d.eoh = afterRun(eoh, data[pos:])
	if len(d.hdrBytes())+len(data) > c.opts.MaxHeaderBytes {
		c.headerTooLarge(d, t)
		return len(data)
	}
	h := c.httpOf(d)
	h.hdr = append(h.hdr, data...)
	return len(data)
}

// afterRun returns the end-of-header state after a run of bytes without '\n': unchanged
// for an empty run, 2 after a lone '\r' that follows a '\n', else 0.
func afterRun(eoh uint8, run []byte) uint8 {
	switch {
	case len(run) == 0:
		return eoh
	case len(run) == 1 && run[0] == '\r' && eoh == 1:
		return 2
	}
	return 0
}

func (c *Conn) headerTooLarge(d *direction, t time.Time) {
	s := c.trueSide(d.fed)
	c.addFinding(FindHeaderTooLarge, s, -1, t, s.String()+" HTTP header block is larger than "+
		strconv.Itoa(c.opts.MaxHeaderBytes)+" bytes; HTTP parsing stopped")
	if d.http != nil {
		d.http.hdr = nil
	}
	d.mode = modeDead
	c.dropHTTP()
}

// maxKeptHeader is the largest header buffer a direction keeps for the next block.
const maxKeptHeader = 4 << 10

// headerEnd parses the accumulated block. truncated says the block was cut (gap or end).
func (c *Conn) headerEnd(d *direction, t time.Time, truncated bool) {
	var block []byte
	if d.http != nil {
		block, d.http.hdr = d.http.hdr, nil // parseBlock may start the next block
	}
	c.parseBlock(d, block, t, truncated)
	// The buffer is kept for the next block while the side still speaks HTTP; else it goes
	// back to the Pool with the side's HTTP state (dropHTTP), for the next connection's
	// header blocks: an upgraded connection stays open for hours and would carry it to the
	// end, and a buffer dropped here was one more allocation for every header block that
	// came in pieces (a browser's upgrade with its cookies often does).
	if cap(block) <= maxKeptHeader && d.hdrBytes() == nil && (d.http != nil || d.speaksHTTP()) {
		c.httpOf(d).hdr = block[:0]
	}
	c.dropHTTP()
}

// speaksHTTP reports whether the side's next bytes are HTTP (a header block or a body).
func (d *direction) speaksHTTP() bool { return d.mode == modeHeader || d.mode == modeBody }

// parseBlock parses a header block; it does not keep block. truncated says the block was
// cut (gap or end).
func (c *Conn) parseBlock(d *direction, block []byte, t time.Time, truncated bool) {
	d.eoh = 0
	s := c.trueSide(d.fed)
	if len(block) == 0 {
		if truncated {
			if c.wsWanted {
				c.enterScan(d)
			} else {
				d.mode = modeDead
			}
		}
		return
	}
	if truncated {
		c.addFinding(FindHeadersTruncated, s, -1, t, s.String()+" HTTP headers truncated after "+
			strconv.Itoa(len(block))+" bytes")
	}
	if d.isReq {
		r, err := c.parseRequest(block, truncated)
		if err != nil {
			c.httpMalformed(d, s, t, err)
			return
		}
		c.onRequest(d, &r, t, truncated)
		return
	}
	head := c.reqQueue.len() > 0 && c.reqQueue.first().head
	r, err := c.parseResponse(block, truncated, head)
	if err != nil {
		c.httpMalformed(d, s, t, err)
		return
	}
	c.onResponse(d, &r, t, truncated)
}

func (c *Conn) httpMalformed(d *direction, s Side, t time.Time, err error) {
	c.addFinding(FindHTTPMalformed, s, -1, t, s.String()+" HTTP header block could not be parsed: "+err.Error())
	d.mode = modeDead
	if c.wsWanted {
		c.enterScan(d)
	}
}

// onRequest records a parsed request and picks what the client sends next.
func (c *Conn) onRequest(d *direction, r *http1.Request, t time.Time, truncated bool) {
	c.httpSeen = true
	if c.reqQueue.len() < maxQueuedRequests {
		c.reqQueue.push(reqInfo{head: r.Method == http.MethodHead, upgradeWS: r.UpgradeWebSocket,
			upgradeOther: r.UpgradeOther, cut: truncated && r.Method == http.MethodGet})
	}
	// A cut GET may have been the upgrade: keep it and look for frames after it.
	ws := r.UpgradeWebSocket || (truncated && r.Method == http.MethodGet)
	if ws {
		c.ws = r.UpgradeWebSocket || c.ws
		c.wsWanted = true
		c.hsSeen = true
		if c.hs == nil {
			c.hs = c.newHandshake()
		}
		c.hsp, c.deflate = nil, false
		h := c.hs
		*h = Handshake{RequestSeen: true, RequestTime: t, Method: r.Method, Path: r.Target, Host: r.Host,
			Origin: r.Origin, UserAgent: r.UserAgent, Version: r.WSVersion, Key: r.WSKey,
			XForwardedFor: r.XForwardedFor, Forwarded: r.Forwarded,
			Protocols: r.Protocols, Extensions: r.Extensions, HeadersTruncated: truncated}
		h.reqTruncated = truncated
	}
	detail := r.Method + " " + r.Target
	c.emit(Event{Kind: EventRequest, Side: c.trueSide(d.fed), Time: t, Frame: -1, Detail: detail})
	if truncated {
		if c.wsWanted {
			c.enterScan(d)
			d.expectFrame = true // the client's first frame follows its request
		} else {
			d.mode = modeDead
		}
		return
	}
	next := modeHeader
	if r.UpgradeWebSocket {
		next = modePending
		if c.server101 {
			next = modeFrames
			d.fs.reset(false)
		}
	}
	switch {
	case r.Chunked:
		c.httpOf(d).body = http1.ChunkedBody()
	case r.ContentLength > 0:
		c.httpOf(d).body = http1.LengthBody(r.ContentLength)
	default:
		d.mode = next
		return
	}
	d.mode, d.afterBody = modeBody, next
}

// onResponse records a parsed response and picks what both sides send next.
func (c *Conn) onResponse(d *direction, r *http1.Response, t time.Time, truncated bool) {
	c.httpSeen = true
	var info reqInfo
	known := false
	if r.Status != http.StatusSwitchingProtocols && r.Status >= 100 && r.Status < 200 {
		// Interim response: the request still waits for its final response.
		if c.reqQueue.len() > 0 {
			info, known = c.reqQueue.first(), true
		}
	} else if c.reqQueue.len() > 0 {
		info, known = c.reqQueue.first(), true
		c.reqQueue.pop()
	}
	client := &c.dirs[d.fed.Other()]
	s := c.trueSide(d.fed)
	is101 := r.Status == http.StatusSwitchingProtocols
	interim := !is101 && r.Status < 200
	wsResp := info.upgradeWS || info.cut || (is101 && r.UpgradeWebSocket) || (!known && (is101 || r.HasWebSocketHeaders()))
	if wsResp && !interim {
		c.recordResponse(r, t, truncated)
	}
	c.emit(Event{Kind: EventResponse, Side: s, Time: t, Frame: -1, Status: r.Status, Detail: strconv.Itoa(r.Status) + " " + r.Reason})
	switch {
	case is101 && known && info.upgradeOther:
		d.mode, client.mode = modeDead, modeDead // another protocol
		if c.opts.Handoff != nil && !truncated && strings.EqualFold(strings.TrimSpace(r.Upgrade), "h2c") {
			// HTTP/2 (RFC 7540 3.2): the server's frames follow the 101, the client's preface
			// follows once it has read it; the HTTP/2 layer takes both from here.
			d.mode, client.mode = modeHandoff, modeHandoff
		}
		return
	case is101:
		c.wsWanted, c.server101 = true, true
		if r.UpgradeWebSocket || info.upgradeWS {
			c.ws = true
		}
		if truncated {
			c.enterScan(d)
			d.expectFrame = true // the first frame follows the 101
		} else {
			d.mode = modeFrames
			d.fs.reset(false)
		}
		c.resolvePending(client, modeFrames)
		return
	case truncated:
		d.mode = modeDead
		c.resolvePending(client, modeSniff)
		return
	}
	if !interim && (info.upgradeWS || !known) {
		// The upgrade was refused: the client's next bytes are HTTP again.
		c.resolvePending(client, modeSniff)
	}
	switch {
	case interim || info.head || r.Status == http.StatusNoContent || r.Status == http.StatusNotModified:
		d.mode = modeHeader
	case r.Chunked:
		c.httpOf(d).body, d.mode, d.afterBody = http1.ChunkedBody(), modeBody, modeHeader
	case r.ContentLength > 0:
		c.httpOf(d).body, d.mode, d.afterBody = http1.LengthBody(r.ContentLength), modeBody, modeHeader
	case r.ContentLength == 0:
		d.mode = modeHeader
	default:
		d.mode = modeDead // body until the connection closes
	}
}

// recordResponse stores the response of the upgrade in the Handshake and judges it.
func (c *Conn) recordResponse(r *http1.Response, t time.Time, truncated bool) {
	c.hsSeen = true
	h := c.handshake()
	h.ResponseSeen, h.ResponseTime = true, t
	h.Status, h.StatusText = r.Status, r.Reason
	h.Accept, h.Subprotocol, h.ChosenExtensions = r.Accept, r.Subprotocol, r.Extensions
	h.ServerVersions = r.WSVersions
	h.respTruncated = truncated
	h.HeadersTruncated = truncated || h.reqTruncated
	c.judge(r)
	c.extKnown = !truncated && r.Status == http.StatusSwitchingProtocols
	if h.Failure != "" {
		c.addFinding(FindHandshakeFailed, Server, -1, t, h.Failure)
	}
	c.packHandshake()
}

// bodyBytes skips body bytes and returns how many were consumed.
func (c *Conn) bodyBytes(d *direction, data []byte) int {
	n, st := d.http.body.Skip(data)
	switch st {
	case http1.BodyDone:
		d.mode = d.afterBody
		c.dropHTTP()
	case http1.BodyMalformed:
		d.mode = modeDead
		c.dropHTTP()
	}
	return n
}
