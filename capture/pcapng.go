package capture

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"time"
)

// pcapng block types.
const (
	ngSHB = 0x0a0d0d0a // section header
	ngIDB = 1          // interface description
	ngOPB = 2          // obsolete packet block
	ngSPB = 3          // simple packet block
	ngEPB = 6          // enhanced packet block
	ngDSB = 10         // decryption secrets block

	ngByteOrderMagic = 0x1a2b3c4d
	maxInterfaces    = 4096
	// maxSecretsBlock is the largest decryption secrets block read (a key log of some
	// 300,000 TLS 1.3 connections); larger ones are counted in Stats.BadSecrets.
	maxSecretsBlock = 256 << 20
)

// SecretsTLSKeyLog is the secrets type of a pcapng decryption secrets block holding a TLS
// key log in the NSS format (SSLKEYLOGFILE), as editcap --inject-secrets tls writes it.
const SecretsTLSKeyLog = 0x544c534b // "TLSK"

// ngState is the state of the current pcapng section.
type ngState struct {
	be     bool
	ifaces []ngIface
}

// ngIface is one interface of the current section.
type ngIface struct {
	link    uint32
	snaplen uint32
	pow2    bool   // resolution is 2^-shift (else 10^-exp)
	shift   uint   // for pow2
	units   uint64 // units per second (10^exp) when !pow2
	offset  int64  // if_tsoffset, seconds
}

func isNGMagic(b []byte) bool { return binary.LittleEndian.Uint32(b) == ngSHB }

