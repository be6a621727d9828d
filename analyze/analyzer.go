// Package analyze judges what the layers saw on each connection (layers.Conn) and writes it
// as a report.Record: who closed first, whether the closing handshake completed, how TCP
// ended, what each side's WebSocket API reported, and why, in plain language. It drives no
// decoder: the facts it is handed are complete.
package analyze

import (
	"strconv"
	"time"

	"github.com/wsclosescan/wsclosescan/layers"
	"github.com/wsclosescan/wsclosescan/report"
)

// Options controls the analysis.
type Options struct {
	// IdleHint is the silence before a TCP end (with no close frame) from which a hint
	// suggests an idle timeout (default 1 s).
	IdleHint time.Duration
	// IdleTimeout is the reassembler's IdleTimeout, named in the hint of a connection it
	// released (0: not known or none).
	IdleTimeout time.Duration
	// Payloads fills each record's LastMessages (layers must run wsparse with Payloads).
	Payloads bool
	// Brief cuts the record of a connection that is neither WebSocket nor possibly one (not
	// TLS, not HTTP/2, no GET cut before its Upgrade header, nothing unknown about it being
	// WebSocket) to what places and counts it: File, Client, Server, ClientAddr,
	// ServerAddr, Start, End, WebSocket (false), Handshake and Verdict, every other field
	// zero. For a caller that does not list such connections (wsclosescan without --all),
	// which a SYN flood has by the million: building their full records was most of the
	// cost of the capture.
	Brief bool
}

func (o Options) withDefaults() Options {
	if o.IdleHint <= 0 {
		o.IdleHint = time.Second
	}
	return o
}

// Analyzer turns the facts of each connection into records.
type Analyzer struct {
	opts Options
	emit func(*report.Record)
}

// New returns an Analyzer that calls emit with each record it writes; the record is
// emit's to keep. Its Judge method is what layers.New takes.
func New(opts Options, emit func(*report.Record)) *Analyzer {
	return &Analyzer{opts: opts.withDefaults(), emit: emit}
}

// Judge writes the record of a TCP connection and then, for HTTP/2, the record of each of
// its WebSocket streams, in the order they opened.
func (a *Analyzer) Judge(c *layers.Conn) {
	if a.opts.Brief {
		if r := brief(c); r != nil {
			a.emit(r)
			return
		}
	}
	r := a.record(c)
	in, isH2 := c.H2()
	var problems []string
	if isH2 {
		problems = h2Problems(&in, c.SideOf)
		r.Problems = append(r.Problems, problems...)
		r.Hints = append(r.Hints, "an HTTP/2 connection: its "+strconv.Itoa(len(c.Streams()))+
			" WebSocket stream(s), if any, have records of their own")
	}
	a.emit(r)
	a.judgeStreams(c, problems)
}
