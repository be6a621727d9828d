package main

import (
	"io"
	"os"
	"testing"
)

func TestZZProf(t *testing.T) {
	f := os.Getenv("PROF_PCAP")
	if f == "" {
		t.Skip()
	}
	run([]string{"-f", "jsonl", f}, nil, io.Discard, io.Discard)
}
