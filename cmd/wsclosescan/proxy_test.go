package main

import (
	"fmt"
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
	path := writeCapture(t, convs...)
	doc, code, stderr := scanJSON(t, path)
	if code != 0 || len(doc.Connections) != 600 {
		t.Fatalf("exit %d, %d records, want 0 and 600; stderr %s", code, len(doc.Connections), stderr)
	}
	by := map[string]int{}
	for _, r := range doc.Connections {
		p := r.Proxy
		if p == nil {
			t.Errorf("%s -> %s: no proxy object", r.Client, r.Server)
			continue
		}
		if got := p.Other.Client + " " + p.Other.Server; got != want[r.Client+" "+r.Server] {
			t.Errorf("%s -> %s paired with %s, want %s", r.Client, r.Server, got, want[r.Client+" "+r.Server])
		}
		by[p.MatchedBy]++
	}
	if by["key"] != 200 || by["forwarded"] != 400 {
		t.Errorf("legs paired by %v, want 200 by key and 400 by forwarded", by)
	}
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
