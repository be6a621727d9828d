package report

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// TestSafeWord: safeWord never passes a word with a byte that htmlSafe does not, for every
// byte value in every lane among passing neighbours and on random words, and passes the
// words of plain text.
func TestSafeWord(t *testing.T) {
	word := func(b [8]byte) uint64 { return le64(string(b[:])) }
	bytewise := func(b [8]byte) bool {
		for _, c := range b {
			if c >= 0x80 || !htmlSafe(c) {
				return false
			}
		}
		return true
	}
	for lane := range 8 {
		for v := range 256 {
			for _, fill := range []byte{' ', 'a', '~', '!', '=', '?'} {
				var b [8]byte
				for i := range b {
					b[i] = fill
				}
				b[lane] = byte(v)
				if got, want := safeWord(word(b)), bytewise(b); got != want {
					t.Fatalf("%q: safeWord %v, want %v", b, got, want)
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1_000_000 {
		var b [8]byte
		for i := range b {
			b[i] = byte(r.Uint32())
			if r.IntN(2) == 0 {
				b[i] &= 0x7f
			}
		}
		if safeWord(word(b)) && !bytewise(b) {
			t.Fatalf("%q passed", b)
		}
	}
}

// TestAppendStringLong: strings long enough for the word loop, with a byte to escape at
// every position, encode as encoding/json encodes them.
func TestAppendStringLong(t *testing.T) {
	base := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120"
	for _, c := range []string{"\"", "\\", "<", ">", "&", "\n", "\x01", "\x7f", "é", "\xff", "\u2028", " "} {
		for i := range len(base) + 1 {
			s := base[:i] + c + base[i:]
			want, _ := json.Marshal(s)
			if got := appendString(nil, s); string(got) != string(want) {
				t.Fatalf("%q: got %s, want %s", s, got, want)
			}
		}
	}
}

// TestAppendTimeCivil: appendTime's own calendar writes what AppendFormat writes, over
// years 0 to 9999 (leap days, century years, the ends of months and of the range) and
// outside them.
func TestAppendTimeCivil(t *testing.T) {
	check := func(u time.Time) {
		want := `"` + u.UTC().Format(Layout) + `"`
		if got := string(appendTime(nil, Time{Time: u})); got != want {
			t.Fatalf("%v: got %s, want %s", u, got, want)
		}
	}
	for _, y := range []int{-1, 0, 1, 4, 99, 100, 400, 1582, 1900, 1970, 2000, 2024, 2100, 9999, 10000} {
		for _, md := range [][2]int{{1, 1}, {2, 28}, {2, 29}, {3, 1}, {12, 31}} {
			for _, s := range []int{0, 1, 86399} {
				check(time.Date(y, time.Month(md[0]), md[1], 0, 0, s, 999_999_999, time.UTC))
			}
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	lo, hi := time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(10005, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for range 200_000 {
		check(time.Unix(lo+r.Int64N(hi-lo), r.Int64N(1e9)))
	}
	check(time.Unix(1e6, 5).In(time.FixedZone("x", 3600)))
}
