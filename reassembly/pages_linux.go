//go:build linux

package reassembly

import "syscall"

// mapPopulate asks the kernel to fault a page's memory in at once: one call instead of
// a fault per 4 KiB page on first touch, which cost most of the time to take a SYN.
const mapPopulate = syscall.MAP_POPULATE
