package gencap

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"io"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
)

// flow is what a test sees of one direction of a connection in a capture.
type flow struct {
	first, last time.Time
	syn         bool
	isn         uint32
	segs        map[uint32][]byte // payload by sequence number (retransmissions collapse)
	fin, rst    bool
}

// flows reads a capture into flows keyed by "src dst".
func flows(t *testing.T, data []byte) map[string]*flow {
	t.Helper()
	out := map[string]*flow{}
	eachSegment(t, data, func(s *reassembly.Segment) {
		k := s.Src.String() + " " + s.Dst.String()
		f := out[k]
		if f == nil {
			f = &flow{first: s.Time, segs: map[uint32][]byte{}}
			out[k] = f
		}
		f.last = s.Time
		switch {
		case s.Flags.Has(reassembly.FlagSYN):
			f.syn, f.isn = true, s.Seq
		case len(s.Payload) > 0:
			f.segs[s.Seq] = slices.Clone(s.Payload)
		}
		f.fin = f.fin || s.Flags.Has(reassembly.FlagFIN)
		f.rst = f.rst || s.Flags.Has(reassembly.FlagRST)
	})
	return out
}

// stream returns the flow's payload in sequence order.
func (f *flow) stream() []byte {
	seqs := make([]uint32, 0, len(f.segs))
	for s := range f.segs {
		seqs = append(seqs, s)
	}
	slices.SortFunc(seqs, func(a, b uint32) int { return int(int32(a - f.isn - (b - f.isn))) })
	var b []byte
	for _, s := range seqs {
		b = append(b, f.segs[s]...)
	}
	return b
}

// wsMessage is a data message read back from a stream.
type wsMessage struct {
	op         byte
	compressed bool
	frames     int
	payload    []byte // inflated when compressed
}

// readMessages decodes the frames of a stream after its HTTP header block: data messages
// (fragments joined, compressed ones inflated) and the count of pings. RSV1 anywhere but
// on the first frame of a data message fails the test.
func readMessages(t *testing.T, b []byte) (msgs []wsMessage, pings int) {
	t.Helper()
	i := bytes.Index(b, []byte("\r\n\r\n"))
	if i < 0 {
		t.Fatalf("no header block in %q", b[:min(len(b), 80)])
	}
	b = b[i+4:]
	var cur *wsMessage
	for len(b) > 0 {
		if len(b) < 2 {
			t.Fatalf("truncated frame header")
		}
		fin, rsv1, op := b[0]&0x80 != 0, b[0]&0x40 != 0, b[0]&0x0f
		masked, n, h := b[1]&0x80 != 0, int(b[1]&0x7f), 2
		switch n {
		case 126:
			n, h = int(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			n, h = int(binary.BigEndian.Uint64(b[2:])), 10
		}
		var key []byte
		if masked {
			key, h = b[h:h+4], h+4
		}
		p := slices.Clone(b[h : h+n])
		for j := range p {
			if masked {
				p[j] ^= key[j&3]
			}
		}
		b = b[h+n:]
		switch {
		case op == 0x9:
			pings++
			continue
		case op >= 0x8:
			continue
		case op == 0 && cur == nil, op != 0 && cur != nil:
			t.Fatalf("bad fragment sequence (opcode %d)", op)
		case op != 0:
			cur = &wsMessage{op: op, compressed: rsv1}
		case rsv1:
			t.Fatalf("RSV1 on a continuation frame")
		}
		cur.frames++
		cur.payload = append(cur.payload, p...)
		if !fin {
			continue
		}
		if cur.compressed {
			z := flate.NewReader(io.MultiReader(bytes.NewReader(cur.payload), bytes.NewReader([]byte{0, 0, 0xff, 0xff})))
			var out bytes.Buffer
			if _, err := io.Copy(&out, z); err != nil && err != io.ErrUnexpectedEOF {
				t.Fatalf("inflating a compressed message: %v", err)
			}
			cur.payload = out.Bytes()
		}
		msgs = append(msgs, *cur)
		cur = nil
	}
	return msgs, pings
}

// maxOverlap is the most connections open at once: each from its first packet to its
// last, or to the end of the capture when it did not end TCP.
func maxOverlap(spans [][2]time.Time) int {
	type ev struct {
		at    time.Time
		delta int
	}
	var evs []ev
	for _, s := range spans {
		evs = append(evs, ev{s[0], 1})
		if !s[1].IsZero() {
			evs = append(evs, ev{s[1], -1})
		}
	}
	slices.SortFunc(evs, func(a, b ev) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return b.delta - a.delta // a start and an end at once: both open at that instant
	})
	open, most := 0, 0
	for _, e := range evs {
		open += e.delta
		most = max(most, open)
	}
	return most
}

