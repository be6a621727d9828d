package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func mustTime(s string) Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return Time{t}
}

// sampleRecords covers a clean close, a reset after close, a refused upgrade and a close
// reason full of hostile bytes.
func sampleRecords() []Record {
	rtt := 0.25
	idle := 60.0
	return []Record{
		{
			File: "a.pcap", Client: "127.0.0.1:50000", Server: "127.0.0.1:8080",
			CommunityID:   "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
			DisplayFilter: "ip.addr==127.0.0.1 && tcp.port==50000 && tcp.port==8080",
			Start:         mustTime("2026-01-02T03:04:05.000000001Z"), End: mustTime("2026-01-02T03:04:06.5Z"), DurationS: 1.499999999,
			WebSocket: true, Handshake: HandshakeCompleted, HTTPStatus: Int(101),
			Request:     &Request{Method: "GET", Path: "/chat?x=1", Host: "example", Protocols: []string{"chat.v2"}, Extensions: []string{}},
			Subprotocol: String("chat.v2"), Extensions: []string{},
			ClientClose:    &Close{Code: Int(1000), Reason: "bye", Time: mustTime("2026-01-02T03:04:06Z"), Valid: true, Problems: []string{}},
			ServerClose:    &Close{Code: Int(1000), Reason: "bye", Time: mustTime("2026-01-02T03:04:06.1Z"), Valid: true, Problems: []string{}},
			FirstClose:     new(SideClient),
			TCPEnd:         TCPEnd{First: new(SideServer), How: String("fin"), Time: &Time{mustTime("2026-01-02T03:04:06.2Z").Time}},
			ClientObserved: Int(1000), ServerObserved: Int(1000), Verdict: VerdictClean,
			Frames: PerSide{3, 4}, Messages: PerSide{2, 3}, Bytes: PerSide{10, 20},
			Pings:    []Ping{{From: SideServer, Time: mustTime("2026-01-02T03:04:05.5Z"), RTTMs: &rtt}},
			Problems: []string{}, Hints: []string{},
			Timeline: []TimelineEntry{{0, SideClient, "SYN", 1}, {0.0001, SideServer, "SYN-ACK", 2}, {0.5, SideNone, "server gap: 10 bytes missing", 0}},
		},
		{
			File: "a.pcap", Client: "[::1]:50001", Server: "[::1]:9000",
			Start: mustTime("2026-01-02T03:05:00Z"), End: mustTime("2026-01-02T03:06:00Z"), DurationS: 60,
			WebSocket: true, Handshake: HandshakeCompleted, HTTPStatus: Int(101), Extensions: []string{},
			ServerClose:    &Close{Code: Int(1011), Reason: "internal error while processing the request, retry later", Time: mustTime("2026-01-02T03:06:00Z"), Valid: true, Problems: []string{}},
			FirstClose:     new(SideServer),
			TCPEnd:         TCPEnd{First: new(SideServer), How: String("rst"), Time: &Time{mustTime("2026-01-02T03:06:00.0002Z").Time}},
			ClientObserved: Int(1006), ServerObserved: Int(1006), Verdict: VerdictHalfClosed,
			IdleBeforeEndS: &idle,
			Problems:       []string{}, Hints: []string{"server sent close 1011 then reset the connection 0.2 ms later"},
			LastMessages: &LastMessages{
				Client: &Message{Type: "text", Size: 80, Time: mustTime("2026-01-02T03:05:59.5Z"), Preview: String("token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl and [2J"), PreviewCut: true},
				Server: &Message{Type: "binary", Size: 40, Time: mustTime("2026-01-02T03:05:59.9Z"), Compressed: true, InflatedSize: new(int64(300)), Preview: String("0102ff"), PreviewCut: true, LaterBytesMissing: true},
			},
		},
		{
			File: "b.pcap", Client: "10.0.0.1:40000", Server: "10.0.0.2:80",
			Start: mustTime("2026-01-02T03:07:00Z"), End: mustTime("2026-01-02T03:07:01Z"), DurationS: 1,
			WebSocket: true, Handshake: HandshakeRejected, HTTPStatus: Int(403), HandshakeError: String("server answered 403 Forbidden"),
			Extensions: []string{}, TCPEnd: TCPEnd{First: new(SideServer), How: String("fin"), Time: &Time{mustTime("2026-01-02T03:07:01Z").Time}},
			ClientObserved: Int(1006), ServerObserved: Int(1006), Verdict: VerdictHandshakeFailed,
			Problems: []string{}, Hints: []string{},
		},
		{
			File: "evil\n.pcap", Client: "10.0.0.3:40000", Server: "10.0.0.2:80",
			Start: mustTime("2026-01-02T03:08:00Z"), End: mustTime("2026-01-02T03:08:01Z"), DurationS: 1,
			WebSocket: true, Handshake: HandshakeNotSeen, Extensions: []string{},
			ClientClose:    &Close{Reason: "", Time: mustTime("2026-01-02T03:08:00.5Z"), Valid: true, Problems: []string{}},
			ServerClose:    &Close{Code: Int(4000), Reason: "a,b\n\"c\"|\x1b[2J\xff", Time: mustTime("2026-01-02T03:08:00.6Z"), Valid: false, Problems: []string{"reason is not valid UTF-8"}},
			FirstClose:     new(SideClient),
			ClientObserved: nil, ServerObserved: nil, Verdict: VerdictOpenAtEnd,
			Problems: []string{}, Hints: []string{},
		},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestWriteTableGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, sampleRecords(), TableOptions{ShowFile: true}); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsRune(b.String(), 0x1b) {
		t.Errorf("table contains a raw escape character:\n%s", b.String())
	}
	golden(t, "sample.table", b.Bytes())
}

