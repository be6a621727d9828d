package capture_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsclosescan/wsclosescan/capture"
	"github.com/wsclosescan/wsclosescan/reassembly"
)

// streamDigest records what the assembler delivers for each connection: a hash of each
// direction's bytes, the gaps and the events, so that two captures can be compared.
type streamDigest struct {
	conns []*connDigest
}

type connDigest struct {
	info   reassembly.ConnInfo
	data   [2]hash.Hash
	n      [2]int64
	events []string
}

func (d *streamDigest) NewStream(info reassembly.ConnInfo) reassembly.Stream {
	c := &connDigest{info: info, data: [2]hash.Hash{sha256.New(), sha256.New()}}
	d.conns = append(d.conns, c)
	return c
}

func (c *connDigest) Data(dir reassembly.Dir, b []byte, _ reassembly.Stamp) {
	c.data[dir].Write(b)
	c.n[dir] += int64(len(b))
}

func (c *connDigest) Gap(dir reassembly.Dir, off, n int64, cause reassembly.GapCause, _ reassembly.Stamp) {
	c.events = append(c.events, fmt.Sprintf("gap %s %d+%d %s", dir, off, n, cause))
}

func (c *connDigest) Event(e reassembly.Event) {
	c.events = append(c.events, fmt.Sprintf("%s %s @%d", e.Kind, e.Dir, e.Offset))
}

func (c *connDigest) End(reassembly.ConnStats) {}

func (c *connDigest) String() string {
	return fmt.Sprintf("%s -> %s by %s: client %d bytes %x, server %d bytes %x, events %s",
		c.info.Client, c.info.Server, c.info.By, c.n[0], c.data[0].Sum(nil)[:8], c.n[1], c.data[1].Sum(nil)[:8],
		strings.Join(c.events, ", "))
}

func digestFile(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := capture.NewReader(path, f, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := &streamDigest{}
	asm := reassembly.NewAssembler(d, reassembly.DefaultOptions())
	var seg reassembly.Segment
	for {
		if err := r.Next(&seg); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("%s: %v", path, err)
			}
			break
		}
		asm.Add(&seg)
	}
	asm.Flush()
	if st := r.Stats(); len(st.Skipped) > 0 {
		t.Errorf("%s: skipped packets: %+v", path, st.Skipped)
	}
	var b strings.Builder
	for _, c := range d.conns {
		b.WriteString(c.String() + "\n")
	}
	return b.String()
}

// TestSameTrafficEveryFormat checks that one recording, captured at once by tcpdump on
// lo (Ethernet, microseconds and nanoseconds), on any (Linux cooked v2) and by dumpcap
// (pcapng), and gzip-compressed, yields identical streams and events.
func TestSameTrafficEveryFormat(t *testing.T) {
	dir := filepath.Join("..", "testdata", "pcaps")
	base := filepath.Join(dir, "gorilla-clean-close.pcap")
	if _, err := os.Stat(base); err != nil {
		t.Skip("recorded captures not present")
	}
	want := digestFile(t, base)
	if !strings.Contains(want, "by SYN") || !strings.Contains(want, "FIN") {
		t.Fatalf("reference capture lacks a full connection:\n%s", want)
	}
	for _, name := range []string{"gorilla-clean-close-nano.pcap", "gorilla-clean-close-sll2.pcap",
		"gorilla-clean-close.pcapng", "gorilla-clean-close.pcap.gz"} {
		t.Run(name, func(t *testing.T) {
			if got := digestFile(t, filepath.Join(dir, name)); got != want {
				t.Errorf("streams differ from %s:\n got: %s\nwant: %s", base, got, want)
			}
		})
	}
}
