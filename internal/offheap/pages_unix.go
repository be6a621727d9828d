//go:build unix

package offheap

import "syscall"

// mapPage maps a page of pageBytes outside the Go heap, or takes it from the heap if the
// mapping fails.
func mapPage() []byte {
	b, err := syscall.Mmap(-1, 0, pageBytes, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]byte, pageBytes)
	}
	return b
}

// unmapPage unmaps a page from mapPage.
func unmapPage(b []byte) {
	_ = syscall.Munmap(b) // a page from the heap is not mapped: EINVAL, and the collector frees it
}
