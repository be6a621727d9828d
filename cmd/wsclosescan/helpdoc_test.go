package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEveryFlagIsDocumented: each flag parseArgs defines is explained in --help (the usage
// text) and in the README.
func TestEveryFlagIsDocumented(t *testing.T) {
	src, err := os.ReadFile("run.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	// fs.StringVarP(&cfg.format, "format", ...), fs.Bool("redact", ...), ...
	re := regexp.MustCompile(`fs\.[A-Z][A-Za-z]*\((?:&[\w.]+, )?"([a-z0-9-]+)"`)
	flags := re.FindAllSubmatch(src, -1)
	if len(flags) < 20 {
		t.Fatalf("found %d flags in run.go; the pattern no longer matches how flags are defined", len(flags))
	}
	for _, m := range flags {
		name := "--" + string(m[1])
		if !strings.Contains(usage, name) {
			t.Errorf("%s is not in --help", name)
		}
		if !strings.Contains(string(readme), "`"+name) {
			t.Errorf("%s is not in the README", name)
		}
	}
}
