package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/wsframe"
	"github.com/wsclosescan/wsclosescan/internal/wstest"
)

// proxied builds one WebSocket through a proxy at 10.0.0.2:80 to a backend at
// 10.0.0.3:9000, starting at, as the proxy host would capture it: the client leg's
// request, the backend leg's request (with key bkey and the extra headers), the backend's
// 101, the proxy's 101; then the backend closes with 1000 and the proxy sends 1001 to the
// client 2.1 ms later (2 ms, and the step of the packet clock).
func proxied(i int, at time.Duration, bkey string, extra ...string) (client, backend *wstest.Conv) {
	key := fmt.Sprintf("key-%04d-AAAAAAAAAAAAA==", i)
	client = wstest.NewConv(fmt.Sprintf("10.1.%d.%d:%d", i/200, i%200+1, 30000+i), "10.0.0.2:80")
	backend = wstest.NewConv(fmt.Sprintf("10.0.0.2:%d", 40000+i), "10.0.0.3:9000")
	start := client.Conn.Time.Add(at)
	client.Conn.Time, backend.Conn.Time = start, start.Add(500*time.Microsecond)
	client.SYN().Send(c2s, wsframe.Request("/chat", key))
	if bkey == "" {
		bkey = key
	}
	backend.SYN().Send(c2s, wsframe.Request("/chat", bkey, extra...)).Send(s2c, wsframe.Response101(bkey))
	client.Conn.Time = backend.Conn.Time.Add(100 * time.Microsecond)
	client.Send(s2c, wsframe.Response101(key))
	backend.Wait(50*time.Millisecond).Close(s2c, 1000, "done")
	client.Conn.Time = backend.Conn.Time.Add(2 * time.Millisecond)
	client.Close(s2c, 1001, "going away").Close(c2s, 1001, "")
	backend.Close(c2s, 1000, "").FIN(s2c).FIN(c2s)
	client.FIN(s2c).FIN(c2s)
	return client, backend
}

// TestProxyLegs: in a capture of 300 proxied WebSockets whose handshakes overlap (one
// starts every 0.3 ms), every leg names its own other leg, whichever evidence pairs them;
// the table tells the story of the first.
func TestProxyLegs(t *testing.T) {
	var convs []*wstest.Conv
	want := map[string]string{}
	for i := range 300 {
		var c, b *wstest.Conv
		switch i % 3 {
		case 0:
			c, b = proxied(i, time.Duration(i)*300*time.Microsecond, "")
		case 1: // the key rewritten, the client named by X-Forwarded-For
			c, b = proxied(i, time.Duration(i)*300*time.Microsecond, fmt.Sprintf("new-%04d-AAAAAAAAAAAAA==", i),
				fmt.Sprintf("X-Forwarded-For: 10.1.%d.%d", i/200, i%200+1))
		case 2: // ... and by Forwarded with the port
			c, b = proxied(i, time.Duration(i)*300*time.Microsecond, fmt.Sprintf("new-%04d-AAAAAAAAAAAAA==", i),
				fmt.Sprintf("Forwarded: for=\"10.1.%d.%d:%d\";proto=http", i/200, i%200+1, 30000+i))
		}
		convs = append(convs, c, b)
		ca, ba := c.Conn.Client.String()+" "+c.Conn.Server.String(), b.Conn.Client.String()+" "+b.Conn.Server.String()
		want[ca], want[ba] = ba, ca
	}
	// A connection 20 s later lets each pair be released when its linger ends, not all at
	// the end of the capture: in end order (the default of jsonl) each backend leg, closed
	// first, then comes before its client leg, and the pairing must not depend on that.
	late := wstest.NewConv("10.9.9.9:50000", "10.0.0.2:80")
	late.Conn.Time = convs[0].Conn.Time.Add(20 * time.Second)
	convs = append(convs, late.Upgraded().Close(c2s, 1000, "").Close(s2c, 1000, "").FIN(s2c).FIN(c2s))
	path := writeCapture(t, convs...)
	for _, order := range []string{"end", "start"} {
		doc, code, stderr := scanJSON(t, "--order", order, path)
		if code != 0 || len(doc.Connections) != 601 {
			t.Fatalf("--order %s: exit %d, %d records, want 0 and 601; stderr %s", order, code, len(doc.Connections), stderr)
		}
		by := map[string]int{}
		for _, r := range doc.Connections {
			p := r.Proxy
			if r.Client == "10.9.9.9:50000" {
				if p != nil {
					t.Errorf("--order %s: the late connection was paired: %+v", order, p)
				}
				continue
			}
			if p == nil {
				t.Errorf("--order %s: %s -> %s: no proxy object", order, r.Client, r.Server)
				continue
			}
			if got := p.Other.Client + " " + p.Other.Server; got != want[r.Client+" "+r.Server] {
				t.Errorf("--order %s: %s -> %s paired with %s, want %s", order, r.Client, r.Server, got, want[r.Client+" "+r.Server])
			}
			by[p.MatchedBy]++
		}
		if by["key"] != 200 || by["forwarded"] != 400 {
			t.Errorf("--order %s: legs paired by %v, want 200 by key and 400 by forwarded", order, by)
		}
	}
	doc, _, _ := scanJSON(t, "--order", "start", path)
	first := doc.Connections[0]
	const story = "the backend sent close 1000; the proxy sent close 1001 to the client 2.1 ms later"
	if first.Proxy == nil || first.Proxy.Story != story || first.Proxy.Leg != "client" {
		t.Errorf("first record's proxy %+v, want the client leg with story %q", first.Proxy, story)
	}
	c1, b1 := proxied(0, 0, "")
	res := runCLI(t, nil, writeCapture(t, c1, b1))
	if !strings.Contains(res.stdout, "#1+#2 proxy legs (same key) "+story+"\n") {
		t.Errorf("table lacks the pair's line:\n%s", res.stdout)
	}
}

