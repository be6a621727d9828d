package capture

import (
	"encoding/binary"
	"net/netip"
	"time"
)

const (
	maxDatagram      = 65535 // largest reassembled IP payload
	maxFragRanges    = 64    // distinct byte ranges (holes+1) tracked per datagram
	defaultFragBufs  = 64
	defaultFragAfter = 30 * time.Second
)

// fragKey identifies the fragments of one datagram (RFC 791, RFC 8200).
type fragKey struct {
	src, dst [16]byte
	id       uint32
	proto    uint8 // IPv4 protocol; 0 for IPv6
	v6       bool
}

type fragRange struct{ lo, hi int }

// fragEntry is one datagram being reassembled. Its buffer is allocated on first use and
// kept for the next datagram.
type fragEntry struct {
	key   fragKey
	used  bool
	busy  bool // its payload is being decoded; don't evict
	first bool // the offset-0 fragment arrived (next is valid)
	next  uint8
	start time.Time
	total int // payload length, -1 until the last fragment arrives
	buf   []byte
	rs    [maxFragRanges]fragRange // received ranges, sorted and merged
	n     int
}

// defragger reassembles IPv4 and IPv6 fragments in a fixed number of buffers.
type defragger struct {
	entries []fragEntry
	timeout time.Duration
}

func (d *defragger) init(o Options) {
	n := o.MaxFragmentBuffers
	if n <= 0 {
		n = defaultFragBufs
	}
	d.entries = make([]fragEntry, n)
	d.timeout = o.FragmentTimeout
	if d.timeout <= 0 {
		d.timeout = defaultFragAfter
	}
}

// fragment4 stores an IPv4 fragment and decodes the datagram once complete.
func (r *Reader) fragment4(b []byte, hl, total int, src, dst netip.Addr, proto uint8, fo uint16, depth int) result {
	r.stats.Fragments++
	if total > len(b) {
		r.skip(SkipBadFragment, "IPv4 fragment cut by snapshot length")
		return resSkipped
	}
	k := fragKey{id: uint32(binary.BigEndian.Uint16(b[4:])), proto: proto}
	copy(k.src[:], b[12:16])
	copy(k.dst[:], b[16:20])
	return r.addFragment(k, int(fo&0x1fff)*8, fo&0x2000 != 0, b[hl:total], proto, src, dst, depth)
}

// fragment6 stores an IPv6 fragment (fragment header fh, fragment data, wire its length
// per the IPv6 header) and decodes the datagram once complete.
func (r *Reader) fragment6(src, dst netip.Addr, fh, data []byte, wire, depth int) result {
	r.stats.Fragments++
	if wire > len(data) {
		r.skip(SkipBadFragment, "IPv6 fragment cut by snapshot length")
		return resSkipped
	}
	fo := binary.BigEndian.Uint16(fh[2:])
	k := fragKey{id: binary.BigEndian.Uint32(fh[4:]), src: src.As16(), dst: dst.As16(), v6: true}
	return r.addFragment(k, int(fo>>3)*8, fo&1 != 0, data[:wire], fh[0], src, dst, depth)
}

func (r *Reader) addFragment(k fragKey, off int, more bool, data []byte, next uint8, src, dst netip.Addr, depth int) result {
	d := &r.defrag
	d.expire(r, r.seg.Time)
	end := off + len(data)
	if end > maxDatagram {
		r.skip(SkipBadFragment, "fragment ends at byte %d, past 64 KiB", end)
		return resSkipped
	}
	e := d.find(k)
	if e == nil {
		if e = d.alloc(r); e == nil {
			r.skip(SkipBadFragment, "fragment buffers all in use")
			return resSkipped
		}
		*e = fragEntry{key: k, used: true, start: r.seg.Time, total: -1, buf: e.buf}
		if e.buf == nil {
			e.buf = make([]byte, maxDatagram)
		}
	}
	if !more {
		if e.total >= 0 && e.total != end || e.n > 0 && e.rs[e.n-1].hi > end {
			r.skip(SkipBadFragment, "fragments disagree on the datagram length")
			e.used = false
			return resSkipped
		}
		e.total = end
	} else if e.total >= 0 && end > e.total {
		r.skip(SkipBadFragment, "fragment past the end of its datagram")
		e.used = false
		return resSkipped
	}
	if off == 0 {
		e.first, e.next = true, next
	}
	copy(e.buf[off:end], data)
	if !e.insert(off, end) {
		r.skip(SkipBadFragment, "more than %d fragment ranges in a datagram", maxFragRanges)
		e.used = false
		return resSkipped
	}
	if !e.first || e.total < 0 || e.n != 1 || e.rs[0] != (fragRange{0, e.total}) {
		return resPending
	}
	r.stats.Reassembled++
	e.busy = true
	r.defragged = true
	var res result
	if k.v6 {
		res = r.ipv6Chain(src, dst, e.next, e.buf[:e.total], e.total, depth)
	} else {
		res = r.transport(src, dst, e.next, e.buf[:e.total], e.total, depth)
	}
	e.busy, e.used = false, false
	return res
}

// insert records that [lo, hi) was received, merging with touching ranges.
func (e *fragEntry) insert(lo, hi int) bool {
	i := 0
	for i < e.n && e.rs[i].hi < lo {
		i++
	}
	j := i
	for j < e.n && e.rs[j].lo <= hi {
		lo, hi = min(lo, e.rs[j].lo), max(hi, e.rs[j].hi)
		j++
	}
	if i == j {
		if e.n == maxFragRanges {
			return false
		}
		copy(e.rs[i+1:e.n+1], e.rs[i:e.n])
		e.n++
	} else {
		copy(e.rs[i+1:], e.rs[j:e.n])
		e.n -= j - i - 1
	}
	e.rs[i] = fragRange{lo, hi}
	return true
}

func (d *defragger) find(k fragKey) *fragEntry {
	for i := range d.entries {
		if e := &d.entries[i]; e.used && e.key == k {
			return e
		}
	}
	return nil
}

// alloc returns a free entry, evicting the oldest idle one if needed (counted).
func (d *defragger) alloc(r *Reader) *fragEntry {
	var oldest *fragEntry
	for i := range d.entries {
		e := &d.entries[i]
		if !e.used {
			return e
		}
		if !e.busy && (oldest == nil || e.start.Before(oldest.start)) {
			oldest = e
		}
	}
	if oldest != nil {
		r.skip(SkipFragmentTimeout, "fragment buffers full, dropped the oldest datagram")
		oldest.used = false
	}
	return oldest
}

// expire drops datagrams whose first fragment is older than the timeout at time t.
func (d *defragger) expire(r *Reader, t time.Time) {
	for i := range d.entries {
		e := &d.entries[i]
		if e.used && !e.busy && t.Sub(e.start) > d.timeout {
			r.skip(SkipFragmentTimeout, "fragments missing after %v", d.timeout)
			e.used = false
		}
	}
}

// flush counts the datagrams still incomplete at the end of the capture.
func (d *defragger) flush(r *Reader) {
	for i := range d.entries {
		if e := &d.entries[i]; e.used {
			r.skip(SkipFragmentTimeout, "fragmented datagram incomplete at the end of the capture")
			e.used = false
		}
	}
}
