package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsclosescan/wsclosescan/report"
)

// TestDamageCutsTheConnection: the connection open where a file is truncated says that
// the damage, not the end of the capture, hides how it ended (the byte offset is into the
// decompressed data for gzip, and says so), also when the damaged file is in the middle of
// a --merge set; a connection open at the real end still says to capture for longer.
func TestDamageCutsTheConnection(t *testing.T) {
	data, err := os.ReadFile("../../testdata/pcaps/mixed-endings.pcap")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cut := filepath.Join(dir, "cut.pcap")
	os.WriteFile(cut, data[:4000], 0o644) // inside the record after connection #3's 101
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data[:4000])
	zw.Close()
	cutGz := filepath.Join(dir, "cut.pcap.gz")
	os.WriteFile(cutGz, gz.Bytes(), 0o644)
	later := "../../testdata/pcaps/node-ws-open-at-end.pcap" // starts after the damage
	const byteAt = "(truncated packet record at byte 3930"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"pcap", []string{cut}, cut + " ends in damage after this connection's last packet " + byteAt + "): how it ended"},
		{"gzip", []string{cutGz}, cutGz + " ends in damage after this connection's last packet " + byteAt + " of the decompressed data): "},
		{"merge", []string{"--merge", cut, later}, cut + " ends in damage after this connection's last packet " + byteAt + "): "},
	} {
		r := runCLI(t, nil, append([]string{"-f", "json"}, tc.args...)...)
		var doc report.Document
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var open []report.Record
		for _, c := range doc.Connections {
			if c.Verdict == report.VerdictOpenAtEnd {
				open = append(open, c)
			}
		}
		if len(open) == 0 || len(open[0].Hints) == 0 || !strings.HasPrefix(open[0].Hints[0], tc.want) || r.code != 0 {
			t.Errorf("%s: exit %d, open connections %d, hints %q; want first %q", tc.name, r.code, len(open), hintsOf(open), tc.want)
			continue
		}
		if tc.name == "merge" && (len(open) != 2 || !strings.Contains(strings.Join(open[1].Hints, "\n"), "capture for longer") ||
			strings.Contains(strings.Join(open[1].Hints, "\n"), "damage")) {
			t.Errorf("merge: the connection open at the end of the later file: %q", hintsOf(open))
		}
	}
	// The table shows the damage as the connection's hint.
	if r := runCLI(t, nil, cut); !strings.Contains(r.stdout, "#3 "+cut+" ends in damage after this connection's last packet") {
		t.Errorf("table:\n%s", r.stdout)
	}
}

func hintsOf(recs []report.Record) [][]string {
	var out [][]string
	for _, r := range recs {
		out = append(out, r.Hints)
	}
	return out
}
