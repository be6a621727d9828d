// Command gencap writes a large synthetic WebSocket capture and its ground truth.
//
// It writes the capture to the -o path and one JSON line of expected record fields per
// connection to the same path with ".truth.jsonl" appended.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/gencap"
)

const usage = `usage: gencap -o FILE [-shape mixed|busy|mass|synflood] [-size SIZE | -conns N | -syns N] [-seed N]
              [-format pcap|pcapng] [-gzip] [shape flags]
       gencap -check FILE.truth.jsonl RECORDS.jsonl

Writes a synthetic WebSocket capture to FILE and its ground truth to FILE.truth.jsonl,
the same bytes for the same flags. With -check, compares wsclosescan's JSON lines
(RECORDS.jsonl, - for standard input) with a truth file instead: it prints every
difference and fails if there is one. Records of connections the truth does not have
are differences, except not_websocket ones (wsclosescan --all): they are counted.

Shapes (-shape):
  mixed     the default: every kind of ending, about -concurrency connections open at
            once, packets 200 µs apart on average
  busy      a busy server: connections start uniformly over -window (10m); each has on
            average -bursts (12) bursts of activity -burst-gap (2s) apart, -long-lived of
            them (150 per 1000) 4x further apart; mostly JSON-like text of 50 B-2 KiB
            (log-normal), 3% from 2 KiB to 1 MiB, 4% fragmented, pings both ways,
            permessage-deflate on -deflate (250 per 1000) connections (compressed
            messages, RSV1), 1% of data segments out of order and 1% retransmitted,
            -ipv6 (100 per 1000) IPv6, 3% rejected upgrades. -size picks the number of
            connections (-size 1.5G: about 5,000 open at once)
  mass      -conns (200000) WebSocket connections opened over -window (20s): a
            browser-like upgrade (User-Agent, Origin, cookies, a permessage-deflate
            offer, accepted on -deflate per 1000), a message each way, a ping; all open
            at once, then closed cleanly one second later, in the same order
  synflood  -syns (1000000) SYNs to distinct 4-tuples within -window (10s), never
            answered, and one WebSocket connection in the middle that closes cleanly;
            the truth has that connection only (wsclosescan lists the SYNs only with
            --all, as not_websocket)

Flags:
  -o FILE          capture to write (required)
  -shape S         mixed (default), busy, mass or synflood
  -size SIZE       mixed: stop starting connections at this uncompressed size; busy: start
                   about as many as make this size (1.5GB, 1.5G, 200MB, 64MiB)
  -conns N         number of connections (mixed: default 200 when -size is not given;
                   busy: instead of -size; mass: default 200000)
  -concurrency N   mixed: connections open at once (default 300)
  -seed N          random seed (default 1)
  -format F        pcap (default) or pcapng
  -gzip            gzip the capture
  -lenient-proto N connections per 1000 whose client asks for a subprotocol, gets a 101
                   without one and carries on (default 30; 0: none)
  -window DUR      busy: connections start over DUR (default 10m); mass: they open over
                   DUR, then close over DUR (default 20s); synflood: the SYNs span DUR (10s)
  -bursts N        busy: mean bursts of activity per connection (default 12)
  -burst-gap DUR   busy: mean time between two bursts (default 2s)
  -long-lived N    busy: long-lived connections per 1000 (default 150; 0: none)
  -ipv6 N          busy: IPv6 connections per 1000 (default 100; 0: none)
  -deflate N       busy, mass: connections per 1000 accepting permessage-deflate (default
                   250; 0: none)
  -syns N          synflood: unanswered SYNs (default 1000000)
  -check TRUTH     compare records with the truth file TRUTH

Examples:
  go run ./tools/gencap -o /tmp/big.pcap -size 1.5GB -seed 1
  go run ./tools/gencap -o /tmp/busy.pcap -shape busy -size 1.5G
  go run ./tools/gencap -o /tmp/mass.pcap -shape mass -conns 200000
  go run ./tools/gencap -o /tmp/flood.pcap -shape synflood -syns 1000000
  go run ./tools/gencap -o /tmp/small.pcapng.gz -conns 500 -format pcapng -gzip
  wsclosescan -f jsonl /tmp/big.pcap | go run ./tools/gencap -check /tmp/big.pcap.truth.jsonl -
`

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "gencap: error: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gencap", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("o", "", "")
	size := fs.String("size", "", "")
	conns := fs.Int("conns", 0, "")
	conc := fs.Int("concurrency", 0, "")
	seed := fs.Uint64("seed", 1, "")
	format := fs.String("format", "pcap", "")
	gz := fs.Bool("gzip", false, "")
	lenient := fs.Int("lenient-proto", gencap.DefaultLenientProto, "")
	check := fs.String("check", "", "")
	shape := fs.String("shape", "mixed", "")
	window := fs.Duration("window", 0, "")
	bursts := fs.Int("bursts", 0, "")
	burstGap := fs.Duration("burst-gap", 0, "")
	longLived := fs.Int("long-lived", gencap.DefaultLongLived, "")
	ipv6 := fs.Int("ipv6", gencap.DefaultBusyIPv6, "")
	deflate := fs.Int("deflate", gencap.DefaultDeflate, "")
	syns := fs.Int("syns", 0, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, usage)
			return nil
		}
		return fmt.Errorf("%v\n%s", err, usage)
	}
	if *check != "" {
		if *out != "" || fs.NArg() != 1 {
			return fmt.Errorf("-check takes the records file as its one argument, and no -o\n%s", usage)
		}
		return checkTruth(*check, fs.Arg(0), stdin, stdout)
	}
	if *out == "" || fs.NArg() > 0 {
		return fmt.Errorf("need -o FILE and no arguments\n%s", usage)
	}
	sh, err := gencap.ParseShape(*shape)
	if err != nil {
		return err
	}
	opts := gencap.Options{Seed: *seed, Connections: *conns, Concurrency: *conc, Gzip: *gz, LenientProto: *lenient,
		Shape: sh, Window: *window, MeanBursts: *bursts, BurstGap: *burstGap,
		LongLived: perMille(*longLived), IPv6: perMille(*ipv6), Deflate: perMille(*deflate), SYNs: *syns}
	if *lenient <= 0 {
		opts.LenientProto = -1
	}
	for _, f := range []struct {
		name  string
		set   bool
		valid bool
	}{
		{"-size", *size != "", sh == gencap.ShapeMixed || sh == gencap.ShapeBusy},
		{"-conns", *conns != 0, sh != gencap.ShapeSYNFlood},
		{"-concurrency", *conc != 0, sh == gencap.ShapeMixed},
		{"-window", *window != 0, sh != gencap.ShapeMixed},
		{"-bursts", *bursts != 0, sh == gencap.ShapeBusy},
		{"-burst-gap", *burstGap != 0, sh == gencap.ShapeBusy},
		{"-syns", *syns != 0, sh == gencap.ShapeSYNFlood},
	} {
		if f.set && !f.valid {
			return fmt.Errorf("%s does not apply to -shape %s\n%s", f.name, sh, usage)
		}
	}
	if *size != "" && *conns != 0 && sh == gencap.ShapeBusy {
		return fmt.Errorf("-size and -conns exclude each other with -shape busy\n%s", usage)
	}
	switch *format {
	case "pcap":
	case "pcapng":
		opts.Format = gencap.FormatPcapNG
	default:
		return fmt.Errorf("unknown format %q (want pcap or pcapng)", *format)
	}
	if *size != "" {
		n, err := gencap.ParseSize(*size)
		if err != nil {
			return err
		}
		opts.TargetSize = n
	}
	start := time.Now()
	st, err := generate(*out, opts)
	if err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Fprintf(stderr, "gencap: wrote %s: %d bytes, %d packets, %d connections (%d IPv6, %d lenient about a subprotocol), %d out of order, %d retransmitted, %.1f s capture time\n",
		*out, st.Bytes, st.Packets, st.Connections, st.IPv6, st.LenientProto, st.OutOfOrder, st.Retransmitted, st.Duration.Seconds())
	fmt.Fprintf(stderr, "gencap: verdicts %v\n", st.Verdicts)
	if sh != gencap.ShapeMixed {
		fmt.Fprintf(stderr, "gencap: shape %s: at most %d connections open at once, %d long-lived, %d with permessage-deflate, %d messages (%d compressed, %d fragmented), pings %d from clients and %d from servers, %d unanswered SYNs\n",
			sh, st.MaxOpen, st.LongLived, st.Deflate, st.Messages, st.Compressed, st.Fragmented, st.Pings[0], st.Pings[1], st.SYNs)
	}
	fmt.Fprintf(stderr, "gencap: %.2f s, %.0f MB/s\n", el.Seconds(), float64(st.Bytes)/1e6/el.Seconds())
	return nil
}

