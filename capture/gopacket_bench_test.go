package capture

import (
	"bufio"
	"bytes"
	"io"
	"sync"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/wsclosescan/wsclosescan/internal/gencap"
	"github.com/wsclosescan/wsclosescan/reassembly"
)

// benchCaptures holds the generated captures, made once per process.
var benchCaptures sync.Map

// genCapture returns a gencap capture of about 32 MB in format.
func genCapture(b *testing.B, format gencap.Format) []byte {
	b.Helper()
	if v, ok := benchCaptures.Load(format); ok {
		return v.([]byte)
	}
	var buf bytes.Buffer
	if _, err := gencap.Generate(&buf, io.Discard, gencap.Options{Seed: 1, TargetSize: 32 << 20, Format: format}); err != nil {
		b.Fatal(err)
	}
	benchCaptures.Store(format, buf.Bytes())
	return buf.Bytes()
}

// BenchmarkReaderVsGopacket reads a whole generated capture per op, pcap and pcapng: with
// this package's Reader, and with the least a gopacket tool does to see the same TCP
// segments (tools/decodeloop): pcapgo's ZeroCopyReadPacketData through a 1 MiB
// bufio.Reader, and a DecodingLayerParser over the oracle's layers.
func BenchmarkReaderVsGopacket(b *testing.B) {
	for _, f := range []struct {
		name   string
		format gencap.Format
	}{{"pcap", gencap.FormatPcap}, {"pcapng", gencap.FormatPcapNG}} {
		b.Run(f.name+"/wsclosescan", func(b *testing.B) {
			data := genCapture(b, f.format)
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			var s reassembly.Segment
			var n int64
			for b.Loop() {
				r, err := NewReader("bench", onlyReader{bytes.NewReader(data)}, Options{})
				if err != nil {
					b.Fatal(err)
				}
				for n = 0; r.Next(&s) == nil; n++ {
				}
			}
			b.ReportMetric(float64(n), "segments")
		})
		b.Run(f.name+"/gopacket", func(b *testing.B) {
			data := genCapture(b, f.format)
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			d := newGPDecoder()
			parser := d.parsers[layers.LayerTypeEthernet]
			parser.IgnoreUnsupported = true
			var n int64
			for b.Loop() {
				n = 0
				br := bufio.NewReaderSize(bytes.NewReader(data), 1<<20)
				var src interface {
					ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
				}
				var err error
				if f.format == gencap.FormatPcapNG {
					src, err = pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
				} else {
					src, err = pcapgo.NewReader(br)
				}
				if err != nil {
					b.Fatal(err)
				}
				for {
					frame, _, err := src.ZeroCopyReadPacketData()
					if err != nil {
						break
					}
					if parser.DecodeLayers(frame, &d.decoded) == nil && len(d.decoded) > 0 &&
						d.decoded[len(d.decoded)-1] == layers.LayerTypeTCP {
						n++
					}
				}
			}
			b.ReportMetric(float64(n), "segments")
		})
	}
}