func TestWriteTableColor(t *testing.T) {
	var plain, color bytes.Buffer
	WriteTable(&plain, sampleRecords()[:1], TableOptions{})
	WriteTable(&color, sampleRecords()[:1], TableOptions{Color: true})
	if strings.Contains(plain.String(), "\x1b[") {
		t.Errorf("plain table has ANSI escapes")
	}
	if !strings.Contains(color.String(), "\x1b[32mclean\x1b[0m") {
		t.Errorf("coloured table lacks a green verdict:\n%q", color.String())
	}
}

func TestWriteMarkdownGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b, sampleRecords()); err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if !strings.HasPrefix(line, "|") {
			break
		}
		// Every table row must have exactly the header's number of unescaped pipes: the
		// number, tableHeader's columns and the display filter.
		if n := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|"); n != len(tableHeader)+3 {
			t.Errorf("markdown row %d has %d cell separators, want %d: %s", i, n, len(tableHeader)+3, line)
		}
	}
	golden(t, "sample.md", b.Bytes())
	if !strings.Contains(b.String(), "| clean | `ip.addr==127.0.0.1 && tcp.port==50000 && tcp.port==8080` |\n") {
		t.Errorf("the first row does not end with its display filter as a code span:\n%s", b.String())
	}
}

// With several files, the Markdown table has a file column after the number.
func TestWriteMarkdownFileColumn(t *testing.T) {
	var b bytes.Buffer
	m := &markdownWriter{w: &b, showFile: true}
	recs := sampleRecords()
	for i := range recs {
		if err := m.Write(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Finish(nil, Summarize(recs)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if !strings.HasPrefix(lines[0], "| # | file | client |") {
		t.Errorf("header %q, want it to start with | # | file | client |", lines[0])
	}
	if !strings.HasPrefix(lines[4], "| 3 | b.pcap | 10.0.0.1:40000 |") {
		t.Errorf("row 3 %q, want it to start with its file", lines[4])
	}
}

func TestWriteTimelineGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTimeline(&b, sampleRecords()[:2]); err != nil {
		t.Fatal(err)
	}
	golden(t, "sample.timeline", b.Bytes())
}

func TestWriteCSV(t *testing.T) {
	var b bytes.Buffer
	recs := sampleRecords()
	if err := WriteCSV(&b, recs); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatalf("output is not valid CSV: %v", err)
	}
	if len(rows) != len(recs)+1 {
		t.Fatalf("got %d rows, want %d", len(rows), len(recs)+1)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, row := range rows {
		if len(row) != len(csvHeader) {
			t.Fatalf("row has %d cells, want %d", len(row), len(csvHeader))
		}
	}
	tests := []struct {
		row          int
		column, want string
	}{
		{1, "client_close_code", "1000"},
		{1, "start", "2026-01-02T03:04:05.000000001Z"},
		{1, "protocols", "chat.v2"},
		{2, "client_close_code", ""},
		{2, "server_close_reason", "internal error while processing the request, retry later"},
		{2, "tcp_end_how", "rst"},
		{3, "http_status", "403"},
		{4, "file", `evil\n.pcap`},
		{4, "client_close_code", ""},
		{4, "client_close_valid", "true"},
		{4, "server_close_reason", `a,b\n"c"|\x1b[2J\xff`},
		{4, "client_observed", ""},
	}
	for _, tt := range tests {
		if got := rows[tt.row][col[tt.column]]; got != tt.want {
			t.Errorf("row %d %s = %q, want %q", tt.row, tt.column, got, tt.want)
		}
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	recs := sampleRecords()
	if err := WriteJSON(&b, Document{Connections: recs, Summary: Summarize(recs)}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Files       []map[string]any `json:"files"`
		Connections []map[string]any `json:"connections"`
		Summary     map[string]any   `json:"summary"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("invalid JSON: %v", err)
	}
	c0, c3 := doc.Connections[0], doc.Connections[3]
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"start has nanoseconds", c0["start"], "2026-01-02T03:04:05.000000001Z"},
		{"client close code", c0["client_close"].(map[string]any)["code"], 1000.0},
		{"empty close has null code", c3["client_close"].(map[string]any)["code"], nil},
		{"invalid utf-8 becomes U+FFFD", c3["server_close"].(map[string]any)["reason"], "a,b\n\"c\"|\x1b[2J\uFFFD"},
		{"observed null while open", c3["client_observed"], nil},
		{"tcp_end fields null while open", c3["tcp_end"].(map[string]any)["how"], nil},
		{"first_close", c0["first_close"], "client"},
		{"ping rtt", c0["pings"].([]any)[0].(map[string]any)["rtt_ms"], 0.25},
		{"summary count", doc.Summary["connections"], 4.0},
		{"files is an array", doc.Files != nil, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
		}
	}
	for _, key := range []string{"file", "client", "server", "start", "end", "duration_s", "handshake", "http_status",
		"handshake_error", "request", "subprotocol", "extensions", "client_close", "server_close", "first_close",
		"tcp_end", "client_observed", "server_observed", "verdict", "missing_bytes", "frames", "messages", "bytes",
		"last_activity", "idle_before_end_s", "pings", "problems", "hints"} {
		if _, ok := c3[key]; !ok {
			t.Errorf("record lacks the contract field %q", key)
		}
	}
}

func TestWriteJSONLines(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSONLines(&b, sampleRecords()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d lines, want 4", len(lines))
	}
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("line %d is not JSON: %v", i, err)
		}
	}
}

func TestSummaryString(t *testing.T) {
	got := Summarize(sampleRecords()).String()
	want := "4 connections: 1 clean, 1 half_closed, 1 handshake_failed, 1 open_at_end; close frames: 1000 ×2, 1011 ×1, 4000 ×1, no code ×1"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := Summarize(nil).String(); got != "0 connections" {
		t.Errorf("empty summary: got %q", got)
	}
}

// TestSummaryCapsCodes: with many distinct close codes, the line lists the most frequent
// ones in code order and counts the rest together.
func TestSummaryCapsCodes(t *testing.T) {
	s := NewSummary()
	s.Connections = 40
	s.ByVerdict[VerdictClean] = 40
	s.ByCode["1000"] = 50
	s.ByCode["none"] = 9
	for c := range 30 {
		s.ByCode[CodeText(Int(4000+c))] = 1 + c%4 // 4003, 4007, ... have 4, 4002, 4006, ... 3
	}
	want := "40 connections: 40 clean; close frames: 1000 ×50, 4002 ×3, 4003 ×4, 4006 ×3, 4007 ×4, " +
		"4010 ×3, 4011 ×4, 4015 ×4, 4019 ×4, 4023 ×4, 4027 ×4, no code ×9, 20 other codes ×36"
	if got := s.String(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
