package main

import (
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/analyze"
	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/internal/wsframe"
	"github.com/wsclosescan/wsclosescan/internal/wstest"
	"github.com/wsclosescan/wsclosescan/report"
)

// The tests in this file are issue 11's kinds of failure on captures people attach: each
// synthesises the situation and checks that the record says what the wire proves, and no
// more.

// randomBytes returns n bytes that look like compressed or encrypted data.
func randomBytes(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// withoutSYN starts a connection whose SYN and SYN-ACK were not captured.
func withoutSYN(client, server string) *wstest.Conv { return wstest.NewConv(client, server) }

// TestNothingInvented: plain HTTP without its SYN, DNS and Modbus over TCP, TLS and random
// bytes never become WebSocket connections (kind 1).
func TestNothingInvented(t *testing.T) {
	body := randomBytes(1, 60000)
	http := withoutSYN("10.0.1.1:40000", "10.0.1.2:80").
		Send(c2s, []byte("GET /video_kankan/images/a.jpg HTTP/1.1\r\nHost: x\r\n\r\n")).
		Send(s2c, append([]byte("HTTP/1.1 200 OK\r\nContent-Length: 60000\r\n\r\n"), body...), 1400, 1400, 1400).
		Send(c2s, []byte("GET /video_kankan/images/b.jpg HTTP/1.1\r\nHost: x\r\n\r\n"))
	// A download whose request was not captured: the capture starts inside the body.
	tail := withoutSYN("10.0.1.1:40001", "10.0.1.2:80").Send(s2c, randomBytes(2, 200000), 1400, 1400, 1400)
	dns := wstest.NewConv("10.0.1.1:40002", "10.0.1.2:53").SYN()
	modbus := wstest.NewConv("10.0.1.1:40003", "10.0.1.2:502").SYN()
	for i := range 20 {
		q := []byte{0, 29, byte(i), 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1}
		dns.Send(c2s, q).Send(s2c, append(q[:2:2], append([]byte{byte(i), 1, 0x81, 0x80}, q[6:]...)...))
		modbus.Send(c2s, []byte{0, byte(i), 0, 0, 0, 6, 1, 3, 0, 0, 0, 10}).
			Send(s2c, append([]byte{0, byte(i), 0, 0, 0, 23, 1, 3, 20}, make([]byte, 20)...))
	}
	dns.FIN(c2s).FIN(s2c)
	modbus.FIN(c2s).FIN(s2c)
	tlsRecords := func(seed int64) []byte {
		var out []byte
		for i := range 30 {
			rec := randomBytes(seed+int64(i), 300)
			out = append(out, 0x17, 3, 3, 1, 44)
			out = append(out, rec...)
		}
		return out
	}
	tls := withoutSYN("10.0.1.1:40004", "10.0.1.2:443").Send(c2s, tlsRecords(10)).Send(s2c, tlsRecords(50))
	random := withoutSYN("10.0.1.1:40005", "10.0.1.2:9000").Send(c2s, randomBytes(3, 100000), 1400).
		Send(s2c, randomBytes(4, 100000), 1400)
	doc, code, stderr := scanJSON(t, "--all", writeCapture(t, http, tail, dns, modbus, tls, random))
	if code != 0 {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if len(doc.Connections) != 6 {
		t.Fatalf("got %d connections with --all, want 6", len(doc.Connections))
	}
	for _, r := range doc.Connections {
		if r.WebSocket || r.Verdict != report.VerdictNotWebSocket {
			t.Errorf("%s -> %s: websocket %v, verdict %s; want plain TCP", r.Client, r.Server, r.WebSocket, r.Verdict)
		}
	}
}

// evidenceCase is one synthesised connection and what its record must say.
type evidenceCase struct {
	name     string
	conv     *wstest.Conv
	snaplen  int
	want     recordView
	unknown  []string
	hints    []string // substrings that must appear in the hints
	notHints []string // substrings that must not
	hsError  string   // substring of handshake_error; "" for none
}

func TestEvidence(t *testing.T) {
	tests := []evidenceCase{
		{
			name: "kind 2: handshake without the SYN",
			conv: withoutSYN("10.0.2.1:50000", "10.0.2.2:80").Send(c2s, wsframe.Request("/chat", wstest.Key)).
				Send(s2c, wsframe.Response101(wstest.Key)).Text(c2s, "hi").
				Close(c2s, 1000, "bye").Close(s2c, 1000, "bye").FIN(s2c).FIN(c2s),
			want: recordView{"clean", "completed", "1000", "1000", "client", "fin server", "1000", "1000"},
		},
		{
			name: "kind 3: only the closing handshake",
			conv: withoutSYN("10.0.2.1:50001", "10.0.2.2:9696").Close(c2s, 1001, "").Close(s2c, 1001, "").
				FIN(s2c).FIN(c2s),
			want: recordView{"clean", "not_seen", "1001", "1001", "client", "fin server", "1001", "1001"},
		},
		{
			name: "kind 9: the last packets of a connection",
			conv: withoutSYN("10.0.2.1:50002", "10.0.2.2:9121").Text(s2c, `{"error":"session expired"}`).
				Close(s2c, 4001, "session expired").Close(c2s, 4001, "session expired").FIN(s2c).FIN(c2s),
			want: recordView{"clean", "not_seen", "4001", "4001", "server", "fin server", "4001", "4001"},
		},
		{
			name: "kind 9: a server close after the tail of a data frame",
			conv: withoutSYN("10.0.2.1:50003", "10.0.2.2:8080").
				Send(s2c, wstest.Frame(s2c, wsframe.OpBinary, randomBytes(5, 300))[150:]).
				Text(c2s, "ls").Text(c2s, "exit").Close(s2c, 1000, "").Close(c2s, 1000, "").FIN(s2c).FIN(c2s),
			want:     recordView{"clean", "not_seen", "1000", "1000", "server", "fin server", "1000", "1000"},
			notHints: []string{"snaplen", "may have been lost"},
		},
		{
			name: "kind 5: handshake and frames cut to 30 bytes of payload",
			conv: wstest.NewConv("10.0.2.1:50004", "10.0.2.2:80").Upgraded().Text(c2s, strings.Repeat("a", 200)).
				Text(s2c, strings.Repeat("b", 300)).Close(c2s, 1000, "done").Close(s2c, 1000, "done").FIN(s2c).FIN(c2s),
			snaplen: 14 + 20 + 20 + 30,
			want:    recordView{"clean", "completed", "1000", "1000", "client", "fin server", "1000", "1000"},
		},
		{
			name: "kind 6: a lenient client carries on after an ignored subprotocol",
			conv: wstest.NewConv("10.0.2.1:50005", "10.0.2.2:80").SYN().
				Send(c2s, wsframe.Request("/chat", wstest.Key, "Sec-WebSocket-Protocol: chat")).
				Send(s2c, wsframe.Response101(wstest.Key)).Text(c2s, "hi").Text(s2c, "hi").
				Close(c2s, 1000, "").Close(s2c, 1000, "").FIN(s2c).FIN(c2s),
			want:    recordView{"clean", "completed", "1000", "1000", "client", "fin server", "1000", "1000"},
			hsError: `server ignored the requested subprotocol "chat"`,
			hints:   []string{"this client carried on", "a browser or Node ws fails such a connection"},
		},
		{
			name: "kind 7: an invalid close code answered with 1002",
			conv: wstest.NewConv("10.0.2.1:50006", "10.0.2.2:80").Upgraded().Close(c2s, 1005, "").
				Close(s2c, 1002, "").FIN(s2c).FIN(c2s),
			want:  recordView{"half_closed", "completed", "1005", "1002", "client", "fin server", "1002", "1006"},
			hints: []string{"the server failed the connection, answering with close 1002, so its API reports 1006"},
		},
		{
			name: "kind 7: a reason that is not UTF-8 answered with 1007",
			conv: wstest.NewConv("10.0.2.1:50007", "10.0.2.2:80").Upgraded().Close(c2s, 1000, "\xff\xfe").
				Close(s2c, 1007, "").FIN(s2c).FIN(c2s),
			want:  recordView{"half_closed", "completed", "1000", "1007", "client", "fin server", "1007", "1006"},
			hints: []string{"answering with close 1007"},
		},
		{
			name: "kind 8: close, the echo, then a reset by the closer",
			conv: wstest.NewConv("10.0.2.1:50008", "10.0.2.2:80").Upgraded().Text(c2s, "hi").
				Close(s2c, 1011, "").Close(c2s, 1011, "").Wait(700 * time.Microsecond).RST(s2c),
			want:  recordView{"half_closed", "completed", "1011", "1011", "server", "rst server", "1011", "1006"},
			hints: []string{"the server most likely never read the answer and its API reports 1006"},
		},
		{
			name: "kind 10: a close that reaches a closed socket",
			conv: wstest.NewConv("10.0.2.1:50009", "10.0.2.2:80").Upgraded().Close(c2s, 1001, "").FIN(c2s).
				Close(s2c, 1001, "").RST(c2s),
			want:  recordView{"half_closed", "completed", "1001", "1001", "client", "fin client", "1006", "1001"},
			hints: []string{"its application never saw the server's code"},
		},
	}
	// Kind 11: the server's close frame was lost from the capture, then the server reset.
	lost := wstest.NewConv("10.0.2.1:50010", "10.0.2.2:80").Upgraded().Text(c2s, "hi")
	n := len(lost.Packets)
	lost.Close(s2c, 1011, "internal error").Wait(800 * time.Microsecond).RST(s2c)
	lost.Packets = append(lost.Packets[:n:n], lost.Packets[n+1:]...)
	tests = append(tests, evidenceCase{
		name:     "kind 11: a lost close frame is unknown, not none",
		conv:     lost,
		want:     recordView{"unknown", "completed", "-", "-", "-", "rst server", "none", "1006"},
		unknown:  []string{"server_close", "client_observed", "verdict"},
		hints:    []string{"a close frame may have been lost from the capture", "the capture lost packets"},
		notHints: []string{"crashed", "snaplen"},
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := pcapgen.Capture(pcapgen.Options{LinkType: pcapgen.LinkEthernet, Snaplen: tt.snaplen}, tt.conv.Packets)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "evidence.pcap")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			doc, _, _ := scanJSON(t, path)
			if len(doc.Connections) != 1 {
				t.Fatalf("got %d connections, want 1", len(doc.Connections))
			}
			r := doc.Connections[0]
			if got := view(r); got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if strings.Join(r.Unknown, ",") != strings.Join(tt.unknown, ",") {
				t.Errorf("unknown: got %v, want %v", r.Unknown, tt.unknown)
			}
			checkContains(t, "hints", r.Hints, tt.hints)
			for _, h := range tt.notHints {
				if strings.Contains(strings.Join(r.Hints, "\n"), h) {
					t.Errorf("hints contain %q:\n%s", h, strings.Join(r.Hints, "\n"))
				}
			}
			if got := ""; r.HandshakeError != nil {
				got = *r.HandshakeError
				if tt.hsError == "" || !strings.Contains(got, tt.hsError) {
					t.Errorf("handshake_error: got %q, want %q", got, tt.hsError)
				}
			} else if tt.hsError != "" {
				t.Errorf("handshake_error: got none, want %q", tt.hsError)
			}
			if bad := analyze.Contradictions(&r); len(bad) > 0 {
				t.Errorf("the record contradicts itself: %v", bad)
			}
		})
	}
}

