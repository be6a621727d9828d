//go:build !unix

package offheap

func mapPage() []byte { return make([]byte, pageBytes) }

func unmapPage([]byte) {}
