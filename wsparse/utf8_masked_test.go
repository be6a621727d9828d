package wsparse

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

// TestPushMasked: validating masked bytes gives the verdict of utf8.Valid on the unmasked
// bytes, whatever the key, the payload offset and the split points.
func TestPushMasked(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	samples := [][]byte{
		[]byte("plain ascii text that is longer than eight bytes"),
		[]byte("héllo wörld ✓ 𝄞 mixed with ascii ascii ascii"),
		[]byte("bad \xff byte after ascii"),
		[]byte("truncated \xe2\x82"),
		[]byte("\xed\xa0\x80 surrogate"),
		[]byte("overlong \xc0\xaf"),
		{},
	}
	for range 300 {
		b := make([]byte, r.IntN(64))
		for i := range b {
			b[i] = byte(r.IntN(256))
			if r.IntN(3) > 0 {
				b[i] &= 0x7f
			}
		}
		samples = append(samples, b)
	}
	// Long ASCII runs (the word-at-a-time paths) with one character or bad byte anywhere.
	odd := []string{"é", "€", "𝄞", "\xff", "\xe2\x82", "\xc0\xaf", "\xed\xa0\x80"}
	for range 300 {
		b := make([]byte, 32+r.IntN(300))
		for i := range b {
			b[i] = byte(' ' + r.IntN(95))
		}
		at := r.IntN(len(b))
		b = append(b[:at], append([]byte(odd[r.IntN(len(odd))]), b[at:]...)...)
		samples = append(samples, b)
	}
	for n, plain := range samples {
		var key [4]byte
		for i := range key {
			key[i] = byte(r.IntN(256))
		}
		pos := int64(r.IntN(8))
		masked := make([]byte, len(plain))
		for i := range plain {
			masked[i] = plain[i] ^ key[(int(pos)+i)&3]
		}
		want := utf8.Valid(plain)
		var u utf8State
		ok, at := true, 0
		for at < len(masked) && ok {
			k := 1 + r.IntN(len(masked)-at)
			ok = u.pushMasked(masked[at:at+k], key, pos+int64(at))
			at += k
		}
		if got := ok && u.complete(); got != want {
			t.Errorf("sample %d %q key % x pos %d: got %v, want %v", n, plain, key, pos, got, want)
		}
	}
}
