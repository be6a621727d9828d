package capture

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/reassembly"
)

// TestTruncation cuts a capture at every byte offset: the reader never panics, returns the
// packets whose records are complete, then io.EOF when the cut falls between records or a
// FileError (ErrTruncated) at the offset of the damaged record otherwise.
func TestTruncation(t *testing.T) {
	formats := []struct {
		name string
		opts pcapgen.Options
	}{
		{"pcap", pcapgen.Options{}},
		{"pcap ns BE", pcapgen.Options{Format: pcapgen.FormatPcapNano, BigEndian: true}},
		{"pcapng", pcapgen.Options{Format: pcapgen.FormatPcapNG}},
		{"pcapng BE", pcapgen.Options{Format: pcapgen.FormatPcapNG, BigEndian: true}},
		{"pcap gzip", pcapgen.Options{Gzip: true}},
		{"pcapng gzip", pcapgen.Options{Format: pcapgen.FormatPcapNG, Gzip: true}},
	}
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			f.opts.LinkType = pcapgen.LinkEthernet
			pkts := smallConversation()
			want := wantSegs(pkts)
			full := mustCapture(t, f.opts, pkts)
			// Unit (record or block) boundaries of the uncompressed stream, and the number of
			// packets complete at each.
			plain := f.opts
			plain.Gzip, plain.BigEndian = false, false
			raw := mustCapture(t, plain, pkts)
			ends := map[int]int{} // boundary offset -> packets before it
			var starts []int      // unit start offsets
			if plain.Format == pcapgen.FormatPcapNG {
				blocks := ngBlocks(raw)
				starts = blocks
				for i := range blocks {
					ends[blocks[i]] = max(i-2, 0)
				}
			} else {
				starts = pcapRecords(raw)
				for i, o := range starts {
					ends[o] = i
				}
			}
			ends[len(raw)] = len(pkts)
			for cut := 0; cut <= len(full); cut++ {
				r, err := NewReader("cut.pcap", bytes.NewReader(full[:cut]), Options{})
				if err != nil {
					fileError(t, err)
					if cut >= 32 && !f.opts.Gzip {
						t.Errorf("cut %d: NewReader: %v", cut, err)
					}
					continue
				}
				var segs []reassembly.Segment
				for {
					var s reassembly.Segment
					if err = r.Next(&s); err != nil {
						break
					}
					s.Payload = append([]byte(nil), s.Payload...)
					segs = append(segs, s)
				}
				if len(segs) > len(want) {
					t.Fatalf("cut %d: got %d segments, want at most %d", cut, len(segs), len(want))
				}
				compareSegs(t, segs, want[:len(segs)])
				if f.opts.Gzip {
					if cut == len(full) {
						wantEOF(t, err)
					} else if fe := fileError(t, err); !errors.Is(fe, ErrTruncated) || fe.Offset > int64(len(raw)) {
						t.Errorf("cut %d: got %v, want truncated at a plausible offset", cut, err)
					}
					continue
				}
				if n, ok := ends[cut]; ok {
					if err != io.EOF || len(segs) != n {
						t.Errorf("cut %d (boundary): got %d segments, error %v, want %d, io.EOF", cut, len(segs), err, n)
					}
					continue
				}
				unit := 0
				for _, s := range starts {
					if s < cut {
						unit = s
					}
				}
				fe := fileError(t, err)
				if !errors.Is(err, ErrTruncated) || fe.Offset != int64(unit) {
					t.Errorf("cut %d: got %v, want truncated at byte %d", cut, err, unit)
				}
			}
		})
	}
}

func TestTruncatedMessage(t *testing.T) {
	data := mustCapture(t, pcapgen.Options{LinkType: pcapgen.LinkEthernet}, smallConversation())
	_, _, err := readAll(t, data[:len(data)-3], Options{})
	want := "capture: test.pcap: truncated packet record at byte 385"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}
