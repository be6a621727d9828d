package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/wsclosescan/wsclosescan/analyze"
	"github.com/wsclosescan/wsclosescan/layers"
	"github.com/wsclosescan/wsclosescan/match"
	"github.com/wsclosescan/wsclosescan/report"
	"github.com/wsclosescan/wsclosescan/scan"
	"github.com/wsclosescan/wsclosescan/tlsdec"
)

// pairRead is what reading one capture of --pair ended with.
type pairRead struct {
	info report.FileInfo
	err  error
}

// pair compares two captures of the same traffic, the client's and the server's: both are
// read at once, each by its own scanner, and their records are matched as they come (the
// earlier start first, the server's moved by the clock offset), so neither file is held.
func (c *cli) pair(cfg *config) int {
	keys, ok := c.loadKeyLogs(cfg.keylogs)
	if !ok {
		return exitUsage
	}
	var files [2]*os.File
	for side, name := range cfg.files {
		f, err := os.Open(name)
		if err == nil {
			if st, serr := f.Stat(); serr == nil && st.IsDir() {
				f.Close()
				c.errorf("%s: is a directory, not a capture file", name)
				return exitUsage
			}
		}
		if err != nil {
			c.errorf("%s", openError(name, err))
			return exitUsage
		}
		defer f.Close()
		files[side] = f
	}
	var recs [2]chan *report.Record
	var done [2]chan pairRead
	for side, name := range cfg.files {
		recs[side], done[side] = make(chan *report.Record, 256), make(chan pairRead, 1)
		f := files[side]
		opts := scan.DefaultOptions()
		opts.Layers = layers.Options{Keys: keys, Sessions: tlsdec.NewSessions(0)}
		opts.Analyze = analyze.Options{IdleHint: cfg.idleHint}
		opts.Reassembly.MaxBufferedTotal, opts.Reassembly.MaxBufferedPerConn = cfg.maxBuf, cfg.maxConn
		opts.Reassembly.MaxConns = cfg.maxConns
		opts.MaxWaiting = cfg.sortWin
		ch := recs[side]
		go func() {
			sc := scan.New(opts, func(r *report.Record) { ch <- r })
			info, err := sc.Read(name, f)
			sc.Flush()
			close(ch)
			done[side] <- pairRead{info, err}
		}()
	}
	out := bufio.NewWriterSize(c.stdout, 64<<10)
	pw := &pairWriter{w: out, format: cfg.format}
	p := match.NewPairer(match.PairOptions{}, pw.write)
	var next [2]*report.Record
	open := [2]bool{true, true}
	for {
		for s := range next {
			if next[s] == nil && open[s] {
				next[s], open[s] = <-recs[s]
			}
		}
		side := match.ClientSide
		switch {
		case next[0] == nil && next[1] == nil:
		case next[0] == nil:
			side = match.ServerSide
		case next[1] != nil && next[1].Start.Add(-p.Offset()).Before(next[0].Start.Time):
			side = match.ServerSide
		}
		if next[side] == nil {
			break
		}
		p.Add(side, next[side])
		next[side] = nil
	}
	p.Flush()
	status := exitOK
	for side := range done {
		res := <-done[side]
		if res.err != nil {
			c.errorf("%v", res.err)
			status = exitUsage
			continue
		}
		if res.info.Error != nil {
			c.warnf("%s", *res.info.Error)
		}
		for _, w := range res.info.Warnings {
			c.warnf("%s", w)
		}
	}
	pw.finish()
	if err := out.Flush(); err != nil {
		c.errorf("writing output: %v", err)
		return exitUsage
	}
	return status
}

// pairWriter writes the matches: as text (table, markdown), or as JSON objects.
type pairWriter struct {
	w      io.Writer
	format string
	n      int
	counts map[string]int
	only   [2]int
	err    error
}

