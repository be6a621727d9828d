package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
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

// defaultMaxConns bounds the connections tracked at once by their estimated memory
// (reassembly.DefaultConnCost per connection, DefaultHalfOpenCost per half-open one):
// about a million open WebSocket connections, a real deployment on one host.
const defaultMaxConns = "4GiB"

// config is the parsed command line.
type config struct {
	files    []string
	format   string
	timeline bool
	color    string
	progress string
	summary  bool
	limit    int
	redact   bool // hide secrets (query strings, tokens, cookies) in the output
	payloads bool // the last data message of each side
	filter   filter
	failOn   map[report.Verdict]bool
	merge    bool
	pair     bool // --pair CLIENT SERVER
	idleHint time.Duration
	idleOut  time.Duration
	maxBuf   int
	maxConns int    // --max-conns as a count (0: a memory budget)
	maxMem   int64  // --max-conns as a memory budget (0: a count)
	order    string // "start" or "end"
	sortWin  int
	sortWait time.Duration
	maxConn  int
	cpuProf  string
	memProf  string
	keylogs  []string
	version  bool
	help     bool
}

// cli carries the streams of one invocation.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// stop is closed when the user asks the program to stop (SIGINT, SIGTERM): reading
	// ends there and the report so far is written. nil in tests that need no signals.
	stop <-chan struct{}
}

// warnf and errorf print one line on stderr; file names and other text that may come
// from the wire or the command line are escaped (report.Printable).
func (c *cli) warnf(format string, args ...any) {
	fmt.Fprintf(c.stderr, "wsclosescan: warning: %s\n", report.Printable(fmt.Sprintf(format, args...)))
}

func (c *cli) errorf(format string, args ...any) {
	fmt.Fprintf(c.stderr, "wsclosescan: error: %s\n", report.Printable(fmt.Sprintf(format, args...)))
}

func (c *cli) hintf(format string, args ...any) {
	fmt.Fprintf(c.stderr, "wsclosescan: hint: %s\n", report.Printable(fmt.Sprintf(format, args...)))
}

// run is the whole program; it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runWith(args, stdin, stdout, stderr, nil)
}

// runWith is run, stopping early (with the report so far) once stop is closed.
func runWith(args []string, stdin io.Reader, stdout, stderr io.Writer, stop <-chan struct{}) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, stop: stop}
	if len(args) > 0 && args[0] == "explain" {
		return c.explain(args[1:])
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
	if cfg.pair {
		return c.pair(cfg)
	}
	return c.scan(cfg)
}

// pasted are the formats meant to be pasted into a bug report or a chat: redacted unless
// --no-redact. The machine formats keep every value unless --redact.
var pasted = map[string]bool{"table": true, "markdown": true}