// connSpans returns each truth connection's flows and its open interval.
func connSpans(t *testing.T, fs map[string]*flow, ts []Truth) [][2]time.Time {
	t.Helper()
	var spans [][2]time.Time
	for _, tr := range ts {
		up, down := fs[tr.Client+" "+tr.Server], fs[tr.Server+" "+tr.Client]
		if up == nil || down == nil {
			t.Fatalf("%s -> %s: no packets both ways", tr.Client, tr.Server)
		}
		s := [2]time.Time{up.first, up.last}
		if down.last.After(s[1]) {
			s[1] = down.last
		}
		if tr.TCPEndHow == nil {
			s[1] = time.Time{}
		}
		spans = append(spans, s)
	}
	return spans
}

func pct(n, of int) float64     { return 100 * float64(n) / float64(of) }
func pct64(n, of int64) float64 { return 100 * float64(n) / float64(of) }

type bound struct {
	name   string
	got    float64
	lo, hi float64
}

func checkBounds(t *testing.T, bs []bound) {
	t.Helper()
	for _, b := range bs {
		if b.got < b.lo || b.got > b.hi || math.IsNaN(b.got) {
			t.Errorf("%s: got %.3f, want %v..%v", b.name, b.got, b.lo, b.hi)
		}
	}
}

// TestBusyShape checks a small busy-server capture against the shape's definition: start
// times, concurrency (read back from the packets), message sizes, fragmentation, pings,
// compression, IPv6, rejected upgrades, disorder and size.
func TestBusyShape(t *testing.T) {
	const window = 60 * time.Second
	opts := Options{Seed: 1, Shape: ShapeBusy, TargetSize: 20e6, Window: window}
	g := generate(t, opts)
	st := g.stats
	ts := truths(t, g.truth)
	fs := flows(t, g.capture)
	if len(ts) != st.Connections {
		t.Fatalf("truth lines: got %d, want %d", len(ts), st.Connections)
	}
	t.Logf("%d bytes, %d packets, %d connections, at most %d open, %d messages, largest %d bytes",
		st.Bytes, st.Packets, st.Connections, st.MaxOpen, st.Messages, st.MaxMessage)

	spans := connSpans(t, fs, ts)
	if got := maxOverlap(spans); got != st.MaxOpen {
		t.Errorf("most connections open at once in the packets: %d, Stats.MaxOpen %d", got, st.MaxOpen)
	}
	start := spans[0][0]
	var quarters [4]int
	v6, failed, deflate := 0, 0, 0
	for i, s := range spans {
		q := int(4 * s[0].Sub(start) / window)
		if q < 0 || q > 3 {
			t.Fatalf("connection %d starts %v after the first, past the window", i, s[0].Sub(start))
		}
		quarters[q]++
		if strings.HasPrefix(ts[i].Client, "[") {
			v6++
		}
		if ts[i].Verdict == report.VerdictHandshakeFailed {
			failed++
		}
		resp := fs[ts[i].Server+" "+ts[i].Client].stream()
		if bytes.Contains(resp[:bytes.Index(resp, []byte("\r\n\r\n"))], []byte("permessage-deflate")) {
			deflate++
		}
	}
	var small, tail int64
	for k, n := range st.MessageSizes {
		switch {
		case k < 5: // below 32 bytes
			small += n
		case k >= 11: // 2048 bytes and more
			tail += n
		}
	}
	var below int64 // messages below 512 bytes
	for _, n := range st.MessageSizes[:9] {
		below += n
	}
	checks := []bound{
		{"size/target", float64(st.Bytes) / 20e6, 0.75, 1.3},
		// At this size the window is short for the lifetimes: many connections overlap.
		{"most open at once / connections %", pct(st.MaxOpen, st.Connections), 40, 100},
		{"IPv6 %", pct(v6, len(ts)), 7, 13},
		{"rejected upgrades %", pct(failed, len(ts)), 1.5, 4.5},
		{"long-lived %", pct(st.LongLived, len(ts)), 11, 19},
		{"deflate %", pct(st.Deflate, len(ts)), 20, 30},
		{"messages under 32 B", float64(small), 0, 0},
		{"largest message", float64(st.MaxMessage), 64 << 10, 1 << 20},
		{"messages of 2 KiB and more %", pct64(tail, st.Messages), 2.2, 3.8},
		{"messages under 512 B % (median 320 B)", pct64(below, st.Messages), 60, 80},
		{"fragmented %", pct64(st.Fragmented, st.Messages), 3, 5},
		{"out of order %", pct64(st.OutOfOrder, st.DataSegments), 0.8, 1.2},
		{"retransmitted %", pct64(st.Retransmitted, st.DataSegments), 0.8, 1.2},
		{"client pings %", pct64(st.Pings[0], st.Pings[0]+st.Pings[1]), 40, 60},
		{"messages per accepted connection", float64(st.Messages) / float64(len(ts)-failed), 18, 30},
	}
	for q, n := range quarters {
		checks = append(checks, bound{"starts in quarter " + string(rune('1'+q)) + " %", pct(n, len(ts)), 20, 30})
	}
	checkBounds(t, checks)
	if deflate != st.Deflate {
		t.Errorf("101s accepting permessage-deflate: %d, Stats.Deflate %d", deflate, st.Deflate)
	}
}

