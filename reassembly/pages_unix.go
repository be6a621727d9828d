//go:build unix

package reassembly

import (
	"syscall"
	"unsafe"
)

// newHalfPage maps a page of the half-open table outside the Go heap: a SYN flood's
// millions of entries then neither count towards the garbage collector's heap goal (which
// would let transient garbage grow to as much again) nor get scanned. halfOpen holds no
// pointers, so the collector need not see them. It falls back to the heap if the mapping
// fails.
func newHalfPage() *[halfPage]halfOpen {
	size := int(unsafe.Sizeof([halfPage]halfOpen{}))
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE|mapPopulate)
	if err != nil {
		return new([halfPage]halfOpen)
	}
	return (*[halfPage]halfOpen)(unsafe.Pointer(unsafe.SliceData(b)))
}

// freeHalfPage unmaps a page from newHalfPage; it must not be used afterwards.
func freeHalfPage(p *[halfPage]halfOpen) {
	size := int(unsafe.Sizeof(*p))
	b := unsafe.Slice((*byte)(unsafe.Pointer(p)), size)
	_ = syscall.Munmap(b) // a page from the heap fallback is not mapped: EINVAL, and the GC frees it
}
