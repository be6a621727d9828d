package scan

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/wsclosescan/wsclosescan/capture"
	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/internal/wstest"
	"github.com/wsclosescan/wsclosescan/report"
)

// TestPingFloodIsCapped: half a million pings keep MaxPings records and MaxTimeline
// timeline entries, with counts for the rest.
func TestPingFloodIsCapped(t *testing.T) {
	const pings, perSeg = 500_000, 5000
	burst := bytes.Repeat([]byte{0x89, 0x00}, perSeg) // FIN ping, unmasked, empty
	opts := DefaultOptions()
	opts.Layers.Timeline = true
	probe := newHeapProbe()
	r := scanFlood(t, opts, probe, 20, func(c *wstest.Conv, s *packetSink) error {
		for i := 0; i < pings/perSeg; i++ {
			if err := s.write(c.Conn.Send(s2c, burst)); err != nil {
				return err
			}
		}
		return nil
	})
	if len(r.Pings) != 1000 || r.Frames.Server != pings+1 {
		t.Errorf("got %d pings kept, %d server frames; want 1000 and %d", len(r.Pings), r.Frames.Server, pings+1)
	}
	// The timeline keeps at most MaxTimeline entries plus one saying how many were left
	// out; shown and left-out pings add up.
	shown, left, markers := 0, 0, 0
	for _, e := range r.Timeline {
		var n int
		var which string
		if _, err := fmt.Sscanf(e.What, "%d %s events not shown", &n, &which); err == nil {
			left += n
			markers++
		}
		if e.What == "ping (0-byte payload)" {
			shown++
		}
	}
	if len(r.Timeline) > 401 || markers != 1 || shown+left != pings {
		t.Errorf("timeline: %d entries, %d markers, %d pings shown + %d left out; want at most 401, 1, and %d in all",
			len(r.Timeline), markers, shown, left, pings)
	}
	// The read buffer (1 MiB) and reassembly's buffer pool (up to 8 MiB) may be live;
	// keeping every ping would need tens of MiB.
	if g := probe.growth(); g > 12*mib {
		t.Errorf("heap grew by %d bytes, want at most %d", g, 12*mib)
	}
	checkOutputs(t, []report.Record{*r}, nil)
}

// TestFragmentFlood: datagrams whose last fragment never comes are dropped once the
// fragment buffers are full; each is counted once and memory stays bounded.
func TestFragmentFlood(t *testing.T) {
	const n = 20_000
	probe := newHeapProbe()
	count := 0
	info := streamScan(t, pcapgen.Options{}, DefaultOptions(), probe, 5000, func(s *packetSink) error {
		c := wstest.NewConv("10.0.0.1:50000", "10.0.0.2:80")
		c.Conn.Encap = pcapgen.Fragmenter4(1024)
		payload := make([]byte, 4000)
		for i := 0; i < n; i++ {
			p := c.Conn.Send(c2s, payload)
			if err := s.write(p[:len(p)-1]); err != nil { // the last fragment is lost
				return err
			}
		}
		c.Conn.Encap = nil
		c.Packets = nil
		return s.write(cleanConv("10.0.0.1:50001").Packets)
	}, func(r *report.Record) {
		count++
		if r.Client == "10.0.0.1:50001" && viewOf(r) != cleanView {
			t.Errorf("connection after the flood: got %+v, want %+v", viewOf(r), cleanView)
		}
	}, nil)
	want := fmt.Sprintf("stream.pcap: skipped %d packet(s): incomplete fragmented datagram", n)
	if len(info.Warnings) != 1 || !bytes.HasPrefix([]byte(info.Warnings[0]), []byte(want)) {
		t.Errorf("warnings: got %q, want one starting with %q", info.Warnings, want)
	}
	if count != 1 {
		t.Errorf("got %d records, want only the clean connection", count)
	}
	if g := probe.growth(); g > 16*mib {
		t.Errorf("heap grew by %d bytes, want at most %d (64 fragment buffers of 64 KiB)", g, 16*mib)
	}
	t.Logf("heap growth %d KiB", probe.growth()>>10)
}

