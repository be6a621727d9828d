package match

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/report"
)

var t0 = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

// rec builds the record of a completed upgrade: SYN at start, the request 1 ms later, the
// response at resp (after the request).
func rec(client, server string, start, resp time.Duration, key, xff string) *report.Record {
	c, s := netip.MustParseAddrPort(client), netip.MustParseAddrPort(server)
	r := &report.Record{Client: client, Server: server, ClientAddr: c, ServerAddr: s,
		CommunityID: "id " + client + " " + server,
		Start:       report.Time{Time: t0.Add(start)}, WebSocket: true, Verdict: report.VerdictOpenAtEnd,
		Request:      &report.Request{Method: "GET", Path: "/ws", Key: key, XForwardedFor: xff},
		RequestTime:  &report.Time{Time: t0.Add(start + time.Millisecond)},
		ResponseTime: &report.Time{Time: t0.Add(resp)},
	}
	return r
}

// run passes records through Legs and returns them as written.
func run(opts Options, recs ...*report.Record) []*report.Record {
	var out []*report.Record
	m := NewLegs(opts, func(r *report.Record) { out = append(out, r) })
	for _, r := range recs {
		m.Add(r)
	}
	m.Flush()
	return out
}

func otherOf(r *report.Record) string {
	if r.Proxy == nil {
		return ""
	}
	return r.Proxy.Leg + " " + r.Proxy.MatchedBy + " " + r.Proxy.Other.Client
}

func TestLegs(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		recs []*report.Record
		want []string // per record, in order: "leg evidence other-client", or "" for unpaired
	}{
		{"same key", []*report.Record{
			rec("10.0.0.1:50000", "10.0.0.2:80", 0, 5*ms, "k1", ""),
			rec("10.0.0.2:40000", "10.0.0.3:9000", 2*ms, 4*ms, "k1", ""),
		}, []string{"client key 10.0.0.2:40000", "backend key 10.0.0.1:50000"}},
		{"key rewritten, X-Forwarded-For names the client", []*report.Record{
			rec("10.0.0.1:50000", "10.0.0.2:80", 0, 5*ms, "k1", ""),
			rec("10.0.0.2:40000", "10.0.0.3:9000", 2*ms, 4*ms, "other", "203.0.113.9, 10.0.0.1"),
		}, []string{"client forwarded 10.0.0.2:40000", "backend forwarded 10.0.0.1:50000"}},
		{"X-Forwarded-For names another client", []*report.Record{
			rec("10.0.0.1:50000", "10.0.0.2:80", 0, 5*ms, "k1", ""),
			rec("10.0.0.2:40000", "10.0.0.3:9000", 2*ms, 4*ms, "other", "10.0.0.7"),
		}, []string{"", ""}},
		{"timing: nested handshake from the proxy's address", []*report.Record{
			rec("10.0.0.1:50000", "10.0.0.2:80", 0, 5*ms, "k1", ""),
			rec("10.0.0.2:40000", "10.0.0.3:9000", 2*ms, 4*ms, "", ""),
		}, []string{"client timing 10.0.0.2:40000", "backend timing 10.0.0.1:50000"}},
		{"timing: not from the proxy's address", []*report.Record{
			rec("10.0.0.1:50000", "10.0.0.2:80", 0, 5*ms, "k1", ""),
			rec("10.0.0.9:40000", "10.0.0.3:9000", 2*ms, 4*ms, "", ""),
		}, nil},
		{"timing: backend answered after the client got its 101", []*report.Record{
			rec("10.0.0.1:50000", "10.0.0.2:80", 0, 5*ms, "k1", ""),
			rec("10.0.0.2:40000", "10.0.0.3:9000", 2*ms, 6*ms, "", ""),
		}, nil},
		{"key but outside the window", []*report.Record{
			rec("10.0.0.1:50000", "10.0.0.2:80", 0, 5*ms, "k1", ""),
			rec("10.0.0.2:40000", "10.0.0.3:9000", 1500*ms, 1501*ms, "k1", ""),
		}, nil},
		{"timing: two client legs for one backend leg", []*report.Record{
			rec("10.0.0.1:50000", "10.0.0.2:80", 0, 5*ms, "a", ""),
			rec("10.0.0.5:50000", "10.0.0.2:80", 1*ms, 5*ms, "b", ""),
			rec("10.0.0.2:40000", "10.0.0.3:9000", 3*ms, 4*ms, "", ""),
		}, nil},
		{"timing: two backend legs for one client leg", []*report.Record{
			rec("10.0.0.1:50000", "10.0.0.2:80", 0, 9*ms, "a", ""),
			rec("10.0.0.2:40000", "10.0.0.3:9000", 3*ms, 4*ms, "", ""),
			rec("10.0.0.2:40001", "10.0.0.3:9000", 4*ms, 5*ms, "", ""),
		}, nil},
		{"key wins over timing", []*report.Record{
			rec("10.0.0.1:50000", "10.0.0.2:80", 0, 9*ms, "a", ""),
			rec("10.0.0.2:40000", "10.0.0.3:9000", 3*ms, 4*ms, "", ""),
			rec("10.0.0.2:40001", "10.0.0.3:9000", 4*ms, 5*ms, "a", ""),
		}, []string{"client key 10.0.0.2:40001", "", "backend key 10.0.0.1:50000"}},
		{"the same connection twice is not a pair", []*report.Record{
			rec("10.0.0.1:50000", "10.0.0.2:80", 0, 5*ms, "k1", ""),
			rec("10.0.0.1:50000", "10.0.0.2:80", 2*ms, 4*ms, "k1", ""),
		}, nil},
		{"two clients of one server sending one fixed key", []*report.Record{
			rec("10.0.0.1:50000", "10.0.0.2:80", 0, 5*ms, "fixed", ""),
			rec("10.0.0.4:50000", "10.0.0.2:80", 2*ms, 4*ms, "fixed", ""),
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := run(Options{}, tt.recs...)
			if len(out) != len(tt.recs) {
				t.Fatalf("got %d records, want %d", len(out), len(tt.recs))
			}
			for i, r := range out {
				if r != tt.recs[i] {
					t.Errorf("record %d out of order", i)
				}
				want := ""
				if tt.want != nil {
					want = tt.want[i]
				}
				if got := otherOf(r); got != want {
					t.Errorf("record %d: got %q, want %q", i, got, want)
				}
			}
		})
	}
}

