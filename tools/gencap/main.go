// Command gencap writes a large synthetic WebSocket capture and its ground truth.
//
// It writes the capture to the -o path and one JSON line of expected record fields per
// connection to the same path with ".truth.jsonl" appended.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/gencap"
)

const usage = `usage: gencap -o FILE [-size SIZE | -conns N] [-seed N] [-format pcap|pcapng] [-gzip]

Writes a synthetic WebSocket capture to FILE and its ground truth to FILE.truth.jsonl.

Flags:
  -o FILE          capture to write (required)
  -size SIZE       stop starting connections at this uncompressed size (1.5GB, 200MB, 64MiB)
  -conns N         number of connections (default 200 when -size is not given)
  -concurrency N   connections open at once (default 300)
  -seed N          random seed (default 1)
  -format F        pcap (default) or pcapng
  -gzip            gzip the capture

Examples:
  go run ./tools/gencap -o /tmp/big.pcap -size 1.5GB -seed 1
  go run ./tools/gencap -o /tmp/small.pcapng.gz -conns 500 -format pcapng -gzip
`

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "gencap: error: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("gencap", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("o", "", "")
	size := fs.String("size", "", "")
	conns := fs.Int("conns", 0, "")
	conc := fs.Int("concurrency", 0, "")
	seed := fs.Uint64("seed", 1, "")
	format := fs.String("format", "pcap", "")
	gz := fs.Bool("gzip", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, usage)
			return nil
		}
		return fmt.Errorf("%v\n%s", err, usage)
	}
	if *out == "" || fs.NArg() > 0 {
		return fmt.Errorf("need -o FILE and no arguments\n%s", usage)
	}
	opts := gencap.Options{Seed: *seed, Connections: *conns, Concurrency: *conc, Gzip: *gz}
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
	fmt.Fprintf(stderr, "gencap: wrote %s: %d bytes, %d packets, %d connections (%d IPv6), %d out of order, %d retransmitted, %.1f s capture time\n",
		*out, st.Bytes, st.Packets, st.Connections, st.IPv6, st.OutOfOrder, st.Retransmitted, st.Duration.Seconds())
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
