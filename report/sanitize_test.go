package report

import "testing"

func TestPrintable(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "going away", "going away"},
		{"utf8 kept", "café ☕", "café ☕"},
		{"newline", "a\nb", `a\nb`},
		{"escape sequence", "\x1b[31mred", `\x1b[31mred`},
		{"invalid utf8", "ok\xff\xfe", `ok\xff\xfe`},
		{"backslash", `a\b`, `a\\b`},
		{"nul and del", "\x00\x7f", `\x00\x7f`},
		{"c1 control", "a\u009bb", `a\u009bb`},
		{"line separator", "a\u2028b", `a\u2028b`},
		{"zero width", "a\u200bb", `a\u200bb`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Printable(tt.in); got != tt.want {
				t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestShorten(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"this is too long", 10, "this is t…"},
		{"ééééééééééé", 5, "éééé…"},
	}
	for _, tt := range tests {
		if got := Shorten(tt.in, tt.max); got != tt.want {
			t.Errorf("Shorten(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}
