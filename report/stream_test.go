package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestWritersWithNoRecords(t *testing.T) {
	tests := []struct {
		format string
		want   string
	}{
		{"json", "{\n  \"connections\": [],\n  \"files\": [\n    {\n      \"name\": \"x.pcap\",\n      \"packets\": 3,\n      \"error\": null,\n      \"warnings\": []\n    }\n  ],\n  \"summary\": {\n    \"connections\": 0,\n    \"by_verdict\": {},\n    \"by_close_code\": {}\n  }\n}\n"},
		{"jsonl", ""},
		{"csv", strings.Join(csvHeader, ",") + "\n"},
		{"markdown", "| # | client | server | handshake | client close | server close | first close | tcp end | client saw | server saw | verdict | wireshark |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n\n0 connections\n"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var b bytes.Buffer
			w, err := NewWriter(tt.format, &b, TableOptions{}, false)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Finish([]FileInfo{{Name: "x.pcap", Packets: 3}}, NewSummary()); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got\n%q\nwant\n%q", b.String(), tt.want)
			}
		})
	}
	if _, err := NewWriter("xml", nil, TableOptions{}, false); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestJSONWriterStreams(t *testing.T) {
	var b bytes.Buffer
	w, _ := NewWriter("json", &b, TableOptions{}, false)
	recs := sampleRecords()
	sum := NewSummary()
	for i := range recs {
		if err := w.Write(&recs[i]); err != nil {
			t.Fatal(err)
		}
		if i == 0 && !strings.Contains(b.String(), `"client": "127.0.0.1:50000"`) {
			t.Fatalf("the first record was not written at once: %q", b.String())
		}
		sum.Add(&recs[i])
	}
	if err := w.Finish(nil, sum); err != nil {
		t.Fatal(err)
	}
	var doc Document
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, b.String())
	}
	if len(doc.Connections) != 4 || doc.Summary.ByVerdict["clean"] != 1 || doc.Files == nil {
		t.Errorf("got %d connections, summary %+v, files %v", len(doc.Connections), doc.Summary, doc.Files)
	}
}

// TestMarkdownTimelineIsMermaid: in Markdown the timeline is a Mermaid sequence diagram
// (GitHub renders it), with wire text that cannot end a statement.
func TestMarkdownTimelineIsMermaid(t *testing.T) {
	var b bytes.Buffer
	w, _ := NewWriter("markdown", &b, TableOptions{}, true)
	recs := sampleRecords()[:1]
	recs[0].Timeline = append(recs[0].Timeline, TimelineEntry{OffsetS: 0.5, From: SideServer, What: "close 4000 \"a;b#c<d>\x1b\""},
		TimelineEntry{OffsetS: 0.6, What: "client gap"})
	w.Write(&recs[0])
	w.Finish(nil, Summarize(recs))
	out := b.String()
	for _, want := range []string{
		"\n**#1** 127.0.0.1:50000 → 127.0.0.1:8080, clean (",
		"\n\nwireshark: `ip.addr==127.0.0.1 && tcp.port==50000 && tcp.port==8080` · community-id: `1:LQU9qZlK+B5F3KDmev6m5PMibrg=`\n\n```mermaid\n",
		"```mermaid\nsequenceDiagram\n    participant C as client 127.0.0.1:50000\n    participant S as server 127.0.0.1:8080\n",
		"    C->>S: +0.000000 SYN\n",
		"    S->>C: +0.500000 close 4000 \"a#59;b#35;c#60;d#62;\\x1b\"\n",
		"    Note over C,S: +0.600000 client gap\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "|----") {
		t.Errorf("ASCII ladder in Markdown:\n%s", out)
	}
}
