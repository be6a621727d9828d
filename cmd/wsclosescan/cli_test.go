package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"github.com/wsclosescan/wsclosescan/internal/wstest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
	"github.com/wsclosescan/wsclosescan/scan"
)

// cliResult is what one invocation of run produced.
type cliResult struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, stdin []byte, args ...string) cliResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, bytes.NewReader(stdin), &stdout, &stderr)
	return cliResult{code, stdout.String(), stderr.String()}
}

// twoCaptures writes a capture with one clean and one abnormal connection, and one with a
// refused upgrade.
func twoCaptures(t *testing.T) (mixed, refused string) {
	clean := wstest.NewConv("10.0.0.1:40000", "10.0.0.2:80").Upgraded().Close(c2s, 1000, "").Close(s2c, 1000, "").FIN(s2c).FIN(c2s)
	drop := wstest.NewConv("10.0.0.3:40001", "10.0.0.2:8080").Upgraded().Wait(time.Millisecond).RST(c2s)
	mixed = writeCapture(t, clean, drop)
	refused = writeCapture(t, wstest.NewConv("10.0.0.5:40002", "10.0.0.2:80").SYN().Send(c2s, []byte("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "+wstest.Key+"\r\nSec-WebSocket-Version: 13\r\n\r\n")).
		Send(s2c, []byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")).FIN(s2c))
	return mixed, refused
}

func TestExitCodes(t *testing.T) {
	mixed, refused := twoCaptures(t)
	missing := filepath.Join(t.TempDir(), "nope.pcap")
	notCapture := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(notCapture, []byte("hello, this is not a capture\n"), 0o644)
	tests := []struct {
		name      string
		args      []string
		code      int
		stderr    string // substring; "" means stderr must be empty
		stdoutHas string
	}{
		{"plain run", []string{mixed}, 0, "", "2 connections: 1 clean, 1 abnormal"},
		{"fail-on matches", []string{"--fail-on", "abnormal,handshake_failed", mixed}, 1, "", "abnormal"},
		{"fail-on does not match", []string{"--fail-on", "half_closed", mixed}, 0, "", "clean"},
		{"fail-on on second file", []string{"--fail-on", "handshake_failed", mixed, refused}, 1, "", "handshake_failed"},
		{"missing file among good ones", []string{mixed, missing}, 2, "wsclosescan: error: " + missing + ": no such file or directory", "2 connections"},
		{"not a capture", []string{notCapture, mixed}, 2, "wsclosescan: error: " + notCapture + ": not a pcap or pcapng file", "2 connections"},
		{"unknown flag", []string{"--frobnicate", mixed}, 2, "wsclosescan: error: unknown flag: --frobnicate", ""},
		{"bad format", []string{"--format", "xml", mixed}, 2, `unknown --format "xml"`, ""},
		{"bad verdict", []string{"--verdict", "dirty", mixed}, 2, `unknown verdict "dirty" in --verdict`, ""},
		{"bad code", []string{"--code", "abc", mixed}, 2, `invalid close code "abc"`, ""},
		{"bad port", []string{"--port", "70000", mixed}, 2, `invalid port "70000" in --port`, ""},
		{"bad host", []string{"--host", "example.com", mixed}, 2, `invalid --host "example.com"`, ""},
		{"no files", []string{}, 2, "no capture file given", ""},
		{"timeline with csv", []string{"--timeline", "--format", "csv", mixed}, 2, "--timeline does not fit in CSV", ""},
		{"help", []string{"--help"}, 0, "", "Examples:"},
		{"version", []string{"--version"}, 0, "", "wsclosescan "},
		{"explain", []string{"explain", "1006"}, 0, "", "must never be sent"},
		{"explain flag is gone", []string{"--explain", "4001"}, 2, "unknown flag: --explain", ""},
		{"explain bad code", []string{"explain", "x"}, 2, `invalid close code "x"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", r.code, tt.code, r.stderr)
			}
			if tt.stderr == "" && r.stderr != "" {
				t.Errorf("unexpected stderr %q", r.stderr)
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr %q lacks %q", r.stderr, tt.stderr)
			}
			if !strings.Contains(r.stdout, tt.stdoutHas) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdoutHas, r.stdout)
			}
		})
	}
}

func TestStdin(t *testing.T) {
	mixed, _ := twoCaptures(t)
	data, err := os.ReadFile(mixed)
	if err != nil {
		t.Fatal(err)
	}
	fromFile := runCLI(t, nil, "--format", "jsonl", mixed)
	fromStdin := runCLI(t, data, "--format", "jsonl", "-")
	if fromStdin.code != 0 {
		t.Fatalf("exit %d: %s", fromStdin.code, fromStdin.stderr)
	}
	want := strings.ReplaceAll(fromFile.stdout, `"file":"`+mixed+`"`, `"file":"-"`)
	if fromStdin.stdout != want {
		t.Errorf("stdin output differs from file output:\n%s\nwant\n%s", fromStdin.stdout, want)
	}
	twice := runCLI(t, data, "-", "-")
	if twice.code != 2 || !strings.Contains(twice.stderr, "standard input (-) can be read only once") {
		t.Errorf("reading stdin twice: exit %d, stderr %q", twice.code, twice.stderr)
	}
}

func TestTruncatedFileIsAWarning(t *testing.T) {
	mixed, _ := twoCaptures(t)
	data, _ := os.ReadFile(mixed)
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	os.WriteFile(cut, data[:len(data)-30], 0o644) // inside the last record
	r := runCLI(t, nil, "--format", "json", cut)
	if r.code != 0 {
		t.Errorf("exit %d, want 0: a truncated file is a warning", r.code)
	}
	if !strings.HasPrefix(r.stderr, "wsclosescan: warning: "+cut+": truncated") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("want one warning line naming the file, got %q", r.stderr)
	}
	// The JSON says what the CLI says: a warning (files[].error is for a file that
	// could not be read at all).
	var doc report.Document
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Connections) != 2 || doc.Files[0].Error != nil || len(doc.Files[0].Warnings) == 0 ||
		"wsclosescan: warning: "+doc.Files[0].Warnings[0]+"\n" != r.stderr {
		t.Errorf("got %d connections, file error %v, warnings %q; want 2, no error, the CLI's warning",
			len(doc.Connections), doc.Files[0].Error, doc.Files[0].Warnings)
	}
}

func TestMultipleFilesAndFilters(t *testing.T) {
	mixed, refused := twoCaptures(t)
	tests := []struct {
		name    string
		args    []string
		clients []string
	}{
		{"all files", nil, []string{"10.0.0.1:40000", "10.0.0.3:40001", "10.0.0.5:40002"}},
		{"verdict", []string{"--verdict", "abnormal,handshake_failed"}, []string{"10.0.0.3:40001", "10.0.0.5:40002"}},
		{"code sent", []string{"--code", "1000"}, []string{"10.0.0.1:40000"}},
		{"code observed", []string{"--code", "1006"}, []string{"10.0.0.3:40001", "10.0.0.5:40002"}},
		{"host", []string{"--host", "10.0.0.3"}, []string{"10.0.0.3:40001"}},
		{"port", []string{"--port", "8080"}, []string{"10.0.0.3:40001"}},
		{"host and port", []string{"--host", "10.0.0.2", "--port", "80"}, []string{"10.0.0.1:40000", "10.0.0.5:40002"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, code, _ := scanJSON(t, append(tt.args, mixed, refused)...)
			if code != 0 {
				t.Fatalf("exit %d", code)
			}
			var got []string
			for _, r := range doc.Connections {
				got = append(got, r.Client)
			}
			if strings.Join(got, " ") != strings.Join(tt.clients, " ") {
				t.Errorf("got clients %v, want %v", got, tt.clients)
			}
			if len(doc.Files) != 2 {
				t.Errorf("got %d files, want 2", len(doc.Files))
			}
		})
	}
}

func TestAllListsPlainTCP(t *testing.T) {
	plain := wstest.NewConv("10.0.0.9:40000", "10.0.0.2:25").SYN().Send(s2c, []byte("220 mail.example ESMTP\r\n")).
		Send(c2s, []byte("QUIT\r\n")).FIN(s2c).FIN(c2s)
	ws := wstest.NewConv("10.0.0.1:40000", "10.0.0.2:80").Upgraded().Close(c2s, 1000, "").Close(s2c, 1000, "").FIN(s2c)
	path := writeCapture(t, plain, ws)
	r := runCLI(t, nil, path)
	if !strings.Contains(r.stdout, "1 connection: 1 clean") || strings.Contains(r.stdout, "10.0.0.9") {
		t.Errorf("default run should list only the WebSocket connection:\n%s", r.stdout)
	}
	doc, _, _ := scanJSON(t, "--all", path)
	if len(doc.Connections) != 2 {
		t.Fatalf("--all: got %d connections, want 2", len(doc.Connections))
	}
	// Both start at the same instant, so they are ordered by client address.
	if p := doc.Connections[1]; p.Client != "10.0.0.9:40000" || p.Verdict != report.VerdictNotWebSocket || p.WebSocket {
		t.Errorf("--all: plain connection listed as %s %s websocket=%v", p.Client, p.Verdict, p.WebSocket)
	}
	onlyPlain := writeCapture(t, wstest.NewConv("10.0.0.9:40000", "10.0.0.2:25").SYN().Send(s2c, []byte("220 hi\r\n")).FIN(s2c))
	if r := runCLI(t, nil, onlyPlain); !strings.Contains(r.stderr, "no WebSocket connection matched; 1 other TCP connection(s) were seen (--all lists them)") {
		t.Errorf("missing hint about --all, stderr %q", r.stderr)
	}
	// Lone SYNs get no record without --all (scan.Options.SkipHalfOpen), but are counted
	// all the same, read alone, one file after the other or merged (where the plain
	// connection of the second file continues the one of the first).
	var syns []*wstest.Conv
	for i := range 3 {
		c := wstest.NewConv(fmt.Sprintf("10.0.1.%d:40000", i+1), "10.0.0.2:80")
		c.Add(c.Conn.Segment(c2s, reassembly.FlagSYN, 1000, 0, nil))
		syns = append(syns, c)
	}
	withSYNs := writeCapture(t, append(syns, wstest.NewConv("10.0.0.9:40000", "10.0.0.2:25").SYN().
		Send(s2c, []byte("220 hi\r\n")).FIN(s2c))...)
	for _, args := range [][]string{{withSYNs}, {withSYNs, onlyPlain}, {"--merge", withSYNs, onlyPlain}} {
		want := "no WebSocket connection matched; 5 other TCP connection(s) were seen"
		if len(args) != 2 {
			want = "no WebSocket connection matched; 4 other TCP connection(s) were seen"
		}
		if r := runCLI(t, nil, args...); !strings.Contains(r.stderr, want) {
			t.Errorf("%v: want %q, stderr %q", args, want, r.stderr)
		}
	}
}

func TestEveryFormat(t *testing.T) {
	mixed, _ := twoCaptures(t)
	t.Run("json", func(t *testing.T) {
		doc, _, _ := scanJSON(t, mixed)
		if doc.Summary.Connections != 2 || doc.Summary.ByVerdict["clean"] != 1 || doc.Files[0].Packets == 0 {
			t.Errorf("summary %+v files %+v", doc.Summary, doc.Files)
		}
	})
	t.Run("jsonl", func(t *testing.T) {
		r := runCLI(t, nil, "--format", "jsonl", mixed)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) != 2 {
			t.Fatalf("got %d lines, want 2", len(lines))
		}
		var rec report.Record
		if err := json.Unmarshal([]byte(lines[1]), &rec); err != nil || rec.Verdict != "abnormal" {
			t.Errorf("second line: %v %+v", err, rec)
		}
	})
	t.Run("csv", func(t *testing.T) {
		r := runCLI(t, nil, "--format", "csv", mixed)
		rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		hints := slices.Index(rows[0], "hints")
		if err != nil || len(rows) != 3 || rows[0][0] != "file" || hints < 0 || rows[2][hints] == "" {
			t.Errorf("csv: %v %q", err, rows)
		}
	})
	t.Run("markdown", func(t *testing.T) {
		r := runCLI(t, nil, "--format", "markdown", mixed)
		if !strings.HasPrefix(r.stdout, "| # | client |") || !strings.Contains(r.stdout, "| abnormal | `ip.addr==") {
			t.Errorf("markdown:\n%s", r.stdout)
		}
		// Two files read separately: a file column; the diagram is headed by the filter
		// and the Community ID.
		r = runCLI(t, nil, "--format", "markdown", "--timeline", mixed, mixed)
		for _, want := range []string{"| # | file | client |", "| 1 | " + mixed + " | ", "\nwireshark: `ip.addr==", " · community-id: `1:"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("markdown of two files lacks %q:\n%s", want, r.stdout)
			}
		}
	})
	t.Run("table with timeline", func(t *testing.T) {
		r := runCLI(t, nil, "--timeline", mixed)
		for _, want := range []string{"#1 10.0.0.1:40000 -> 10.0.0.2:80  clean", "|---- SYN ---", `close 1000`, "RST+ACK"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("timeline lacks %q:\n%s", want, r.stdout)
			}
		}
	})
	t.Run("color only when asked or on a terminal", func(t *testing.T) {
		if r := runCLI(t, nil, mixed); strings.Contains(r.stdout, "\x1b[") {
			t.Errorf("colour in a pipe")
		}
		if r := runCLI(t, nil, "--color", "always", mixed); !strings.Contains(r.stdout, "\x1b[32mclean") {
			t.Errorf("no colour with --color always")
		}
	})
}

