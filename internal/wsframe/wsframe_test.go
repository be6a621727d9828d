package wsframe

import (
	"bytes"
	"strings"
	"testing"
)

func TestFrameBytes(t *testing.T) {
	tests := []struct {
		name string
		f    Frame
		want []byte
	}{
		{"rfc unmasked hello", Frame{Fin: true, Op: OpText, Payload: []byte("Hello")}, []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}},
		{"rfc masked hello", Frame{Fin: true, Op: OpText, Masked: true, Key: [4]byte{0x37, 0xfa, 0x21, 0x3d}, Payload: []byte("Hello")},
			[]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}},
		{"rfc fragment", Frame{Op: OpText, Payload: []byte("Hel")}, []byte{0x01, 0x03, 0x48, 0x65, 0x6c}},
		{"16-bit minimal", Frame{Fin: true, Op: OpBinary, Payload: make([]byte, 256)}, append([]byte{0x82, 0x7E, 0x01, 0x00}, make([]byte, 256)...)},
		{"16-bit forced", Frame{Fin: true, Op: OpBinary, LenForm: Len16, Payload: []byte{9}}, []byte{0x82, 0x7E, 0x00, 0x01, 9}},
		{"64-bit forced", Frame{Fin: true, Op: OpPing, LenForm: Len64}, []byte{0x89, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"rsv1 set length", Frame{Fin: true, RSV: RSV1, Op: OpText, Length: 1 << 63, SetLength: true}, []byte{0xC1, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.Bytes(); !bytes.Equal(got, tt.want) {
				t.Errorf("got % x, want % x", got, tt.want)
			}
		})
	}
}

func TestHelpers(t *testing.T) {
	if got, want := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want {
		t.Errorf("AcceptKey: got %q, want %q", got, want)
	}
	if got, want := Bits("1000 1000 0000 0010 0000_0011 1110 1000"), []byte{0x88, 0x02, 0x03, 0xE8}; !bytes.Equal(got, want) {
		t.Errorf("Bits: got % x, want % x", got, want)
	}
	if got, want := Close(1001, "x"), []byte{0x03, 0xE9, 'x'}; !bytes.Equal(got, want) {
		t.Errorf("Close: got % x, want % x", got, want)
	}
	req := string(Request("/a?b=1", "k", "Origin: o"))
	if !strings.HasPrefix(req, "GET /a?b=1 HTTP/1.1\r\n") || !strings.Contains(req, "Sec-WebSocket-Key: k\r\nSec-WebSocket-Version: 13\r\nOrigin: o\r\n\r\n") {
		t.Errorf("Request: got %q", req)
	}
	resp := string(Response101("dGhlIHNhbXBsZSBub25jZQ=="))
	if want := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"; resp != want {
		t.Errorf("Response101: got %q, want %q", resp, want)
	}
	if got, want := string(Response(404, "")), "HTTP/1.1 404\r\n\r\n"; got != want {
		t.Errorf("Response: got %q, want %q", got, want)
	}
}