// pairJSON is one match as JSON.
type pairJSON struct {
	MatchedBy     *string    `json:"matched_by"`
	ClockOffsetMs *float64   `json:"clock_offset_ms"`
	OneWayDelayMs *float64   `json:"one_way_delay_ms"`
	ClientSide    *pairLegJS `json:"client_side"`
	ServerSide    *pairLegJS `json:"server_side"`
	Findings      []string   `json:"findings"`
}

// pairLegJS is one side's connection: its file, addresses, Community ID and start (as a
// record's proxy object names the other leg), and its verdict.
type pairLegJS struct {
	File string `json:"file"`
	report.ProxyLeg
	Verdict report.Verdict `json:"verdict"`
}

func legJSON(r *report.Record) *pairLegJS {
	if r == nil {
		return nil
	}
	return &pairLegJS{File: r.File, ProxyLeg: r.Leg(), Verdict: r.Verdict}
}

func (pw *pairWriter) write(m match.Match) {
	if pw.counts == nil {
		pw.counts = map[string]int{}
	}
	switch {
	case m.Client == nil:
		pw.only[1]++
	case m.Server == nil:
		pw.only[0]++
	default:
		pw.counts[m.MatchedBy]++
	}
	if pw.err != nil {
		return
	}
	pw.n++
	if pw.format == "json" || pw.format == "jsonl" {
		j := pairJSON{ClientSide: legJSON(m.Client), ServerSide: legJSON(m.Server), Findings: m.Findings}
		if m.MatchedBy != "" {
			j.MatchedBy = &m.MatchedBy
		}
		if m.HasTiming {
			off, d := ms(m.Offset), ms(m.Delay)
			j.ClockOffsetMs, j.OneWayDelayMs = &off, &d
		}
		b, err := json.Marshal(j)
		if err != nil {
			pw.err = err
			return
		}
		sep := "\n"
		if pw.format == "json" {
			sep = ",\n"
			if pw.n == 1 {
				sep = "[\n"
			}
			_, pw.err = fmt.Fprintf(pw.w, "%s  %s", sep, b)
			return
		}
		_, pw.err = fmt.Fprintf(pw.w, "%s%s", b, sep)
		return
	}
	var lines []string
	if m.Client != nil && m.Server != nil {
		l := fmt.Sprintf("pair %d: matched by %s", pw.n, m.MatchedBy)
		if m.HasTiming {
			l += fmt.Sprintf("; server clock %+.3f ms from the client's, one-way delay %.3f ms", ms(m.Offset), ms(m.Delay))
		}
		lines = append(lines, l)
	} else {
		lines = append(lines, fmt.Sprintf("pair %d: unmatched", pw.n))
	}
	for _, leg := range []struct {
		name string
		r    *report.Record
	}{{"client's capture", m.Client}, {"server's capture", m.Server}} {
		if leg.r != nil {
			lines = append(lines, fmt.Sprintf("  %s: %s -> %s  %s  (%s, start %s)", leg.name, leg.r.Client, leg.r.Server,
				leg.r.Verdict, leg.r.File, leg.r.Start))
		}
	}
	for _, f := range m.Findings {
		lines = append(lines, "  - "+f)
	}
	for _, l := range lines {
		if _, pw.err = io.WriteString(pw.w, report.Printable(l)+"\n"); pw.err != nil {
			return
		}
	}
}

// finish ends the JSON array, or writes the summary line.
func (pw *pairWriter) finish() {
	if pw.err != nil {
		return
	}
	switch pw.format {
	case "json":
		if pw.n == 0 {
			_, pw.err = io.WriteString(pw.w, "[]\n")
		} else {
			_, pw.err = io.WriteString(pw.w, "\n]\n")
		}
		return
	case "jsonl":
		return
	}
	matched := pw.counts["4-tuple"] + pw.counts["key"] + pw.counts["timing"]
	_, pw.err = fmt.Fprintf(pw.w, "%d connection(s) in both captures (%d by 4-tuple, %d by key, %d by timing); "+
		"%d only in the client's capture, %d only in the server's\n", matched, pw.counts["4-tuple"], pw.counts["key"],
		pw.counts["timing"], pw.only[0], pw.only[1])
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
