package scan

import (
	"io"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/internal/wstest"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
)

// pipelineBuffers is the most the pipeline's fixed buffers take once grown, whatever the
// input: the capture reader's buffers (capture/buffer.go: up to 32 pooled 128 KiB
// buffers, and a 1 MiB one for a unit larger than that) and every shard's batches
// (segments, their flow hashes and times, and a full arena). Heap bounds in tests are this
// plus what the test allows.
const pipelineBuffers = 32*128<<10 + 1<<20 + DefaultWorkers*numBatches*
	(batchSegs*(int64(unsafe.Sizeof(reassembly.Segment{}))+8+int64(unsafe.Sizeof(time.Time{})))+batchArena)

// heapProbe tracks the peak of the live heap (HeapInuse after a GC) above a baseline.
type heapProbe struct {
	base, peak uint64
}

func newHeapProbe() *heapProbe {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return &heapProbe{base: ms.HeapInuse}
}

// sample records the live heap: HeapInuse right after a GC, so that garbage from the
// generator does not count.
func (h *heapProbe) sample() {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapInuse > h.peak {
		h.peak = ms.HeapInuse
	}
}

// live returns the heap in use after a GC, above the baseline.
func (h *heapProbe) live() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse) - int64(h.base)
}

// growth returns the peak live heap above the baseline.
func (h *heapProbe) growth() int64 { return int64(h.peak) - int64(h.base) }

// packetSink writes generated packets to a capture stream.
type packetSink struct {
	w     *pcapgen.Writer
	n     int
	every int // sample the heap every this many packets (0: never)
	probe *heapProbe
}

func (s *packetSink) write(pkts []pcapgen.Packet) error {
	for _, p := range pkts {
		if err := s.w.Write(p); err != nil {
			return err
		}
		s.n++
		if s.probe != nil && s.every > 0 && s.n%s.every == 0 {
			s.probe.sample()
		}
	}
	return nil
}

// streamScan runs the pipeline over a capture that gen writes into a pipe from another
// goroutine, so that the capture is never held in memory. afterRead runs once Read has
// returned, before Flush (all connections still tracked).
func streamScan(t testing.TB, copts pcapgen.Options, opts Options, probe *heapProbe, every int,
	gen func(s *packetSink) error, emit func(*report.Record), afterRead func()) report.FileInfo {
	t.Helper()
	if copts.LinkType == 0 {
		copts.LinkType = pcapgen.LinkEthernet
	}
	pr, pw := io.Pipe()
	go func() {
		w, err := pcapgen.NewWriter(pw, copts)
		if err == nil {
			err = gen(&packetSink{w: w, every: every, probe: probe})
		}
		if err == nil {
			err = w.Close()
		}
		pw.CloseWithError(err)
	}()
	s := New(opts, emit)
	info, err := s.Read("stream.pcap", pr)
	pr.Close()
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if info.Error != nil {
		t.Fatalf("Read: FileInfo.Error %q", *info.Error)
	}
	if afterRead != nil {
		afterRead()
	}
	s.Flush()
	return info
}

// scanFlood streams one upgraded WebSocket connection whose middle flood writes (with
// c.Conn's builders, straight into s), followed by a clean close: close 1000 both ways,
// FIN both ways. It checks that this one connection is reported clean and returns it.
func scanFlood(t *testing.T, opts Options, probe *heapProbe, every int,
	flood func(c *wstest.Conv, s *packetSink) error) *report.Record {
	t.Helper()
	var recs []report.Record
	streamScan(t, pcapgen.Options{}, opts, probe, every, func(s *packetSink) error {
		c := wstest.NewConv("10.0.0.1:50000", "10.0.0.2:80").Upgraded()
		if err := s.write(c.Packets); err != nil {
			return err
		}
		if err := flood(c, s); err != nil {
			return err
		}
		c.Packets = nil
		return s.write(c.Close(c2s, 1000, "").Close(s2c, 1000, "").FIN(s2c).FIN(c2s).Packets)
	}, func(r *report.Record) { recs = append(recs, *r) }, nil)
	if len(recs) != 1 {
		t.Fatalf("got %d records, want 1", len(recs))
	}
	if got := viewOf(&recs[0]); got != cleanView {
		t.Errorf("got %+v, want %+v", got, cleanView)
	}
	return &recs[0]
}
