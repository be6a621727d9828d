package capture

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/reassembly"
)

// chunkReader returns the data in reads of random sizes, some of them empty, then err.
type chunkReader struct {
	data []byte
	rng  *rand.Rand
	err  error
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, c.err
	}
	n := min(len(p), len(c.data), c.rng.IntN(300))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// TestBlockReaderStream: random sequences of Peek, Discard and Read calls return
// the bytes of the source in order, and at its end the errors bufio.Reader returns, with
// sources that return short, empty and failing reads, while some of the buffers handed
// out are retained (which makes blockReader move to fresh buffers instead of sliding).
// Read may return fewer bytes than bufio would: bufio slides its buffer on every fill,
// blockReader only when it lacks room.
func TestBlockReaderStream(t *testing.T) {
	errBroken := errors.New("broken pipe")
	sources := []struct {
		name  string
		mk    func(data []byte, rng *rand.Rand) io.Reader
		empty bool  // the source never returns data
		end   error // what the source returns once drained
	}{
		{"chunks then EOF", func(d []byte, rng *rand.Rand) io.Reader { return &chunkReader{d, rng, io.EOF} }, false, io.EOF},
		{"chunks then error", func(d []byte, rng *rand.Rand) io.Reader { return &chunkReader{d, rng, errBroken} }, false, errBroken},
		{"one byte", func(d []byte, _ *rand.Rand) io.Reader { return iotest.OneByteReader(bytes.NewReader(d)) }, false, io.EOF},
		{"data with EOF", func(d []byte, _ *rand.Rand) io.Reader { return iotest.DataErrReader(bytes.NewReader(d)) }, false, io.EOF},
		{"empty reads", func([]byte, *rand.Rand) io.Reader { return emptyReads{} }, true, io.ErrNoProgress},
	}
	const size = 256
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			for seed := range uint64(60) {
				rng := rand.New(rand.NewPCG(seed, 1))
				data := make([]byte, 2000+rng.IntN(3000))
				for i := range data {
					data[i] = byte(rng.IntN(256))
				}
				// Pooled buffers of the full size, or smaller ones with large ones for
				// longer units.
				block := []int{size, 64, 200}[seed%3]
				br := newBlockReader(src.mk(data, rand.New(rand.NewPCG(seed, 2))), size, block)
				if src.empty {
					data = nil
				}
				pos := 0
				var held []*Buffer
				var heldBytes [][]byte
				for step := 0; step < 500; step++ {
					rem := data[pos:]
					fail := func(format string, args ...any) {
						t.Helper()
						t.Fatalf("seed %d step %d (at %d of %d): "+format, append([]any{seed, step, pos, len(data)}, args...)...)
					}
					switch op := rng.IntN(3); op {
					case 0:
						n := rng.IntN(size + 20)
						b, err := br.Peek(n)
						want, wantErr := rem[:min(n, len(rem), size)], error(nil)
						switch {
						case n > size:
							wantErr = bufio.ErrBufferFull
						case len(rem) < n:
							wantErr = src.end
						}
						if !bytes.Equal(b, want) || err != wantErr {
							fail("Peek(%d) = %d bytes, %v; want %d bytes, %v", n, len(b), err, len(want), wantErr)
						}
						if rng.IntN(3) == 0 && len(b) > 0 {
							buf := br.buffer()
							buf.Retain()
							held, heldBytes = append(held, buf), append(heldBytes, b)
						}
					case 1:
						n := rng.IntN(600)
						got, err := br.Discard(n)
						want, wantErr := min(n, len(rem)), error(nil)
						if len(rem) < n {
							wantErr = src.end
						}
						if got != want || err != wantErr {
							fail("Discard(%d) = %d, %v; want %d, %v", n, got, err, want, wantErr)
						}
						pos += got
					case 2:
						p := make([]byte, rng.IntN(2*size))
						n, err := br.Read(p)
						switch {
						case n > 0 && (!bytes.Equal(p[:n], rem[:n]) || err != nil && (err != src.end || n != len(rem))):
							fail("Read(%d) = %d bytes, %v; want the next bytes", len(p), n, err)
						case n == 0 && err != nil && (len(rem) > 0 || err != src.end && err != io.ErrNoProgress):
							fail("Read(%d) = 0, %v with %d bytes left", len(p), err, len(rem))
						}
						pos += n
					}
				}
				for i, b := range held {
					if !bytes.Contains(data, heldBytes[i]) {
						t.Fatalf("seed %d: retained bytes changed", seed)
					}
					b.Release()
				}
			}
		})
	}
}

type emptyReads struct{}

