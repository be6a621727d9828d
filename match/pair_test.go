package match

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/report"
)

// shifted returns a copy of r as a capture whose clock is off by offset would show it,
// with the packets delay later (server side: the request arrives delay after it left,
// the response leaves delay before it arrives).
func serverView(r *report.Record, offset, delay time.Duration) *report.Record {
	s := *r
	req := *r.Request
	s.Request = &req
	s.Start = report.Time{Time: r.Start.Add(offset + delay)}
	s.RequestTime = &report.Time{Time: r.RequestTime.Add(offset + delay)}
	s.ResponseTime = &report.Time{Time: r.ResponseTime.Add(offset - delay)}
	return &s
}

func runPair(client, server []*report.Record) []Match {
	var out []Match
	p := NewPairer(PairOptions{MaxHeld: 16}, func(m Match) { out = append(out, m) })
	// In start order across the captures, as the CLI feeds them.
	i, j := 0, 0
	for i < len(client) || j < len(server) {
		if j >= len(server) || i < len(client) && !server[j].Start.Add(-p.Offset()).Before(client[i].Start.Time) {
			p.Add(ClientSide, client[i])
			i++
		} else {
			p.Add(ServerSide, server[j])
			j++
		}
	}
	p.Flush()
	return out
}

func TestPairer(t *testing.T) {
	ms := time.Millisecond
	offset, delay := 3*time.Second+250*ms, 2*ms
	// The handshake takes 10 ms at the client: 2 ms there, 6 ms at the server, 2 ms back.
	base := func(client, server string, at time.Duration, key string) *report.Record {
		return rec(client, server, at, at+time.Millisecond+10*ms, key, "")
	}
	t.Run("4-tuple, clock offset and delay", func(t *testing.T) {
		c := base("10.0.0.1:5000", "10.0.0.2:80", 0, "k1")
		out := runPair([]*report.Record{c}, []*report.Record{serverView(c, offset, delay)})
		if len(out) != 1 || out[0].MatchedBy != "4-tuple" || !out[0].HasTiming {
			t.Fatalf("got %+v, want one 4-tuple match with timing", out)
		}
		if out[0].Offset != offset || out[0].Delay != delay {
			t.Errorf("offset %v, delay %v; want %v, %v", out[0].Offset, out[0].Delay, offset, delay)
		}
	})
	t.Run("port reused with another key is not a match", func(t *testing.T) {
		c := base("10.0.0.1:5000", "10.0.0.2:80", 0, "k1")
		s := serverView(c, 0, delay)
		s.Request.Key = "k2"
		out := runPair([]*report.Record{c}, []*report.Record{s})
		if len(out) != 2 || out[0].MatchedBy != "" || out[1].MatchedBy != "" {
			t.Fatalf("got %d results (%+v), want two unmatched", len(out), out)
		}
	})
	t.Run("NAT: key", func(t *testing.T) {
		c := base("192.168.1.5:5000", "203.0.113.1:443", 0, "k1")
		s := serverView(c, offset, delay)
		s.Client, s.ClientAddr = "198.51.100.7:61000", mustAP("198.51.100.7:61000")
		out := runPair([]*report.Record{c}, []*report.Record{s})
		if len(out) != 1 || out[0].MatchedBy != "key" || out[0].Offset != offset {
			t.Fatalf("got %+v, want a key match with offset %v", out, offset)
		}
	})
	t.Run("NAT and a rewritten key: timing after an offset is known", func(t *testing.T) {
		var cs, ss []*report.Record
		for i := range 6 {
			c := base(fmt.Sprintf("192.168.1.5:%d", 5000+i), "203.0.113.1:443", time.Duration(i)*100*ms, fmt.Sprint("k", i))
			s := serverView(c, offset, delay)
			s.Client, s.ClientAddr = fmt.Sprintf("198.51.100.7:%d", 61000+i), mustAP(fmt.Sprintf("198.51.100.7:%d", 61000+i))
			if i > 0 {
				s.Request.Key = fmt.Sprint("rewritten", i)
			}
			cs, ss = append(cs, c), append(ss, s)
		}
		out := runPair(cs, ss)
		got := map[string]int{}
		for _, m := range out {
			got[m.MatchedBy]++
			if m.Client != nil && m.Server != nil && m.Client.Request.Key != "k0" &&
				strings.TrimPrefix(m.Server.Request.Key, "rewritten") != strings.TrimPrefix(m.Client.Request.Key, "k") {
				t.Errorf("%s matched with %s: a false match", m.Client.Client, m.Server.Client)
			}
		}
		if got["key"] != 1 || got["timing"] != 5 {
			t.Errorf("got %v, want 1 by key and 5 by timing", got)
		}
	})
	t.Run("NAT and a fixed key: no key match", func(t *testing.T) {
		c1 := base("192.168.1.5:5000", "203.0.113.1:443", 0, "fixed")
		c2 := base("192.168.1.6:5000", "203.0.113.1:443", 1*ms, "fixed")
		s2 := serverView(c2, 0, delay)
		s2.Client, s2.ClientAddr = "198.51.100.7:1", mustAP("198.51.100.7:1")
		out := runPair([]*report.Record{c1, c2}, []*report.Record{s2})
		for _, m := range out {
			if m.MatchedBy == "key" {
				t.Errorf("%s matched %s by a key two connections share", m.Client.Client, m.Server.Client)
			}
		}
	})
	t.Run("timing: two candidates, no match", func(t *testing.T) {
		c0 := base("192.168.1.5:5000", "203.0.113.1:443", 0, "k0")
		s0 := serverView(c0, offset, delay)
		c1 := base("192.168.1.5:5001", "203.0.113.1:443", 100*ms, "a")
		c2 := base("192.168.1.6:5001", "203.0.113.1:443", 101*ms, "b")
		s1 := serverView(c1, offset, delay)
		s1.Client, s1.ClientAddr, s1.Request.Key = "198.51.100.7:1", mustAP("198.51.100.7:1"), "x"
		out := runPair([]*report.Record{c0, c1, c2}, []*report.Record{s0, s1})
		for _, m := range out {
			if m.MatchedBy == "timing" {
				t.Errorf("%s matched by timing with two candidates 1 ms apart", m.Server.Client)
			}
		}
	})
}

func mustAP(s string) (ap netipAddrPort) { return parseAP(s) }

func TestCompare(t *testing.T) {
	ms := time.Millisecond
	c := rec("10.0.0.1:5000", "10.0.0.2:80", 0, 10*ms, "k", "")
	s := serverView(c, 0, 2*ms)
	s.ServerClose = closeAt(1000, 100*ms)
	c.ServerClose = closeAt(1001, 102*ms)
	c.TCPEnd = endAt(report.SideServer, "rst", 103*ms)
	s.TCPEnd = endAt(report.SideServer, "fin", 101*ms)
	got := strings.Join(Compare(c, s, 0), "\n")
	for _, want := range []string{
		"the server sent close 1000; the client received close 1001: something in between changed the code",
		"both captures show the server ending TCP first (RST in the client's, FIN in the server's)",
		"the client's capture shows a RST from the server that the server's capture does not: a middlebox reset the client's connection",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("findings\n%s\nlack %q", got, want)
		}
	}
	c.ServerClose = nil
	if got := strings.Join(Compare(c, s, 0), "\n"); !strings.Contains(got, "the server sent close 1000 but the client's capture has no close frame from it") {
		t.Errorf("findings\n%s\nlack the lost close frame", got)
	}
}

type netipAddrPort = netip.AddrPort

func parseAP(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