// TestBusyMessagesDecode reads every message of a busy capture back from the reassembled
// streams: compressed messages (RSV1, only on connections whose 101 accepted
// permessage-deflate) inflate to valid text or binary payloads of the drawn sizes, and the
// counts match the stats.
func TestBusyMessagesDecode(t *testing.T) {
	g := generate(t, Options{Seed: 2, Shape: ShapeBusy, Connections: 300, Window: 20 * time.Second})
	fs := flows(t, g.capture)
	var msgs, compressed, fragmented, pings int64
	for _, tr := range truths(t, g.truth) {
		if tr.Handshake != report.HandshakeCompleted {
			continue
		}
		up, down := fs[tr.Client+" "+tr.Server], fs[tr.Server+" "+tr.Client]
		resp := down.stream()
		deflate := bytes.Contains(resp[:bytes.Index(resp, []byte("\r\n\r\n"))], []byte("permessage-deflate"))
		for _, f := range []*flow{up, down} {
			ms, p := readMessages(t, f.stream())
			pings += int64(p)
			for _, m := range ms {
				msgs++
				if m.frames > 1 {
					fragmented++
				}
				if m.compressed {
					compressed++
					if !deflate {
						t.Fatalf("%s: compressed message without permessage-deflate", tr.Client)
					}
				} else if deflate {
					t.Fatalf("%s: uncompressed message with permessage-deflate", tr.Client)
				}
				if len(m.payload) < 50 || len(m.payload) > 1<<20 {
					t.Errorf("%s: message of %d bytes", tr.Client, len(m.payload))
				}
				if m.op == 1 && (!utf8.Valid(m.payload) || !bytes.Contains(m.payload, []byte(`"`))) {
					t.Errorf("%s: text message is not JSON-like text: %q", tr.Client, m.payload[:min(40, len(m.payload))])
				}
			}
		}
	}
	st := g.stats
	if msgs != st.Messages || compressed != st.Compressed || fragmented != st.Fragmented || pings != st.Pings[0]+st.Pings[1] {
		t.Errorf("read back %d messages (%d compressed, %d fragmented), %d pings; stats %d (%d, %d), %d",
			msgs, compressed, fragmented, pings, st.Messages, st.Compressed, st.Fragmented, st.Pings[0]+st.Pings[1])
	}
	if compressed == 0 || fragmented == 0 {
		t.Errorf("compressed %d, fragmented %d: want some of each", compressed, fragmented)
	}
}

// TestMassShape: every connection opens (browser-like upgrade, a message each way, a
// ping), all are open at once, then all close cleanly.
func TestMassShape(t *testing.T) {
	const n = 3000
	g := generate(t, Options{Seed: 1, Shape: ShapeMass, Connections: n, Window: 2 * time.Second})
	st := g.stats
	ts := truths(t, g.truth)
	fs := flows(t, g.capture)
	if len(ts) != n || st.Verdicts[report.VerdictClean] != n {
		t.Fatalf("connections %d, verdicts %v: want %d clean", len(ts), st.Verdicts, n)
	}
	if got := maxOverlap(connSpans(t, fs, ts)); got != n || st.MaxOpen != n {
		t.Errorf("most open at once: %d in the packets, Stats.MaxOpen %d; want %d", got, st.MaxOpen, n)
	}
	var lastOpen, firstFIN time.Time
	deflate := 0
	for _, tr := range ts {
		up, down := fs[tr.Client+" "+tr.Server], fs[tr.Server+" "+tr.Client]
		req, resp := up.stream(), down.stream()
		for _, h := range []string{"\r\nUser-Agent: Mozilla/5.0 ", "\r\nOrigin: https://", "\r\nCookie: ",
			"\r\nSec-WebSocket-Extensions: permessage-deflate"} {
			if !bytes.Contains(req, []byte(h)) {
				t.Fatalf("%s: request lacks %q:\n%s", tr.Client, h, req)
			}
		}
		if bytes.Contains(resp, []byte("permessage-deflate")) {
			deflate++
		}
		for _, f := range []*flow{up, down} {
			ms, _ := readMessages(t, f.stream())
			if len(ms) != 1 {
				t.Errorf("%s: %d messages one way, want 1", tr.Client, len(ms))
			}
		}
		if up.first.After(lastOpen) {
			lastOpen = up.first
		}
		if firstFIN.IsZero() || down.last.Before(firstFIN) {
			firstFIN = down.last
		}
	}
	if !firstFIN.After(lastOpen.Add(time.Second)) {
		t.Errorf("first close at %v, last open at %v: want the closes after all opened", firstFIN, lastOpen)
	}
	checkBounds(t, []bound{
		{"deflate %", pct(deflate, n), 20, 30},
		{"client pings", float64(st.Pings[0]), n, n},
		{"messages", float64(st.Messages), 2 * n, 2 * n},
	})
}