func TestMergeRotatedFiles(t *testing.T) {
	conv := wstest.NewConv("10.0.0.1:40000", "10.0.0.2:80").Upgraded().Text(c2s, "hi")
	first := len(conv.Packets)
	conv.Close(c2s, 1000, "").Close(s2c, 1000, "").FIN(s2c).FIN(c2s)
	dir := t.TempDir()
	// tcpdump -C names: x.pcap, x.pcap1, ...; give them out of order to check the sorting.
	head, tail := &wstest.Conv{Packets: conv.Packets[:first]}, &wstest.Conv{Packets: conv.Packets[first:]}
	for name, part := range map[string]*wstest.Conv{"x.pcap": head, "x.pcap1": tail} {
		src := writeCapture(t, part)
		data, _ := os.ReadFile(src)
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	a, b := filepath.Join(dir, "x.pcap1"), filepath.Join(dir, "x.pcap")
	doc, _, _ := scanJSON(t, "--merge", a, b)
	if len(doc.Connections) != 1 || doc.Connections[0].Verdict != "clean" || doc.Connections[0].File != b {
		t.Errorf("--merge: got %+v", doc.Connections)
	}
	doc, _, _ = scanJSON(t, "--all", a, b)
	if len(doc.Connections) != 2 {
		t.Errorf("without --merge: got %d connections, want 2 partial ones", len(doc.Connections))
	}
}

func TestNaturalSort(t *testing.T) {
	got := naturalSort([]string{"x.pcap10", "x.pcap2", "x.pcap", "x.pcap1", "a_001.pcap", "a_0002.pcap"})
	want := "a_001.pcap a_0002.pcap x.pcap x.pcap1 x.pcap2 x.pcap10"
	if strings.Join(got, " ") != want {
		t.Errorf("got %v, want %s", got, want)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"4096", 4096, true}, {"64KiB", 64 << 10, true}, {"4MiB", 4 << 20, true}, {"1G", 1 << 30, true},
		{"0", 0, false}, {"-1", 0, false}, {"lots", 0, false}, {"2000000GiB", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSize("--max-buffer", tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseConnLimit(t *testing.T) {
	tests := []struct {
		in     string
		count  int
		budget int64
		ok     bool
	}{
		{"250000", 250000, 0, true},
		{" 1 ", 1, 0, true},
		{"4GiB", 0, 4 << 30, true},
		{"512MB", 0, 512 << 20, true},
		{"0", 0, 0, false},
		{"-3", 0, 0, false},
		{"4XB", 0, 0, false},
		{"", 0, 0, false},
		{"1.5GiB", 0, 0, false},
	}
	for _, tt := range tests {
		count, budget, err := parseConnLimit(tt.in)
		if (err == nil) != tt.ok || count != tt.count || budget != tt.budget {
			t.Errorf("parseConnLimit(%q) = %d, %d, %v; want %d, %d, ok=%v", tt.in, count, budget, err, tt.count, tt.budget, tt.ok)
		}
	}
}

func TestMaxConnsReleasesEarly(t *testing.T) {
	var convs []*wstest.Conv
	for i := range 12 {
		c := wstest.NewConv(fmt.Sprintf("10.0.0.1:%d", 40000+i), "10.0.0.2:80")
		convs = append(convs, c.Wait(time.Duration(i)*10*time.Millisecond).Upgraded())
	}
	path := writeCapture(t, convs...)
	doc, code, stderr := scanJSON(t, "--max-conns", "2", path)
	if code != 0 || !strings.Contains(stderr, "were released early because more than 2 were open at once") {
		t.Errorf("exit %d, stderr %q; want 0 and a warning", code, stderr)
	}
	early := 0
	for _, r := range doc.Connections {
		for _, p := range r.Problems {
			if strings.HasPrefix(p, "released early because too many connections were open at once") {
				early++
			}
		}
	}
	if len(doc.Connections) != 12 || early == 0 {
		t.Errorf("got %d records, %d released early; want all 12 reported, some released early", len(doc.Connections), early)
	}
	if _, code, _ := scanJSON(t, path); code != 0 {
		t.Errorf("default run: exit %d", code)
	}
	if r := runCLI(t, nil, "--max-conns", "0", path); r.code != 2 || !strings.Contains(r.stderr, "--max-conns must be at least 1") {
		t.Errorf("--max-conns 0: exit %d, stderr %q", r.code, r.stderr)
	}
	// A memory budget: 4 shards of 8 KiB hold 2 connections each, so some of the 12 go.
	doc, code, stderr = scanJSON(t, "--max-conns", "32KiB", path)
	if code != 0 || len(doc.Connections) != 12 ||
		!strings.Contains(stderr, "would have needed more than --max-conns 32KiB (counting about 4 KiB per connection") {
		t.Errorf("--max-conns 32KiB: exit %d, %d records, stderr %q", code, len(doc.Connections), stderr)
	}
	if r := runCLI(t, nil, "--max-conns", "4XB", path); r.code != 2 || !strings.Contains(r.stderr, "invalid --max-conns \"4XB\"") {
		t.Errorf("--max-conns 4XB: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestSortWindow(t *testing.T) {
	convs := []*wstest.Conv{wstest.NewConv("10.0.0.1:40000", "10.0.0.2:80").Upgraded()}
	for i := range 30 {
		c := wstest.NewConv(fmt.Sprintf("10.0.1.1:%d", 41000+i), "10.0.0.2:80")
		convs = append(convs, c.Wait(time.Duration(i+1)*time.Second).Upgraded().
			Close(c2s, 1000, "").Close(s2c, 1000, "").FIN(s2c).FIN(c2s))
	}
	path := writeCapture(t, convs...)
	r := runCLI(t, nil, "--sort-window", "4", "--format", "jsonl", "--order", "start", path)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 31 || !strings.Contains(r.stderr, "record(s) were written out of start-time order") {
		t.Fatalf("exit %d, %d lines, stderr %q", r.code, len(lines), r.stderr)
	}
	if strings.Contains(lines[0], `"client":"10.0.0.1:40000"`) {
		t.Errorf("with a small window the long connection should come out late, got it first")
	}
	sorted := runCLI(t, nil, "--format", "jsonl", "--order", "start", path)
	if !strings.HasPrefix(sorted.stdout, `{"file":"`+path+`","client":"10.0.0.1:40000"`) || sorted.stderr != "" {
		t.Errorf("default window: first line %.80q, stderr %q", sorted.stdout, sorted.stderr)
	}
	// jsonl defaults to end order: the connection open to the end comes after those let
	// go 10 s after they closed (before the end of the capture), and nothing is late,
	// however small the window.
	byEnd := runCLI(t, nil, "--format", "jsonl", "--sort-window", "4", path)
	endLines := strings.Split(strings.TrimSpace(byEnd.stdout), "\n")
	if len(endLines) != 31 || !strings.Contains(endLines[0], `"client":"10.0.1.1:41000"`) ||
		!strings.Contains(endLines[19], `"client":"10.0.0.1:40000"`) || byEnd.stderr != "" {
		t.Errorf("end order: %d lines, first %.80q, stderr %q", len(endLines), endLines[0], byEnd.stderr)
	}
	// json and csv stream too, and default to end order for the same reason: a busy
	// capture's long-lived connections would otherwise overflow the window.
	doc, _, stderr := scanJSON(t, "--sort-window", "4", path)
	if len(doc.Connections) != 31 || doc.Connections[0].Client != "10.0.1.1:41000" ||
		doc.Connections[19].Client != "10.0.0.1:40000" || stderr != "" {
		t.Errorf("json end order: %d records, stderr %q", len(doc.Connections), stderr)
	}
	csv := runCLI(t, nil, "--format", "csv", "--sort-window", "4", path)
	csvLines := strings.Split(strings.TrimSpace(csv.stdout), "\n")
	if len(csvLines) != 32 || !strings.Contains(csvLines[1], "10.0.1.1:41000") ||
		!strings.Contains(csvLines[20], "10.0.0.1:40000") || csv.stderr != "" {
		t.Errorf("csv end order: %d lines, stderr %q", len(csvLines), csv.stderr)
	}
	if r := runCLI(t, nil, "--order", "end", path); r.code != 2 || !strings.Contains(r.stderr, "--order end does not apply to --format table") {
		t.Errorf("--order end with the table: exit %d, stderr %q", r.code, r.stderr)
	}
	table := runCLI(t, nil, "--sort-window", "4", path)
	if i, j := strings.Index(table.stdout, "10.0.0.1:40000"), strings.Index(table.stdout, "10.0.1.1:41000"); i < 0 || j < i {
		t.Errorf("the table must stay sorted by start time:\n%s", table.stdout)
	}
	if r := runCLI(t, nil, "--sort-window", "0", path); r.code != 2 {
		t.Errorf("--sort-window 0: exit %d", r.code)
	}
}

func TestIdleTimeout(t *testing.T) {
	c := wstest.NewConv("10.0.0.1:40000", "10.0.0.2:80").Upgraded().Text(c2s, "hi").Wait(10*time.Second).
		Text(s2c, "late").Close(c2s, 1000, "").Close(s2c, 1000, "").FIN(s2c).FIN(c2s)
	path := writeCapture(t, c)
	doc, _, stderr := scanJSON(t, "--all", "--idle-timeout", "5s", path)
	if len(doc.Connections) != 1 {
		t.Fatalf("got %d records, want 1: the packets after the release are not another connection", len(doc.Connections))
	}
	first := doc.Connections[0]
	if first.Verdict != "open_at_end" || !strings.Contains(strings.Join(first.Problems, "\n"), "released after the --idle-timeout of silence") ||
		!strings.Contains(strings.Join(first.Hints, "\n"), "released by wsclosescan after 5.0 s (--idle-timeout) of silence") {
		t.Errorf("verdict %s, problems %q, hints %q", first.Verdict, first.Problems, first.Hints)
	}
	if !strings.Contains(stderr, "packet(s) of connections released early") {
		t.Errorf("stderr %q, want a warning about the packets not analysed", stderr)
	}
	if doc, _, _ := scanJSON(t, path); len(doc.Connections) != 1 || doc.Connections[0].Verdict != "clean" {
		t.Errorf("without --idle-timeout: %+v", doc.Connections)
	}
	if r := runCLI(t, nil, "--idle-timeout", "-1s", path); r.code != 2 {
		t.Errorf("negative --idle-timeout: exit %d", r.code)
	}
}

// TestIdleTimeoutRecorded is issue 16's case on a real capture: nginx closes two idle
// WebSocket connections; --idle-timeout 1s releases them first. Each is one record, whose
// hint says the tool released it (not "capture for longer"), and their FINs are no rows.
func TestIdleTimeoutRecorded(t *testing.T) {
	doc, code, stderr := scanJSON(t, "--all", "--idle-timeout", "1s", "../../testdata/pcaps/nginx-idle-timeout.pcap")
	if code != 0 || len(doc.Connections) != 2 {
		t.Fatalf("exit %d, %d records, want 0 and 2 (stderr %q)", code, len(doc.Connections), stderr)
	}
	for _, r := range doc.Connections {
		hints := strings.Join(r.Hints, "\n")
		if r.Verdict != "open_at_end" || !strings.Contains(hints, "released by wsclosescan after 1.0 s (--idle-timeout) of silence") ||
			strings.Contains(hints, "capture for longer") {
			t.Errorf("%s: verdict %s, hints %q", r.Client, r.Verdict, r.Hints)
		}
	}
	if !strings.Contains(stderr, "8 packet(s) of connections released early") {
		t.Errorf("stderr %q, want the 8 later packets counted", stderr)
	}
}

// failingWriter accepts limit bytes, then fails every write.
type failingWriter struct{ limit int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.limit {
		n := w.limit
		w.limit = 0
		return n, fmt.Errorf("disk full")
	}
	w.limit -= len(p)
	return len(p), nil
}

// TestWriteErrors: output that cannot be written (a full disk, a closed pipe) is an error
// with exit status 2 in every format, also when it fails only once the buffered output is
// flushed at the end.
func TestWriteErrors(t *testing.T) {
	mixed, _ := twoCaptures(t)
	for _, format := range []string{"table", "json", "jsonl", "csv", "markdown"} {
		for _, limit := range []int{0, 100} {
			var stderr bytes.Buffer
			code := run([]string{"-f", format, mixed}, nil, &failingWriter{limit: limit}, &stderr)
			if code != exitUsage || !strings.Contains(stderr.String(), "wsclosescan: error: writing output: disk full") {
				t.Errorf("%s, failing after %d bytes: exit %d, stderr %q; want 2 and the write error", format, limit, code, stderr.String())
			}
		}
	}
}

// TestProfiles: --cpuprofile and --memprofile write a (gzip-compressed) pprof profile, and
// a path that cannot be created is a usage error before anything is read.
func TestProfiles(t *testing.T) {
	mixed, _ := twoCaptures(t)
	for _, flag := range []string{"--cpuprofile", "--memprofile"} {
		path := filepath.Join(t.TempDir(), "x.prof")
		if r := runCLI(t, nil, flag, path, mixed); r.code != 0 || r.stderr != "" {
			t.Fatalf("%s: exit %d, stderr %q", flag, r.code, r.stderr)
		}
		b, err := os.ReadFile(path)
		if err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			t.Fatalf("%s: profile: %v, %d bytes, want a gzip-compressed profile", flag, err, len(b))
		}
		bad := filepath.Join(t.TempDir(), "missing", "x.prof")
		if r := runCLI(t, nil, flag, bad, mixed); r.code != exitUsage || r.stdout != "" ||
			!strings.Contains(r.stderr, "wsclosescan: error: "+flag+": open "+bad) {
			t.Errorf("%s, bad path: exit %d, stdout %q, stderr %q", flag, r.code, r.stdout, r.stderr)
		}
	}
}

// TestMemProfileBeforeFlush: --memprofile profiles the heap while the last file's
// connections are still open (both of mixed's are tracked at its end), or all the merged
// files', not once they have been let go.
func TestMemProfileBeforeFlush(t *testing.T) {
	mixed, refused := twoCaptures(t)
	orig := writeHeapProfile
	t.Cleanup(func() { writeHeapProfile = orig })
	for _, tc := range []struct {
		args     []string
		released int64 // connections let go when the profile is taken
	}{
		{[]string{mixed}, 0},
		{[]string{refused, mixed}, 1}, // refused's one connection, flushed with its file
		{[]string{"--merge", refused, mixed}, 0},
	} {
		calls, released := 0, int64(-1)
		writeHeapProfile = func(f *os.File, sc *scan.Scanner) error {
			n := sc.Released()
			calls, released = calls+1, n.Flushed+n.Closed+n.Reused+n.Idle+n.Evicted
			return f.Close()
		}
		args := append([]string{"--memprofile", filepath.Join(t.TempDir(), "heap.prof")}, tc.args...)
		if r := runCLI(t, nil, args...); r.code > 1 || strings.Contains(r.stderr, "error") {
			t.Fatalf("%v: exit %d, stderr %q", tc.args, r.code, r.stderr) // the merge warns of overlap
		}
		if calls != 1 || released != tc.released {
			t.Errorf("%v: profile taken %d times, with %d connections let go; want once, with %d", tc.args, calls,
				released, tc.released)
		}
	}
}
