package main

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wsclosescan/wsclosescan/analyze"
	"github.com/wsclosescan/wsclosescan/internal/tlstest"
	"github.com/wsclosescan/wsclosescan/internal/wsframe"
	"github.com/wsclosescan/wsclosescan/internal/wstest"
	"github.com/wsclosescan/wsclosescan/report"
)

// wssCapture runs a wss exchange over crypto/tls (upgrade, a text each way, close 1000
// both ways, close_notify both ways, FIN) and writes it as a capture with its key log.
func wssCapture(t *testing.T, version uint16, suites ...uint16) (capture, keys string) {
	t.Helper()
	client, server, err := tlstest.Configs(version, suites...)
	if err != nil {
		t.Fatal(err)
	}
	steps := []tlstest.Step{
		{Dir: c2s, Data: wsframe.Request("/chat", wstest.Key)},
		{Dir: s2c, Data: wsframe.Response101(wstest.Key)},
		{Dir: c2s, Data: wstest.Frame(c2s, wsframe.OpText, []byte("hi"))},
		{Dir: s2c, Data: wstest.Frame(s2c, wsframe.OpText, []byte("hello"))},
		{Dir: c2s, Data: wstest.Frame(c2s, wsframe.OpClose, wsframe.Close(1000, "bye"))},
		{Dir: s2c, Data: wstest.Frame(s2c, wsframe.OpClose, wsframe.Close(1000, "bye"))},
	}
	s, err := tlstest.Run(client, server, steps, true)
	if err != nil {
		t.Fatal(err)
	}
	conv := wstest.NewConv("10.0.4.1:50000", "10.0.4.2:443").SYN()
	for _, w := range s.Writes {
		conv.Send(w.Dir, w.Data)
	}
	conv.FIN(s2c).FIN(c2s)
	capture = writeCapture(t, conv)
	keys = filepath.Join(t.TempDir(), "keys.txt")
	if err := os.WriteFile(keys, s.KeyLog, 0o600); err != nil {
		t.Fatal(err)
	}
	return capture, keys
}

func TestWSSDecrypted(t *testing.T) {
	tests := []struct {
		name, version, suite string
		v                    uint16
		suites               []uint16
	}{
		{"TLS 1.3", "TLS 1.3", "TLS_AES_128_GCM_SHA256", tls.VersionTLS13, nil},
		{"TLS 1.2 AES-128-GCM", "TLS 1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", tls.VersionTLS12,
			[]uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}},
		{"TLS 1.2 AES-256-GCM-SHA384", "TLS 1.2", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", tls.VersionTLS12,
			[]uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}},
		{"TLS 1.2 ChaCha20-Poly1305", "TLS 1.2", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", tls.VersionTLS12,
			[]uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			capture, keys := wssCapture(t, tt.v, tt.suites...)
			doc, code, stderr := scanJSON(t, "--keylog", keys, capture)
			if code != 0 || stderr != "" {
				t.Errorf("exit %d, stderr %q", code, stderr)
			}
			if len(doc.Connections) != 1 {
				t.Fatalf("got %d connections, want 1", len(doc.Connections))
			}
			r := doc.Connections[0]
			want := recordView{"clean", "completed", "1000", "1000", "client", "fin server", "1000", "1000"}
			if got := view(r); got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
			tl := r.TLS
			if tl == nil {
				t.Fatal("no tls object")
			}
			if tl.Version != tt.version || tl.CipherSuite != tt.suite || tl.Decryption != "full" || tl.SNI != "localhost" {
				t.Errorf("tls: got %s %s %s SNI %q, want %s %s full SNI localhost", tl.Version, tl.CipherSuite, tl.Decryption, tl.SNI, tt.version, tt.suite)
			}
			if tl.CloseNotify.Client == nil || tl.CloseNotify.Server == nil || !tl.CloseNotify.Client.Before(tl.CloseNotify.Server.Time) {
				t.Errorf("close_notify: got %v %v, want the client's, then the server's", tl.CloseNotify.Client, tl.CloseNotify.Server)
			}
			if r.Frames.Client != 2 || r.Frames.Server != 2 || r.Request == nil || r.Request.Path != "/chat" {
				t.Errorf("frames %+v, request %+v; want 2 each way and GET /chat", r.Frames, r.Request)
			}
			if bad := analyze.Contradictions(&r); len(bad) > 0 {
				t.Errorf("the record contradicts itself: %v", bad)
			}
		})
	}
}

