package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/wsclosescan/wsclosescan/analyze"
	"github.com/wsclosescan/wsclosescan/report"
	"github.com/wsclosescan/wsclosescan/scan"
)

// results collects what one run found.
type results struct {
	records    []report.Record
	files      []report.FileInfo
	plainTCP   int  // non-WebSocket connections not listed
	unreadable bool // a file could not be read at all
}

// scan analyses the files and writes the report; it returns the exit status.
func (c *cli) scan(cfg *config) int {
	if cfg.timeline && cfg.format == "csv" {
		c.errorf("--timeline does not fit in CSV; use --format table, markdown, json or jsonl")
		return exitUsage
	}
	res := &results{}
	opts := scan.DefaultOptions()
	opts.Analyze = analyze.Options{Timeline: cfg.timeline, IdleHint: cfg.idleHint}
	opts.Reassembly.MaxBufferedTotal, opts.Reassembly.MaxBufferedPerConn = cfg.maxBuf, cfg.maxConn
	sc := scan.New(opts, func(r report.Record) {
		switch {
		case cfg.filter.match(&r):
			res.records = append(res.records, r)
		case !r.WebSocket:
			res.plainTCP++
		}
	})
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
	sortRecords(res.records)
	if err := c.write(cfg, res); err != nil {
		c.errorf("writing output: %v", err)
		return exitUsage
	}
	return exitStatus(cfg, res)
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
	return report.FileInfo{Name: name, Error: report.String(msg), Warnings: []string{}}
}

// sortRecords orders records by start time, then by endpoints, whatever order the
// assembler released them in.
func sortRecords(recs []report.Record) {
	sort.SliceStable(recs, func(i, j int) bool {
		a, b := &recs[i], &recs[j]
		if !a.Start.Equal(b.Start.Time) {
			return a.Start.Before(b.Start.Time)
		}
		if a.Client != b.Client {
			return a.Client < b.Client
		}
		return a.Server < b.Server
	})
}

func exitStatus(cfg *config, res *results) int {
	if res.unreadable {
		return exitUsage
	}
	for i := range res.records {
		if cfg.failOn[res.records[i].Verdict] {
			return exitMatched
		}
	}
	return exitOK
}

// write prints the results in the chosen format.
func (c *cli) write(cfg *config, res *results) error {
	w := c.stdout
	switch cfg.format {
	case "json":
		return report.WriteJSON(w, report.Document{Files: res.files, Connections: res.records,
			Summary: report.Summarize(res.records)})
	case "jsonl":
		return report.WriteJSONLines(w, res.records)
	case "csv":
		return report.WriteCSV(w, res.records)
	case "markdown":
		if err := report.WriteMarkdown(w, res.records); err != nil {
			return err
		}
	default:
		opts := report.TableOptions{Color: useColor(cfg.color, w), ShowFile: len(cfg.files) > 1 && !cfg.merge}
		if err := report.WriteTable(w, res.records, opts); err != nil {
			return err
		}
	}
	if len(res.records) == 0 && res.plainTCP > 0 {
		fmt.Fprintf(c.stderr, "wsclosescan: hint: no WebSocket connection matched; %d other TCP connection(s) were seen (--all lists them)\n", res.plainTCP)
	}
	if cfg.timeline && len(res.records) > 0 {
		fmt.Fprintln(w)
		return report.WriteTimeline(w, res.records)
	}
	return nil
}