func (emptyReads) Read([]byte) (int, error) { return 0, nil }

// TestRetainedPayloadSurvivesLaterReads: a payload whose buffer is retained keeps its
// bytes while the reader goes on through the rest of the capture (which makes it reuse
// and refill buffers), and buffers released are reused rather than allocated anew.
func TestRetainedPayloadSurvivesLaterReads(t *testing.T) {
	data := captureOfPayloads(t, 400, 1500)
	r, err := NewReader("p.pcap", onlyReader{bytes.NewReader(data)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.br = newBlockReader(r.br, 16<<10, 4<<10) // small buffers, so that the capture spans many
	type kept struct {
		buf     *Buffer
		payload []byte
		want    byte
	}
	var all []kept
	for i := 0; ; i++ {
		var seg segment
		if err := r.Next(&seg); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if len(seg.Payload) == 0 {
			if r.PayloadBuffer() != nil {
				t.Fatalf("segment %d: a payload buffer for an empty payload", i)
			}
			continue
		}
		b := r.PayloadBuffer()
		if b == nil {
			t.Fatalf("segment %d: no payload buffer", i)
		}
		b.Retain()
		all = append(all, kept{b, seg.Payload, seg.Payload[0]})
		if len(all) > 20 { // release the oldest, as a pipeline would
			k := all[0]
			checkPayload(t, k.payload, k.want)
			k.buf.Release()
			all = all[1:]
		}
	}
	for _, k := range all {
		checkPayload(t, k.payload, k.want)
		k.buf.Release()
	}
	if n := r.Stats().TCPSegments; n != 403 {
		t.Errorf("read %d segments, want 403 (handshake and 400 data segments)", n)
	}
}

func checkPayload(t *testing.T, p []byte, want byte) {
	t.Helper()
	for _, c := range p {
		if c != want {
			t.Fatalf("a retained payload changed: byte %#x, want %#x", c, want)
		}
	}
}

// onlyReader hides the Len method of a bytes.Reader, so that NewReader uses its normal
// buffer size.
type onlyReader struct{ io.Reader }

type segment = reassembly.Segment

// captureOfPayloads returns a pcap of one connection's n data segments of size bytes,
// segment i's payload being the byte i%256 repeated.
func captureOfPayloads(t *testing.T, n, size int) []byte {
	t.Helper()
	c := pcapgen.NewConn(client4, server4)
	pkts := c.Handshake()
	for i := range n {
		pkts = append(pkts, c.Send(reassembly.ClientToServer, bytes.Repeat([]byte{byte(i)}, size))...)
	}
	return mustCapture(t, pcapgen.Options{LinkType: pcapgen.LinkEthernet}, pkts)
}

// TestLargeRecordsAcrossBuffers: records larger than a pooled buffer (a 200 KB frame, as
// a capture of jumbo frames or a padded record has) go through a buffer of the full size
// and back, in pcap and pcapng, with every payload retained and intact at the end.
func TestLargeRecordsAcrossBuffers(t *testing.T) {
	for _, format := range []pcapgen.Format{pcapgen.FormatPcap, pcapgen.FormatPcapNG} {
		c := pcapgen.NewConn(client4, server4)
		pkts := c.Handshake()
		var want [][]byte
		for i, size := range []int{1000, 60000, 1400, 3000, 100, 50000} {
			p := bytes.Repeat([]byte{byte('a' + i)}, size)
			seg := c.Send(reassembly.ClientToServer, p)
			if i == 2 || i == 4 {
				// Trailing bytes after the IP datagram: the record grows past a pooled
				// buffer; the segment does not change.
				seg[0].Data = append(seg[0].Data, make([]byte, 200_000)...)
			}
			pkts = append(pkts, seg...)
			want = append(want, p)
		}
		data := mustCapture(t, pcapgen.Options{Format: format, LinkType: pcapgen.LinkEthernet}, pkts)
		r, err := NewReader("big", onlyReader{bytes.NewReader(data)}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got [][]byte
		var held []*Buffer
		for {
			var seg segment
			if err := r.Next(&seg); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("format %v: %v", format, err)
			}
			if len(seg.Payload) == 0 {
				continue
			}
			b := r.PayloadBuffer()
			b.Retain()
			held = append(held, b)
			got = append(got, seg.Payload)
		}
		if len(got) != len(want) {
			t.Fatalf("format %v: got %d payloads, want %d", format, len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("format %v: payload %d (%d bytes) changed or was misread", format, i, len(want[i]))
			}
		}
		for _, b := range held {
			b.Release()
		}
	}
}
