package wsparse

import (
	"testing"
	"unicode/utf8"
)

func TestUTF8State(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"ascii", "hello, world 0123456789"},
		{"two byte", "héllo"},
		{"three byte", "€ and ☃"},
		{"four byte", "𝄞 😀"},
		{"max", "\U0010FFFF"},
		{"above max", "\xf4\x90\x80\x80"},
		{"surrogate", "\xed\xa0\x80"},
		{"overlong 2", "\xc0\xaf"},
		{"overlong 3", "\xe0\x80\xaf"},
		{"overlong 4", "\xf0\x80\x80\xaf"},
		{"lone continuation", "a\x80b"},
		{"truncated", "a\xe2\x82"},
		{"bad lead", "\xff"},
		{"f5", "\xf5\x80\x80\x80"},
		{"long ascii then bad", "abcdefghijklmnopqrstuvwxyz\xc3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := utf8.ValidString(tt.in)
			for cut := 0; cut <= len(tt.in); cut++ {
				var u utf8State
				got := u.push([]byte(tt.in[:cut])) && u.push([]byte(tt.in[cut:])) && u.complete()
				if got != want {
					t.Errorf("split at %d: got %v, want %v", cut, got, want)
				}
			}
			if got := validUTF8([]byte(tt.in)); got != want {
				t.Errorf("validUTF8: got %v, want %v", got, want)
			}
		})
	}
}
