package scan

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/wsclosescan/wsclosescan/analyze"
	"github.com/wsclosescan/wsclosescan/internal/fuzzseed"
	"github.com/wsclosescan/wsclosescan/internal/wstest"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/internal/wsframe"
	"github.com/wsclosescan/wsclosescan/report"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/FuzzPipeline seeds")

// fuzzSeeds returns small synthetic WebSocket captures covering the pipeline's paths.
func fuzzSeeds(t testing.TB) map[string][]byte {
	eth := pcapgen.Options{}
	seeds := map[string][]byte{}
	seeds["clean"] = mkCapture(t, eth, cleanConv("10.0.0.1:50000").Packets)
	seeds["reset"] = mkCapture(t, eth, wstest.NewConv("10.0.0.1:50001", "10.0.0.2:80").Upgraded().Text(c2s, "hi").
		Close(s2c, 1011, "internal error").RST(s2c).Packets)
	seeds["handshake-403"] = mkCapture(t, eth, wstest.NewConv("10.0.0.1:50002", "10.0.0.2:80").SYN().
		Send(c2s, wsframe.Request("/chat", wstest.Key)).Send(s2c, wsframe.Response(403, "Forbidden", "Content-Length: 0")).
		FIN(s2c).FIN(c2s).Packets)
	frag := wstest.NewConv("10.0.0.1:50003", "10.0.0.2:80").Upgraded()
	frag.Send(c2s, wsframe.Concat(
		wsframe.Frame{Op: wsframe.OpText, Masked: true, Payload: []byte("hel")}.Bytes(),
		wsframe.Frame{Fin: true, Op: wsframe.OpPing, Masked: true, Payload: []byte("p")}.Bytes(),
		wsframe.Frame{Fin: true, Op: wsframe.OpContinuation, Masked: true, Payload: []byte("lo")}.Bytes()), 3, 5)
	frag.Frame(s2c, wsframe.OpPong, []byte("p")).Close(s2c, 1001, "going away").Close(c2s, 1001, "").FIN(c2s).FIN(s2c)
	seeds["ws-fragments"] = mkCapture(t, eth, frag.Packets)
	ipf := wstest.NewConv("10.0.0.1:50004", "10.0.0.2:80")
	ipf.Conn.Encap = pcapgen.Fragmenter4(24)
	ipf.Upgraded().Close(c2s, 1000, "").Close(s2c, 1000, "").FIN(c2s).FIN(s2c)
	seeds["ip-fragments"] = mkCapture(t, eth, ipf.Packets)
	gap := wstest.NewConv("10.0.0.1:50005", "10.0.0.2:80").Upgraded().Text(s2c, "lost").Text(s2c, "kept").
		Close(c2s, 1000, "").Close(s2c, 1000, "").FIN(c2s).FIN(s2c)
	lost := slices.IndexFunc(gap.Packets, func(p pcapgen.Packet) bool {
		return p.Seg != nil && bytes.Contains(p.Seg.Payload, []byte("lost"))
	})
	gap.Packets = slices.Delete(gap.Packets, lost, lost+1)
	seeds["gap"] = mkCapture(t, eth, gap.Packets)
	seeds["pcapng"] = mkCapture(t, pcapgen.Options{Format: pcapgen.FormatPcapNG, LinkType: pcapgen.LinkSLL2},
		linkConv("10.0.0.1:50006", pcapgen.Link{Type: pcapgen.LinkSLL2}).Packets)
	seeds["pcap-gzip"] = mkCapture(t, pcapgen.Options{Gzip: true, Format: pcapgen.FormatPcapNano, BigEndian: true},
		cleanConv("10.0.0.1:50007").Packets)
	seeds["pcapng-gzip"] = mkCapture(t, pcapgen.Options{Gzip: true, Format: pcapgen.FormatPcapNG}, cleanConv("10.0.0.1:50008").Packets)
	mid := wstest.NewConv("10.0.0.1:50009", "10.0.0.2:80")
	mid.Text(s2c, "a").Text(s2c, "b").Text(s2c, "c").Text(c2s, "x").Text(c2s, "y").Text(c2s, "z").Close(s2c, 4000, "\x1b[31mred").FIN(s2c).RST(c2s)
	seeds["midstream"] = mkCapture(t, eth, mid.Packets)
	full := seeds["clean"]
	seeds["truncated"] = full[:len(full)-7]
	return seeds
}

// linkConv is cleanConv framed with link l.
func linkConv(client string, l pcapgen.Link) *wstest.Conv {
	w := wstest.NewConv(client, "10.0.0.2:80")
	w.Conn.Link = l
	return w.Upgraded().Close(c2s, 1000, "").Close(s2c, 1000, "").FIN(s2c).FIN(c2s)
}

