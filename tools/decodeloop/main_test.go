package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/gencap"
)

func TestRunCounts(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		opts gencap.Options
	}{
		{"pcap", gencap.Options{Seed: 1, Connections: 40}},
		{"pcapng", gencap.Options{Seed: 2, Connections: 40, Format: gencap.FormatPcapNG}},
		{"gzip", gencap.Options{Seed: 3, Connections: 40, Gzip: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var capture, truth bytes.Buffer
			st, err := gencap.Generate(&capture, &truth, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, tt.name)
			if err := os.WriteFile(path, capture.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := run([]string{path}, &out); err != nil {
				t.Fatalf("run: %v", err)
			}
			want := fmt.Sprintf("packets %d tcp_segments %d\n", st.Packets, st.Packets)
			if got := out.String(); got != want {
				t.Errorf("output: got %q, want %q", got, want)
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk")
	if err := os.WriteFile(junk, []byte("not a capture at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
	}{
		{"no-args", nil},
		{"two-args", []string{"a", "b"}},
		{"missing-file", []string{filepath.Join(dir, "nope")}},
		{"not-a-capture", []string{junk}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := run(tt.args, &out); err == nil {
				t.Errorf("run(%q): got no error, want one", tt.args)
			}
			if out.Len() != 0 {
				t.Errorf("output: got %q, want none", out.String())
			}
		})
	}
}