func (s *ngState) u16(b []byte) uint16 {
	if s.be {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (s *ngState) u32(b []byte) uint32 {
	if s.be {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// readSectionStart checks that the stream starts with a valid section header block; the
// block itself is consumed by nextNG.
func (r *Reader) readSectionStart() error {
	h, err := r.peek(12)
	if err != nil {
		return r.readErr(0, "section header block", len(h)+1, err)
	}
	if bom := binary.LittleEndian.Uint32(h[8:]); bom != ngByteOrderMagic && bom != 0x4d3c2b1a {
		return &FileError{File: r.name, Offset: 0,
			Err: fmt.Errorf("%w section header block (byte-order magic %08x)", ErrCorrupt, bom)}
	}
	return nil
}

// nextNG reads blocks until the next packet block.
func (r *Reader) nextNG(rec *record) error {
	for {
		start := r.off
		h, err := r.peek(8)
		if err != nil {
			return r.readErr(start, "block header", len(h), err)
		}
		typ := r.ngs.u32(h)
		if binary.LittleEndian.Uint32(h) == ngSHB {
			typ = ngSHB
			h, err = r.peek(12)
			if err != nil {
				return r.readErr(start, "section header block", len(h)+1, err)
			}
			switch binary.LittleEndian.Uint32(h[8:]) {
			case ngByteOrderMagic:
				r.ngs.be = false
			case 0x4d3c2b1a:
				r.ngs.be = true
			default:
				return &FileError{File: r.name, Offset: start,
					Err: fmt.Errorf("%w section header block (byte-order magic % x)", ErrCorrupt, h[8:12])}
			}
		}
		blen := r.ngs.u32(h[4:])
		if blen < 12 || blen%4 != 0 {
			return &FileError{File: r.name, Offset: start,
				Err: fmt.Errorf("%w block length %d (block type %#x)", ErrCorrupt, blen, typ)}
		}
		switch typ {
		case ngEPB, ngSPB, ngOPB, ngIDB, ngSHB, ngDSB:
		default:
			if err := r.discard(int64(blen)); err != nil {
				return r.readErr(start, "block", 1, err)
			}
			continue
		}
		if blen > bufSize {
			if typ == ngDSB {
				if err := r.largeSecretsBlock(start, blen); err != nil {
					return err
				}
				continue
			}
			r.skipBlock(typ, "pcapng block of %d bytes", blen)
			if err := r.discard(int64(blen)); err != nil {
				return r.readErr(start, "block", 1, err)
			}
			continue
		}
		b, err := r.peek(int(blen))
		if err != nil {
			return r.readErr(start, "block", len(b)+1, err)
		}
		if err := r.discard(int64(blen)); err != nil {
			return r.readErr(start, "block", 1, err)
		}
		body := b[8 : blen-4]
		if trail := r.ngs.u32(b[blen-4:]); trail != blen {
			r.skipBlock(typ, "pcapng trailing block length %d, leading %d", trail, blen)
			continue
		}
		switch typ {
		case ngSHB:
			r.ngs.ifaces = r.ngs.ifaces[:0]
		case ngIDB:
			r.ngs.addIface(r.ngs.parseIDB(body))
		case ngDSB:
			r.secretsBlock(body)
		default:
			r.stats.Packets++
			if r.packetBlock(typ, body, rec) {
				return nil
			}
		}
	}
}

// secretsBlock hands the secrets of a decryption secrets block body (secrets type,
// secrets length, the secrets padded to 4 bytes, options) to Options.Secrets.
func (r *Reader) secretsBlock(body []byte) {
	r.stats.SecretsBlocks++
	if len(body) < 8 {
		r.stats.BadSecrets++
		return
	}
	kind, n := r.ngs.u32(body), r.ngs.u32(body[4:])
	if uint64(n) > uint64(len(body)-8) {
		r.stats.BadSecrets++
		return
	}
	if kind != SecretsTLSKeyLog {
		r.stats.UnknownSecrets++
	}
	if r.secrets != nil {
		r.secrets(kind, body[8:8+n])
	}
}

// largeSecretsBlock reads a decryption secrets block of blen bytes (more than bufSize, a
// key log of more than a thousand or so connections), starting at offset start, into a
// buffer of its own; one over maxSecretsBlock is counted as bad and skipped. The buffer
// grows with the bytes actually read, so that a damaged length costs no more memory than
// the file holds.
func (r *Reader) largeSecretsBlock(start int64, blen uint32) error {
	if blen > maxSecretsBlock || r.secrets == nil {
		r.stats.SecretsBlocks++
		if h, _ := r.peek(12); blen > maxSecretsBlock {
			r.stats.BadSecrets++
		} else if len(h) == 12 && r.ngs.u32(h[8:]) != SecretsTLSKeyLog {
			r.stats.UnknownSecrets++ // nobody wants the secrets: the type is only counted
		}
		if err := r.discard(int64(blen)); err != nil {
			return r.readErr(start, "block", 1, err)
		}
		return nil
	}
	var b []byte
	for len(b) < int(blen) {
		step := min(int(blen)-len(b), bufSize)
		b = slices.Grow(b, step)
		n, err := io.ReadFull(r.br, b[len(b):len(b)+step])
		b = b[:len(b)+n]
		r.off += int64(n)
		if err != nil {
			return r.readErr(start, "block", len(b)+1, err)
		}
	}
	if r.ngs.u32(b[blen-4:]) != blen {
		r.stats.SecretsBlocks++
		r.stats.BadSecrets++
		return nil
	}
	r.secretsBlock(b[8 : blen-4])
	return nil
}

// skipBlock accounts for a section header, interface description or packet block that is
// not read (too large, or its two lengths differ). A section still starts, so that its
// interfaces are numbered from 0, and an interface still takes its number, with an unknown
// link type, so that the interfaces after it keep theirs; a packet is counted and skipped.
func (r *Reader) skipBlock(typ uint32, format string, args ...any) {
	switch typ {
	case ngSHB:
		r.ngs.ifaces = r.ngs.ifaces[:0]
	case ngIDB:
		r.ngs.addIface(unknownIface())
	case ngDSB:
		r.stats.SecretsBlocks++
		r.stats.BadSecrets++
	default:
		r.stats.Packets++
		r.skip(SkipBadRecord, format, args...)
	}
}

func (s *ngState) addIface(ifc ngIface) {
	if len(s.ifaces) < maxInterfaces {
		s.ifaces = append(s.ifaces, ifc)
	}
}

// unknownIface is an interface of an unknown link type and the default resolution
// (microseconds), which stands in for one whose description cannot be read.
func unknownIface() ngIface { return ngIface{link: 0xffffffff, units: 1e6} }

// parseIDB reads an interface description block body; a short one yields an interface
// with an unknown link type, so that later interface numbers stay right.
func (s *ngState) parseIDB(body []byte) ngIface {
	ifc := unknownIface()
	if len(body) < 8 {
		return ifc
	}
	ifc.link = uint32(s.u16(body))
	ifc.snaplen = s.u32(body[4:])
	opts := body[8:]
	for len(opts) >= 4 {
		code, n := s.u16(opts), int(s.u16(opts[2:]))
		if code == 0 || 4+n > len(opts) {
			break
		}
		v := opts[4 : 4+n]
		switch {
		case code == 9 && n >= 1: // if_tsresol
			if v[0]&0x80 != 0 {
				ifc.pow2, ifc.shift = true, uint(min(v[0]&0x7f, 63))
			} else {
				ifc.units = 1
				for range min(v[0], 19) {
					ifc.units *= 10
				}
			}
		case code == 14 && n >= 8: // if_tsoffset
			if s.be {
				ifc.offset = int64(binary.BigEndian.Uint64(v))
			} else {
				ifc.offset = int64(binary.LittleEndian.Uint64(v))
			}
		}
		opts = opts[4+(n+3)/4*4:]
	}
	return ifc
}

// time converts a pcapng timestamp to a time.
func (ifc *ngIface) time(ts uint64) time.Time {
	var sec, ns uint64
	if ifc.pow2 {
		sec = ts >> ifc.shift
		frac := ts & (1<<ifc.shift - 1)
		if ifc.shift > 0 {
			hi, lo := bits.Mul64(frac, 1e9)
			ns = hi<<(64-ifc.shift) | lo>>ifc.shift
		}
	} else {
		sec, ns = ts/ifc.units, ts%ifc.units
		hi, lo := bits.Mul64(ns, 1e9)
		ns, _ = bits.Div64(hi, lo, ifc.units)
	}
	return time.Unix(int64(sec)+ifc.offset, int64(ns)).UTC()
}

// packetBlock fills rec from an EPB, SPB or OPB body; it counts and skips bad blocks.
func (r *Reader) packetBlock(typ uint32, body []byte, rec *record) bool {
	s := &r.ngs
	var ifid, caplen, origlen uint32
	var ts uint64
	var data []byte
	switch typ {
	case ngSPB:
		if len(body) < 4 {
			r.skip(SkipBadRecord, "pcapng simple packet block too short (%d bytes)", len(body)+12)
			return false
		}
		origlen = s.u32(body)
		caplen = min(origlen, uint32(len(body)-4))
		if len(s.ifaces) > 0 && s.ifaces[0].snaplen > 0 {
			caplen = min(caplen, s.ifaces[0].snaplen)
		}
		data = body[4:]
	default: // EPB or OPB: same layout except a 16-bit interface ID in the OPB
		if len(body) < 20 {
			r.skip(SkipBadRecord, "pcapng packet block too short (%d bytes)", len(body)+12)
			return false
		}
		if typ == ngEPB {
			ifid = s.u32(body)
		} else {
			ifid = uint32(s.u16(body))
		}
		ts = uint64(s.u32(body[4:]))<<32 | uint64(s.u32(body[8:]))
		caplen, origlen = s.u32(body[12:]), s.u32(body[16:])
		data = body[20:]
	}
	if caplen > uint32(len(data)) || caplen > MaxRecordSize {
		r.skip(SkipBadRecord, "pcapng captured length %d past its block (%d bytes)", caplen, len(data))
		return false
	}
	if int(ifid) >= len(s.ifaces) {
		r.skip(SkipUnknownInterface, "pcapng packet on interface %d, section has %d", ifid, len(s.ifaces))
		return false
	}
	ifc := &s.ifaces[ifid]
	if origlen < caplen {
		origlen = caplen
	}
	rec.data = data[:caplen]
	rec.origLen = int(origlen)
	rec.ts = ifc.time(ts)
	if rec.ts.Before(MinTime) || rec.ts.After(MaxTime) {
		if r.stats.Clamped++; r.stats.Clamped == 1 {
			r.stats.FirstClamped = fmt.Sprintf("packet %d at %s", r.stats.Packets, rec.ts.Format(time.RFC3339Nano))
		}
		if rec.ts.Before(MinTime) {
			rec.ts = MinTime
		} else {
			rec.ts = MaxTime
		}
	}
	rec.link = ifc.link
	return true
}

// MinTime and MaxTime bound the packet times the reader returns: those a time in
// nanoseconds since 1970 can hold (Stats.Clamped).
var (
	MinTime = time.Unix(0, math.MinInt64).UTC()
	MaxTime = time.Unix(0, math.MaxInt64).UTC()
)
