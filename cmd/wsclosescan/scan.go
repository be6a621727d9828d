package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"

	"github.com/wsclosescan/wsclosescan/analyze"
	"github.com/wsclosescan/wsclosescan/layers"
	"github.com/wsclosescan/wsclosescan/match"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
	"github.com/wsclosescan/wsclosescan/scan"
	"github.com/wsclosescan/wsclosescan/tlsdec"
)

// results collects what one run found.
type results struct {
	out        report.Writer
	writeErr   error // the first error writing the output
	summary    report.Summary
	perFile    map[string]*report.Summary // the summary of each file's connections
	groups     *report.Groups             // with --summary
	files      []report.FileInfo
	read       int  // files that could be read
	plainTCP   int  // non-WebSocket connections not listed
	maybeWS    int  // of those, connections whose GET the capture cut before any Upgrade header
	noKeys     int  // of those, TLS connections no key log entry matched
	maybeAll   int  // with --all: listed connections whose GET was cut before any Upgrade header
	failed     bool // a listed connection matched --fail-on
	unreadable bool // a file could not be read at all
	prog       *progress
}

// scan analyses the files and streams the report; it returns the exit status.
func (c *cli) scan(cfg *config) int {
	// One write per 64 KiB rather than per record: a JSON line is a few hundred bytes.
	stdout := bufio.NewWriterSize(c.stdout, 64<<10)
	out, err := report.NewWriter(cfg.format, stdout,
		report.TableOptions{Color: useColor(cfg.color, c.stdout), ShowFile: len(cfg.files) > 1 && !cfg.merge,
			Width: tableWidth()}, cfg.timeline)
	if err != nil {
		c.errorf("%v", err)
		return exitUsage
	}
	var memProf *os.File
	if cfg.memProf != "" {
		if memProf, err = os.Create(cfg.memProf); err != nil {
			c.errorf("--memprofile: %v", err)
			return exitUsage
		}
		defer memProf.Close()
		runtime.MemProfileRate = 4096 // a sample every 4 KiB: the small per-connection objects show
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
	res := &results{out: out, summary: report.NewSummary(), perFile: map[string]*report.Summary{}}
	if cfg.summary {
		res.groups = report.NewGroups(cfg.idleHint)
	}
	opts := scan.DefaultOptions()
	opts.Layers = layers.Options{Timeline: cfg.timeline, Keys: keys, Sessions: tlsdec.NewSessions(0)}
	opts.Layers.WS.Payloads = cfg.payloads
	// Without --all, connections that are not WebSocket and cannot be are only counted: their
	// records need no more than what places them in output order (a SYN flood has millions).
	opts.Analyze = analyze.Options{IdleHint: cfg.idleHint, IdleTimeout: cfg.idleOut, Payloads: cfg.payloads,
		Brief: !cfg.filter.all}
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
	opts.Reassembly.MaxConns, opts.Reassembly.MaxMemory = cfg.maxConns, cfg.maxMem
	opts.MaxWaiting = cfg.sortWin
	if cfg.order == "end" {
		opts.Order = scan.OrderEnd
	}
	opts.SortWait = cfg.sortWait
	// Live input (a pipe from tcpdump -U): whatever the records written so far, they
	// reach the reader while the capture waits for the next packet.
	var legs *match.Legs
	opts.Idle = func() {
		legs.Pause()
		if f, ok := res.out.(interface{ Flush() error }); ok && res.writeErr == nil {
			res.writeErr = f.Flush()
		}
		if err := stdout.Flush(); err != nil && res.writeErr == nil {
			res.writeErr = err
		}
	}
	// The legs of a proxied WebSocket are paired before the filters, so that a record names
	// its other leg even when the filters leave that one out.
	legs = match.NewLegs(match.Options{IdleHint: cfg.idleHint, ByEnd: cfg.order == "end"}, func(r *report.Record) { res.add(cfg, r) })
	add := legs.Add
	var cont *continuations
	// Without --all, connections that never got past their SYNs are only counted: they are
	// not WebSocket, and their records, a SYN flood's million, would only be dropped. Files
	// read one by one need them still, as a later file's record of a connection open at the
	// end of the one before (continuations) may be one.
	opts.SkipHalfOpen = !cfg.filter.all && (len(cfg.files) <= 1 || cfg.merge)
	if len(cfg.files) > 1 && !cfg.merge {
		cont = newContinuations()
		add = func(r *report.Record) {
			cont.see(r)
			legs.Add(r)
		}
	}
	sc := scan.New(opts, add)
	if cfg.progress == "always" || cfg.progress == "auto" && isTerminal(c.stderr) {
		res.prog = startProgress(c.stderr, fileSizes(cfg.files), progressInterval, sc.SkippedHalfOpen)
	}
	files := cfg.files
	if cfg.merge {
		files = naturalSort(files)
	}
	// profile writes the heap profile once, when the capture is read and its connections
	// still open hold what they hold: before the last file's Flush (or the merged files').
	profile := func() {
		if memProf == nil {
			return
		}
		if err := writeHeapProfile(memProf, sc); err != nil {
			c.errorf("--memprofile: %v", err)
		}
		memProf = nil
	}
	stdinUsed, interrupted := false, false
	for i, name := range files {
		if name == "-" && stdinUsed {
			c.errorf("standard input (-) can be read only once")
			res.unreadable = true
			continue
		}
		stdinUsed = stdinUsed || name == "-"
		if res.perFile[name] == nil {
			sum := report.NewSummary()
			res.perFile[name] = &sum
		}
		res.files = append(res.files, c.readFile(sc, name, res))
		if cfg.merge {
			c.warnOverlap(res.files)
		}
		if interrupted = stopped(c.stop); interrupted {
			break
		}
		if !cfg.merge {
			if i == len(files)-1 {
				profile() // before the last file's open connections are let go
			}
			sc.Flush()
			legs.Flush()
		}
		if cont != nil {
			cont.nextFile()
		}
	}
	profile()
	sc.Flush()
	legs.Flush()
	if res.prog != nil {
		res.prog.stop()
	}
	if interrupted {
		fmt.Fprintln(c.stderr, "wsclosescan: interrupted: the report covers the packets read so far; "+
			"connections still open are listed as open_at_end")
	}
	if res.read == 0 {
		// Nothing could be read: the errors are the whole answer, without an empty report.
		return exitUsage
	}
	if cont != nil && cont.n > 0 {
		c.hintf("%d connection(s) seem to continue a connection open at the end of the file before (%s); "+
			"read the files together with --merge", cont.n, cont.example)
	}
	if n := sc.Late(); n > 0 && cfg.format != "table" {
		c.warnf("%d record(s) were written out of start-time order: %s", n, lateReason(cfg))
	}
	if n := sc.Released().Evicted; n > 0 {
		c.warnf("%d connection(s) were released early because %s; raise --max-conns or use --idle-timeout", n, evictReason(cfg))
	}
	if n := sc.Released().AfterRelease; n > 0 {
		c.warnf("%d packet(s) of connections released early (--idle-timeout, --max-conns) came after their "+
			"release and were not analysed; their records say so", n)
	}
	res.plainTCP += int(sc.SkippedHalfOpen())
	if res.groups != nil {
		res.summary.Causes, res.summary.Observed = res.groups.Causes(), res.groups.Observed()
	}
	if err := c.finish(cfg, res, stdout); err != nil && res.writeErr == nil {
		res.writeErr = err
	}
	if err := stdout.Flush(); err != nil && res.writeErr == nil {
		res.writeErr = err
	}
	if res.writeErr != nil {
		c.errorf("writing output: %v", res.writeErr)
		return exitUsage
	}
	c.hints(cfg, res)
	switch {
	case res.unreadable:
		return exitUsage
	case res.failed:
		return exitMatched
	}
	return exitOK
}

// finish completes the output: the summary groups with --summary, else the writer's end.
func (c *cli) finish(cfg *config, res *results, w io.Writer) error {
	if cfg.summary && cfg.format != "json" {
		return report.WriteSummary(w, cfg.format, res.summary, cfg.limit)
	}
	for i := range res.files {
		if res.files[i].Error == nil { // a file that could not be read has no connections to count
			res.files[i].Summary = res.perFile[res.files[i].Name]
		}
	}
	return res.out.Finish(res.files, res.summary)
}

// evictReason says which --max-conns bound released connections early.
func evictReason(cfg *config) string {
	if cfg.maxMem > 0 {
		return fmt.Sprintf("the connections open at once would have needed more than --max-conns %s (counting "+
			"about %d KiB per connection, %d B per half-open one that only sent a SYN)", binarySize(cfg.maxMem),
			reassembly.DefaultConnCost>>10, reassembly.DefaultHalfOpenCost)
	}
	return fmt.Sprintf("more than %d were open at once", cfg.maxConns)
}

// binarySize prints a byte count with the largest binary unit that divides it.
func binarySize(n int64) string {
	for _, u := range []struct {
		name string
		mult int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n%u.mult == 0 {
			return fmt.Sprintf("%d%s", n/u.mult, u.name)
		}
	}
	return fmt.Sprintf("%d B", n)
}

// lateReason says which bound let records out of order.
func lateReason(cfg *config) string {
	if cfg.sortWait > 0 {
		return fmt.Sprintf("they waited for a connection that stayed open for longer than --sort-wait (%s) "+
			"or while more than --sort-window (%d) records finished; raise them to sort them", cfg.sortWait, cfg.sortWin)
	}
	return fmt.Sprintf("they waited for a connection that stayed open while more than --sort-window (%d) "+
		"records finished; raise it to sort them", cfg.sortWin)
}

// hints prints what the user may want to try next.
func (c *cli) hints(cfg *config, res *results) {
	if res.noKeys > 0 {
		c.hintf("%d TLS connection(s) not listed could not be decrypted (no key log entry matches them): "+
			"WebSockets inside them, over HTTP/1.1 or HTTP/2, are hidden; decrypt with --keylog (--all lists them)", res.noKeys)
	}
	if res.maybeWS > 0 {
		c.hintf("%d connection(s) not listed had their GET cut by the snapshot length before any Upgrade header: "+
			"they may have been WebSocket upgrades (--all lists them)", res.maybeWS)
	}
	if res.maybeAll > 0 {
		c.hintf("%d connection(s) listed as not_websocket had their GET cut by the snapshot length before any "+
			"Upgrade header: they may have been WebSocket upgrades", res.maybeAll)
	}
	if res.summary.Connections == 0 && res.plainTCP > 0 {
		if cfg.filter.all {
			c.hintf("no connection matched the selection; %d other connection(s) were seen", res.plainTCP)
		} else {
			c.hintf("no WebSocket connection matched; %d other TCP connection(s) were seen (--all lists them)", res.plainTCP)
		}
	}
}

// add writes a record that passes the filters; records arrive in output order.
func (res *results) add(cfg *config, r *report.Record) {
	if res.prog != nil {
		res.prog.conns.Add(1)
	}
	maybe := len(r.Hints) > 0 && strings.HasPrefix(r.Hints[0], analyze.MaybeUpgradeHint)
	if !cfg.filter.match(r) {
		if !r.WebSocket {
			res.plainTCP++
			if maybe && !cfg.filter.all {
				res.maybeWS++
			}
			if r.TLS != nil && r.TLS.Decryption == "no_keys" && !cfg.filter.all {
				res.noKeys++
			}
		}
		return
	}
	if !r.WebSocket && maybe {
		res.maybeAll++
	}
	res.failed = res.failed || cfg.failOn[r.Verdict]
	if cfg.redact {
		report.Redact(r)
	}
	res.summary.Add(r)
	if fs := res.perFile[r.File]; fs != nil {
		fs.Add(r)
	}
	if res.groups != nil {
		res.groups.Add(r)
		return
	}
	if cfg.limit > 0 && res.summary.Connections > cfg.limit {
		res.summary.NotListed++
		return
	}
	if res.writeErr == nil {
		res.writeErr = res.out.Write(r)
	}
}

// warnOverlap warns when the file just read (the last of files) starts before the file
// read before it ends: --merge takes the files as one capture in name order, so packets
// that go back in time are analysed out of order (a connection's later packets before
// its earlier ones).
func (c *cli) warnOverlap(files []report.FileInfo) {
	if len(files) < 2 {
		return
	}
	a, b := &files[len(files)-2], &files[len(files)-1]
	if a.Last.IsZero() || b.First.IsZero() || !b.First.Before(a.Last) {
		return
	}
	w := fmt.Sprintf("%s: starts at %s, before the end of %s (%s): --merge reads the files in name order as one "+
		"capture, so overlapping packets are analysed out of time order; merge them by time first (mergecap -w all.pcap ...)",
		b.Name, report.Time{Time: b.First}, a.Name, report.Time{Time: a.Last})
	b.Warnings = append(b.Warnings, w)
	c.warnf("%s", w)
}

// readFile analyses one capture file, printing its error or warnings.
func (c *cli) readFile(sc *scan.Scanner, name string, res *results) report.FileInfo {
	var src io.Reader = c.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return c.unreadable(name, openError(name, err), res)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.IsDir() {
			return c.unreadable(name, name+": is a directory, not a capture file", res)
		}
		src = f
	}
	if c.stop != nil {
		src = newStopReader(src, c.stop)
	}
	if res.prog != nil {
		src = res.prog.count(src)
	}
	info, err := sc.Read(name, src)
	if err != nil {
		return c.unreadable(name, err.Error(), res)
	}
	res.read++
	// Damage that stopped the reading (a truncated file) is a warning, as everything
	// before it is analysed: the JSON lists it first among the file's warnings, and keeps
	// files[].error for files that could not be read at all. After a stop (Ctrl-C) the
	// input was cut where it was, which is no damage.
	if info.Error != nil && !stopped(c.stop) {
		info.Warnings = append([]string{*info.Error}, info.Warnings...)
		sc.Damaged()
	}
	info.Error = nil
	for _, w := range info.Warnings {
		c.warnf("%s", w)
	}
	return info
}

// openError describes a file that cannot be opened, with a hint when the name looks like
// a mistyped flag or subcommand (wsclosescan version).
func openError(name string, err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	msg := fmt.Sprintf("%s: %v", name, err)
	if errors.Is(err, fs.ErrNotExist) {
		switch strings.TrimLeft(name, "-") {
		case "version", "help":
			msg += fmt.Sprintf(" (did you mean --%s?)", strings.TrimLeft(name, "-"))
		case "explain":
			msg += " (explain must come first: wsclosescan explain CODE)"
		}
	}
	return msg
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

// writeHeapProfile writes a profile of the live heap to f and closes it: taken when the
// capture has been read and before the connections still open are let go, it shows what
// they hold. sc is the scanner that holds them (a variable, so that a test can look).
var writeHeapProfile = func(f *os.File, _ *scan.Scanner) error {
	runtime.GC() // the profile is of the heap as of the last collection
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		return err
	}
	return f.Close()
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
