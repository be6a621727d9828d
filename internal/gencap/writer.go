package gencap

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"io"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
)

// recordWriter writes packet records (pcap or pcapng, microsecond timestamps, Ethernet)
// through a large buffer, optionally gzip-compressed. The file header comes from pcapgen.
type recordWriter struct {
	bw    *bufio.Writer
	gz    *gzip.Writer
	ng    bool
	hdr   []byte  // scratch: record header plus packet headers
	tail  [8]byte // scratch: pcapng padding and trailing length
	bytes int64   // uncompressed bytes written
}

// writeBufSize is the size of the output buffer.
const writeBufSize = 1 << 20

func newRecordWriter(w io.Writer, format Format, compress bool) (*recordWriter, error) {
	rw := &recordWriter{ng: format == FormatPcapNG, hdr: make([]byte, 0, 256)}
	var dst io.Writer = w
	if compress {
		gz, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
		if err != nil {
			return nil, err
		}
		rw.gz, dst = gz, gz
	}
	rw.bw = bufio.NewWriterSize(dst, writeBufSize)
	pf := pcapgen.FormatPcap
	if rw.ng {
		pf = pcapgen.FormatPcapNG
	}
	cw := &countWriter{w: rw.bw}
	if _, err := pcapgen.NewWriter(cw, pcapgen.Options{Format: pf, LinkType: pcapgen.LinkEthernet}); err != nil {
		return nil, err
	}
	rw.bytes = cw.n
	return rw, nil
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// write writes one packet: s's headers and payload, captured at usec microseconds since
// the Unix epoch.
func (rw *recordWriter) write(usec int64, s *seg) error {
	b := rw.hdr[:0]
	recHdr := 16
	if rw.ng {
		recHdr = 28
	}
	var zero [28]byte
	b = append(b, zero[:recHdr]...)
	b = encodeHeaders(b, s)
	n := len(b) - recHdr + len(s.payload)
	le := binary.LittleEndian
	if rw.ng {
		pad := (4 - n%4) % 4
		total := uint32(28 + n + pad + 4)
		le.PutUint32(b[0:], 6)
		le.PutUint32(b[4:], total)
		le.PutUint32(b[8:], 0)
		le.PutUint32(b[12:], uint32(uint64(usec)>>32))
		le.PutUint32(b[16:], uint32(usec))
		le.PutUint32(b[20:], uint32(n))
		le.PutUint32(b[24:], uint32(n))
		rw.hdr = b
		if err := rw.out(b, s.payload); err != nil {
			return err
		}
		t := rw.tail[:pad+4]
		clear(t[:pad])
		le.PutUint32(t[pad:], total)
		_, err := rw.bw.Write(t)
		rw.bytes += int64(len(t))
		return err
	}
	le.PutUint32(b[0:], uint32(usec/1e6))
	le.PutUint32(b[4:], uint32(usec%1e6))
	le.PutUint32(b[8:], uint32(n))
	le.PutUint32(b[12:], uint32(n))
	rw.hdr = b
	return rw.out(b, s.payload)
}

func (rw *recordWriter) out(hdr, payload []byte) error {
	if _, err := rw.bw.Write(hdr); err != nil {
		return err
	}
	_, err := rw.bw.Write(payload)
	rw.bytes += int64(len(hdr) + len(payload))
	return err
}

// close flushes the buffer and finishes the gzip stream; it does not close the destination.
func (rw *recordWriter) close() error {
	if err := rw.bw.Flush(); err != nil {
		return err
	}
	if rw.gz != nil {
		return rw.gz.Close()
	}
	return nil
}
