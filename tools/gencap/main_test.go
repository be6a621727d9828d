package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wsclosescan/wsclosescan/report"
	"github.com/wsclosescan/wsclosescan/scan"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		wantErr string
		lines   int
		magic   []byte
		summary string // in the summary on stderr, if set
	}{
		{"pcap", []string{"-o", filepath.Join(dir, "a.pcap"), "-conns", "25", "-seed", "3"}, "", 25, []byte{0xd4, 0xc3, 0xb2, 0xa1}, ""},
		{"pcapng", []string{"-o", filepath.Join(dir, "b.pcapng"), "-conns", "10", "-format", "pcapng"}, "", 10, []byte{0x0a, 0x0d, 0x0d, 0x0a}, ""},
		{"gzip", []string{"-o", filepath.Join(dir, "c.pcap.gz"), "-conns", "10", "-gzip"}, "", 10, []byte{0x1f, 0x8b}, ""},
		{"size", []string{"-o", filepath.Join(dir, "d.pcap"), "-size", "2MB", "-concurrency", "5"}, "", -1, []byte{0xd4, 0xc3, 0xb2, 0xa1}, ""},
		{"lenient", []string{"-o", filepath.Join(dir, "l.pcap"), "-conns", "10", "-lenient-proto", "1000"}, "", 10, []byte{0xd4, 0xc3, 0xb2, 0xa1}, ", 10 lenient about a subprotocol)"},
		{"no-lenient", []string{"-o", filepath.Join(dir, "m.pcap"), "-conns", "10", "-lenient-proto", "0"}, "", 10, []byte{0xd4, 0xc3, 0xb2, 0xa1}, ", 0 lenient about a subprotocol)"},
		{"busy", []string{"-o", filepath.Join(dir, "busy.pcap"), "-shape", "busy", "-conns", "30", "-window", "5s"}, "", 30, []byte{0xd4, 0xc3, 0xb2, 0xa1}, "gencap: shape busy: at most "},
		{"busy-size", []string{"-o", filepath.Join(dir, "busy2.pcap"), "-shape", "busy", "-size", "3MB", "-window", "10s", "-ipv6", "0", "-deflate", "0", "-long-lived", "0"}, "", -1, []byte{0xd4, 0xc3, 0xb2, 0xa1}, " 0 long-lived, 0 with permessage-deflate, "},
		{"mass", []string{"-o", filepath.Join(dir, "mass.pcapng"), "-shape", "mass", "-conns", "50", "-window", "1s", "-format", "pcapng"}, "", 50, []byte{0x0a, 0x0d, 0x0d, 0x0a}, "at most 50 connections open at once"},
		{"synflood", []string{"-o", filepath.Join(dir, "flood.pcap"), "-shape", "synflood", "-syns", "500", "-window", "100ms"}, "", 1, []byte{0xd4, 0xc3, 0xb2, 0xa1}, ", 500 unanswered SYNs"},
		{"bad-shape", []string{"-o", filepath.Join(dir, "g"), "-shape", "flood"}, `unknown shape "flood"`, 0, nil, ""},
		{"syns-not-busy", []string{"-o", filepath.Join(dir, "h"), "-shape", "busy", "-syns", "5"}, "-syns does not apply to -shape busy", 0, nil, ""},
		{"size-not-mass", []string{"-o", filepath.Join(dir, "i"), "-shape", "mass", "-size", "1MB"}, "-size does not apply to -shape mass", 0, nil, ""},
		{"window-not-mixed", []string{"-o", filepath.Join(dir, "j"), "-window", "1s"}, "-window does not apply to -shape mixed", 0, nil, ""},
		{"busy-size-and-conns", []string{"-o", filepath.Join(dir, "k"), "-shape", "busy", "-size", "1MB", "-conns", "3"}, "-size and -conns exclude each other", 0, nil, ""},
		{"no-output", []string{"-conns", "3"}, "need -o FILE", 0, nil, ""},
		{"bad-format", []string{"-o", filepath.Join(dir, "e"), "-format", "erf"}, `unknown format "erf"`, 0, nil, ""},
		{"bad-size", []string{"-o", filepath.Join(dir, "f"), "-size", "lots"}, `invalid size "lots"`, 0, nil, ""},
		{"bad-flag", []string{"-x"}, "flag provided but not defined: -x", 0, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(tt.args, nil, io.Discard, &stderr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error: got %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			out := tt.args[1]
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(data, tt.magic) {
				t.Errorf("magic: got % x, want % x", data[:4], tt.magic)
			}
			truth, err := os.ReadFile(out + ".truth.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			n := bytes.Count(truth, []byte("\n"))
			if tt.lines >= 0 && n != tt.lines {
				t.Errorf("truth lines: got %v, want %v", n, tt.lines)
			}
			if tt.lines < 0 && (n == 0 || len(data) < 2e6) {
				t.Errorf("size run: got %d bytes, %d connections; want at least 2 MB", len(data), n)
			}
			if !strings.Contains(stderr.String(), "gencap: wrote "+out) || !strings.Contains(stderr.String(), tt.summary) {
				t.Errorf("stderr: got %q, want the summary (with %q)", stderr.String(), tt.summary)
			}
		})
	}
}

