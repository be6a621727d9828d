// Package freelist keeps values of ended connections for reuse, so that connections
// coming and going allocate nothing in the steady state.
package freelist

// List is a stack of values for reuse. The zero List is empty and ready.
type List[T any] struct{ free []*T }

// Get returns a kept value, or a new zero one when none is kept.
func (l *List[T]) Get() *T {
	if n := len(l.free); n > 0 {
		v := l.free[n-1]
		l.free[n-1] = nil
		l.free = l.free[:n-1]
		return v
	}
	return new(T)
}

// Put keeps v, which the caller has reset, unless v is nil or max values are kept.
func (l *List[T]) Put(v *T, max int) {
	if v != nil && len(l.free) < max {
		l.free = append(l.free, v)
	}
}

// Len returns how many values are kept.
func (l *List[T]) Len() int { return len(l.free) }
