// Package analyze joins what the TCP reassembler and the WebSocket decoder saw on each
// connection into a report.Record: who closed first, whether the closing handshake
// completed, how TCP ended, what each side's WebSocket API reported, and why.
package analyze

import (
	"time"

	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
	"github.com/wsclosescan/wsclosescan/tlsdec"
	"github.com/wsclosescan/wsclosescan/wsparse"
)

// Options controls the analysis.
type Options struct {
	// WS configures the WebSocket decoder of each connection.
	WS wsparse.Options
	// Timeline fills Record.Timeline with the ladder diagram entries.
	Timeline bool
	// MaxTimeline caps the timeline entries kept per connection (default 400).
	MaxTimeline int
	// Keys holds the TLS secrets (NSS key log) for decrypting wss connections; nil decrypts
	// nothing. It may grow while the capture is read (pcapng Decryption Secrets Blocks).
	Keys *tlsdec.KeyLog
	// Sessions remembers TLS 1.2 sessions across the connections of a capture, so that
	// resumed ones can be decrypted; shared by every Analyzer of a scan. May be nil.
	Sessions *tlsdec.Sessions
	// IdleHint is the silence before a TCP end (with no close frame) from which a hint
	// suggests an idle timeout (default 1 s).
	IdleHint time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxTimeline <= 0 {
		o.MaxTimeline = 400
	}
	if o.IdleHint <= 0 {
		o.IdleHint = time.Second
	}
	return o
}

// Analyzer is a reassembly.StreamFactory that produces one record per connection.
type Analyzer struct {
	opts Options
	file string
	emit func(*report.Record)
	pool wsparse.Pool // the decoders of ended connections, for reuse
	// rings are the frame-number rings of ended connections, for reuse: a connection's
	// record outlives it, its ring does not.
	rings []*[2]stampRing
}

func (a *Analyzer) getRings() *[2]stampRing {
	if n := len(a.rings); n > 0 {
		r := a.rings[n-1]
		a.rings[n-1] = nil
		a.rings = a.rings[:n-1]
		return r
	}
	return new([2]stampRing)
}

func (a *Analyzer) putRings(r *[2]stampRing) {
	if r != nil && len(a.rings) < maxFreeRings {
		*r = [2]stampRing{}
		a.rings = append(a.rings, r)
	}
}

// maxFreeRings bounds the rings kept for reuse.
const maxFreeRings = 1024

// New returns an Analyzer that calls emit with the record of each connection when the
// assembler releases it. The record is emit's to keep.
func New(opts Options, emit func(*report.Record)) *Analyzer {
	return &Analyzer{opts: opts.withDefaults(), emit: emit}
}

// SetFile names the capture file that new connections are attributed to.
func (a *Analyzer) SetFile(name string) { a.file = name }

// NewStream starts the analysis of a new connection.
func (a *Analyzer) NewStream(info reassembly.ConnInfo) reassembly.Stream {
	// The decoder and the frame rings are taken when the first byte or gap arrives: a
	// connection that never carries data (a SYN flood's) costs only the conn.
	return &conn{an: a, file: a.file, info: info, last: info.Start}
}

// ready gives c its WebSocket decoder and frame rings, from the Analyzer's pools.
func (c *conn) ready() {
	if c.ws != nil {
		return
	}
	a := c.an
	c.stamps = a.getRings()
	wsOpts := a.opts.WS
	if a.opts.Timeline {
		wsOpts.OnEvent = c.wsEvent
	}
	wsOpts.Handoff = c // after an Upgrade: h2c (h2.go)
	c.ws = a.pool.Get(wsOpts)
	if c.info.By != reassembly.ClientByPort {
		c.ws.StreamStart() // the SYN was captured: each stream is seen from its first byte
	}
}