// TestFuzzSeeds checks that the committed seed corpus matches fuzzSeeds (-update-seeds
// rewrites it) and that every seed is analysed as intended.
func TestFuzzSeeds(t *testing.T) {
	seeds := fuzzSeeds(t)
	fuzzseed.Check(t, filepath.Join("testdata", "fuzz", "FuzzPipeline"), seeds, *updateSeeds,
		"go test ./scan -run TestFuzzSeeds -update-seeds")
	want := map[string]string{
		"clean": "clean", "reset": "half_closed", "handshake-403": "handshake_failed",
		"ws-fragments": "clean", "ip-fragments": "clean", "gap": "clean", "pcapng": "clean",
		"pcap-gzip": "clean", "pcapng-gzip": "clean", "midstream": "half_closed", "truncated": "clean",
	}
	for name, data := range seeds {
		res := scanBytes(name, data, fuzzOptions())
		var got []string
		for _, r := range res.recs {
			got = append(got, string(r.Verdict))
		}
		if res.err != nil || strings.Join(got, ",") != want[name] {
			t.Errorf("seed %s: got verdicts %v, err %v; want %s", name, got, res.err, want[name])
		}
	}
}

// fuzzOptions are the defaults with the timeline on and small buffer limits.
func fuzzOptions() Options {
	o := DefaultOptions()
	o.Layers.Timeline = true
	o.Reassembly.MaxBufferedPerConn = 64 << 10
	o.Reassembly.MaxBufferedTotal = 256 << 10
	return o
}

// FuzzPipeline runs arbitrary capture bytes through the whole pipeline and every report
// writer, and checks that the output is well-formed and free of control characters.
func FuzzPipeline(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0})
	f.Add([]byte{0x1f, 0x8b})
	f.Add([]byte("\n\r\r\n\x1c\x00\x00\x00M<+\x1a"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res := scanBytes("fuzz\x1b[2J.pcap", data, fuzzOptions())
		if res.err != nil {
			if len(res.recs) != 0 {
				t.Fatalf("got %d records with error %v, want none", len(res.recs), res.err)
			}
			return
		}
		if res.info.Error != nil && !strings.HasPrefix(*res.info.Error, "fuzz\x1b[2J.pcap: ") {
			t.Fatalf("FileInfo.Error %q does not start with the file name", *res.info.Error)
		}
		for i := range res.recs {
			r := &res.recs[i]
			if !slices.Contains(report.Verdicts, r.Verdict) {
				t.Fatalf("record %d: verdict %q is not one of %v", i, r.Verdict, report.Verdicts)
			}
			if r.End.Before(r.Start.Time) || r.DurationS < 0 {
				t.Fatalf("record %d: end %v before start %v", i, r.End, r.Start)
			}
			for _, c := range []report.PerSide{r.MissingBytes, r.Frames, r.Messages} {
				if c.Client < 0 || c.Server < 0 {
					t.Fatalf("record %d: negative counts: missing %+v, frames %+v, messages %+v", i, r.MissingBytes, r.Frames, r.Messages)
				}
			}
			if r.Bytes.Client < 0 || r.Bytes.Server < 0 {
				t.Fatalf("record %d: negative byte counts %+v", i, r.Bytes)
			}
			if bad := analyze.Contradictions(r); len(bad) > 0 {
				t.Fatalf("record %d contradicts itself: %v", i, bad)
			}
		}
		out, err := writeAll(res.recs, []report.FileInfo{res.info})
		if err != nil {
			t.Fatalf("writing records: %v", err)
		}
		if msg := unsafeOutput(out, len(res.recs)); msg != "" {
			if unsafeOutput(withPrintableHints(out), len(res.recs)) == "" {
				t.Fatal("text from the wire reached the timeline unescaped: " + msg)
			}
			t.Fatal(msg)
		}
	})
}

// withPrintableHints returns out with the timeline's hint lines escaped, to tell the known
// timeline bug (TestHostileHandshakeText) from new ones while fuzzing.
func withPrintableHints(out map[string][]byte) map[string][]byte {
	fixed := map[string][]byte{}
	for k, v := range out {
		fixed[k] = v
	}
	lines := strings.Split(string(out["timeline"]), "\n")
	for i, l := range lines {
		if h, ok := strings.CutPrefix(l, "  hint: "); ok {
			lines[i] = "  hint: " + report.Printable(h)
		}
	}
	fixed["timeline"] = []byte(strings.Join(lines, "\n"))
	return fixed
}

// TestReadSplitsDoNotMatter: the records do not depend on how the capture's bytes arrive
// (whole, one byte per Read, half reads, data with the final EOF).
func TestReadSplitsDoNotMatter(t *testing.T) {
	readers := map[string]func([]byte) io.Reader{
		"one byte":       func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
		"half":           func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) },
		"data+EOF":       func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) },
		"unknown length": func(b []byte) io.Reader { return io.MultiReader(bytes.NewReader(b)) },
	}
	for name, data := range fuzzSeeds(t) {
		want := scanBytes(name, data, fuzzOptions())
		for rname, mk := range readers {
			var got result
			s := New(fuzzOptions(), func(r *report.Record) { got.recs = append(got.recs, *r) })
			got.info, got.err = s.Read(name, mk(data))
			s.Flush()
			if fmt.Sprint(got.err) != fmt.Sprint(want.err) || strPtr(got.info.Error) != strPtr(want.info.Error) {
				t.Errorf("%s via %s: error %v / %s, want %v / %s", name, rname, got.err, strPtr(got.info.Error), want.err, strPtr(want.info.Error))
			}
			gj, _ := json.Marshal(got.recs)
			wj, _ := json.Marshal(want.recs)
			if !bytes.Equal(gj, wj) {
				t.Errorf("%s via %s: records differ:\ngot  %s\nwant %s", name, rname, gj, wj)
			}
		}
	}
}
