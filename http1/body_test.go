package http1

import "testing"

// skipAll feeds data to b in chunks of k bytes and returns the bytes consumed and the
// state when it stopped.
func skipAll(b Body, data string, k int) (int, BodyState) {
	total := 0
	for total < len(data) {
		chunk := data[total:min(total+k, len(data))]
		n, st := b.Skip([]byte(chunk))
		total += n
		if st != BodyMore {
			return total, st
		}
	}
	return total, BodyMore
}

func TestBodySkip(t *testing.T) {
	tests := []struct {
		name  string
		body  Body
		data  string
		wantN int
		want  BodyState
	}{
		{"length", LengthBody(5), "hello, next", 5, BodyDone},
		{"length, short", LengthBody(5), "hel", 3, BodyMore},
		{"chunked", ChunkedBody(), "4\r\nGET \r\n3;x=y\r\nabc\r\n0\r\n\r\nnext", 26, BodyDone},
		{"chunked, hex and trailer", ChunkedBody(), "A\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\nnext", 28, BodyDone},
		{"chunked, bare LF", ChunkedBody(), "2\nhi\n0\n\nnext", 8, BodyDone},
		{"chunked, unfinished", ChunkedBody(), "5\r\nhel", 6, BodyMore},
		{"chunked, bad size", ChunkedBody(), "4\r\nabcd\r\nzz\r\n", 10, BodyMalformed},
		{"chunked, size overflow", ChunkedBody(), "fffffffffffff\r\n", 12, BodyMalformed},
	}
	for _, tt := range tests {
		for _, k := range []int{1, 2, 7, len(tt.data)} {
			n, st := skipAll(tt.body, tt.data, k)
			if n != tt.wantN || st != tt.want {
				t.Errorf("%s in chunks of %d: got %d bytes, state %d; want %d, %d", tt.name, k, n, st, tt.wantN, tt.want)
			}
		}
	}
}

func TestBodySkipGap(t *testing.T) {
	b := LengthBody(10)
	if !b.SkipGap(4) || b.Done() || b.SkipGap(7) || !b.SkipGap(6) || !b.Done() {
		t.Errorf("length body: gaps inside it keep the framing, one past its end does not")
	}
	c := ChunkedBody()
	if c.SkipGap(1) {
		t.Errorf("chunked body: a gap in a chunk size line loses the framing")
	}
	if n, st := c.Skip([]byte("8\r\nab")); n != 5 || st != BodyMore {
		t.Fatalf("Skip: got %d, %d", n, st)
	}
	if !c.SkipGap(6) || c.SkipGap(0) {
		t.Errorf("chunked body: a known gap inside chunk data keeps the framing, an unknown one does not")
	}
	if n, st := c.Skip([]byte("\r\n0\r\n\r\n")); n != 7 || st != BodyDone || !c.Done() {
		t.Errorf("after the gap: got %d, %d, done %v", n, st, c.Done())
	}
}
