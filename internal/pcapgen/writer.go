package pcapgen

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Format is a capture file format.
type Format uint8

// Capture file formats.
const (
	FormatPcap     Format = iota // pcap with microsecond timestamps
	FormatPcapNano               // pcap with nanosecond timestamps
	FormatPcapNG                 // pcapng
)

// DefaultSnaplen is the snapshot length used when none is given.
const DefaultSnaplen = 262144

// Interface describes one pcapng interface.
type Interface struct {
	LinkType LinkType
	// Snaplen is the interface's snapshot length; packets are cut to it. 0 means
	// DefaultSnaplen.
	Snaplen int
	// Nano writes if_tsresol=9 (nanosecond timestamps) instead of the default microseconds.
	Nano bool
}

// Options configure a Writer.
type Options struct {
	Format    Format
	BigEndian bool
	Gzip      bool
	// LinkType and Snaplen are the pcap file header's values; for pcapng they define the
	// single interface used when Interfaces is empty. Snaplen 0 means DefaultSnaplen.
	LinkType LinkType
	Snaplen  int
	// Interfaces are the pcapng interfaces of the first section.
	Interfaces []Interface
}

// byteOrder is binary.ByteOrder plus binary.AppendByteOrder.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// Writer writes packets to a capture file.
type Writer struct {
	w      io.Writer
	gz     *gzip.Writer
	opts   Options
	order  byteOrder
	ifaces []Interface
}

// NewWriter writes the file header (and for pcapng the first section header and interface
// descriptions) to w and returns a Writer for the packets.
func NewWriter(w io.Writer, opts Options) (*Writer, error) {
	wr := &Writer{w: w, opts: opts, order: binary.LittleEndian}
	if opts.BigEndian {
		wr.order = binary.BigEndian
	}
	if opts.Gzip {
		wr.gz = gzip.NewWriter(w)
		wr.w = wr.gz
	}
	if opts.Format == FormatPcapNG {
		ifaces := opts.Interfaces
		if len(ifaces) == 0 {
			ifaces = []Interface{{LinkType: opts.LinkType, Snaplen: opts.Snaplen}}
		}
		return wr, wr.NewSection(ifaces...)
	}
	h := make([]byte, 24)
	magic := uint32(0xa1b2c3d4)
	if opts.Format == FormatPcapNano {
		magic = 0xa1b23c4d
	}
	wr.order.PutUint32(h[0:], magic)
	wr.order.PutUint16(h[4:], 2)
	wr.order.PutUint16(h[6:], 4)
	wr.order.PutUint32(h[16:], uint32(snaplen(opts.Snaplen)))
	wr.order.PutUint32(h[20:], uint32(opts.LinkType))
	_, err := wr.w.Write(h)
	return wr, err
}

func snaplen(n int) int {
	if n <= 0 {
		return DefaultSnaplen
	}
	return n
}

// NewSection starts a new pcapng section (section header block plus one interface
// description block per interface); later packets refer to these interfaces.
func (w *Writer) NewSection(ifaces ...Interface) error {
	if w.opts.Format != FormatPcapNG {
		return errors.New("pcapgen: sections exist only in pcapng")
	}
	w.ifaces = append([]Interface(nil), ifaces...)
	shb := make([]byte, 16)
	w.order.PutUint32(shb[0:], 0x1a2b3c4d)
	w.order.PutUint16(shb[4:], 1)
	w.order.PutUint16(shb[6:], 0)
	binary.LittleEndian.PutUint64(shb[8:], ^uint64(0)) // section length unknown
	if err := w.block(0x0a0d0d0a, shb); err != nil {
		return err
	}
	for _, ifc := range ifaces {
		b := make([]byte, 8, 20)
		w.order.PutUint16(b[0:], uint16(ifc.LinkType))
		w.order.PutUint32(b[4:], uint32(snaplen(ifc.Snaplen)))
		if ifc.Nano {
			opt := make([]byte, 8)
			w.order.PutUint16(opt[0:], 9) // if_tsresol
			w.order.PutUint16(opt[2:], 1)
			opt[4] = 9
			b = append(b, opt...)
			b = append(b, 0, 0, 0, 0) // opt_endofopt
		}
		if err := w.block(1, b); err != nil {
			return err
		}
	}
	return nil
}

