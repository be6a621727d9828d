//go:build !unix

package reassembly

func newHalfPage() *[halfPage]halfOpen { return new([halfPage]halfOpen) }

func freeHalfPage(*[halfPage]halfOpen) {}
