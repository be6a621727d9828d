// Package capture reads pcap and pcapng files (optionally gzip-compressed) and decodes the
// TCP segments in them, through Ethernet (VLAN, QinQ), Linux cooked v1/v2, raw IP and BSD
// loopback link layers, IPv4 options and fragments, IPv6 extension headers and fragments,
// and tunnels: VXLAN, VXLAN-GPE, Geneve, GRE (ERSPAN, PPTP, WCCP), IP in IP, EtherIP, GTP-U,
// MPLS, PPPoE, L2TPv2, NSH, 802.1ah and IPsec AH. An encapsulation it cannot look into
// (ESP, MACsec, L2TPv3, an unknown GRE protocol, a non-IP GTP-U payload, ...) is counted
// as SkipUnsupportedEncap, never dropped silently.
//
// Reader is a synchronous pull parser: Next returns one segment at a time, reusing its
// buffers, and allocates nothing per packet once warmed up. A segment's payload points
// into a read buffer, which a caller can retain to use the payload on another goroutine
// without copying it (see Reader.PayloadBuffer and Buffer). Malformed packets are skipped
// and counted in Stats; only damage that stops the file from being read (bad framing,
// truncation, decompression errors) is returned as a *FileError, after every packet before
// it. For gzip input, decompression runs ahead on a background goroutine (two 256 KiB
// chunks), which ends at the end of the input, at its first error, or once the Reader is
// garbage collected.
//
// The file formats are framed here rather than with gopacket's pcapgo (v1.7.7), whose
// errors carry no byte offset; which never checks a pcapng block's trailing length and,
// after an error inside a block (a packet on an unknown interface, a bad option), is left
// in the middle of it, so it cannot skip a damaged block and read on; which ends a pcap
// file at a record whose captured length exceeds its original length (some writers leave
// 0 there) and rejects versions other than 2.4; and which, for pcapng with more than one
// link type, drops the packets of the other link types or boxes each packet's link type
// into CaptureInfo.AncillaryData, an allocation per packet for link types from 256 on
// (Linux cooked v2). The decoders are hand-written instead of a DecodingLayerParser for
// the exact snapshot-length accounting (Segment.Missing: gopacket only flags a packet as
// truncated), for zero allocations per packet on every path, tunnels and IP fragment
// reassembly included (gopacket's ip4defrag and ip6defrag allocate every reassembled
// datagram), and for ERSPAN III, which gopacket lacks. capture's tests check both against
// gopacket wherever its decoders reach TCP (oracle_test.go).
// A Reader is not safe for concurrent use.
package capture

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/wsclosescan/wsclosescan/reassembly"
)

// Limits applied to every capture.
const (
	// MaxRecordSize is the largest captured packet length accepted (libpcap's maximum
	// snapshot length). Larger pcap records mean the framing is lost; larger pcapng packets
	// are skipped.
	MaxRecordSize = 262144
	// bufSize is the largest unit (pcap record or pcapng block) read whole, and so the
	// size of the read buffers that units larger than blockSize go through.
	bufSize = 1 << 20
	// gzipInputBuffer is the buffer of compressed input.
	gzipInputBuffer = 256 << 10
)

// Options configure a Reader. The zero value gives the defaults. There is no limit on the
// gzip expansion ratio: input is streamed through fixed buffers, so a gzip bomb only costs
// time.
type Options struct {
	// MaxFragmentBuffers bounds the number of IP datagrams being reassembled at once (each
	// buffer grows to at most 64 KiB). 0 means 64.
	MaxFragmentBuffers int
	// FragmentTimeout drops a partly reassembled datagram when this much capture time has
	// passed since its first fragment. 0 means 30 seconds.
	FragmentTimeout time.Duration
	// Secrets, when set, is called with the secrets of each pcapng Decryption Secrets Block,
	// during the call to Next that reads the block, so before any packet after it is
	// returned: kind is the secrets type (SecretsTLSKeyLog for a TLS key log; other types
	// are passed too, and counted in Stats.UnknownSecrets), data the secrets without the
	// block's padding. data is only valid during the call. Secrets stay secret: the
	// Reader neither keeps nor prints them.
	Secrets func(kind uint32, data []byte)
}

// Reader decodes TCP segments from a capture.
type Reader struct {
	name string
	br   *blockReader
	off  int64 // bytes consumed from br (offset in the uncompressed stream)
	err  error // sticky error returned by Next

	ng   bool // pcapng (else pcap)
	pcap pcapState
	ngs  ngState

	defrag    defragger
	seg       *reassembly.Segment // segment being filled by the decoders
	cut       bool                // current record was cut by the snapshot length
	defragged bool                // the segment's payload is in a fragment buffer
	stats     Stats
	skips     skipStats
	secrets   func(kind uint32, data []byte) // Options.Secrets
}

