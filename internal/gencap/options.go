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

// Shape is the kind of traffic Generate writes.
type Shape uint8

// Shapes.
const (
	// ShapeMixed, the default, is the original capture: connections drawn with every kind
	// of ending, about Concurrency of them open at once, 200 µs apart on average between
	// packets. Its bytes do not change when the other shapes change.
	ShapeMixed Shape = iota
	// ShapeBusy is a busy server: connections start uniformly over Window; each has on
	// average MeanBursts bursts of activity (1 to 3 messages from one side) BurstGap
	// apart (LongLived of them, per 1000, four times further apart, so they live four
	// times longer); mostly JSON-like text messages (90%) of 50 B-2 KiB (log-normal,
	// median 320 B), 3% from 2 KiB up to 1 MiB, 4% fragmented, a ping and its pong
	// either way after 20% of the bursts, permessage-deflate negotiated on Deflate
	// per 1000 connections (every data message of those compressed with compress/flate,
	// RSV1 set), 1% of data segments out of order and 1% retransmitted, IPv6 per 1000
	// IPv6, 3% rejected upgrades, the endings otherwise as in ShapeMixed. With TargetSize
	// the number of connections is chosen so that the capture is about that size (at
	// 1.5 GB with the defaults, about 66,000 connections and 4 million packets, up to about
	// 5,000 open at once).
	ShapeBusy
	// ShapeMass is a mass of open connections: Connections WebSocket connections open over
	// Window (a browser-like upgrade with User-Agent, Origin, cookies and a
	// permessage-deflate offer, accepted on Deflate per 1000; a message each way; a ping
	// and its pong), all open at once; then, one second after the last opened, all are
	// closed cleanly in the same order over another Window.
	ShapeMass
	// ShapeSYNFlood is SYNs SYNs to distinct 4-tuples within Window, never answered, and
	// one WebSocket connection in the middle that closes cleanly. The truth has the
	// WebSocket connection only (see Options.SYNs).
	ShapeSYNFlood
)

// shapeNames are the names ParseShape accepts, by Shape.
var shapeNames = [...]string{"mixed", "busy", "mass", "synflood"}

func (s Shape) String() string {
	if int(s) < len(shapeNames) {
		return shapeNames[s]
	}
	return "Shape(" + strconv.Itoa(int(s)) + ")"
}

// ParseShape parses a shape name: mixed, busy, mass or synflood.
func ParseShape(name string) (Shape, error) {
	for i, n := range shapeNames {
		if strings.EqualFold(name, n) {
			return Shape(i), nil
		}
	}
	return 0, fmt.Errorf("gencap: unknown shape %q (want %s)", name, strings.Join(shapeNames[:], ", "))
}

// Options configure Generate. The zero value generates DefaultConnections connections.
type Options struct {
	// Shape selects the kind of traffic; the zero value is ShapeMixed. The fields below
	// that name a shape apply to it only.
	Shape Shape
	// Seed selects the capture: the same Options give the same bytes.
	Seed uint64
	// Connections is the number of connections to start; 0 means no limit when TargetSize
	// is set and DefaultConnections otherwise (DefaultMassConns for ShapeMass; ShapeBusy
	// derives it from TargetSize; ShapeSYNFlood has one).
	Connections int
	// TargetSize stops starting connections once this many (uncompressed) capture bytes
	// were written; the connections running then finish, so the capture ends slightly
	// larger. 0 means no size limit. ShapeBusy starts about as many connections as make
	// this size instead (when Connections is 0); ShapeMass and ShapeSYNFlood ignore it.
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

	// Window is, for ShapeBusy, the time over which connections start (0 means
	// DefaultBusyWindow); for ShapeMass, the time over which they open, and then close
	// (DefaultMassWindow); for ShapeSYNFlood, the time the SYNs span (DefaultFloodWindow).
	Window time.Duration
	// MeanBursts is the mean number of bursts of activity of a ShapeBusy connection (0
	// means DefaultMeanBursts), and BurstGap the mean time between two of them (0 means
	// DefaultBurstGap; the gaps are drawn from 0.75 to 1.25 times it).
	MeanBursts int
	BurstGap   time.Duration
	// LongLived is the share, per 1000 ShapeBusy connections, of long-lived ones, whose
	// bursts are four times further apart (0 means DefaultLongLived, negative none).
	LongLived int
	// IPv6 is the share of IPv6 connections per 1000 for ShapeBusy (0 means
	// DefaultBusyIPv6, negative none).
	IPv6 int
	// Deflate is the share, per 1000 accepted connections of ShapeBusy and ShapeMass, of
	// connections whose 101 accepts permessage-deflate (no context takeover either way)
	// and whose data messages are all compressed (0 means DefaultDeflate, negative none).
	Deflate int
	// SYNs is the number of unanswered SYNs of ShapeSYNFlood (0 means DefaultSYNs). Each
	// comes from its own client address and port to the WebSocket server's address and
	// port; the truth file has no line for them (wsclosescan lists them only with --all,
	// as not_websocket).
	SYNs int
}

