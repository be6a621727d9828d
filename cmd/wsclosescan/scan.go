package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/wsclosescan/wsclosescan/analyze"
	"github.com/wsclosescan/wsclosescan/report"
	"github.com/wsclosescan/wsclosescan/scan"
	"github.com/wsclosescan/wsclosescan/tlsdec"
)

// results collects what one run found.
type results struct {
	out        report.Writer
	writeErr   error // the first error writing the output
	summary    report.Summary
	files      []report.FileInfo
	plainTCP   int  // non-WebSocket connections not listed
	maybeWS    int  // of those, connections whose GET the capture cut before any Upgrade header
	failed     bool // a listed connection matched --fail-on
	unreadable bool // a file could not be read at all
}

// scan analyses the files and streams the report; it returns the exit status.
func (c *cli) scan(cfg *config) int {
	if cfg.timeline && cfg.format == "csv" {
		c.errorf("--timeline does not fit in CSV; use --format table, markdown, json or jsonl")
		return exitUsage
	}
	// One write per 64 KiB rather than per record: a JSON line is a few hundred bytes.
	stdout := bufio.NewWriterSize(c.stdout, 64<<10)
	out, err := report.NewWriter(cfg.format, stdout,
		report.TableOptions{Color: useColor(cfg.color, c.stdout), ShowFile: len(cfg.files) > 1 && !cfg.merge,
			Width: tableWidth()}, cfg.timeline)
	if err != nil {
		c.errorf("%v", err)
		return exitUsage
	}
	if cfg.cpuProf != "" {
		stop, err := startCPUProfile(cfg.cpuProf)
		if err != nil {
			c.errorf("--cpuprofile: %v", err)
			return exitUsage
		}
		defer func() {
			if err := stop(); err != nil {
				c.errorf("--cpuprofile: %v", err)
			}
		}()
	}
	keys, ok := c.loadKeyLogs(cfg.keylogs)
	if !ok {
		return exitUsage
	}
	res := &results{out: out, summary: report.NewSummary()}
	opts := scan.DefaultOptions()
	opts.Analyze = analyze.Options{Timeline: cfg.timeline, IdleHint: cfg.idleHint,
		Keys: keys, Sessions: tlsdec.NewSessions(0)}
	// A pcapng's Decryption Secrets Blocks add to the key log as they are read, before the
	// packets that follow them reach the workers (the key log is safe for concurrent use).
	opts.Secrets = func(file string, data []byte) {
		var ke *tlsdec.KeyLogError
		if _, err := keys.Add(bytes.NewReader(data)); errors.As(err, &ke) {
			c.warnf("%s: %d malformed key log line(s) in a decryption secrets block skipped", file, ke.Count)
		}
	}
	opts.Reassembly.MaxBufferedTotal, opts.Reassembly.MaxBufferedPerConn = cfg.maxBuf, cfg.maxConn
	opts.Reassembly.IdleTimeout = cfg.idleOut
	opts.Reassembly.MaxConns = cfg.maxConns
	opts.MaxWaiting = cfg.sortWin
	sc := scan.New(opts, func(r *report.Record) { res.add(cfg, r) })
	files := cfg.files
	if cfg.merge {
		files = naturalSort(files)
	}
	stdinUsed := false
	for _, name := range files {
		if name == "-" && stdinUsed {
			c.errorf("standard input (-) can be read only once")
			res.unreadable = true
			continue
		}
		stdinUsed = stdinUsed || name == "-"
		res.files = append(res.files, c.readFile(sc, name, res))
		if !cfg.merge {
			sc.Flush()
		}
	}
	sc.Flush()
	if n := sc.Late(); n > 0 && cfg.format != "table" {
		c.warnf("%d record(s) were written out of start-time order: they waited for a connection that stayed "+
			"open while more than --sort-window (%d) records finished; raise it to sort them", n, cfg.sortWin)
	}
	if n := sc.Released().Evicted; n > 0 {
		c.warnf("%d connection(s) were released early because more than %d were open at once; raise --max-conns "+
			"(each costs about 3.9 KB) or use --idle-timeout", n, cfg.maxConns)
	}
	if err := res.out.Finish(res.files, res.summary); err != nil && res.writeErr == nil {
		res.writeErr = err
	}
	if err := stdout.Flush(); err != nil && res.writeErr == nil {
		res.writeErr = err
	}
	if res.writeErr != nil {
		c.errorf("writing output: %v", res.writeErr)
		return exitUsage
	}
	if res.maybeWS > 0 {
		fmt.Fprintf(c.stderr, "wsclosescan: hint: %d connection(s) not listed had their GET cut by the snapshot length "+
			"before any Upgrade header: they may have been WebSocket upgrades (--all lists them)\n", res.maybeWS)
	}
	if res.summary.Connections == 0 && res.plainTCP > 0 {
		fmt.Fprintf(c.stderr, "wsclosescan: hint: no WebSocket connection matched; %d other TCP connection(s) were seen (--all lists them)\n", res.plainTCP)
	}
	switch {
	case res.unreadable:
		return exitUsage
	case res.failed:
		return exitMatched
	}
	return exitOK
}

// add writes a record that passes the filters; records arrive in output order.
func (res *results) add(cfg *config, r *report.Record) {
	if !cfg.filter.match(r) {
		if !r.WebSocket {
			res.plainTCP++
			if len(r.Hints) > 0 && strings.HasPrefix(r.Hints[0], analyze.MaybeUpgradeHint) {
				res.maybeWS++
			}
		}
		return
	}
	res.summary.Add(r)
	res.failed = res.failed || cfg.failOn[r.Verdict]
	if res.writeErr == nil {
		res.writeErr = res.out.Write(r)
	}
}

// readFile analyses one capture file, printing its error or warnings.
func (c *cli) readFile(sc *scan.Scanner, name string, res *results) report.FileInfo {
	var src io.Reader = c.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return c.unreadable(name, fmt.Sprintf("%s: %v", name, err), res)
		}
		defer f.Close()
		src = f
	}
	info, err := sc.Read(name, src)
	if err != nil {
		return c.unreadable(name, err.Error(), res)
	}
	if info.Error != nil {
		c.warnf("%s", *info.Error)
	}
	for _, w := range info.Warnings {
		c.warnf("%s", w)
	}
	return info
}

func (c *cli) unreadable(name, msg string, res *results) report.FileInfo {
	c.errorf("%s", msg)
	res.unreadable = true
	return report.FileInfo{Name: name, Error: new(msg), Warnings: []string{}}
}

// startCPUProfile starts writing a CPU profile to path; stop ends it and closes the file.
func startCPUProfile(path string) (stop func() error, err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

// loadKeyLogs reads the --keylog files into one key log. A file that cannot be read is an
// error; malformed lines are a warning (the others are used). Nothing of the secrets is
// ever printed.
func (c *cli) loadKeyLogs(files []string) (*tlsdec.KeyLog, bool) {
	keys := tlsdec.NewKeyLog()
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			c.errorf("--keylog: %v", err)
			return nil, false
		}
		used, err := keys.Add(f)
		f.Close()
		var ke *tlsdec.KeyLogError
		switch {
		case errors.As(err, &ke):
			c.warnf("%s: %d malformed key log line(s) skipped, the first at line %d", name, ke.Count, ke.Line)
		case err != nil:
			c.errorf("--keylog %s: %v", name, err)
			return nil, false
		}
		if used == 0 {
			c.warnf("%s: no TLS secrets found (want NSS key log lines such as CLIENT_RANDOM or CLIENT_TRAFFIC_SECRET_0)", name)
		}
	}
	return keys, true
}