// NewReader reads the file header from src and returns a Reader for the packets. The
// format (pcap with micro- or nanosecond timestamps in either byte order, pcapng, either
// of them gzip-compressed) is recognized from the first bytes; name is only used in errors.
func NewReader(name string, src io.Reader, opts Options) (*Reader, error) {
	r := &Reader{name: name, br: newBlockReader(src, bufferSize(src), blockSize), secrets: opts.Secrets}
	r.defrag.init(opts)
	magic, err := r.br.Peek(4)
	if len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		// The compressed bytes go through a bufio.Reader: the decompressor has a fast
		// path for it, and reads any other io.ByteReader a byte per interface call.
		var gz *gzip.Reader
		if gz, err = gzip.NewReader(bufio.NewReaderSize(r.br, gzipInputBuffer)); err != nil {
			return nil, r.readErr(-1, "gzip header", 0, err)
		}
		ra := newReadAhead(gz)
		ra.stopWith(r)
		r.br = newBlockReader(ra, bufSize, blockSize)
		magic, err = r.br.Peek(4)
	}
	if len(magic) < 4 {
		if len(magic) == 0 && err == io.EOF {
			return nil, &FileError{File: name, Offset: -1, Err: errors.New("empty file")}
		}
		return nil, r.readErr(0, "file header", len(magic), err)
	}
	switch {
	case isPcapMagic(magic):
		err = r.readPcapHeader()
	case isNGMagic(magic):
		r.ng = true
		err = r.readSectionStart()
	default:
		err = &FileError{File: name, Offset: -1,
			Err: fmt.Errorf("%w (starts with % x)", ErrNotCapture, magic)}
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Next decodes the next TCP segment into seg, overwriting all its fields. seg.Payload
// points into the Reader's buffers and stays valid until the next call. seg.Frame is the
// number of the packet record in the file, counting from 1 as Wireshark does (every
// record counts, TCP or not, malformed or not; a datagram reassembled from IP fragments
// has the number of the record that completed it). Packets without
// TCP and malformed packets are skipped and counted in Stats. Next returns io.EOF at the
// clean end of the capture (a cut exactly between two records looks the same) and a
// *FileError when the capture is damaged; once it returned an error it keeps returning it.
func (r *Reader) Next(seg *reassembly.Segment) error {
	r.seg = seg
	var rec record
	for r.err == nil {
		var err error
		if r.ng {
			err = r.nextNG(&rec)
		} else {
			err = r.nextPcap(&rec)
		}
		if err != nil {
			if err == io.EOF {
				r.defrag.flush(r)
			}
			r.err = err
			break
		}
		r.cut = len(rec.data) < rec.origLen
		r.defragged = false
		// Stats.Packets counts every packet record, as Wireshark numbers frames.
		*seg = reassembly.Segment{Time: rec.ts, Frame: uint64(r.stats.Packets)}
		switch r.link(rec.link, rec.data, 0) {
		case resTCP:
			r.stats.TCPSegments++
			if seg.Missing > 0 {
				r.stats.SnaplenCut++
			}
			return nil
		case resNonTCP:
			r.stats.NonTCP++
		}
	}
	return r.err
}

// PayloadBuffer returns the read buffer that the payload of the segment returned by the
// last call to Next points into, or nil when the payload is elsewhere (a datagram
// reassembled from IP fragments) or empty. Retaining the buffer (before the next call to
// Next) keeps the payload valid after that call, until the buffer is released, so that a
// caller can hand payloads to other goroutines without copying them.
func (r *Reader) PayloadBuffer() *Buffer {
	if r.defragged || r.seg == nil || len(r.seg.Payload) == 0 {
		return nil
	}
	return r.br.buffer()
}

// Stats returns the counts so far.
func (r *Reader) Stats() Stats {
	s := r.stats
	s.Skipped = r.skips.list()
	return s
}

// record is one packet record as framed by the file format.
type record struct {
	data    []byte
	origLen int
	ts      time.Time
	link    uint32
}

// bufferSize is bufSize, or less for an input of known smaller length (such as a
// bytes.Reader), where a unit larger than the buffer can only be truncated. Units are
// peeked whole, so a buffer must hold the largest: a pcap record of MaxRecordSize plus
// its header, a pcapng block of up to bufSize.
func bufferSize(src io.Reader) int {
	if l, ok := src.(interface{ Len() int }); ok && l.Len()+16 < bufSize {
		return l.Len() + 16
	}
	return bufSize
}

// peek returns the next n bytes (n <= bufSize) without consuming them. A unit larger than
// a reduced buffer (see bufferSize) is reported as truncated.
func (r *Reader) peek(n int) ([]byte, error) {
	if n > r.br.Size() {
		b, _ := r.br.Peek(r.br.Size())
		return b, io.ErrUnexpectedEOF
	}
	b, err := r.br.Peek(n)
	if len(b) == n {
		return b, nil
	}
	return b, err
}

// discard consumes n bytes, which may exceed the buffer size.
func (r *Reader) discard(n int64) error {
	for n > 0 {
		step := int(min(n, bufSize))
		d, err := r.br.Discard(step)
		r.off += int64(d)
		n -= int64(d)
		if err != nil {
			return err
		}
	}
	return nil
}

// readErr turns a failed read of the unit what, starting at offset off, into a FileError.
// got is the number of bytes of the unit that were available.
func (r *Reader) readErr(off int64, what string, got int, err error) error {
	switch {
	case err == io.EOF && got == 0:
		return io.EOF
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return &FileError{File: r.name, Offset: off, Err: fmt.Errorf("%w %s", ErrTruncated, what)}
	case err == nil:
		err = io.ErrNoProgress
	}
	return &FileError{File: r.name, Offset: off, Err: fmt.Errorf("reading %s: %w", what, err)}
}