// TestPairCLI: --pair on the recordings of one WebSocket through nginx, captured on the
// client's side and the server's side separately.
func TestPairCLI(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "pair")
	tests := []struct {
		name string
		want []string
	}{
		{"nginx-proxy-close-1000", []string{
			"pair 1: matched by key; server clock +0.836 ms from the client's, one-way delay 1.529 ms",
			"  - the server's close 1000 reached the client 0.13 ms later by the captures' clocks (0.97 ms with the estimated clock offset)",
			"  - both captures show the server ending TCP first (FIN in the client's, FIN in the server's)",
			"1 connection(s) in both captures (0 by 4-tuple, 1 by key, 0 by timing); 0 only in the client's capture, 0 only in the server's",
		}},
		{"nginx-proxy-read-timeout", []string{
			"  - in the client's capture the server ended TCP first (FIN), in the server's the client did (FIN): something in between (a proxy) ended both connections",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(t, nil, "--pair", filepath.Join(dir, tt.name+".client.pcap"), filepath.Join(dir, tt.name+".server.pcap"))
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.stdout, w+"\n") {
					t.Errorf("output lacks %q:\n%s", w, res.stdout)
				}
			}
		})
	}
	// The same file twice: every connection matches itself by 4-tuple with a zero offset.
	mixed := filepath.Join("..", "..", "testdata", "pcaps", "mixed-endings.pcap")
	res := runCLI(t, nil, "--pair", "-f", "jsonl", mixed, mixed)
	if n := strings.Count(res.stdout, `"matched_by":"4-tuple","clock_offset_ms":0,"one_way_delay_ms":0,`); n != 8 {
		t.Errorf("%d of the 8 connections matched themselves with offset and delay 0, want 8:\n%s", n, res.stdout)
	}
	if res := runCLI(t, nil, "--pair", mixed); res.code != exitUsage || !strings.Contains(res.stderr, "--pair takes two capture files") {
		t.Errorf("--pair with one file: exit %d, stderr %q", res.code, res.stderr)
	}
}

// views builds one connection as a capture at the client and one at the server behind a
// NAT would show it: the server's capture sees other addresses, a clock offset ahead, the
// packets a one-way delay later; the server answers 1 ms after the request, then closes
// with 1000 and the client answers.
func views(i int, at, offset, delay time.Duration, ckey, skey string) (client, server *wstest.Conv) {
	client = wstest.NewConv(fmt.Sprintf("192.168.1.5:%d", 5000+i), "203.0.113.1:80")
	server = wstest.NewConv(fmt.Sprintf("10.9.9.9:%d", 61000+i), "10.0.0.80:8080")
	client.Conn.Time = client.Conn.Time.Add(at)
	server.Conn.Time = client.Conn.Time.Add(offset + delay)
	client.SYN().Send(c2s, wsframe.Request("/chat", ckey))
	server.SYN().Send(c2s, wsframe.Request("/chat", skey))
	server.Wait(time.Millisecond).Send(s2c, wsframe.Response101(skey))
	client.Wait(time.Millisecond+2*delay).Send(s2c, wsframe.Response101(ckey))
	server.Wait(10*time.Millisecond).Close(s2c, 1000, "")
	client.Wait(10*time.Millisecond).Close(s2c, 1000, "").Close(c2s, 1000, "")
	server.Wait(2*delay).Close(c2s, 1000, "").FIN(s2c).FIN(c2s)
	client.FIN(s2c).FIN(c2s)
	return client, server
}