// scanRecords runs the tool's pipeline (default options, as the command line has them) on
// a capture file and returns its JSON lines.
func scanRecords(t *testing.T, path string, opts scan.Options) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var records bytes.Buffer
	w, err := report.NewWriter("jsonl", &records, report.TableOptions{}, false)
	if err != nil {
		t.Fatal(err)
	}
	s := scan.New(opts, func(r *report.Record) { w.Write(r) })
	if _, err := s.Read(path, f); err != nil {
		t.Fatal(err)
	}
	s.Flush()
	return records.Bytes()
}

// TestShapesCheck generates a small capture of each shape and checks the tool's records
// against its truth with -check: the end-to-end truth test of the shapes.
func TestShapesCheck(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		n    int
	}{
		{"busy", []string{"-shape", "busy", "-size", "3MB", "-window", "20s", "-seed", "4"}, 0},
		{"mass", []string{"-shape", "mass", "-conns", "2000", "-window", "2s", "-seed", "4"}, 2000},
		{"synflood", []string{"-shape", "synflood", "-syns", "20000", "-window", "1s", "-seed", "4"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			capPath := filepath.Join(dir, tc.name+".pcap")
			if err := run(append([]string{"-o", capPath}, tc.args...), nil, io.Discard, io.Discard); err != nil {
				t.Fatal(err)
			}
			records := scanRecords(t, capPath, scan.DefaultOptions())
			var out bytes.Buffer
			if err := run([]string{"-check", capPath + ".truth.jsonl", "-"}, bytes.NewReader(records), &out, io.Discard); err != nil {
				t.Fatalf("-check: %v\n%s", err, out.String())
			}
			if tc.n > 0 && !strings.Contains(out.String(), fmt.Sprintf("all %d records match", tc.n)) {
				t.Errorf("output %q, want all %d records matching", out.String(), tc.n)
			}
		})
	}
}

// TestCheck: -check accepts wsclosescan's records of a generated capture and reports a
// record changed afterwards.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	capPath := filepath.Join(dir, "g.pcap")
	// 6 lenient clients among these 40 connections (the default share happens to draw none).
	if err := run([]string{"-o", capPath, "-conns", "40", "-seed", "9", "-lenient-proto", "200"}, nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(capPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var records bytes.Buffer
	w, err := report.NewWriter("jsonl", &records, report.TableOptions{}, false)
	if err != nil {
		t.Fatal(err)
	}
	s := scan.New(scan.DefaultOptions(), func(r *report.Record) { w.Write(r) })
	if _, err := s.Read(capPath, f); err != nil {
		t.Fatal(err)
	}
	s.Flush()
	truth := capPath + ".truth.jsonl"
	var out bytes.Buffer
	if err := run([]string{"-check", truth, "-"}, bytes.NewReader(records.Bytes()), &out, io.Discard); err != nil {
		t.Fatalf("-check on the tool's own records: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "all 40 records match") {
		t.Errorf("output %q lacks the summary", out.String())
	}
	bad := bytes.Replace(records.Bytes(), []byte(`"verdict":"clean"`), []byte(`"verdict":"abnormal"`), 1)
	out.Reset()
	err = run([]string{"-check", truth, "-"}, bytes.NewReader(bad), &out, io.Discard)
	if err == nil || !strings.Contains(out.String(), `verdict: got "abnormal", want "clean"`) {
		t.Errorf("-check on a changed record: error %v, output %q; want a verdict difference", err, out.String())
	}
	// not_websocket records (--all) of connections the truth does not have are counted,
	// not compared; one whose connection the truth has is compared in full.
	extra := append(slices.Clone(records.Bytes()), []byte(`{"client":"198.18.0.1:1024","server":"203.0.113.10:80","handshake":"not_seen","verdict":"not_websocket"}`+"\n")...)
	out.Reset()
	if err := run([]string{"-check", truth, "-"}, bytes.NewReader(extra), &out, io.Discard); err != nil ||
		!strings.Contains(out.String(), "all 40 records match") || !strings.Contains(out.String(), "(1 not_websocket records not in the truth not compared)") {
		t.Errorf("-check with an extra not_websocket record: error %v, output %q", err, out.String())
	}
	first, _, _ := bytes.Cut(records.Bytes(), []byte("\n"))
	var rec map[string]any
	if err := json.Unmarshal(first, &rec); err != nil {
		t.Fatal(err)
	}
	rec["verdict"] = "not_websocket"
	changed, _ := json.Marshal(rec)
	rest := records.Bytes()[len(first)+1:]
	out.Reset()
	err = run([]string{"-check", truth, "-"}, bytes.NewReader(append(append(changed, '\n'), rest...)), &out, io.Discard)
	if err == nil || !strings.Contains(out.String(), `verdict: got "not_websocket", want`) || strings.Contains(out.String(), "handshake:") {
		t.Errorf("-check with a connection of the truth as not_websocket: error %v, output %q; want only its verdict different", err, out.String())
	}
	if err := run([]string{"-check", truth}, nil, io.Discard, io.Discard); err == nil {
		t.Error("-check without a records file: no error")
	}
}
