package main

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsclosescan/wsclosescan/report"
)

// splitPcap writes the first n packet records of a little-endian pcap to one file and
// the rest to another, as tcpdump -C would (each with the global header).
func splitPcap(t *testing.T, src string, n int) (string, string) {
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	off := 24
	for range n {
		off += 16 + int(binary.LittleEndian.Uint32(data[off+8:]))
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "part.pcap"), filepath.Join(dir, "part.pcap1")
	os.WriteFile(a, data[:off], 0o644)
	os.WriteFile(b, append(append([]byte{}, data[:24]...), data[off:]...), 0o644)
	return a, b
}

// TestContinuesInTheNextFile: read separately, a connection open at the end of one file
// whose packets go on in the next gets a hint to use --merge, in its record and on stderr;
// with --merge it is one connection and no hint is given.
func TestContinuesInTheNextFile(t *testing.T) {
	a, b := splitPcap(t, "../../testdata/pcaps/mixed-endings.pcap", 99) // 127.0.0.1:58488's frames are in b
	r := runCLI(t, nil, "-f", "json", "--all", a, b)
	var doc report.Document
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range doc.Connections {
		if c.Client == "127.0.0.1:58488" && c.File == b {
			got = c.Hints
		}
	}
	if len(got) == 0 || !strings.Contains(got[len(got)-1], "still open at the end of "+a+", and its handshake is not in this file: it likely continues that one; read the files together with --merge") {
		t.Errorf("hints of the continuation: %q", got)
	}
	if want := "wsclosescan: hint: 1 connection(s) seem to continue a connection open at the end of the file before (127.0.0.1:58488 -> 127.0.0.1:9182 in " + b; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	r = runCLI(t, nil, "--merge", "--all", a, b)
	if strings.Contains(r.stdout, "--merge") || strings.Contains(r.stderr, "hint") || strings.Count(r.stdout, "127.0.0.1:58488") != 1 {
		t.Errorf("with --merge:\nstdout %s\nstderr %s", r.stdout, r.stderr)
	}
}

// TestMergeOverlapWarns: --merge warns when a file starts before the previous one ends,
// on stderr and in the JSON's files[].warnings; files in time order get no warning.
func TestMergeOverlapWarns(t *testing.T) {
	dir := t.TempDir()
	data, _ := os.ReadFile("../../testdata/pcaps/mixed-endings.pcap")
	a := filepath.Join(dir, "x.pcap")
	os.WriteFile(a, data, 0o644)
	data, _ = os.ReadFile("../../testdata/pcaps/node-ws-open-at-end.pcap") // inside mixed-endings' time range
	b := filepath.Join(dir, "x.pcap1")
	os.WriteFile(b, data, 0o644)
	r := runCLI(t, nil, "--merge", "-f", "json", a, b)
	want := b + ": starts at 2026-11-21T13:00:17.263579000Z, before the end of " + a + " (2026-11-21T13:00:17.360664000Z): --merge reads"
	if !strings.Contains(r.stderr, "wsclosescan: warning: "+want) || r.code != 0 {
		t.Errorf("exit %d, stderr %q; want the warning %q", r.code, r.stderr, want)
	}
	var doc report.Document
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Files) != 2 || len(doc.Files[1].Warnings) != 1 || !strings.HasPrefix(doc.Files[1].Warnings[0], want) {
		t.Errorf("files: %+v", doc.Files)
	}
	x, y := splitPcap(t, "../../testdata/pcaps/mixed-endings.pcap", 50)
	if r := runCLI(t, nil, "--merge", x, y); strings.Contains(r.stderr, "warning") {
		t.Errorf("files in time order: %q", r.stderr)
	}
}
