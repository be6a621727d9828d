package freelist

import "testing"

func TestList(t *testing.T) {
	var l List[int]
	a := l.Get()
	if a == nil || *a != 0 {
		t.Fatalf("Get on an empty list: %v, want a new zero value", a)
	}
	*a = 7
	l.Put(a, 1)
	l.Put(new(int), 1) // past max: not kept
	l.Put(nil, 1)
	if l.Len() != 1 {
		t.Fatalf("%d kept, want 1", l.Len())
	}
	if b := l.Get(); b != a {
		t.Errorf("Get returned %p, want the kept %p", b, a)
	}
	if l.Len() != 0 {
		t.Errorf("%d kept after Get, want 0", l.Len())
	}
}