// TestSYNFloodShape: distinct unanswered SYNs within the window, one WebSocket connection
// in the middle, and a truth with that connection only.
func TestSYNFloodShape(t *testing.T) {
	const syns, window = 20_000, time.Second
	g := generate(t, Options{Seed: 1, Shape: ShapeSYNFlood, SYNs: syns, Window: window})
	ts := truths(t, g.truth)
	if len(ts) != 1 || ts[0].Verdict != report.VerdictClean || g.stats.SYNs != syns {
		t.Fatalf("truth %+v, %d SYNs: want one clean connection and %d SYNs", ts, g.stats.SYNs, syns)
	}
	fs := flows(t, g.capture)
	var first, last time.Time
	floods := 0
	for k, f := range fs {
		src, dst, _ := strings.Cut(k, " ")
		if src == ts[0].Client || src == ts[0].Server {
			continue
		}
		floods++
		if !f.syn || len(f.segs) != 0 || f.fin || f.rst || !f.first.Equal(f.last) {
			t.Fatalf("%s: not a lone SYN", k)
		}
		if fs[dst+" "+src] != nil {
			t.Fatalf("%s: answered", k)
		}
		if dst != ts[0].Server {
			t.Fatalf("%s: SYN to %s, want the WebSocket server %s", k, dst, ts[0].Server)
		}
		if !netip.MustParseAddrPort(src).Addr().Is4() {
			t.Fatalf("%s: not IPv4", k)
		}
		if first.IsZero() || f.first.Before(first) {
			first = f.first
		}
		if f.first.After(last) {
			last = f.first
		}
	}
	if floods != syns {
		t.Errorf("distinct SYN 4-tuples: got %d, want %d", floods, syns)
	}
	if span := last.Sub(first); span > window {
		t.Errorf("SYNs span %v, want at most %v", span, window)
	}
	ws := fs[ts[0].Client+" "+ts[0].Server].first.Sub(first)
	if ws < window*2/5 || ws > window*3/5 {
		t.Errorf("WebSocket connection starts %v after the first SYN, want about %v", ws, window/2)
	}
}

// TestShapesDeterministic: every shape gives the same bytes for the same options and
// other bytes for another seed.
func TestShapesDeterministic(t *testing.T) {
	for _, opts := range []Options{
		{Seed: 5, Shape: ShapeBusy, Connections: 150, Window: 10 * time.Second},
		{Seed: 5, Shape: ShapeMass, Connections: 300, Window: time.Second, Format: FormatPcapNG},
		{Seed: 5, Shape: ShapeSYNFlood, SYNs: 3000, Window: time.Second, Gzip: true},
	} {
		t.Run(opts.Shape.String(), func(t *testing.T) {
			a, b := generate(t, opts), generate(t, opts)
			if digest(a.capture) != digest(b.capture) || digest(a.truth) != digest(b.truth) {
				t.Errorf("two runs with the same options differ")
			}
			opts.Seed++
			if c := generate(t, opts); digest(c.capture) == digest(a.capture) {
				t.Errorf("seeds 5 and 6 give the same capture")
			}
		})
	}
}

func TestParseShape(t *testing.T) {
	for i, name := range []string{"mixed", "busy", "MASS", "synflood"} {
		if s, err := ParseShape(name); err != nil || s != Shape(i) {
			t.Errorf("ParseShape(%q): got %v, %v; want %v", name, s, err, Shape(i))
		}
	}
	if _, err := ParseShape("flood"); err == nil || !strings.Contains(err.Error(), "mixed, busy, mass, synflood") {
		t.Errorf("ParseShape(flood): got %v, want an error listing the shapes", err)
	}
}

// TestLognormalSize: the table draws stay within 50-2048 bytes around a median of 320.
func TestLognormalSize(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var sizes []int
	for range 20000 {
		sizes = append(sizes, lognormalSize(r))
	}
	slices.Sort(sizes)
	if sizes[0] < 50 || sizes[len(sizes)-1] > 2048 {
		t.Errorf("range %d-%d, want within 50-2048", sizes[0], sizes[len(sizes)-1])
	}
	if m := sizes[len(sizes)/2]; m < 300 || m > 340 {
		t.Errorf("median %d, want about 320", m)
	}
}