func parseArgs(args []string) (*config, error) {
	cfg := &config{}
	fs := pflag.NewFlagSet("wsclosescan", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVarP(&cfg.format, "format", "f", "table", "")
	fs.BoolVarP(&cfg.timeline, "timeline", "t", false, "")
	fs.StringVar(&cfg.color, "color", "auto", "")
	fs.StringVar(&cfg.progress, "progress", "auto", "")
	fs.BoolVar(&cfg.summary, "summary", false, "")
	fs.IntVar(&cfg.limit, "limit", 0, "")
	fs.BoolVar(&cfg.payloads, "payloads", false, "")
	redact := fs.Bool("redact", false, "")
	noRedact := fs.Bool("no-redact", false, "")
	verdicts := fs.StringArray("verdict", nil, "")
	codes := fs.StringArray("code", nil, "")
	hosts := fs.StringArray("host", nil, "")
	ports := fs.StringArray("port", nil, "")
	fs.BoolVarP(&cfg.filter.all, "all", "a", false, "")
	failOn := fs.StringArray("fail-on", nil, "")
	fs.BoolVar(&cfg.merge, "merge", false, "")
	fs.BoolVar(&cfg.pair, "pair", false, "")
	fs.DurationVar(&cfg.idleHint, "idle-hint", time.Second, "")
	fs.DurationVar(&cfg.idleOut, "idle-timeout", 0, "")
	maxConns := fs.String("max-conns", defaultMaxConns, "")
	fs.IntVar(&cfg.sortWin, "sort-window", scan.DefaultMaxWaiting, "")
	fs.DurationVar(&cfg.sortWait, "sort-wait", 0, "")
	fs.StringVar(&cfg.order, "order", "", "")
	maxBuf := fs.String("max-buffer", "64MiB", "")
	maxConn := fs.String("max-conn-buffer", "4MiB", "")
	fs.StringVar(&cfg.cpuProf, "cpuprofile", "", "")
	fs.StringVar(&cfg.memProf, "memprofile", "", "")
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
	if cfg.format, err = choice("--format", cfg.format, "table", "json", "jsonl", "csv", "markdown"); err != nil {
		return nil, err
	}
	if cfg.color, err = choice("--color", cfg.color, "auto", "always", "never"); err != nil {
		return nil, err
	}
	if cfg.progress, err = choice("--progress", cfg.progress, "auto", "always", "never"); err != nil {
		return nil, err
	}
	if cfg.order, err = pickOrder(cfg.order, cfg.format); err != nil {
		return nil, err
	}
	if *redact && *noRedact {
		return nil, errors.New("--redact and --no-redact contradict each other")
	}
	cfg.redact = (pasted[cfg.format] || *redact) && !*noRedact
	if cfg.filter.verdicts, err = verdictSet("--verdict", *verdicts); err != nil {
		return nil, err
	}
	// Asking for not_websocket connections lists them, as --all does.
	cfg.filter.all = cfg.filter.all || cfg.filter.verdicts[report.VerdictNotWebSocket]
	if cfg.failOn, err = verdictSet("--fail-on", *failOn); err != nil {
		return nil, err
	}
	if cfg.filter.codes, err = rangeSet("--code", "close code", "1006,4000-4999", *codes); err != nil {
		return nil, err
	}
	if cfg.filter.ports, err = rangeSet("--port", "port", "443,8000-8999", *ports); err != nil {
		return nil, err
	}
	if cfg.filter.hosts, err = hostSet(*hosts); err != nil {
		return nil, err
	}
	if cfg.maxBuf, err = parseSize("--max-buffer", *maxBuf); err != nil {
		return nil, err
	}
	if cfg.maxConn, err = parseSize("--max-conn-buffer", *maxConn); err != nil {
		return nil, err
	}
	if cfg.maxConns, cfg.maxMem, err = parseConnLimit(*maxConns); err != nil {
		return nil, err
	}
	switch {
	case cfg.sortWin < 1:
		return nil, fmt.Errorf("--sort-window must be at least 1, got %d", cfg.sortWin)
	case cfg.sortWait < 0:
		return nil, fmt.Errorf("--sort-wait must not be negative, got %s", cfg.sortWait)
	case cfg.idleOut < 0:
		return nil, fmt.Errorf("--idle-timeout must not be negative, got %s", cfg.idleOut)
	case cfg.idleHint <= 0:
		return nil, fmt.Errorf("--idle-hint must be positive, got %s", cfg.idleHint)
	case cfg.limit < 0:
		return nil, fmt.Errorf("--limit must not be negative, got %d", cfg.limit)
	case cfg.timeline && cfg.format == "csv":
		return nil, errors.New("--timeline does not fit in CSV; use --format table, markdown, json or jsonl")
	case cfg.pair && len(cfg.files) != 2:
		return nil, fmt.Errorf("--pair takes two capture files, the client's and the server's, got %d", len(cfg.files))
	case cfg.pair && (cfg.merge || cfg.summary || cfg.timeline || cfg.format == "csv"):
		return nil, errors.New("--pair prints its own report: use it without --merge, --summary, --timeline and --format csv")
	case cfg.pair && (cfg.filter.verdicts != nil || cfg.filter.codes != nil || cfg.filter.hosts != nil ||
		cfg.filter.ports != nil || cfg.filter.all || cfg.failOn != nil || cfg.limit > 0):
		return nil, errors.New("--pair compares every WebSocket connection of the two captures: " +
			"--verdict, --code, --host, --port, --all, --fail-on and --limit do not apply")
	case cfg.pair && (cfg.files[0] == "-" || cfg.files[1] == "-"):
		return nil, errors.New("--pair reads two files, not standard input")
	case cfg.summary && (cfg.format == "jsonl" || cfg.format == "csv"):
		return nil, fmt.Errorf("--summary needs --format table, markdown or json, not %s", cfg.format)
	}
	return cfg, nil
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

// pickOrder checks --order against the format. The streaming formats (jsonl, json, csv)
// default to end order: records as connections end, nothing held back, so that no busy
// capture overflows a sort window. The table and markdown hold their rows anyway and are
// always sorted by start.
func pickOrder(order, format string) (string, error) {
	if strings.TrimSpace(order) == "" {
		if format == "table" || format == "markdown" {
			return "start", nil
		}
		return "end", nil
	}
	o, err := choice("--order", order, "start", "end")
	if err == nil && o == "end" && (format == "table" || format == "markdown") {
		return "", fmt.Errorf("--order end does not apply to --format %s, which is always sorted by start; use jsonl, json or csv", format)
	}
	return o, err
}

// parseConnLimit parses --max-conns: a count of connections (100000) or, with a unit, a
// memory budget (4GiB).
func parseConnLimit(s string) (count int, budget int64, err error) {
	if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
		if n < 1 || n > 1<<40 {
			return 0, 0, fmt.Errorf("--max-conns must be at least 1, got %d", n)
		}
		return int(n), 0, nil
	}
	b, err := parseSize("--max-conns", s)
	if err != nil {
		return 0, 0, fmt.Errorf("invalid --max-conns %q (want a count such as 100000 or a memory budget such as 4GiB)", s)
	}
	return 0, int64(b), nil
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
	return isTerminal(w)
}

// tableWidth is the width the table fits in: $COLUMNS when it is narrower than
// report.DefaultWidth (a shell exports it for the terminal), else the default.
func tableWidth() int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 && n < report.DefaultWidth {
		return n
	}
	return report.DefaultWidth
}
