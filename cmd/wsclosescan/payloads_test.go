package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wsclosescan/wsclosescan/report"
)

// TestPayloads: --payloads shows what each side said last, inflated when
// permessage-deflate compressed it (the Python recording; tshark shows the same text),
// in the table, the timeline and the JSON; without it nothing of the payloads is shown.
func TestPayloads(t *testing.T) {
	const pcap = "../../testdata/pcaps/python-websockets-client-killed.pcap"
	r := runCLI(t, nil, "--payloads", "--timeline", pcap)
	for _, want := range []string{
		`#1 client said last: text, 20 bytes compressed (18 inflated), at +`,
		`  server said last: text, 20 bytes compressed (18 inflated), at +`,
		`s: "about to be killed"` + "\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
	r = runCLI(t, nil, "--payloads", "-f", "json", pcap)
	var doc report.Document
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	lm := doc.Connections[0].LastMessages
	if lm == nil || lm.Client == nil || lm.Server == nil || lm.Client.Preview == nil || *lm.Client.Preview != "about to be killed" ||
		!lm.Client.Compressed || lm.Client.InflatedSize == nil || *lm.Client.InflatedSize != 18 || lm.Client.PreviewCut {
		t.Errorf("last_messages: %+v", lm)
	}
	for _, args := range [][]string{{pcap}, {"-f", "json", pcap}, {"-t", pcap}} {
		if r := runCLI(t, nil, args...); strings.Contains(r.stdout, "said last") || strings.Contains(r.stdout, "last_messages") {
			t.Errorf("%v without --payloads shows payloads:\n%s", args, r.stdout)
		}
	}
	r = runCLI(t, nil, "--payloads", "-f", "csv", pcap)
	if !strings.Contains(r.stdout, ",text,20,") || !strings.Contains(r.stdout, ",about to be killed,") {
		t.Errorf("csv lacks the last messages:\n%s", r.stdout)
	}
}
