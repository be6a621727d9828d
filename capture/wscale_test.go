package capture

import "testing"

func TestWindowScale(t *testing.T) {
	tests := []struct {
		name  string
		opts  []byte
		scale uint8
		ok    bool
	}{
		{"linux SYN", []byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7}, 7, true},
		{"only wscale", []byte{3, 3, 2, 0}, 2, true},
		{"capped at 14", []byte{3, 3, 15}, 14, true},
		{"no options", nil, 0, false},
		{"end of list first", []byte{0, 3, 3, 7}, 0, false},
		{"mss only", []byte{2, 4, 0x05, 0xb4}, 0, false},
		{"truncated option", []byte{2, 4, 0x05}, 0, false},
		{"zero length option", []byte{8, 0, 3, 3, 7}, 0, false},
		{"wrong wscale length", []byte{3, 4, 7, 0}, 0, false},
		{"length past the end", []byte{1, 3, 3}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scale, ok := windowScale(tt.opts)
			if scale != tt.scale || ok != tt.ok {
				t.Errorf("got %d, %v; want %d, %v", scale, ok, tt.scale, tt.ok)
			}
		})
	}
}
