//go:build unix && !linux

package reassembly

const mapPopulate = 0