// TestLegsManyConcurrent: 2,000 proxied connections whose handshakes overlap (a new one
// every 0.2 ms, each taking 1 to 9 ms), among 500 direct ones to the same proxy port: every
// pair found is a true pair, and those the evidence proves are all found.
func TestLegsManyConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var recs []*report.Record
	partner := map[*report.Record]*report.Record{}
	provable := 0
	for i := range 2500 {
		start := time.Duration(i) * 200 * time.Microsecond
		client := fmt.Sprintf("10.1.%d.%d:%d", i/250, i%250, 30000+i%1000)
		key := fmt.Sprintf("key-%d", i)
		c := rec(client, "10.0.0.2:80", start, start+10*time.Millisecond, key, "")
		recs = append(recs, c)
		if i%5 == 4 {
			continue // a direct connection: no backend leg
		}
		bStart := start + time.Duration(1+rng.IntN(5))*time.Millisecond
		bKey, xff := key, ""
		switch i % 5 {
		case 1: // the proxy rewrites the key and says who the client is
			bKey, xff = fmt.Sprintf("new-%d", i), strings.Split(client, ":")[0]
		case 2: // the proxy rewrites the key and says nothing: timing only, ambiguous here
			bKey = fmt.Sprintf("new-%d", i)
		}
		b := rec(fmt.Sprintf("10.0.0.2:%d", 40000+i), "10.0.0.3:9000", bStart, bStart+2*time.Millisecond, bKey, xff)
		recs = append(recs, b)
		partner[c], partner[b] = b, c
		if i%5 != 2 {
			provable++
		}
	}
	// Start order, as the scanner writes them.
	sortByStart(recs)
	out := run(Options{}, recs...)
	if len(out) != len(recs) {
		t.Fatalf("got %d records, want %d", len(out), len(recs))
	}
	paired := 0
	for i, r := range out {
		if r != recs[i] {
			t.Fatalf("record %d out of order", i)
		}
		if r.Proxy == nil {
			continue
		}
		paired++
		if p := partner[r]; p == nil || p.Client != r.Proxy.Other.Client {
			t.Fatalf("%s paired with %s by %s: a false pairing", r.Client, r.Proxy.Other.Client, r.Proxy.MatchedBy)
		}
	}
	t.Logf("paired %d of %d legs", paired, len(recs))
	if paired < 2*provable {
		t.Errorf("paired %d legs, want at least the %d that key or X-Forwarded-For prove", paired, 2*provable)
	}
}

func sortByStart(recs []*report.Record) {
	for i := 1; i < len(recs); i++ {
		for j := i; j > 0 && recs[j].Start.Before(recs[j-1].Start.Time); j-- {
			recs[j], recs[j-1] = recs[j-1], recs[j]
		}
	}
}

// TestLegsBounded: with no pair in sight, records are written as they age out of the
// window or past MaxHeld, not held to the end.
func TestLegsBounded(t *testing.T) {
	var out int
	m := NewLegs(Options{MaxHeld: 8}, func(*report.Record) { out++ })
	for i := range 100 {
		m.Add(rec(fmt.Sprintf("10.0.0.1:%d", 1000+i), "10.0.0.2:80", time.Duration(i)*time.Microsecond,
			time.Duration(i)*time.Microsecond+5*time.Millisecond, fmt.Sprint(i), ""))
		if held := i + 1 - out; held > 8 {
			t.Fatalf("after %d records, %d held, want at most 8", i+1, held)
		}
	}
	m.Add(rec("10.0.0.9:1", "10.0.0.2:80", 5*time.Second, 5*time.Second+time.Millisecond, "x", ""))
	if out != 100 {
		t.Errorf("a record 5 s later released %d of 100, want all", out)
	}
}

