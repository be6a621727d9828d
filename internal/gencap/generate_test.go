package gencap

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
)

func digest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

func TestDeterministic(t *testing.T) {
	opts := Options{Seed: 7, Connections: 80, Concurrency: 20}
	a, b := generate(t, opts), generate(t, opts)
	if got, want := digest(a.capture), digest(b.capture); got != want {
		t.Errorf("capture digest: got %v, want %v (same seed)", got, want)
	}
	if got, want := digest(a.truth), digest(b.truth); got != want {
		t.Errorf("truth digest: got %v, want %v (same seed)", got, want)
	}
	opts.Seed = 8
	if c := generate(t, opts); digest(c.capture) == digest(a.capture) {
		t.Errorf("capture digest: got %v for seeds 7 and 8, want different", digest(c.capture))
	}
}

func TestFormatsParse(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"pcap", Options{Seed: 1, Connections: 150}},
		{"pcapng", Options{Seed: 1, Connections: 150, Format: FormatPcapNG}},
		{"pcap-gzip", Options{Seed: 1, Connections: 150, Gzip: true}},
		{"pcapng-gzip", Options{Seed: 2, Connections: 150, Format: FormatPcapNG, Gzip: true}},
		{"low-concurrency", Options{Seed: 3, Connections: 40, Concurrency: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := generate(t, tt.opts)
			var payload int64
			st := eachSegment(t, g.capture, func(s *reassembly.Segment) { payload += int64(len(s.Payload)) })
			if got, want := st.Packets, g.stats.Packets; got != want {
				t.Errorf("packets: got %v, want %v", got, want)
			}
			if got, want := st.TCPSegments, g.stats.Packets; got != want {
				t.Errorf("TCP segments: got %v, want %v", got, want)
			}
			if len(st.Skipped) != 0 || st.NonTCP != 0 || st.SnaplenCut != 0 {
				t.Errorf("skipped %v, non-TCP %v, cut %v: want none", st.Skipped, st.NonTCP, st.SnaplenCut)
			}
			if got, want := len(truths(t, g.truth)), tt.opts.Connections; got != want {
				t.Errorf("truth lines: got %v, want %v", got, want)
			}
			if payload == 0 {
				t.Errorf("payload bytes: got 0, want some")
			}
		})
	}
}

func TestGzipMatchesPlain(t *testing.T) {
	plain := generate(t, Options{Seed: 5, Connections: 50})
	gz := generate(t, Options{Seed: 5, Connections: 50, Gzip: true})
	var a, b []reassembly.Segment
	collect := func(out *[]reassembly.Segment) func(*reassembly.Segment) {
		return func(s *reassembly.Segment) {
			c := *s
			c.Payload = slices.Clone(s.Payload)
			*out = append(*out, c)
		}
	}
	eachSegment(t, plain.capture, collect(&a))
	eachSegment(t, gz.capture, collect(&b))
	if got, want := len(b), len(a); got != want {
		t.Fatalf("segments: got %v, want %v", got, want)
	}
	for i := range a {
		if a[i].Seq != b[i].Seq || !a[i].Time.Equal(b[i].Time) || string(a[i].Payload) != string(b[i].Payload) {
			t.Fatalf("segment %d differs between plain and gzip", i)
		}
	}
	if got, want := gz.stats.Bytes, plain.stats.Bytes; got != want {
		t.Errorf("uncompressed bytes: got %v, want %v", got, want)
	}
}

