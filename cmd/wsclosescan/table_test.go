package main

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// The table's width follows $COLUMNS; the tests expect the default unless they set it.
func init() { os.Unsetenv("COLUMNS") }

// TestTableWidth: the default table of a recording fits in 120 columns, rows numbered as
// the timeline numbers them, each connection's first hint below it; with a narrower
// $COLUMNS it gives up columns to fit.
func TestTableWidth(t *testing.T) {
	const pcap = "../../testdata/pcaps/mixed-endings.pcap"
	for _, tt := range []struct {
		columns string
		width   int
		absent  []string
	}{
		{"", 120, nil},
		{"100", 100, []string{"duration"}},
		{"300", 120, nil}, // wider terminals keep the default
	} {
		t.Setenv("COLUMNS", tt.columns)
		res := runCLI(t, nil, pcap)
		if res.code != 0 {
			t.Fatalf("COLUMNS=%q: exit %d: %s", tt.columns, res.code, res.stderr)
		}
		lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
		for _, l := range lines[:len(lines)-1] { // the summary line may be longer
			if n := utf8.RuneCountInString(l); n > tt.width {
				t.Errorf("COLUMNS=%q: line of %d columns, want at most %d: %s", tt.columns, n, tt.width, l)
			}
		}
		for _, col := range tt.absent {
			if strings.Contains(lines[1], col) {
				t.Errorf("COLUMNS=%q: header still has %q: %s", tt.columns, col, lines[1])
			}
		}
		if !strings.HasPrefix(lines[3], "| 1 ") || !strings.Contains(res.stdout, "\n#1 server sent close 1011 then reset") {
			t.Errorf("COLUMNS=%q: rows not numbered or hint missing:\n%s", tt.columns, res.stdout)
		}
		timeline := runCLI(t, nil, "--timeline", pcap).stdout
		if !strings.Contains(timeline, "#1 127.0.0.1:56334 -> 127.0.0.1:9111") {
			t.Errorf("the timeline's #1 is not the table's #1:\n%s", timeline)
		}
	}
}