// TestWSSWithoutKeys: an encrypted connection that may carry WebSocket is listed, with
// everything about the WebSocket unknown and a hint on how to decrypt it.
func TestWSSWithoutKeys(t *testing.T) {
	capture, _ := wssCapture(t, tls.VersionTLS13)
	doc, _, _ := scanJSON(t, capture)
	if len(doc.Connections) != 1 {
		t.Fatalf("got %d connections, want the TLS connection listed", len(doc.Connections))
	}
	r := doc.Connections[0]
	if r.WebSocket || r.Verdict != report.VerdictUnknown || !r.IsUnknown("websocket") || r.ClientClose != nil {
		t.Errorf("websocket %v, verdict %s, unknown %v, client close %v; want an unknown verdict", r.WebSocket, r.Verdict, r.Unknown, r.ClientClose)
	}
	if r.TLS == nil || r.TLS.Decryption != "no_keys" || r.TLS.Version != "TLS 1.3" || r.TLS.SNI != "localhost" ||
		!slices.Equal(r.TLS.ALPNOffered, []string{"http/1.1"}) {
		t.Errorf("tls: got %+v", r.TLS)
	}
	checkContains(t, "hints", r.Hints, []string{"could not be decrypted", "--keylog FILE",
		// close 1000 "bye": 2 + 2 + 3 bytes, + 17 of TLS 1.3 protection; close_notify 2 + 17.
		"the server's last TLS records before it ended TCP are 24 and 19 bytes, the TLS 1.3 sizes of a close frame with a code and a 3-byte reason, then a close_notify"})
	if bad := analyze.Contradictions(&r); len(bad) > 0 {
		t.Errorf("the record contradicts itself: %v", bad)
	}
	if r.TCPEnd.First == nil || *r.TCPEnd.First != report.SideServer {
		t.Errorf("tcp_end: got %+v, want the server's FIN first (it is visible without keys)", r.TCPEnd)
	}
}

// TestHiddenTLSHint: a TLS connection that also offered h2 is a browser's ordinary HTTPS
// connection and not listed without keys, but a hint says such connections were there.
func TestHiddenTLSHint(t *testing.T) {
	client, server, err := tlstest.Configs(tls.VersionTLS13)
	if err != nil {
		t.Fatal(err)
	}
	client.NextProtos = []string{"h2", "http/1.1"}
	s, err := tlstest.Run(client, server, []tlstest.Step{{Dir: c2s, Data: []byte("hello")}}, true)
	if err != nil {
		t.Fatal(err)
	}
	conv := wstest.NewConv("10.0.4.1:50001", "10.0.4.2:443").SYN()
	for _, w := range s.Writes {
		conv.Send(w.Dir, w.Data)
	}
	conv.FIN(s2c).FIN(c2s)
	doc, _, stderr := scanJSON(t, writeCapture(t, conv))
	if len(doc.Connections) != 0 || !strings.Contains(stderr, "1 TLS connection(s) not listed could not be decrypted") {
		t.Errorf("%d connections, stderr %q; want none listed and the hint", len(doc.Connections), stderr)
	}
}

func TestKeyLogFlag(t *testing.T) {
	capture, keys := wssCapture(t, tls.VersionTLS13)
	data, err := os.ReadFile(keys)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.txt")
	if err := os.WriteFile(bad, append([]byte("# comment\r\nCLIENT_RANDOM zz\n"), data...), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty.txt")
	if err := os.WriteFile(empty, []byte("# nothing\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc, code, stderr := scanJSON(t, "--keylog", empty, "--keylog", bad, capture)
	if code != 0 || len(doc.Connections) != 1 || doc.Connections[0].Verdict != report.VerdictClean {
		t.Errorf("exit %d, %d connections; want 0 and the connection decrypted with the second key log", code, len(doc.Connections))
	}
	for _, want := range []string{"empty.txt: no TLS secrets found", "bad.txt: 1 malformed key log line(s) skipped, the first at line 2"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q: %q", want, stderr)
		}
	}
	if strings.Contains(stderr, strings.Fields(string(data))[2]) {
		t.Error("a secret was printed")
	}
	r := runCLI(t, nil, "--keylog", filepath.Join(t.TempDir(), "missing.txt"), capture)
	if r.code != exitUsage || !strings.Contains(r.stderr, "--keylog") {
		t.Errorf("missing key log: exit %d, stderr %q; want %d and an error naming --keylog", r.code, r.stderr, exitUsage)
	}
}