func TestTruthLines(t *testing.T) {
	g := generate(t, Options{Seed: 11, Connections: 3000, LenientProto: DefaultLenientProto})
	ts := truths(t, g.truth)
	if got, want := len(ts), 3000; got != want {
		t.Fatalf("truth lines: got %v, want %v", got, want)
	}
	counts := map[report.Verdict]int{}
	conns := map[string]bool{}
	for _, tr := range ts {
		counts[tr.Verdict]++
		k := tr.Client + " " + tr.Server
		if conns[k] {
			t.Errorf("connection %s appears twice", k)
		}
		conns[k] = true
	}
	if got, want := counts, g.stats.Verdicts; !mapsEqual(got, want) {
		t.Errorf("verdict counts: got %v, want Stats.Verdicts %v", got, want)
	}
	// Shares implied by the fate weights, in percent. A closing handshake followed by a RST
	// from the side that closed first is half_closed (the answer sat unread): half of the
	// fateCleanRST weight moves from clean to half_closed.
	want := map[report.Verdict]float64{
		report.VerdictClean: 61.5, report.VerdictHalfClosed: 18.5, report.VerdictAbnormal: 12,
		report.VerdictHandshakeFailed: 5, report.VerdictOpenAtEnd: 3,
	}
	for v, pct := range want {
		got := 100 * float64(counts[v]) / float64(len(ts))
		if math.Abs(got-pct) > 2.5 {
			t.Errorf("%s share: got %.1f%%, want %.0f%% ± 2.5", v, got, pct)
		}
	}
	// Every line has exactly the documented keys.
	var raw map[string]any
	first := g.truth[:slices.Index(g.truth, '\n')]
	if err := json.Unmarshal(first, &raw); err != nil {
		t.Fatal(err)
	}
	keys := []string{"client", "server", "handshake", "handshake_error", "http_status", "subprotocol", "client_close_code",
		"client_close_reason", "server_close_code", "server_close_reason", "first_close",
		"tcp_end_first", "tcp_end_how", "client_observed", "server_observed", "verdict"}
	var got []string
	for k := range raw {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(keys)
	if !slices.Equal(got, keys) {
		t.Errorf("truth keys: got %v, want %v", got, keys)
	}
	if g.stats.IPv6 == 0 {
		t.Errorf("IPv6 connections: got 0, want some")
	}
}

func mapsEqual[K comparable](a, b map[K]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestShape(t *testing.T) {
	g := generate(t, Options{Seed: 1, TargetSize: 60e6})
	st := g.stats
	avg := float64(st.Bytes) / float64(st.Packets)
	perConn := float64(st.Packets) / float64(st.Connections)
	t.Logf("%d bytes, %d packets, %d connections: %.0f B/packet, %.0f packets/connection, %.2f%% out of order, %.2f%% retransmitted",
		st.Bytes, st.Packets, st.Connections, avg, perConn,
		100*float64(st.OutOfOrder)/float64(st.DataSegments), 100*float64(st.Retransmitted)/float64(st.DataSegments))
	checks := []struct {
		name   string
		got    float64
		lo, hi float64
	}{
		{"bytes/packet", avg, 420, 680},
		{"packets/connection", perConn, 50, 110},
		{"size/target", float64(st.Bytes) / 60e6, 1, 1.15},
		{"out-of-order %", 100 * float64(st.OutOfOrder) / float64(st.DataSegments), 0.8, 1.2},
		{"retransmitted %", 100 * float64(st.Retransmitted) / float64(st.DataSegments), 0.8, 1.2},
	}
	for _, c := range checks {
		if c.got < c.lo || c.got > c.hi {
			t.Errorf("%s: got %.3f, want %v..%v", c.name, c.got, c.lo, c.hi)
		}
	}
}

// TestTruthMatchesPackets checks the truth against the packets themselves: the first FIN
// or RST of each connection, and the first close frame (which always fills its own
// segment), read back with the project's capture reader.
func TestTruthMatchesPackets(t *testing.T) {
	g := generate(t, Options{Seed: 21, Connections: 600, Concurrency: 50})
	type seen struct {
		endSide, endHow string
		closeSide       string
		closeCode       int // -1: a close frame without a code
	}
	conns := map[string]*seen{}
	eachSegment(t, g.capture, func(s *reassembly.Segment) {
		c, sv, side := s.Src, s.Dst, "client"
		if s.Src.Port() < s.Dst.Port() {
			c, sv, side = s.Dst, s.Src, "server"
		}
		k := c.String() + " " + sv.String()
		st := conns[k]
		if st == nil {
			st = &seen{}
			conns[k] = st
		}
		switch {
		case st.endSide != "":
		case s.Flags.Has(reassembly.FlagRST):
			st.endSide, st.endHow = side, "rst"
		case s.Flags.Has(reassembly.FlagFIN):
			st.endSide, st.endHow = side, "fin"
		}
		if st.closeSide == "" {
			if code, ok := closeFrame(s.Payload, side == "client"); ok {
				st.closeSide, st.closeCode = side, code
			}
		}
	})
	for _, tr := range truths(t, g.truth) {
		k := tr.Client + " " + tr.Server
		st := conns[k]
		if st == nil {
			t.Errorf("%s: no packets", k)
			continue
		}
		if got, want := st.endSide+"/"+st.endHow, deref(tr.TCPEndFirst)+"/"+deref(tr.TCPEndHow); got != want {
			t.Errorf("%s: first FIN/RST: got %v, want %v", k, got, want)
		}
		if got, want := st.closeSide, deref(tr.FirstClose); got != want {
			t.Errorf("%s: first close from: got %q, want %q", k, got, want)
			continue
		}
		want := -1
		switch {
		case st.closeSide == "":
			continue
		case st.closeSide == "client" && tr.ClientCloseCode != nil:
			want = *tr.ClientCloseCode
		case st.closeSide == "server" && tr.ServerCloseCode != nil:
			want = *tr.ServerCloseCode
		}
		if st.closeCode != want {
			t.Errorf("%s: first close code: got %v, want %v", k, st.closeCode, want)
		}
	}
}

// closeFrame recognizes a segment that is exactly one close frame and returns its code
// (-1 without one).
func closeFrame(p []byte, masked bool) (int, bool) {
	hl := 2
	if masked {
		hl = 6
	}
	if len(p) < hl || p[0] != 0x88 || (p[1]&0x80 != 0) != masked || int(p[1]&0x7f) != len(p)-hl {
		return 0, false
	}
	body := append([]byte(nil), p[hl:]...)
	if masked {
		for i := range body {
			body[i] ^= p[2+i&3]
		}
	}
	if len(body) == 0 {
		return -1, true
	}
	if len(body) < 2 {
		return 0, false
	}
	return int(body[0])<<8 | int(body[1]), true
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestPlanIgnoredProto: the planner draws lenient clients at the configured share, each
// offering a subprotocol, getting a 101 that ignores it and sending the first frames, and
// strict clients among the rejected upgrades, which end TCP right after that 101.
func TestPlanIgnoredProto(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	p := planner{meanBursts: meanBursts, lenient: DefaultLenientProto}
	const n = 20000
	lenient, strict := 0, 0
	for range n {
		steps := p.plan(r)
		req, resp := steps[1], steps[2]
		if req.kind != stRequest || resp.kind != stResponse {
			t.Fatalf("plan starts %v, want SYN, request, response", steps[:3])
		}
		if resp.hs != hsIgnoredProto {
			if req.lenient {
				t.Fatalf("lenient client with answer %v, want an ignored subprotocol", resp.hs)
			}
			continue
		}
		if req.offer == 0 || resp.status != 101 {
			t.Fatalf("ignored subprotocol: offer %d, status %d; want an offer and 101", req.offer, resp.status)
		}
		next := steps[3]
		switch {
		case req.lenient:
			lenient++
			if next.kind != stData || next.dir != client {
				t.Fatalf("lenient client: step after the 101 is %+v, want client data", next)
			}
		default:
			strict++
			if (next.kind != stFIN && next.kind != stRST) || next.dir != client {
				t.Fatalf("strict client: step after the 101 is %+v, want the client's FIN or RST", next)
			}
			for _, s := range steps[3:] {
				if s.isFrame() {
					t.Fatalf("strict client: plan %+v has frames", steps)
				}
			}
		}
	}
	if got := 1000 * float64(lenient) / n; math.Abs(got-DefaultLenientProto) > 5 {
		t.Errorf("lenient clients: got %.1f per 1000, want %d ± 5", got, DefaultLenientProto)
	}
	if strict == 0 {
		t.Errorf("strict clients: got none, want some")
	}
	p.lenient = -1
	for range n {
		if p.plan(r)[1].lenient {
			t.Fatal("lenient client drawn with the share disabled")
		}
	}
}

// TestIgnoredProtoConnections reads back the connections whose 101 ignored the requested
// subprotocol: the request offers one and the 101 has no Sec-WebSocket-Protocol; a lenient
// client sends payload after the 101 and its truth says the handshake completed, with the
// strict judgement in handshake_error and the verdict of its ending; a strict client ends
// TCP without a byte more and its truth says handshake_failed.
func TestIgnoredProtoConnections(t *testing.T) {
	g := generate(t, Options{Seed: 13, Connections: 3000, Concurrency: 50, LenientProto: DefaultLenientProto})
	type seen struct {
		request, response []byte
		clientAfter       int    // client payload bytes after the response
		clientEnd         string // the client's first FIN or RST after the response
	}
	conns := map[string]*seen{}
	eachSegment(t, g.capture, func(s *reassembly.Segment) {
		c, sv, fromClient := s.Src, s.Dst, true
		if s.Src.Port() < s.Dst.Port() {
			c, sv, fromClient = s.Dst, s.Src, false
		}
		k := c.String() + " " + sv.String()
		st := conns[k]
		if st == nil {
			st = &seen{}
			conns[k] = st
		}
		switch {
		case !fromClient && st.response == nil && len(s.Payload) > 0:
			st.response = slices.Clone(s.Payload)
		case !fromClient:
		case st.request == nil && len(s.Payload) > 0:
			st.request = slices.Clone(s.Payload)
		case st.response != nil && st.clientEnd == "":
			st.clientAfter += len(s.Payload)
			switch {
			case s.Flags.Has(reassembly.FlagRST):
				st.clientEnd = "rst"
			case s.Flags.Has(reassembly.FlagFIN):
				st.clientEnd = "fin"
			}
		}
	})
	lenient, strict, verdicts := 0, 0, map[report.Verdict]int{}
	for _, tr := range truths(t, g.truth) {
		if tr.HandshakeError == nil || !strings.HasPrefix(*tr.HandshakeError, "server ignored the requested subprotocol") {
			continue
		}
		k := tr.Client + " " + tr.Server
		st := conns[k]
		if st == nil || st.request == nil || st.response == nil {
			t.Fatalf("%s: no request or response in the capture", k)
		}
		if !bytes.Contains(st.request, []byte("\r\nSec-WebSocket-Protocol: ")) {
			t.Errorf("%s: request offers no subprotocol:\n%s", k, st.request)
		}
		if !bytes.HasPrefix(st.response, []byte("HTTP/1.1 101 ")) || bytes.Contains(st.response, []byte("Sec-WebSocket-Protocol")) {
			t.Errorf("%s: response is not a 101 without Sec-WebSocket-Protocol:\n%s", k, st.response)
		}
		if tr.HTTPStatus == nil || *tr.HTTPStatus != 101 || tr.Subprotocol != nil {
			t.Errorf("%s: truth http_status %v, subprotocol %v; want 101 and null", k, show(tr.HTTPStatus), show(tr.Subprotocol))
		}
		switch tr.Handshake {
		case report.HandshakeCompleted:
			lenient++
			verdicts[tr.Verdict]++
			if st.clientAfter == 0 {
				t.Errorf("%s: lenient client sent nothing after the 101", k)
			}
			if tr.Verdict == report.VerdictHandshakeFailed {
				t.Errorf("%s: lenient client: verdict %s", k, tr.Verdict)
			}
			ua := "Python/3.12 websockets/"
			if !bytes.Contains(st.request, []byte(ua)) && !bytes.Contains(st.request, []byte("Go-http-client/")) {
				t.Errorf("%s: lenient client's request has a browser's User-Agent:\n%s", k, st.request)
			}
		case report.HandshakeRejected:
			strict++
			if st.clientAfter != 0 || st.clientEnd == "" {
				t.Errorf("%s: strict client sent %d bytes after the 101, then %q; want none, then FIN or RST", k, st.clientAfter, st.clientEnd)
			}
			if tr.Verdict != report.VerdictHandshakeFailed || show(tr.ClientObserved) != "1006" || show(tr.ServerObserved) != "1006" {
				t.Errorf("%s: strict client: verdict %s, observed %s/%s; want handshake_failed, 1006/1006",
					k, tr.Verdict, show(tr.ClientObserved), show(tr.ServerObserved))
			}
		default:
			t.Errorf("%s: handshake %q", k, tr.Handshake)
		}
	}
	if lenient != g.stats.LenientProto {
		t.Errorf("lenient connections: %d in the truth, Stats.LenientProto %d", lenient, g.stats.LenientProto)
	}
	if got := 1000 * float64(lenient) / 3000; math.Abs(got-DefaultLenientProto) > 10 {
		t.Errorf("lenient connections: got %.1f per 1000, want %d ± 10", got, DefaultLenientProto)
	}
	if strict == 0 || verdicts[report.VerdictClean] == 0 || len(verdicts) < 3 {
		t.Errorf("strict clients %d, lenient verdicts %v: want some strict, and lenient ones ending in several ways", strict, verdicts)
	}
}

// TestLenientProtoDisabled: a negative share generates no lenient client, and the zero
// value behaves the same for now.
func TestLenientProtoDisabled(t *testing.T) {
	off := generate(t, Options{Seed: 3, Connections: 300, LenientProto: -1})
	if off.stats.LenientProto != 0 {
		t.Errorf("lenient connections with LenientProto -1: got %d, want 0", off.stats.LenientProto)
	}
	zero := generate(t, Options{Seed: 3, Connections: 300})
	if zero.stats.LenientProto == 0 {
		t.Errorf("lenient connections with the zero value: got none, want the default share")
	}
	on := generate(t, Options{Seed: 3, Connections: 300, LenientProto: 100})
	if on.stats.LenientProto == 0 {
		t.Errorf("lenient connections with LenientProto 100: got 0, want some")
	}
}
