package capture

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"testing/iotest"
	"time"
)

// TestReadAheadSameBytesAndError: reading through readAhead gives the source's bytes and
// then its error, whatever the source's read sizes.
func TestReadAheadSameBytesAndError(t *testing.T) {
	data := make([]byte, 3*readAheadSize+12345)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.IntN(256))
	}
	boom := errors.New("boom")
	tests := []struct {
		name    string
		src     func() io.Reader
		want    []byte
		wantErr error
	}{
		{"whole", func() io.Reader { return bytes.NewReader(data) }, data, io.EOF},
		{"one byte at a time", func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data[:5000])) }, data[:5000], io.EOF},
		{"data with EOF", func() io.Reader { return iotest.DataErrReader(bytes.NewReader(data)) }, data, io.EOF},
		{"error mid-way", func() io.Reader {
			return io.MultiReader(bytes.NewReader(data[:readAheadSize+7]), iotest.ErrReader(boom))
		}, data[:readAheadSize+7], boom},
		{"empty", func() io.Reader { return bytes.NewReader(nil) }, nil, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ra := newReadAhead(tt.src())
			defer close(ra.done)
			var got []byte
			buf := make([]byte, 1000)
			var err error
			for err == nil {
				var n int
				n, err = ra.Read(buf[:1+r.IntN(len(buf))])
				got = append(got, buf[:n]...)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("got %d bytes, want %d (equal prefix: %v)", len(got), len(tt.want), bytes.HasPrefix(tt.want, got))
			}
			if err != tt.wantErr {
				t.Errorf("got error %v, want %v", err, tt.wantErr)
			}
			if _, err2 := ra.Read(buf); err2 != tt.wantErr {
				t.Errorf("second read: got error %v, want %v", err2, tt.wantErr)
			}
		})
	}
}

// TestReadAheadStopsWithReader: a gzip Reader dropped before the end of its capture does
// not leave its read-ahead goroutine behind.
func TestReadAheadStopsWithReader(t *testing.T) {
	var raw bytes.Buffer
	raw.Write([]byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0})
	raw.Write(make([]byte, 4*readAheadSize)) // zero records: enough to keep the goroutine busy
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(raw.Bytes())
	w.Close()
	before := runtime.NumGoroutine()
	for range 5 {
		if _, err := NewReader("x.pcap.gz", bytes.NewReader(gz.Bytes()), Options{}); err != nil {
			t.Fatalf("NewReader: %v", err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if got := runtime.NumGoroutine(); got > before {
		t.Errorf("got %d goroutines, want %d", got, before)
	}
}