// TestHugePcapngBlocks: unknown blocks and packet blocks far larger than the read buffer
// are skipped by streaming past them, not by buffering them.
func TestHugePcapngBlocks(t *testing.T) {
	const blockLen = 64 * mib
	ng := pcapgen.Options{Format: pcapgen.FormatPcapNG, LinkType: pcapgen.LinkEthernet}
	head := mkCapture(t, ng, nil)
	good := mkCapture(t, ng, cleanConv("10.0.0.1:50000").Packets)[len(head):]
	hdr := func(typ uint32) []byte {
		return binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, typ), blockLen)
	}
	pr, pw := io.Pipe()
	go func() {
		pw.Write(head)
		zeros := make([]byte, mib)
		for _, typ := range []uint32{0x0bad, 6} { // a custom block, then a packet block
			pw.Write(hdr(typ))
			for left := blockLen - 12; left > 0; left -= len(zeros) {
				pw.Write(zeros[:min(left, len(zeros))])
			}
			pw.Write(binary.LittleEndian.AppendUint32(nil, blockLen))
		}
		pw.Write(good)
		pw.Close()
	}()
	var recs []report.Record
	var info report.FileInfo
	var err error
	alloc := allocsDuring(func() {
		s := New(DefaultOptions(), func(r *report.Record) { recs = append(recs, *r) })
		info, err = s.Read("big.pcapng", pr)
		s.Flush()
	})
	if err != nil || info.Error != nil {
		t.Fatalf("got error %v, %v", err, strPtr(info.Error))
	}
	want := []string{fmt.Sprintf("big.pcapng: skipped 1 packet(s): bad packet record (first: packet 1: pcapng block of %d bytes)", blockLen)}
	if fmt.Sprint(info.Warnings) != fmt.Sprint(want) {
		t.Errorf("warnings: got %q, want %q", info.Warnings, want)
	}
	if len(recs) != 1 || viewOf(&recs[0]) != cleanView {
		t.Errorf("got %d records %+v, want one clean", len(recs), recs)
	}
	if alloc > 8*mib {
		t.Errorf("allocated %d bytes to skip %d bytes of blocks, want at most %d", alloc, 2*blockLen, 8*mib)
	}
}

// TestTimesOutOfRange: packets dated past 2262 (a broken clock) are analysed at that
// bound, with a warning that says so, not dated before 1970 by a wrapped nanosecond count.
func TestTimesOutOfRange(t *testing.T) {
	c := cleanConv("10.0.0.1:50000")
	for i := range c.Packets {
		c.Packets[i].Time = c.Packets[i].Time.AddDate(300, 0, 0)
	}
	data := mkCapture(t, pcapgen.Options{Format: pcapgen.FormatPcapNG}, c.Packets)
	res := scanBytes("far.pcapng", data, DefaultOptions())
	// The frames are decoded as ever; which side ended TCP first, told by time, is not
	// known when every packet has the same time.
	if res.err != nil || len(res.recs) != 1 || res.recs[0].Verdict != report.VerdictClean ||
		res.recs[0].Frames != (report.PerSide{Client: 2, Server: 2}) {
		t.Fatalf("error %v, %d records %+v, want one clean with 2 frames each way", res.err, len(res.recs), res.recs)
	}
	if r := res.recs[0]; !r.Start.Equal(capture.MaxTime) || r.DurationS != 0 {
		t.Errorf("start %v, duration %v s, want %v and 0", r.Start, r.DurationS, capture.MaxTime)
	}
	want := fmt.Sprintf("far.pcapng: %d packet(s) have a timestamp outside the years 1678-2262 (first: packet 1 at ", len(c.Packets))
	if len(res.info.Warnings) != 1 || !strings.HasPrefix(res.info.Warnings[0], want) {
		t.Errorf("warnings %q, want one starting with %q", res.info.Warnings, want)
	}
}
