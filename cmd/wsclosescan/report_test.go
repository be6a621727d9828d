package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/wsframe"
	"github.com/wsclosescan/wsclosescan/internal/wstest"
)

// tokenCapture is an upgrade that carries a token in the query string and a wstunnel-style
// bearer JWT in Sec-WebSocket-Protocol.
func tokenCapture(t *testing.T) (path, jwt string) {
	jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
	req := "GET /tunnel?token=s3cr3t HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + wstest.Key + "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: v1, authorization.bearer." + jwt + "\r\n\r\n"
	c := wstest.NewConv("10.0.0.1:40000", "10.0.0.2:443").SYN().Send(c2s, []byte(req)).
		Send(s2c, wsframe.Response101(wstest.Key)).Text(c2s, "hi").RST(s2c)
	return writeCapture(t, c), jwt
}

// TestRedaction: the formats meant to be pasted hide the token in the query string and
// the JWT in the subprotocol; --no-redact shows them; the machine formats keep them
// unless --redact.
func TestRedaction(t *testing.T) {
	path, jwt := tokenCapture(t)
	secretIn := func(out string) bool { return strings.Contains(out, "s3cr3t") || strings.Contains(out, jwt) }
	tests := []struct {
		args   []string
		secret bool
	}{
		{[]string{"--timeline"}, false},
		{[]string{"--timeline", "-f", "markdown"}, false},
		{[]string{"--timeline", "--no-redact"}, true},
		{[]string{"-f", "json"}, true},
		{[]string{"-f", "jsonl", "--redact"}, false},
		{[]string{"-f", "csv", "--redact"}, false},
		{[]string{"-f", "csv"}, true},
	}
	for _, tt := range tests {
		r := runCLI(t, nil, append(tt.args, path)...)
		if r.code != 0 || secretIn(r.stdout) != tt.secret {
			t.Errorf("%v: exit %d, secret shown %v, want %v:\n%s", tt.args, r.code, secretIn(r.stdout), tt.secret, r.stdout)
		}
	}
	r := runCLI(t, nil, "-f", "json", "--redact", path)
	for _, want := range []string{`"path":"/tunnel?[redacted]"`, `"authorization.bearer.[redacted]"`} {
		if !strings.Contains(strings.ReplaceAll(r.stdout, `": "`, `":"`), want) {
			t.Errorf("--redact json lacks %s:\n%s", want, r.stdout)
		}
	}
	if r := runCLI(t, nil, "--timeline", path); !strings.Contains(r.stdout, "GET /tunnel?[redacted]") {
		t.Errorf("timeline:\n%s", r.stdout)
	}
}

// TestSummaryAndLimit: --summary groups connections by verdict and cause; --limit caps
// the listing and says so in the summary line.
func TestSummaryAndLimit(t *testing.T) {
	var convs []*wstest.Conv
	for i := range 30 {
		c := wstest.NewConv("10.0.0.1:"+strconv.Itoa(40000+i), "10.0.0.2:80").Wait(time.Duration(i) * time.Millisecond).
			Upgraded().Wait(61 * time.Second).RST(s2c)
		convs = append(convs, c)
	}
	convs = append(convs, wstest.NewConv("10.0.0.9:40000", "10.0.0.2:80").Upgraded().
		Close(c2s, 1000, "").Close(s2c, 1000, "").FIN(s2c).FIN(c2s))
	path := writeCapture(t, convs...)
	r := runCLI(t, nil, "--summary", path)
	for _, want := range []string{"31 connections: 1 clean, 30 abnormal",
		"  30 abnormal: no close frame, RST from the server after 61 s idle (e.g. 10.0.0.1:40000 -> 10.0.0.2:80)",
		"  30 clients saw 1006"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--summary lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "+----") {
		t.Errorf("--summary printed the table:\n%s", r.stdout)
	}
	doc, _, _ := scanJSON(t, "--summary", path)
	if len(doc.Connections) != 0 || len(doc.Summary.Causes) != 2 || doc.Summary.Causes[0].Count != 30 {
		t.Errorf("--summary json: %d connections, causes %+v", len(doc.Connections), doc.Summary.Causes)
	}
	r = runCLI(t, nil, "--limit", "5", path)
	if strings.Count(r.stdout, "| 10.0.0.2:80 ") != 5 || !strings.Contains(r.stdout, "31 connections: 1 clean, 30 abnormal; close frames: 1000 ×2; 26 not listed (--limit)") {
		t.Errorf("--limit 5:\n%s", r.stdout)
	}
	doc, _, _ = scanJSON(t, "--limit", "5", path)
	if len(doc.Connections) != 5 || doc.Summary.NotListed != 26 || doc.Summary.Connections != 31 {
		t.Errorf("--limit json: %d connections, summary %+v", len(doc.Connections), doc.Summary)
	}
}

// TestTimelineEscapesLikeTheTable: a close reason with an escape sequence and invalid
// UTF-8 reads the same in the table and the ladder.
func TestTimelineEscapesLikeTheTable(t *testing.T) {
	c := wstest.NewConv("10.0.0.1:40000", "10.0.0.2:80").Upgraded().Close(s2c, 4000, "a\x1b[2J\xff").FIN(s2c)
	r := runCLI(t, nil, "--timeline", writeCapture(t, c))
	if !strings.Contains(r.stdout, `| 4000 "a\x1b[2J\xff" (invalid) |`) && !strings.Contains(r.stdout, `4000 "a\x1b[2J\xff"`) {
		t.Fatalf("table:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, `close 4000 "a\x1b[2J\xff"`) || strings.Contains(r.stdout, `\\x1b`) || strings.Contains(r.stdout, "\uFFFD") {
		t.Errorf("ladder escapes differently:\n%s", r.stdout)
	}
}

// TestProgress: with --progress always, stderr gets the progress line, erased at the end;
// by default (stderr not a terminal) nothing.
func TestProgress(t *testing.T) {
	mixed, _ := twoCaptures(t)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--progress", "always", mixed}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.HasSuffix(stderr.String(), "\r\x1b[K") {
		t.Errorf("stderr %q, want the line erased at the end", stderr.String())
	}
	if r := runCLI(t, nil, mixed); r.stderr != "" {
		t.Errorf("progress in a pipe: %q", r.stderr)
	}
	p := &progress{total: 2_000_000}
	p.read.Store(1_000_000)
	p.conns.Store(12345)
	if got, want := p.line(2*time.Second), "wsclosescan: 1.0 MB read of 2.0 MB (50%), 12,345 connections, 500.0 kB/s"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
