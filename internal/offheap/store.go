// Package offheap keeps byte records outside the Go heap: the packed state of sleeping
// connections, hundreds of thousands of them on a busy capture, which the garbage
// collector then neither scans nor counts towards its heap goal (which would let garbage
// grow to as much again).
package offheap

// classes are the slot sizes, about 1.4x apart: a record wastes at most a third of its
// slot. A record is kept in the smallest that holds it and its length.
var classes = [...]int{64, 96, 128, 192, 256, 384, 512, 768, 1024}

// MaxRecord is the longest record a Store keeps.
const MaxRecord = 1024 - 2

// pageBytes is the size of a page of slots, mapped at once.
const pageBytes = 64 << 10

// Handle names a record of a Store; 0 is none.
type Handle uint32

// Store is a set of byte records in pages mapped outside the Go heap (on the heap where
// mapping is not available). The zero Store is empty and ready. It is not safe for
// concurrent use.
type Store struct {
	c     [len(classes)]class
	bytes int64 // slot bytes in use
}

// class is the slots of one size: pages, the slots freed for reuse, and how many of the
// last page's slots were handed out.
type class struct {
	pages [][]byte
	free  []uint32 // slot indices (0-based) freed
	used  uint32   // slots handed out from the pages
}

// slotBits is how many bits of a Handle are the slot index (the rest is the class).
const slotBits = 28

// Put keeps a copy of b and returns its Handle, or 0 when b is longer than MaxRecord.
func (s *Store) Put(b []byte) Handle {
	k := 0
	for k < len(classes) && classes[k] < len(b)+2 {
		k++
	}
	if k == len(classes) {
		return 0
	}
	c, size := &s.c[k], classes[k]
	var i uint32
	if n := len(c.free); n > 0 {
		i, c.free = c.free[n-1], c.free[:n-1]
	} else {
		per := uint32(pageBytes / size)
		if c.used == uint32(len(c.pages))*per {
			if c.used+per >= 1<<slotBits {
				return 0
			}
			c.pages = append(c.pages, mapPage())
		}
		i = c.used
		c.used++
	}
	slot := s.slot(k, i)
	slot[0], slot[1] = byte(len(b)), byte(len(b)>>8)
	copy(slot[2:], b)
	s.bytes += int64(size)
	return Handle(uint32(k+1)<<slotBits | i)
}

// slot returns slot i of class k.
func (s *Store) slot(k int, i uint32) []byte {
	size := classes[k]
	per := uint32(pageBytes / size)
	p := s.c[k].pages[i/per]
	at := int(i%per) * size
	return p[at : at+size : at+size]
}

func (s *Store) split(h Handle) (k int, i uint32) {
	return int(h>>slotBits) - 1, uint32(h) & (1<<slotBits - 1)
}

// Get returns the record of h, valid until h is freed. h must be a live Handle of s.
func (s *Store) Get(h Handle) []byte {
	k, i := s.split(h)
	slot := s.slot(k, i)
	n := int(slot[0]) | int(slot[1])<<8
	return slot[2 : 2+n]
}

// Free forgets the record of h, a live Handle of s.
func (s *Store) Free(h Handle) {
	k, i := s.split(h)
	s.c[k].free = append(s.c[k].free, i)
	s.bytes -= int64(classes[k])
}

// Bytes returns the size of the slots in use.
func (s *Store) Bytes() int64 { return s.bytes }

// Reset frees every record and unmaps the pages. Handles and records from Get must not
// be used afterwards.
func (s *Store) Reset() {
	for k := range s.c {
		for _, p := range s.c[k].pages {
			unmapPage(p)
		}
	}
	*s = Store{}
}