// Block writes a raw pcapng block with the given type and body (padded to 4 bytes); tests
// use it to add unknown or custom blocks.
func (w *Writer) Block(typ uint32, body []byte) error {
	if w.opts.Format != FormatPcapNG {
		return errors.New("pcapgen: blocks exist only in pcapng")
	}
	return w.block(typ, pad(body, 4, len(body)+3))
}

// SecretsTLSKeyLog is the secrets type of a decryption secrets block holding an NSS key log.
const SecretsTLSKeyLog = 0x544c534b // "TLSK"

// Secrets writes a pcapng decryption secrets block (type 0x0000000A) of secrets type kind
// holding data, padded to 4 bytes, as editcap --inject-secrets does.
func (w *Writer) Secrets(kind uint32, data []byte) error {
	if w.opts.Format != FormatPcapNG {
		return errors.New("pcapgen: secrets blocks exist only in pcapng")
	}
	b := make([]byte, 8, 8+len(data)+3)
	w.order.PutUint32(b[0:], kind)
	w.order.PutUint32(b[4:], uint32(len(data)))
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return w.block(10, b)
}

func (w *Writer) block(typ uint32, body []byte) error {
	n := uint32(12 + len(body))
	b := make([]byte, 0, n)
	b = w.order.AppendUint32(b, typ)
	b = w.order.AppendUint32(b, n)
	b = append(b, body...)
	b = w.order.AppendUint32(b, n)
	_, err := w.w.Write(b)
	return err
}

// Write writes one packet, cut to the snapshot length of its interface.
func (w *Writer) Write(p Packet) error {
	orig := p.OrigLen
	if orig == 0 {
		orig = len(p.Data)
	}
	if w.opts.Format != FormatPcapNG {
		data := p.Data[:min(len(p.Data), snaplen(w.opts.Snaplen))]
		h := make([]byte, 16, 16+len(data))
		frac := uint32(p.Time.Nanosecond() / 1000)
		if w.opts.Format == FormatPcapNano {
			frac = uint32(p.Time.Nanosecond())
		}
		w.order.PutUint32(h[0:], uint32(p.Time.Unix()))
		w.order.PutUint32(h[4:], frac)
		w.order.PutUint32(h[8:], uint32(len(data)))
		w.order.PutUint32(h[12:], uint32(orig))
		_, err := w.w.Write(append(h, data...))
		return err
	}
	if p.Iface < 0 || p.Iface >= len(w.ifaces) {
		return fmt.Errorf("pcapgen: packet on interface %d, section has %d", p.Iface, len(w.ifaces))
	}
	ifc := w.ifaces[p.Iface]
	data := p.Data[:min(len(p.Data), snaplen(ifc.Snaplen))]
	ts := uint64(p.Time.UnixMicro())
	if ifc.Nano {
		ts = uint64(p.Time.UnixNano())
	}
	b := make([]byte, 20, 20+len(data)+3)
	w.order.PutUint32(b[0:], uint32(p.Iface))
	w.order.PutUint32(b[4:], uint32(ts>>32))
	w.order.PutUint32(b[8:], uint32(ts))
	w.order.PutUint32(b[12:], uint32(len(data)))
	w.order.PutUint32(b[16:], uint32(orig))
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return w.block(6, b)
}

// WriteAll writes the packets in order.
func (w *Writer) WriteAll(pkts []Packet) error {
	for _, p := range pkts {
		if err := w.Write(p); err != nil {
			return err
		}
	}
	return nil
}

// Close finishes the gzip stream, if any. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.gz != nil {
		return w.gz.Close()
	}
	return nil
}

// Capture returns a whole capture file holding the packets of all lists, in order.
func Capture(opts Options, pkts ...[]Packet) ([]byte, error) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, opts)
	if err != nil {
		return nil, err
	}
	for _, l := range pkts {
		if err := w.WriteAll(l); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
