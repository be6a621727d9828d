package http1

import (
	"bufio"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"testing"
)

// TestHeaderNamesAreCanonical: the names the parsed headers are looked up by are in the form
// net/http stores them under; a name that is not would never be found.
func TestHeaderNamesAreCanonical(t *testing.T) {
	for _, name := range []string{hdrOrigin, hdrUserAgent, hdrUpgrade, hdrConnection, hdrWSKey,
		hdrWSVersion, hdrWSProtocol, hdrWSExtensions, hdrWSAccept, hdrXForwardedFor, hdrForwarded} {
		if c := textproto.CanonicalMIMEHeaderKey(name); c != name {
			t.Errorf("header name %q is not canonical (%q)", name, c)
		}
	}
}

// TestCommaList: header values split at commas outside quotes, trimmed of ASCII blanks,
// empty items dropped; other bytes, non-ASCII spaces included, are kept.
func TestCommaList(t *testing.T) {
	tests := []struct {
		values []string
		want   []string
	}{
		{nil, nil},
		{[]string{""}, nil},
		{[]string{" , ,\t"}, nil},
		{[]string{"chat, superchat"}, []string{"chat", "superchat"}},
		{[]string{"a,,b", " c "}, []string{"a", "b", "c"}},
		{[]string{`x; p="1,2", y`}, []string{`x; p="1,2"`, "y"}},
		{[]string{`"unclosed, quote`}, []string{`"unclosed, quote`}},
		{[]string{"\tgraphql-ws\r\n"}, []string{"graphql-ws"}},
		{[]string{"a\u00a0, b"}, []string{"a\u00a0", "b"}},
	}
	for _, tt := range tests {
		if got := CommaList(tt.values); !slices.Equal(got, tt.want) {
			t.Errorf("CommaList(%q) = %q, want %q", tt.values, got, tt.want)
		}
	}
}

// TestNetHTTPDeletesConnectionClose: what Response works around. net/http's ReadResponse
// deletes the Connection header of an HTTP/1.1 response when it lists "close" (and keeps it
// otherwise); it leaves Upgrade alone. If this test fails, net/http changed and the comment
// on Response is stale.
func TestNetHTTPDeletesConnectionClose(t *testing.T) {
	tests := []struct {
		conn       string
		wantKept   bool
		wantClosed bool
	}{
		{"Upgrade", true, false},
		{"keep-alive, Upgrade", true, false},
		{"close", false, true},
		{"close, Upgrade", false, true},
		{"Upgrade, Close", false, true},
	}
	for _, tt := range tests {
		block := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: " + tt.conn + "\r\n\r\n"
		resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(block)), nil)
		if err != nil {
			t.Fatalf("%q: %v", tt.conn, err)
		}
		if kept := len(resp.Header["Connection"]) > 0; kept != tt.wantKept || resp.Close != tt.wantClosed {
			t.Errorf("Connection: %s: net/http kept the header %v, Close %v; want %v, %v", tt.conn, kept, resp.Close, tt.wantKept, tt.wantClosed)
		}
		if got := resp.Header.Get("Upgrade"); got != "websocket" {
			t.Errorf("Connection: %s: Upgrade %q, want websocket", tt.conn, got)
		}
	}
}

// TestResponseConnectionAsSent: Connection and Upgrade are what the block says, by the fast
// path and by net/http alike ("\n" line endings are not plain and go to net/http), close
// or not.
func TestResponseConnectionAsSent(t *testing.T) {
	tests := []struct {
		lines       []string
		wantConn    string
		wantUpgrade bool // Connection lists upgrade
	}{
		{[]string{"Connection: Upgrade"}, "Upgrade", true},
		{[]string{"Connection: keep-alive, Upgrade"}, "keep-alive, Upgrade", true},
		{[]string{"Connection: close"}, "close", false},
		{[]string{"Connection: close, Upgrade"}, "close, Upgrade", true},
		{[]string{"Connection: close", "Connection: upgrade"}, "close, upgrade", true},
		{[]string{"Connection: keep-alive"}, "keep-alive", false},
		{nil, "", false},
	}
	for _, tt := range tests {
		for _, eol := range []string{"\r\n", "\n"} {
			lines := append([]string{"HTTP/1.1 101 Switching Protocols", "Upgrade: websocket"}, tt.lines...)
			block := []byte(strings.Join(lines, eol) + eol + eol)
			for _, parse := range []struct {
				name string
				fn   func([]byte) (Response, error)
			}{
				{"ParseResponse", func(b []byte) (Response, error) { return ParseResponse(b, false, false) }},
				{"Parser", func(b []byte) (Response, error) { var p Parser; return p.Response(b, false, false) }},
				{"truncated", func(b []byte) (Response, error) { return ParseResponse(b[:len(b)-len(eol)], true, false) }},
			} {
				r, err := parse.fn(block)
				if err != nil {
					t.Fatalf("%s(%q): %v", parse.name, block, err)
				}
				if r.Connection != tt.wantConn || r.HasConnection != (tt.wantConn != "") || r.ConnectionUpgrade != tt.wantUpgrade ||
					r.Upgrade != "websocket" || !r.UpgradeWebSocket {
					t.Errorf("%s(%q): Connection %q (has %v, upgrade %v), Upgrade %q (websocket %v); want %q, %v",
						parse.name, block, r.Connection, r.HasConnection, r.ConnectionUpgrade, r.Upgrade, r.UpgradeWebSocket, tt.wantConn, tt.wantUpgrade)
				}
			}
		}
	}
}

func TestParseTruncated(t *testing.T) {
	req, err := ParseRequest([]byte("GET /cha"), true)
	if err != nil || !req.LineOnly || req.Method != "GET" {
		t.Errorf("request cut in its line: got %+v, %v", req, err)
	}
	req, err = ParseRequest([]byte("GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nSec-WebSocket-K"), true)
	if err != nil || req.LineOnly || req.Target != "/chat" || req.Host != "a" || !req.UpgradeWebSocket || req.WSKey != "" {
		t.Errorf("request cut in a header: got %+v, %v", req, err)
	}
	resp, err := ParseResponse([]byte("HTTP/1.1 101 Swi"), true, false)
	if err != nil || !resp.LineOnly || resp.Status != 101 || resp.Reason != "Swi" || resp.ContentLength != -1 {
		t.Errorf("response cut in its line: got %+v, %v", resp, err)
	}
	for _, block := range []string{"HTTP/1.1 1", "HTTP/1.1 abc", "HTTQ/1.1 101", "HTTP/1.1 099 x"} {
		if _, err := ParseResponse([]byte(block), true, false); err != errNoStatus {
			t.Errorf("ParseResponse(%q, truncated): got %v, want %v", block, err, errNoStatus)
		}
	}
	if _, err := ParseResponse([]byte("HTTP/1.1 10x OK\r\n\r\n"), false, false); err == nil {
		t.Errorf("malformed status line: got no error")
	}
}