// TestCutUpgradeNotProven: a GET cut by the snapshot length before any Upgrade header, answered
// 403, proves no WebSocket; it is not listed, but a hint says it may have been an upgrade,
// and --all shows it with its answer. A cut GET answered 200 is plain HTTP and gets no hint.
func TestCutUpgradeNotProven(t *testing.T) {
	refused := wstest.NewConv("10.0.3.1:50000", "10.0.3.2:80").SYN().Send(c2s, wsframe.Request("/chat", wstest.Key)).
		Send(s2c, wsframe.Response(403, "Forbidden", "Content-Length: 0")).FIN(s2c).FIN(c2s)
	plain := wstest.NewConv("10.0.3.1:50001", "10.0.3.2:80").SYN().Send(c2s, wsframe.Request("/index.html", wstest.Key)).
		Send(s2c, wsframe.Response(200, "OK", "Content-Length: 0")).FIN(s2c).FIN(c2s)
	data, err := pcapgen.Capture(pcapgen.Options{LinkType: pcapgen.LinkEthernet, Snaplen: 14 + 20 + 20 + 30}, wstest.Merge(refused, plain))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cut.pcap")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	doc, _, stderr := scanJSON(t, path)
	if len(doc.Connections) != 0 {
		t.Errorf("got %d connections, want none listed", len(doc.Connections))
	}
	if !strings.Contains(stderr, "hint: 1 connection(s) not listed had their GET cut by the snapshot length") {
		t.Errorf("stderr lacks the hint about the cut GET: %q", stderr)
	}
	doc, _, _ = scanJSON(t, "--all", path)
	if len(doc.Connections) != 2 {
		t.Fatalf("got %d connections with --all, want 2", len(doc.Connections))
	}
	for _, r := range doc.Connections {
		want := r.Server == "10.0.3.2:80" && r.Client == "10.0.3.1:50000"
		got := len(r.Hints) > 0 && strings.HasPrefix(r.Hints[0], analyze.MaybeUpgradeHint)
		if got != want || r.WebSocket {
			t.Errorf("%s: websocket %v, hints %q; want plain TCP with the hint only for the refused GET", r.Client, r.WebSocket, r.Hints)
		}
		if want && (r.HTTPStatus == nil || *r.HTTPStatus != 403) {
			t.Errorf("%s: http_status %v, want 403", r.Client, r.HTTPStatus)
		}
	}
}
