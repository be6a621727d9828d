package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsclosescan/wsclosescan/analyze"
	"github.com/wsclosescan/wsclosescan/internal/gencap"
	"github.com/wsclosescan/wsclosescan/report"
)

// TestGeneratedCaptureMatchesTruth runs the tool on a generated capture with every kind of
// ending, reordering and retransmission, and compares each connection with the
// generator's ground truth: close codes and reasons, who closed first, how TCP ended, what
// each API reported, the handshake and the verdict.
func TestGeneratedCaptureMatchesTruth(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts gencap.Options
	}{
		{"pcap", gencap.Options{Seed: 7, Connections: 400}},
		{"pcapng gzip", gencap.Options{Seed: 8, Connections: 150, Format: gencap.FormatPcapNG, Gzip: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var capture, truth bytes.Buffer
			st, err := gencap.Generate(&capture, &truth, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "gen.pcap")
			if err := os.WriteFile(path, capture.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			r := runCLI(t, nil, "--format", "jsonl", path)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			var recs []map[string]any
			for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatal(err)
				}
				recs = append(recs, m)
				var rec report.Record
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatal(err)
				}
				if bad := analyze.Contradictions(&rec); len(bad) > 0 {
					t.Errorf("%s -> %s contradicts itself: %v", rec.Client, rec.Server, bad)
				}
			}
			if len(recs) != st.Connections {
				t.Errorf("got %d records, generator made %d connections", len(recs), st.Connections)
			}
			if bad := gencap.CompareTruth(&truth, recs); len(bad) > 0 {
				t.Errorf("%d mismatches with the ground truth:\n%s", len(bad), strings.Join(bad, "\n"))
			}
		})
	}
}