// TestPairSynthetic: --pair across a NAT with the server's clock 3.25 s ahead and 2 ms of
// one-way delay: two connections match by key, which gives the offset and the delay; the
// third, whose key a proxy rewrote, matches by timing; a fourth seen only at the client is
// listed as such.
func TestPairSynthetic(t *testing.T) {
	offset, delay := 3250*time.Millisecond, 2*time.Millisecond
	var cs, ss []*wstest.Conv
	for i := range 3 {
		key := fmt.Sprintf("pair-key-%d-AAAAAAAAAAAA==", i)
		skey := key
		if i == 2 {
			skey = "rewritten-AAAAAAAAAAAAAA=="
		}
		c, s := views(i, time.Duration(i)*200*time.Millisecond, offset, delay, key, skey)
		cs, ss = append(cs, c), append(ss, s)
	}
	lone, _ := views(3, time.Second, offset, delay, "lone-AAAAAAAAAAAAAAAAAA==", "x")
	cs = append(cs, lone)
	cpath, spath := writeCapture(t, cs...), writeCapture(t, ss...)
	spath2 := filepath.Join(filepath.Dir(spath), "server.pcap")
	if err := os.Rename(spath, spath2); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, nil, "--pair", "-f", "jsonl", cpath, spath2)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		var m struct {
			MatchedBy     *string                  `json:"matched_by"`
			ClockOffsetMs *float64                 `json:"clock_offset_ms"`
			OneWayDelayMs *float64                 `json:"one_way_delay_ms"`
			ClientSide    *struct{ Client string } `json:"client_side"`
			ServerSide    *struct{ Client string } `json:"server_side"`
			Findings      []string
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		s := fmt.Sprint(m.MatchedBy != nil && *m.MatchedBy != "")
		if m.MatchedBy != nil && m.ClockOffsetMs == nil {
			s = *m.MatchedBy + " without timing: " + l
		} else if m.MatchedBy != nil {
			s = fmt.Sprintf("%s %s->%s offset %.3f delay %.3f", *m.MatchedBy, m.ClientSide.Client, m.ServerSide.Client,
				*m.ClockOffsetMs, *m.OneWayDelayMs)
		} else if m.ClientSide != nil {
			s = "only " + m.ClientSide.Client + ": " + strings.Join(m.Findings, "; ")
		}
		got = append(got, s)
	}
	want := []string{
		"key 192.168.1.5:5000->10.9.9.9:61000 offset 3250.000 delay 2.000",
		"key 192.168.1.5:5001->10.9.9.9:61001 offset 3250.000 delay 2.000",
		"timing 192.168.1.5:5002->10.9.9.9:61002 offset 3250.000 delay 2.000",
		"only 192.168.1.5:5003: seen only in the client's capture",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestProxyLegsTiming: a proxy that rewrites the key and adds no forwarding header is
// paired by timing alone when its handshake is the only one nested in the client's; two
// such at once are left unpaired.
func TestProxyLegsTiming(t *testing.T) {
	c, b := proxied(0, 0, "rewritten-AAAAAAAAAAAAAA==")
	doc, _, _ := scanJSON(t, writeCapture(t, c, b))
	if len(doc.Connections) != 2 || doc.Connections[0].Proxy == nil || doc.Connections[0].Proxy.MatchedBy != "timing" {
		t.Fatalf("got %+v, want the legs paired by timing", doc.Connections)
	}
	c2, b2 := proxied(1, 200*time.Microsecond, "rewritten-BBBBBBBBBBBBBB==")
	doc, _, _ = scanJSON(t, writeCapture(t, c, b, c2, b2))
	for _, r := range doc.Connections {
		if r.Proxy != nil {
			t.Errorf("%s -> %s paired by %s with %s, want no pairing with two candidates", r.Client, r.Server,
				r.Proxy.MatchedBy, r.Proxy.Other.Client)
		}
	}
}

// TestPairBadInput: a missing file stops --pair before any reading; a file that is not a
// capture is one error line, and the other capture's connections are listed unmatched.
func TestPairBadInput(t *testing.T) {
	good := filepath.Join("..", "..", "testdata", "pair", "nginx-proxy-close-1000.client.pcap")
	if res := runCLI(t, nil, "--pair", good, "no-such.pcap"); res.code != exitUsage || !strings.Contains(res.stderr, "no-such.pcap") {
		t.Errorf("missing file: exit %d, stderr %q", res.code, res.stderr)
	}
	if res := runCLI(t, nil, "--pair", "--port", "443", good, good); res.code != exitUsage || !strings.Contains(res.stderr, "do not apply") {
		t.Errorf("--pair --port: exit %d, stderr %q", res.code, res.stderr)
	}
	junk := filepath.Join(t.TempDir(), "junk.pcap")
	if err := os.WriteFile(junk, []byte("not a capture at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, nil, "--pair", good, junk)
	if res.code != exitUsage || strings.Count(res.stderr, "error:") != 1 || !strings.Contains(res.stderr, "junk.pcap") {
		t.Errorf("junk file: exit %d, stderr %q", res.code, res.stderr)
	}
	if !strings.Contains(res.stdout, "0 connection(s) in both captures (0 by 4-tuple, 0 by key, 0 by timing); 1 only in the client's capture, 0 only in the server's") {
		t.Errorf("junk file: stdout %q", res.stdout)
	}
}
