// Package layers follows each TCP connection through the protocol layers above TCP and
// collects what they saw, for analyze to judge. It is the reassembly.StreamFactory of the
// pipeline: a connection's bytes go straight to the WebSocket decoder (wsparse), or through
// the TLS layer (tlsdec) when they start with a TLS handshake record, and through the
// HTTP/2 layer (h2demux) when the application bytes start with the HTTP/2 preface (or after
// an HTTP/1.1 upgrade to h2c), in which case every RFC 8441 WebSocket stream gets a decoder
// of its own.
//
// On the way it keeps the facts the decoders do not: how TCP ended each way, the gaps, the
// frame numbers of the latest segments and of the milestones, and the timeline as typed
// entries. When the assembler releases a connection, every layer is finished and the
// connection's facts (a *Conn, with its streams) are handed to the judge in one call;
// they are valid during that call only. This package writes no English and decides no
// verdict: that is analyze's job.
package layers

import (
	"time"

	"github.com/wsclosescan/wsclosescan/internal/freelist"
	"github.com/wsclosescan/wsclosescan/internal/offheap"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/tlsdec"
	"github.com/wsclosescan/wsclosescan/wsparse"
)

// Options configures the layers.
type Options struct {
	// WS configures the WebSocket decoder of each connection and stream.
	WS wsparse.Options
	// Timeline collects the timeline entries (Conn.Timeline).
	Timeline bool
	// MaxTimeline caps the timeline entries kept per connection (default 400): the first
	// half and the latest half are kept.
	MaxTimeline int
	// Keys holds the TLS secrets (NSS key log) for decrypting wss connections; nil decrypts
	// nothing. It may grow while the capture is read (pcapng Decryption Secrets Blocks).
	Keys *tlsdec.KeyLog
	// Sessions remembers TLS 1.2 sessions across the connections of a capture, so that
	// resumed ones can be decrypted; shared by every Factory of a scan. May be nil.
	Sessions *tlsdec.Sessions
}

func (o Options) withDefaults() Options {
	if o.MaxTimeline <= 0 {
		o.MaxTimeline = 400
	}
	return o
}

// Factory is a reassembly.StreamFactory that hands judge the facts of each connection
// when the assembler releases it.
type Factory struct {
	opts  Options
	file  *string // the name SetFile gave, shared by the Conns read from it
	judge func(*Conn)
	pool  wsparse.Pool // the decoders of ended connections, for reuse
	// rings are the frame-number rings of ended connections, for reuse: a connection's
	// facts outlive it only until judge returns.
	rings freelist.List[[2]stampRing]
	ends  freelist.List[[2]TCPEnd] // the TCP ends of ended connections, for reuse, likewise
	// damages are the damage that ended files read since ClearDamage, in reading order.
	damages []damage
	// The sleeping connections (sleep.go): their packed state, the file names SetFile
	// gave (which a Nap names by index), and a buffer to pack into.
	naps   offheap.Store
	files  []*string
	napBuf []byte
}

// damage is what ended a file early, and the latest capture time read before it.
type damage struct {
	at         time.Time
	file, what string
}

// AddDamage says that file ended early in damage (what describes it: "truncated packet
// record at byte 3930"), the
// latest capture time read before it being at: connections still open then, and never
// seen again, may have ended in the part that could not be read (Conn.Damage).
func (f *Factory) AddDamage(at time.Time, file, what string) {
	f.damages = append(f.damages, damage{at, file, what})
}

// ClearDamage forgets the damage: the capture it was in has been flushed.
func (f *Factory) ClearDamage() { f.damages = f.damages[:0] }

// New returns a Factory that calls judge with the facts of each connection, once every
// layer has finished with it. The facts, and what their methods return, are valid only
// during the call.
func New(opts Options, judge func(*Conn)) *Factory {
	return &Factory{opts: opts.withDefaults(), judge: judge}
}

// SetFile names the capture file that new connections are attributed to.
func (f *Factory) SetFile(name string) {
	f.file = &name
	f.files = append(f.files, f.file)
}

// NewStream starts following a new connection.
func (f *Factory) NewStream(info reassembly.ConnInfo) reassembly.Stream {
	// The decoder and the frame rings are taken when the first byte or gap arrives: a
	// connection that never carries data (a SYN flood's) costs only the Conn.
	c := &Conn{f: f, file: f.file, Info: info}
	c.setLast(info.Start)
	return (*tcpStream)(c)
}

func (f *Factory) getRings() *[2]stampRing { return f.rings.Get() }
func (f *Factory) getEnds() *[2]TCPEnd     { return f.ends.Get() }

func (f *Factory) putRings(r *[2]stampRing) {
	if r != nil {
		r[0].reset()
		r[1].reset()
		f.rings.Put(r, maxFreeRings)
	}
}

func (f *Factory) putEnds(e *[2]TCPEnd) {
	if e != nil {
		*e = [2]TCPEnd{}
		f.ends.Put(e, maxFreeRings)
	}
}

// maxFreeRings bounds the rings, and the TCP ends, kept for reuse.
const maxFreeRings = 1024

// wsDecoder returns a WebSocket decoder for c from the pool; h, if not nil, takes the bytes
// after an upgrade to h2c.
func (f *Factory) wsDecoder(c *Conn, h wsparse.Handoff) *wsparse.Conn {
	return f.pool.Get(f.wsOptions(c, h))
}

// wsOptions returns the Options of c's WebSocket decoder.
func (f *Factory) wsOptions(c *Conn, h wsparse.Handoff) wsparse.Options {
	wsOpts := f.opts.WS
	if f.opts.Timeline {
		wsOpts.OnEvent = c.wsEvent
	}
	wsOpts.Handoff = h
	return wsOpts
}
