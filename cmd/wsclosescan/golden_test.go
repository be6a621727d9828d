package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsclosescan/wsclosescan/analyze"
	"github.com/wsclosescan/wsclosescan/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// captures lists the recorded captures shipped in testdata/pcaps, testdata/tls (wss,
// each with its key log beside it) and testdata/h2 (RFC 8441), relative to the module root.
func captures(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, dir := range []string{"pcaps", "tls", "h2"} {
		for _, pattern := range []string{"*.pcap", "*.pcapng", "*.gz"} {
			m, err := filepath.Glob(filepath.Join("testdata", dir, pattern))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, m...)
		}
	}
	if len(out) == 0 {
		t.Fatal("no captures in testdata/pcaps")
	}
	return out
}

// TestGolden runs the tool on every recorded capture and compares the table, JSON and
// timeline outputs with the files in testdata/golden, which a human has checked against
// tshark and testdata/pcaps/README.md. Rewrite them with: go test ./cmd/wsclosescan -update
func TestGolden(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	outputs := []struct {
		ext    string
		args   []string
		noKeys bool // a wss capture read without its key log
	}{
		{"table", nil, false},
		{"json", []string{"--format", "json"}, false},
		{"timeline", []string{"--timeline"}, false},
		{"nokeys.json", []string{"--format", "json"}, true},
	}
	for _, capture := range captures(t) {
		keys := keyLogOf(capture)
		for _, o := range outputs {
			if o.noKeys && keys == "" {
				continue
			}
			name := filepath.Base(capture) + "." + o.ext
			args := append([]string{"--color", "never"}, o.args...)
			if keys != "" && !o.noKeys {
				args = append(args, "--keylog", keys)
			}
			t.Run(name, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				code := run(append(args, capture), strings.NewReader(""), &stdout, &stderr)
				if code != 0 {
					t.Errorf("exit %d, stderr: %s", code, stderr.String())
				}
				compareGolden(t, filepath.Join("testdata", "golden", name), stdout.Bytes())
				if strings.HasSuffix(o.ext, "json") {
					checkConsistent(t, stdout.Bytes())
				}
			})
		}
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (create it with go test ./cmd/wsclosescan -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// checkConsistent fails for a record of the JSON document doc that contradicts itself.
func checkConsistent(t *testing.T, doc []byte) {
	t.Helper()
	var d report.Document
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatalf("output is not a JSON document: %v", err)
	}
	for i := range d.Connections {
		if bad := analyze.Contradictions(&d.Connections[i]); len(bad) > 0 {
			t.Errorf("%s -> %s contradicts itself: %v", d.Connections[i].Client, d.Connections[i].Server, bad)
		}
	}
}

// keyLogOf returns the key log recorded with a wss capture (X.pcap → X.keys), or "".
func keyLogOf(capture string) string {
	keys := strings.TrimSuffix(strings.TrimSuffix(capture, ".pcap"), ".pcapng") + ".keys"
	if _, err := os.Stat(keys); err != nil {
		return ""
	}
	return keys
}
