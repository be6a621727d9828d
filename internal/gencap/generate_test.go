package gencap

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"slices"
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
	g := generate(t, Options{Seed: 11, Connections: 3000})
	ts := truths(t, g.truth)
	if got, want := len(ts), 3000; got != want {
		t.Fatalf("truth lines: got %v, want %v", got, want)
	}
	counts := map[string]int{}
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
	// Shares implied by the fate weights, in percent.
	want := map[string]float64{
		report.VerdictClean: 64, report.VerdictHalfClosed: 16, report.VerdictAbnormal: 12,
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
	keys := []string{"client", "server", "handshake", "http_status", "client_close_code",
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

func mapsEqual(a, b map[string]int) bool {
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
