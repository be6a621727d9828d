package capture

import (
	"encoding/binary"
	"fmt"
	"time"
)

// pcap magic numbers as read in little-endian order.
const (
	pcapMagicMicro   = 0xa1b2c3d4
	pcapMagicNano    = 0xa1b23c4d
	pcapMagicMicroBE = 0xd4c3b2a1
	pcapMagicNanoBE  = 0x4d3cb2a1
)

// pcapState is the pcap file header's information.
type pcapState struct {
	be   bool
	nano bool
	link uint32
}

func isPcapMagic(b []byte) bool {
	switch binary.LittleEndian.Uint32(b) {
	case pcapMagicMicro, pcapMagicNano, pcapMagicMicroBE, pcapMagicNanoBE:
		return true
	}
	return false
}

func (p *pcapState) u32(b []byte) uint32 {
	if p.be {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// readPcapHeader reads the 24-byte pcap file header.
func (r *Reader) readPcapHeader() error {
	h, err := r.peek(24)
	if err != nil {
		return r.readErr(0, "file header", len(h)+1, err)
	}
	switch binary.LittleEndian.Uint32(h) {
	case pcapMagicMicro:
	case pcapMagicNano:
		r.pcap.nano = true
	case pcapMagicMicroBE:
		r.pcap.be = true
	case pcapMagicNanoBE:
		r.pcap.be, r.pcap.nano = true, true
	}
	// The snapshot length (h[16:20]) is not trusted: writers such as dpkt exceed it, so
	// records are accepted up to MaxRecordSize like tcpdump and Wireshark do.
	// The low 16 bits are the link type; the upper ones carry FCS information.
	r.pcap.link = r.pcap.u32(h[20:]) & 0xffff
	return r.discard(24)
}

// nextPcap frames the next pcap record.
func (r *Reader) nextPcap(rec *record) error {
	start := r.off
	h, err := r.peek(16)
	if err != nil {
		return r.readErr(start, "packet record", len(h), err)
	}
	sec, frac := r.pcap.u32(h[0:]), r.pcap.u32(h[4:])
	caplen, origlen := r.pcap.u32(h[8:]), r.pcap.u32(h[12:])
	if caplen > MaxRecordSize {
		return &FileError{File: r.name, Offset: start,
			Err: fmt.Errorf("%w packet record header (captured length %d)", ErrCorrupt, caplen)}
	}
	b, err := r.peek(16 + int(caplen))
	if err != nil {
		return r.readErr(start, "packet record", len(b)+1, err)
	}
	if err := r.discard(16 + int64(caplen)); err != nil {
		return r.readErr(start, "packet record", 1, err)
	}
	r.stats.Packets++
	if origlen < caplen {
		// Some writers leave 0 or a short length here; the captured bytes are what we have.
		origlen = caplen
	}
	ns := int64(frac)
	if !r.pcap.nano {
		ns *= 1000
	}
	rec.data = b[16:]
	rec.origLen = int(origlen)
	rec.ts = time.Unix(int64(sec), ns).UTC()
	rec.link = r.pcap.link
	return nil
}
