package scan

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/gencap"
	"github.com/wsclosescan/wsclosescan/report"
)

// sleepy returns opts with every idle connection put to sleep at each turn of the
// assembler's sweep, whatever the number of connections.
func sleepy(opts Options) Options {
	opts.Reassembly.SleepFrom, opts.Reassembly.SleepIdle = 1, -1
	return opts
}

// scanFile is scanJSON for a capture file, with the number of sleeps.
func scanFile(t *testing.T, path string, opts Options) (lines []string, slept int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := New(opts, func(r *report.Record) {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		lines = append(lines, string(b))
	})
	if _, err := s.Read(filepath.Base(path), f); err != nil {
		t.Fatalf("Read: %v", err)
	}
	s.Flush()
	return lines, s.Slept()
}

// TestSleepChangesNothing: a connection that sleeps between segments reports exactly what
// it reports awake, on every recorded capture and on generated traffic with fragments,
// permessage-deflate, pings, loss and reordering, with and without Payloads.
func TestSleepChangesNothing(t *testing.T) {
	paths, err := filepath.Glob("../testdata/pcaps/*.pcap*")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := gencap.Generate(&buf, io.Discard, gencap.Options{Seed: 3, Connections: 300, Concurrency: 60}); err != nil {
		t.Fatalf("gencap: %v", err)
	}
	gen := filepath.Join(t.TempDir(), "gencap.pcap")
	if err := os.WriteFile(gen, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	paths = append(paths, gen)
	var total int64
	for _, payloads := range []bool{false, true} {
		for _, path := range paths {
			opts := DefaultOptions()
			opts.Analyze.Payloads, opts.Layers.WS.Payloads = payloads, payloads
			want, _ := scanFile(t, path, opts)
			got, slept := scanFile(t, path, sleepy(opts))
			total += slept
			name := filepath.Base(path)
			if len(got) != len(want) {
				t.Errorf("%s (payloads %v): %d records asleep, %d awake", name, payloads, len(got), len(want))
				continue
			}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("%s (payloads %v), record %d, %d sleeps:\nasleep %s\nawake  %s", name, payloads, i, slept, got[i], want[i])
					break
				}
			}
			if strings.HasPrefix(name, "gencap") && !payloads && slept < 1000 {
				t.Errorf("%s (payloads %v): %d sleeps, want the generated connections to sleep often", name, payloads, slept)
			}
		}
	}
	t.Logf("%d sleeps", total)
}
