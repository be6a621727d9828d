package gencap

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wsclosescan/wsclosescan/report"
)

// Format is the capture file format.
type Format uint8

// Capture formats.
const (
	FormatPcap   Format = iota // pcap, microsecond timestamps, little-endian
	FormatPcapNG               // pcapng, one Ethernet interface, microsecond timestamps
)

// Options configure Generate. The zero value generates DefaultConnections connections.
type Options struct {
	// Seed selects the capture: the same Options give the same bytes.
	Seed uint64
	// Connections is the number of connections to start; 0 means no limit when TargetSize
	// is set and DefaultConnections otherwise.
	Connections int
	// TargetSize stops starting connections once this many (uncompressed) capture bytes
	// were written; the connections running then finish, so the capture ends slightly
	// larger. 0 means no size limit.
	TargetSize int64
	// Concurrency is the number of connections open at once (about); 0 means
	// DefaultConcurrency.
	Concurrency int
	// Format and Gzip select the file format.
	Format Format
	Gzip   bool
	// Start is the time of the first packet; zero means 2026-03-02 09:00:00 UTC.
	Start time.Time
	// LenientProto is the share, per 1000 connections, of lenient clients: the client
	// asks for a subprotocol, the server's 101 ignores it (no Sec-WebSocket-Protocol),
	// and the client carries on, as Python websockets or gorilla do: it sends the first
	// frames, then the connection ends in any of the ways an accepted one does. (The
	// strict clients, which fail the connection at once with a FIN or RST and no frame
	// as browsers and Node's ws do, are part of the rejected upgrades.) 0 means the
	// default (for now none, see withDefaults; gencap's -lenient-proto flag defaults to
	// DefaultLenientProto), a negative value none; with none the capture is the one the
	// generator made before it had lenient clients.
	LenientProto int
}

// Defaults for zero Options fields.
const (
	DefaultConnections  = 200
	DefaultConcurrency  = 300
	DefaultLenientProto = 30 // per 1000 connections
)

// withDefaults fills in zero fields.
func (o Options) withDefaults() Options {
	if o.Connections <= 0 && o.TargetSize <= 0 {
		o.Connections = DefaultConnections
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	}
	if o.LenientProto == 0 {
		o.LenientProto = DefaultLenientProto
	}
	return o
}

// Stats describes a generated capture.
type Stats struct {
	// Bytes is the size of the uncompressed capture.
	Bytes int64
	// Packets is the number of packets; every packet is a TCP segment.
	Packets int64
	// Connections is the number of connections (lines of truth).
	Connections int
	// DataSegments counts segments carrying payload, OutOfOrder those sent after a later
	// segment of the same direction, Retransmitted the duplicate copies.
	DataSegments, OutOfOrder, Retransmitted int64
	// Messages counts WebSocket data messages, Frames all WebSocket frames.
	Messages, Frames int64
	// IPv6 counts IPv6 connections.
	IPv6 int
	// LenientProto counts the connections of lenient clients (see Options.LenientProto).
	LenientProto int
	// Verdicts counts connections by expected verdict.
	Verdicts map[report.Verdict]int
	// Duration is the capture time between the first and the last packet.
	Duration time.Duration
}

// ParseSize parses a size such as "1.5GB", "200MB", "64KiB" or "12345" (bytes). Decimal
// units (KB, MB, GB) are powers of 1000, binary ones (KiB, MiB, GiB) powers of 1024.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"B", 1},
	}
	mult := 1.0
	for _, u := range units {
		if len(t) > len(u.suffix) && strings.EqualFold(t[len(t)-len(u.suffix):], u.suffix) {
			mult, t = u.mult, strings.TrimSpace(t[:len(t)-len(u.suffix)])
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || v*mult > 1<<50 {
		return 0, fmt.Errorf("gencap: invalid size %q", s)
	}
	return int64(v * mult), nil
}
