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

const usage = `usage: gencap -o FILE [-size SIZE | -conns N] [-seed N] [-format pcap|pcapng] [-gzip] [-lenient-proto N]
       gencap -check FILE.truth.jsonl RECORDS.jsonl

Writes a synthetic WebSocket capture to FILE and its ground truth to FILE.truth.jsonl.
With -check, compares wsclosescan's JSON lines (RECORDS.jsonl, - for standard input)
with a truth file instead: it prints every difference and fails if there is one.

Flags:
  -o FILE          capture to write (required)
  -size SIZE       stop starting connections at this uncompressed size (1.5GB, 200MB, 64MiB)
  -conns N         number of connections (default 200 when -size is not given)
  -concurrency N   connections open at once (default 300)
  -seed N          random seed (default 1)
  -format F        pcap (default) or pcapng
  -gzip            gzip the capture
  -lenient-proto N connections per 1000 whose client asks for a subprotocol, gets a 101
                   without one and carries on (default 30; 0: none)
  -check TRUTH     compare records with the truth file TRUTH

Examples:
  go run ./tools/gencap -o /tmp/big.pcap -size 1.5GB -seed 1
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
	opts := gencap.Options{Seed: *seed, Connections: *conns, Concurrency: *conc, Gzip: *gz, LenientProto: *lenient}
	if *lenient <= 0 {
		opts.LenientProto = -1
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
	fmt.Fprintf(stderr, "gencap: %.2f s, %.0f MB/s\n", el.Seconds(), float64(st.Bytes)/1e6/el.Seconds())
	return nil
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
	var recs []map[string]any
	sc := bufio.NewScanner(src)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return fmt.Errorf("%s line %d: %v", recordsPath, line, err)
		}
		recs = append(recs, m)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %v", recordsPath, err)
	}
	bad := gencap.CompareTruth(truth, recs)
	for _, l := range bad {
		fmt.Fprintln(stdout, l)
	}
	if len(bad) > 0 {
		return fmt.Errorf("%d difference(s) between %d records and %s", len(bad), len(recs), truthPath)
	}
	fmt.Fprintf(stdout, "gencap: all %d records match %s\n", len(recs), truthPath)
	return nil
}
