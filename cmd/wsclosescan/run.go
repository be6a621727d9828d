package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/wsclosescan/wsclosescan/report"
	"github.com/wsclosescan/wsclosescan/scan"
)

// Exit statuses.
const (
	exitOK      = 0
	exitMatched = 1 // --fail-on matched a connection
	exitUsage   = 2 // usage error, or a file that could not be read at all
)

// defaultMaxConns bounds the connections tracked at once (about 3.9 KB each).
const defaultMaxConns = 250_000

// config is the parsed command line.
type config struct {
	files    []string
	format   string
	timeline bool
	color    string
	filter   filter
	failOn   map[report.Verdict]bool
	merge    bool
	idleHint time.Duration
	idleOut  time.Duration
	maxBuf   int
	maxConns int
	sortWin  int
	maxConn  int
	cpuProf  string
	keylogs  []string
	version  bool
	help     bool
}

// cli carries the streams of one invocation.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// warnf and errorf print one line on stderr; file names and other text that may come
// from the wire or the command line are escaped (report.Printable).
func (c *cli) warnf(format string, args ...any) {
	fmt.Fprintf(c.stderr, "wsclosescan: warning: %s\n", report.Printable(fmt.Sprintf(format, args...)))
}

func (c *cli) errorf(format string, args ...any) {
	fmt.Fprintf(c.stderr, "wsclosescan: error: %s\n", report.Printable(fmt.Sprintf(format, args...)))
}

// run is the whole program; it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) > 0 && args[0] == "explain" {
		if len(args) != 2 {
			c.errorf("explain takes one close code, e.g. wsclosescan explain 1006")
			return exitUsage
		}
		return c.explain(args[1])
	}
	cfg, err := parseArgs(args)
	if err != nil {
		c.errorf("%v", err)
		fmt.Fprintln(stderr, "Run 'wsclosescan --help' for usage.")
		return exitUsage
	}
	switch {
	case cfg.help:
		fmt.Fprint(stdout, usage)
		return exitOK
	case cfg.version:
		fmt.Fprintln(stdout, "wsclosescan", version())
		return exitOK
	}
	return c.scan(cfg)
}

func parseArgs(args []string) (*config, error) {
	cfg := &config{}
	fs := pflag.NewFlagSet("wsclosescan", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVarP(&cfg.format, "format", "f", "table", "")
	fs.BoolVarP(&cfg.timeline, "timeline", "t", false, "")
	fs.StringVar(&cfg.color, "color", "auto", "")
	verdicts := fs.String("verdict", "", "")
	codes := fs.String("code", "", "")
	fs.StringVar(&cfg.filter.host, "host", "", "")
	port := fs.String("port", "", "")
	fs.BoolVarP(&cfg.filter.all, "all", "a", false, "")
	failOn := fs.String("fail-on", "", "")
	fs.BoolVar(&cfg.merge, "merge", false, "")
	fs.DurationVar(&cfg.idleHint, "idle-hint", time.Second, "")
	fs.DurationVar(&cfg.idleOut, "idle-timeout", 0, "")
	fs.IntVar(&cfg.maxConns, "max-conns", defaultMaxConns, "")
	fs.IntVar(&cfg.sortWin, "sort-window", scan.DefaultMaxWaiting, "")
	maxBuf := fs.String("max-buffer", "64MiB", "")
	maxConn := fs.String("max-conn-buffer", "4MiB", "")
	fs.StringVar(&cfg.cpuProf, "cpuprofile", "", "")
	fs.StringArrayVar(&cfg.keylogs, "keylog", nil, "")
	fs.BoolVar(&cfg.version, "version", false, "")
	fs.BoolVarP(&cfg.help, "help", "h", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			cfg.help = true
			return cfg, nil
		}
		return nil, err
	}
	if cfg.help || cfg.version {
		return cfg, nil
	}
	cfg.files = fs.Args()
	if len(cfg.files) == 0 {
		return nil, errors.New("no capture file given (use - for standard input)")
	}
	var err error
	switch cfg.format {
	case "table", "json", "jsonl", "csv", "markdown":
	default:
		return nil, fmt.Errorf("unknown --format %q (want table, json, jsonl, csv or markdown)", cfg.format)
	}
	switch cfg.color {
	case "auto", "always", "never":
	default:
		return nil, fmt.Errorf("unknown --color %q (want auto, always or never)", cfg.color)
	}
	if cfg.filter.verdicts, err = verdictSet("--verdict", *verdicts); err != nil {
		return nil, err
	}
	if cfg.failOn, err = verdictSet("--fail-on", *failOn); err != nil {
		return nil, err
	}
	if cfg.filter.codes, err = codeSet(*codes); err != nil {
		return nil, err
	}
	if *port != "" {
		p, err := strconv.ParseUint(*port, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("invalid --port %q (want 0-65535)", *port)
		}
		cfg.filter.port = int(p)
		cfg.filter.hasPort = true
	}
	if err := cfg.filter.parseHost(); err != nil {
		return nil, err
	}
	if cfg.maxBuf, err = parseSize("--max-buffer", *maxBuf); err != nil {
		return nil, err
	}
	if cfg.maxConn, err = parseSize("--max-conn-buffer", *maxConn); err != nil {
		return nil, err
	}
	if cfg.sortWin < 1 {
		return nil, fmt.Errorf("--sort-window must be at least 1, got %d", cfg.sortWin)
	}
	if cfg.maxConns < 1 {
		return nil, fmt.Errorf("--max-conns must be at least 1, got %d", cfg.maxConns)
	}
	if cfg.idleOut < 0 {
		return nil, fmt.Errorf("--idle-timeout must not be negative, got %s", cfg.idleOut)
	}
	if cfg.idleHint <= 0 {
		return nil, fmt.Errorf("--idle-hint must be positive, got %s", cfg.idleHint)
	}
	return cfg, nil
}

func verdictSet(flag, list string) (map[report.Verdict]bool, error) {
	if list == "" {
		return nil, nil
	}
	set := map[report.Verdict]bool{}
	for _, s := range strings.Split(list, ",") {
		v := report.Verdict(strings.TrimSpace(s))
		if !slices.Contains(report.Verdicts, v) {
			names := make([]string, len(report.Verdicts))
			for i, k := range report.Verdicts {
				names[i] = string(k)
			}
			return nil, fmt.Errorf("unknown verdict %q in %s (want %s)", v, flag, strings.Join(names, ", "))
		}
		set[v] = true
	}
	return set, nil
}

func codeSet(list string) (map[int]bool, error) {
	if list == "" {
		return nil, nil
	}
	set := map[int]bool{}
	for _, v := range strings.Split(list, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 16)
		if err != nil {
			return nil, fmt.Errorf("invalid close code %q in --code (want numbers such as 1000,1006)", v)
		}
		set[int(n)] = true
	}
	return set, nil
}

// parseSize reads sizes such as 4096, 64KiB, 4MiB, 1GiB (also KB, MB, GB as powers of 1024).
func parseSize(flag, s string) (int, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}}
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("invalid %s %q (want a size such as 512KiB or 64MiB)", flag, s)
	}
	return int(n * mult), nil
}

func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " (" + s.Value[:12] + ")"
		}
	}
	return v
}

// useColor decides whether the table gets ANSI colours.
func useColor(mode string, w io.Writer) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// tableWidth is the width the table fits in: $COLUMNS when it is narrower than
// report.DefaultWidth (a shell exports it for the terminal), else the default.
func tableWidth() int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 && n < report.DefaultWidth {
		return n
	}
	return report.DefaultWidth
}
