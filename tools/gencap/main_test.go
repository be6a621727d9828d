package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		wantErr string
		lines   int
		magic   []byte
	}{
		{"pcap", []string{"-o", filepath.Join(dir, "a.pcap"), "-conns", "25", "-seed", "3"}, "", 25, []byte{0xd4, 0xc3, 0xb2, 0xa1}},
		{"pcapng", []string{"-o", filepath.Join(dir, "b.pcapng"), "-conns", "10", "-format", "pcapng"}, "", 10, []byte{0x0a, 0x0d, 0x0d, 0x0a}},
		{"gzip", []string{"-o", filepath.Join(dir, "c.pcap.gz"), "-conns", "10", "-gzip"}, "", 10, []byte{0x1f, 0x8b}},
		{"size", []string{"-o", filepath.Join(dir, "d.pcap"), "-size", "2MB", "-concurrency", "5"}, "", -1, []byte{0xd4, 0xc3, 0xb2, 0xa1}},
		{"no-output", []string{"-conns", "3"}, "need -o FILE", 0, nil},
		{"bad-format", []string{"-o", filepath.Join(dir, "e"), "-format", "erf"}, `unknown format "erf"`, 0, nil},
		{"bad-size", []string{"-o", filepath.Join(dir, "f"), "-size", "lots"}, `invalid size "lots"`, 0, nil},
		{"bad-flag", []string{"-x"}, "flag provided but not defined: -x", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(tt.args, &stderr)
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
			if !strings.Contains(stderr.String(), "gencap: wrote "+out) {
				t.Errorf("stderr: got %q, want the summary", stderr.String())
			}
		})
	}
}
