package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/wstest"
)

// TestListFlags: list flags may be repeated and take comma lists and ranges; values are
// case-insensitive.
func TestListFlags(t *testing.T) {
	mixed, refused := twoCaptures(t)
	tests := []struct {
		name    string
		args    []string
		clients string
	}{
		{"repeated --port keeps both", []string{"--port", "40000", "--port", "40001"}, "10.0.0.1:40000 10.0.0.3:40001"},
		{"--port list", []string{"--port", "40000,8080"}, "10.0.0.1:40000 10.0.0.3:40001"},
		{"--port range", []string{"--port", "40001-40002"}, "10.0.0.3:40001 10.0.0.5:40002"},
		{"repeated --host", []string{"--host", "10.0.0.1", "--host", "10.0.0.5"}, "10.0.0.1:40000 10.0.0.5:40002"},
		{"--host prefix", []string{"--host", "10.0.0.4/31"}, "10.0.0.5:40002"},
		{"--host and --port on the same end", []string{"--host", "10.0.0.2", "--port", "8080"}, "10.0.0.3:40001"},
		{"repeated --verdict", []string{"--verdict", "abnormal", "--verdict", "handshake_failed"}, "10.0.0.3:40001 10.0.0.5:40002"},
		{"--verdict in capitals", []string{"--verdict", "Abnormal"}, "10.0.0.3:40001"},
		{"--code range", []string{"--code", "1000-1005"}, "10.0.0.1:40000"},
		{"--code private range", []string{"--code", "4000-4999"}, ""},
		{"-f in capitals", []string{"-f", "JSON"}, "10.0.0.1:40000 10.0.0.3:40001 10.0.0.5:40002"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, code, stderr := scanJSON(t, append(tt.args, mixed, refused)...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			var got []string
			for _, r := range doc.Connections {
				got = append(got, r.Client)
			}
			if strings.Join(got, " ") != tt.clients {
				t.Errorf("got clients %q, want %q", strings.Join(got, " "), tt.clients)
			}
		})
	}
	for _, bad := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"--code", "4999-4000"}, `invalid close code "4999-4000" in --code`},
		{[]string{"--code", "4000-x"}, `invalid close code "4000-x"`},
		{[]string{"--port", "1-70000"}, `invalid port "1-70000" in --port`},
		{[]string{"--host", "10.0.0.1/40"}, `invalid --host "10.0.0.1/40"`},
		{[]string{"--format", "XML"}, `unknown --format "XML" (want table, json, jsonl, csv or markdown)`},
		{[]string{"--redact", "--no-redact"}, "--redact and --no-redact contradict each other"},
		{[]string{"--summary", "-f", "jsonl"}, "--summary needs --format table, markdown or json"},
		{[]string{"--limit", "-1"}, "--limit must not be negative"},
		{[]string{"--sort-wait", "-1s"}, "--sort-wait must not be negative"},
		{[]string{"--progress", "sometimes"}, `unknown --progress "sometimes"`},
	} {
		r := runCLI(t, nil, append(bad.args, mixed)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, bad.stderr) || r.stdout != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want 2 and %q", bad.args, r.code, r.stderr, r.stdout, bad.stderr)
		}
	}
}

// TestUnreadableInputPrintsNoReport: when no file can be read, the error is the whole
// output: no empty table, no "0 connections".
func TestUnreadableInputPrintsNoReport(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"typo of --version", []string{"version"}, "wsclosescan: error: version: no such file or directory (did you mean --version?)"},
		{"explain not first", []string{"-f", "json", "explain"}, "(explain must come first: wsclosescan explain CODE)"},
		{"missing file", []string{"nope.pcap"}, "wsclosescan: error: nope.pcap: no such file or directory\n"},
		{"missing file, json", []string{"-f", "json", "nope.pcap"}, "nope.pcap: no such file or directory"},
		{"directory", []string{"."}, "wsclosescan: error: .: is a directory, not a capture file\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, tt.args...)
			if r.code != exitUsage || r.stdout != "" || !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing on stdout, %q", r.code, r.stdout, r.stderr, tt.stderr)
			}
		})
	}
}

// TestAllAndNotWebSocket: --verdict not_websocket lists plain TCP without --all, and with
// --all the hints do not suggest --all.
func TestAllAndNotWebSocket(t *testing.T) {
	plain := wstest.NewConv("10.0.0.9:40000", "10.0.0.2:25").SYN().Send(s2c, []byte("220 hi\r\n")).FIN(s2c)
	path := writeCapture(t, plain)
	doc, code, _ := scanJSON(t, "--verdict", "not_websocket", path)
	if code != 0 || len(doc.Connections) != 1 || doc.Connections[0].Client != "10.0.0.9:40000" {
		t.Errorf("--verdict not_websocket: exit %d, %d connections; want the plain one", code, len(doc.Connections))
	}
	r := runCLI(t, nil, "--all", "--verdict", "clean", path)
	if !strings.Contains(r.stderr, "hint: no connection matched the selection; 1 other connection(s) were seen") ||
		strings.Contains(r.stderr, "--all lists them") {
		t.Errorf("--all: stderr %q", r.stderr)
	}
}

// TestExplain: several codes, JSON, and a heading that is no name for a code without one.
func TestExplain(t *testing.T) {
	r := runCLI(t, nil, "explain", "3000", "1006")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "3000 (a code in the IANA-registered range 3000-3999, without a standard name)\n") ||
		!strings.Contains(r.stdout, "\n\n1006 Abnormal Closure\n") {
		t.Errorf("exit %d:\n%s", r.code, r.stdout)
	}
	r = runCLI(t, nil, "explain", "-f", "JSON", "4001", "1000")
	var got []explanation
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got) != 2 {
		t.Fatalf("json: %v\n%s", err, r.stdout)
	}
	if got[0].Code != 4001 || got[0].Name != "" || got[0].Range != "private" || got[1].Name != "Normal Closure" || !got[1].MaySend {
		t.Errorf("json: %+v", got)
	}
	for _, bad := range [][]string{{"explain"}, {"explain", "x"}, {"explain", "-f", "xml", "1000"}} {
		if r := runCLI(t, nil, bad...); r.code != exitUsage || r.stdout != "" {
			t.Errorf("%v: exit %d, stdout %q", bad, r.code, r.stdout)
		}
	}
}