// Defaults for zero Options fields.
const (
	DefaultConnections  = 200
	DefaultConcurrency  = 300
	DefaultLenientProto = 30 // per 1000 connections

	DefaultBusyWindow  = 10 * time.Minute
	DefaultMeanBursts  = 12
	DefaultBurstGap    = 2 * time.Second
	DefaultLongLived   = 150 // per 1000 connections
	DefaultBusyIPv6    = 100 // per 1000 connections
	DefaultDeflate     = 250 // per 1000 accepted connections
	DefaultMassConns   = 200_000
	DefaultMassWindow  = 20 * time.Second
	DefaultSYNs        = 1_000_000
	DefaultFloodWindow = 10 * time.Second
)

// withDefaults fills in zero fields.
func (o Options) withDefaults() Options {
	if o.Connections <= 0 && (o.TargetSize <= 0 || o.Shape == ShapeMass) {
		o.Connections = DefaultConnections
		if o.Shape == ShapeMass {
			o.Connections = DefaultMassConns
		}
	}
	if o.Window <= 0 {
		o.Window = [...]time.Duration{0, DefaultBusyWindow, DefaultMassWindow, DefaultFloodWindow}[min(int(o.Shape), 3)]
	}
	if o.MeanBursts <= 0 {
		o.MeanBursts = DefaultMeanBursts
	}
	if o.BurstGap <= 0 {
		o.BurstGap = DefaultBurstGap
	}
	o.LongLived = share(o.LongLived, DefaultLongLived)
	o.IPv6 = share(o.IPv6, DefaultBusyIPv6)
	o.Deflate = share(o.Deflate, DefaultDeflate)
	if o.SYNs <= 0 {
		o.SYNs = DefaultSYNs
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

// share resolves a per-1000 share option: 0 means def, negative none.
func share(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return min(v, 1000)
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

	// The fields below are counted for every shape but ShapeMixed.

	// MaxOpen is the most connections open at once (with a line of truth: SYN flood
	// SYNs are not counted), a connection being open from its first packet to its last
	// if it ends TCP, to the end of the capture otherwise.
	MaxOpen int
	// LongLived and Deflate count the long-lived connections and those that negotiated
	// permessage-deflate; Compressed and Fragmented the data messages compressed and
	// fragmented.
	LongLived, Deflate     int
	Compressed, Fragmented int64
	// Pings counts pings by sender (client, server).
	Pings [2]int64
	// MessageSizes counts data messages by uncompressed payload size: index k counts the
	// sizes n with 2^k <= n < 2^(k+1) (index 0 also counts 0), the last index the larger
	// ones too; MaxMessage is the largest size.
	MessageSizes [21]int64
	MaxMessage   int
	// SYNs counts the unanswered SYNs of ShapeSYNFlood.
	SYNs int64
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
