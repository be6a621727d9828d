package scan

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
// permessage-deflate, pings, loss and reordering, with and without Payloads, and when
// connections are released early (MaxConns, IdleTimeout).
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
	variants := []struct {
		name string
		set  func(*Options)
	}{
		{"defaults", func(*Options) {}},
		{"payloads", func(o *Options) { o.Analyze.Payloads, o.Layers.WS.Payloads = true, true }},
		// Connections released early: sleeping ones by their Keep, the idle by their time.
		{"max-conns 4", func(o *Options) { o.Reassembly.MaxConns, o.Workers = 4, 1 }},
		{"idle-timeout 1s", func(o *Options) { o.Reassembly.IdleTimeout = time.Second }},
	}
	var total int64
	for _, v := range variants {
		for _, path := range paths {
			opts := DefaultOptions()
			v.set(&opts)
			want, _ := scanFile(t, path, opts)
			got, slept := scanFile(t, path, sleepy(opts))
			total += slept
			name := filepath.Base(path)
			if len(got) != len(want) {
				t.Errorf("%s (%s): %d records asleep, %d awake", name, v.name, len(got), len(want))
				continue
			}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("%s (%s), record %d, %d sleeps:\nasleep %s\nawake  %s", name, v.name, i, slept, got[i], want[i])
					break
				}
			}
			if strings.HasPrefix(name, "gencap") && v.name != "payloads" && slept < 500 {
				t.Errorf("%s (%s): %d sleeps, want the generated connections to sleep often", name, v.name, slept)
			}
		}
	}
	t.Logf("%d sleeps", total)
}