// TestLegsPause: a pause of live input writes every held record at once; legs already
// both present are paired by key, never by weaker evidence that a later record might beat.
func TestLegsPause(t *testing.T) {
	ms := time.Millisecond
	var out []*report.Record
	m := NewLegs(Options{}, func(r *report.Record) { out = append(out, r) })
	a := rec("10.0.0.1:50000", "10.0.0.2:80", 0, 5*ms, "k1", "")
	b := rec("10.0.0.2:40000", "10.0.0.3:9000", 2*ms, 4*ms, "k1", "")
	c := rec("10.0.0.5:50000", "10.0.0.2:80", 10*ms, 15*ms, "k2", "")
	d := rec("10.0.0.2:40001", "10.0.0.3:9000", 12*ms, 14*ms, "rewritten", "")
	for _, r := range []*report.Record{a, b, c, d} {
		m.Add(r)
	}
	if len(out) != 0 {
		t.Fatalf("%d records written before the pause, want 0 (all within the window)", len(out))
	}
	m.Pause()
	if len(out) != 4 {
		t.Fatalf("%d records written after the pause, want 4", len(out))
	}
	if got := otherOf(a); got != "client key 10.0.0.2:40000" {
		t.Errorf("a: got %q, want the key pairing", got)
	}
	if c.Proxy != nil || d.Proxy != nil {
		t.Errorf("c, d paired by %q after a pause, want no timing pairing", c.Proxy.MatchedBy)
	}
}

// BenchmarkLegs: the cost per record of the pairing stage on a stream of proxied
// connections (half the records are backend legs with X-Forwarded-For).
func BenchmarkLegs(b *testing.B) {
	recs := make([]*report.Record, 0, 2000)
	for i := range 1000 {
		start := time.Duration(i) * 100 * time.Microsecond
		c := rec(fmt.Sprintf("10.1.%d.%d:%d", i/250, i%250, 30000+i), "10.0.0.2:80", start, start+5*time.Millisecond, fmt.Sprint("k", i), "")
		bk := rec(fmt.Sprintf("10.0.0.2:%d", 40000+i), "10.0.0.3:9000", start+time.Millisecond, start+3*time.Millisecond,
			fmt.Sprint("k", i), fmt.Sprintf("10.1.%d.%d", i/250, i%250))
		recs = append(recs, c, bk)
	}
	sortByStart(recs)
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range recs {
			r.Proxy = nil
		}
		m := NewLegs(Options{}, func(*report.Record) {})
		for _, r := range recs {
			m.Add(r)
		}
		m.Flush()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
}

// TestLegsByEnd: in end order a backend leg released before its client leg is paired
// when it is the oldest held record, and a record released more than Window later is not
// waited for.
func TestLegsByEnd(t *testing.T) {
	client := rec("10.1.0.1:30000", "10.0.0.2:80", 0, 5*time.Millisecond, "k1", "")
	backend := rec("10.0.0.2:40000", "10.0.0.3:9000", time.Millisecond, 4*time.Millisecond, "k1", "")
	backend.Released, client.Released = t0.Add(10*time.Second), t0.Add(10*time.Second+500*time.Millisecond)
	out := run(Options{ByEnd: true}, backend, client)
	if otherOf(out[0]) != "backend key 10.1.0.1:30000" || otherOf(out[1]) != "client key 10.0.0.2:40000" {
		t.Errorf("end order: got %q and %q, want the backend and client legs paired by key", otherOf(out[0]), otherOf(out[1]))
	}
	// Without ByEnd the same input (out of start order) is not paired: the option is what
	// makes the difference.
	for _, r := range []*report.Record{client, backend} {
		r.Proxy = nil
	}
	if out := run(Options{}, backend, client); otherOf(out[0]) != "" || otherOf(out[1]) != "" {
		t.Errorf("start order, backend first: got %q and %q, want no pair", otherOf(out[0]), otherOf(out[1]))
	}
	// Released 2 s apart, past the 1 s window: the backend leg is written before its
	// client leg comes, unpaired.
	for _, r := range []*report.Record{client, backend} {
		r.Proxy = nil
	}
	client.Released = t0.Add(12 * time.Second)
	third := rec("10.1.0.9:30009", "10.0.0.2:80", 3*time.Second, 3*time.Second+5*time.Millisecond, "k9", "")
	third.Released = t0.Add(11*time.Second + 100*time.Millisecond)
	out = run(Options{ByEnd: true}, backend, third, client)
	for _, r := range out {
		if r.Proxy != nil {
			t.Errorf("released 2 s apart: %s paired with %s", r.Client, r.Proxy.Other.Client)
		}
	}
}
