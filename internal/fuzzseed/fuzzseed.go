// Package fuzzseed keeps a fuzz target's committed seed corpus in step with the code that
// generates it: tests build their seeds (captures written with pcapgen, say) and Check
// compares them with the files under testdata/fuzz, or rewrites those files.
package fuzzseed

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Check compares each seed with the file of that name in dir, in the format of Go's fuzz
// corpus; with update it writes the files instead. how says how to regenerate them.
func Check(t testing.TB, dir string, seeds map[string][]byte, update bool, how string) {
	t.Helper()
	for name, data := range seeds {
		path := filepath.Join(dir, name)
		content := []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data))
		if update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("seed %s is missing or stale (err %v); run %s", path, err, how)
		}
	}
}