// perMille maps a flag's share per 1000 to an Options share: 0 (none) to -1.
func perMille(v int) int {
	if v <= 0 {
		return -1
	}
	return v
}

// generate writes the capture and the truth file next to it.
func generate(path string, opts gencap.Options) (gencap.Stats, error) {
	capf, err := os.Create(path)
	if err != nil {
		return gencap.Stats{}, err
	}
	defer capf.Close()
	truthf, err := os.Create(path + ".truth.jsonl")
	if err != nil {
		return gencap.Stats{}, err
	}
	defer truthf.Close()
	bw := bufio.NewWriterSize(capf, 4<<20)
	st, err := gencap.Generate(bw, truthf, opts)
	if err != nil {
		return st, err
	}
	if err := bw.Flush(); err != nil {
		return st, err
	}
	if err := capf.Close(); err != nil {
		return st, err
	}
	return st, truthf.Close()
}

// truthConns returns the connections of a truth file, as "client server".
func truthConns(r io.Reader) (map[string]bool, error) {
	conns := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var t struct{ Client, Server string }
		if json.Unmarshal(sc.Bytes(), &t) == nil {
			conns[t.Client+" "+t.Server] = true
		}
	}
	return conns, sc.Err()
}

// checkTruth compares the records in recordsPath ("-": stdin) with the truth file and
// prints the differences; it fails when there is one.
func checkTruth(truthPath, recordsPath string, stdin io.Reader, stdout io.Writer) error {
	truth, err := os.Open(truthPath)
	if err != nil {
		return err
	}
	defer truth.Close()
	src := stdin
	if recordsPath != "-" {
		f, err := os.Open(recordsPath)
		if err != nil {
			return err
		}
		defer f.Close()
		src = f
	}
	inTruth, err := truthConns(truth)
	if err != nil {
		return fmt.Errorf("%s: %v", truthPath, err)
	}
	if _, err := truth.Seek(0, io.SeekStart); err != nil {
		return err
	}
	var recs []map[string]any
	sc := bufio.NewScanner(src)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		// A not_websocket record (--all; a million of them on a SYN flood) keeps only what
		// CompareTruthAll needs of it unless the truth has its connection.
		var head struct{ Client, Server, Verdict string }
		if err := json.Unmarshal(sc.Bytes(), &head); err != nil {
			return fmt.Errorf("%s line %d: %v", recordsPath, line, err)
		}
		if head.Verdict == "not_websocket" && !inTruth[head.Client+" "+head.Server] {
			recs = append(recs, map[string]any{"client": head.Client, "server": head.Server, "verdict": head.Verdict})
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return fmt.Errorf("%s line %d: %v", recordsPath, line, err)
		}
		recs = append(recs, m)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %v", recordsPath, err)
	}
	bad, ignored := gencap.CompareTruthAll(truth, recs)
	for _, l := range bad {
		fmt.Fprintln(stdout, l)
	}
	if len(bad) > 0 {
		return fmt.Errorf("%d difference(s) between %d records and %s", len(bad), len(recs), truthPath)
	}
	fmt.Fprintf(stdout, "gencap: all %d records match %s", len(recs)-ignored, truthPath)
	if ignored > 0 {
		fmt.Fprintf(stdout, " (%d not_websocket records not in the truth not compared)", ignored)
	}
	fmt.Fprintln(stdout)
	return nil
}
