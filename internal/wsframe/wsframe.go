// Package wsframe builds WebSocket frames and opening-handshake text for tests.
//
// It writes exactly the bytes it is told to, including invalid ones (unmasked client frames,
// reserved opcodes, non-minimal length encodings, lengths that do not match the payload), so
// tests can describe traffic precisely:
//
//	wsframe.Frame{Fin: true, Op: wsframe.OpText, Masked: true, Key: [4]byte{1, 2, 3, 4},
//		Payload: []byte("hi")}.Bytes()
//	wsframe.Close(1000, "bye")          // a close payload
//	wsframe.Bits("1000 1000 0000 0000") // an empty unmasked close frame, as a bit string
//	wsframe.Request("/chat", "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol: chat")
//	wsframe.Response101("dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol: chat")
package wsframe

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"strings"
)

// Opcodes (RFC 6455 section 5.2).
const (
	OpContinuation byte = 0x0
	OpText         byte = 0x1
	OpBinary       byte = 0x2
	OpClose        byte = 0x8
	OpPing         byte = 0x9
	OpPong         byte = 0xA
)

// RSV bits as values of Frame.RSV.
const (
	RSV1 byte = 4
	RSV2 byte = 2
	RSV3 byte = 1
)

// LenForm selects how the payload length is encoded.
type LenForm uint8

const (
	// LenMinimal uses the shortest encoding (the only valid one).
	LenMinimal LenForm = iota
	// Len7 forces the 7-bit form (invalid if the length is above 125).
	Len7
	// Len16 forces the 16-bit extended form.
	Len16
	// Len64 forces the 64-bit extended form.
	Len64
)

// Frame describes one frame. The zero value is a non-final, unmasked continuation frame
// with an empty payload.
type Frame struct {
	Fin     bool
	RSV     byte // RSV1|RSV2|RSV3 bits, e.g. RSV1 for a compressed message
	Op      byte
	Masked  bool
	Key     [4]byte
	Payload []byte // unmasked payload; Bytes masks it when Masked is set
	LenForm LenForm
	// Length, when SetLength is true, is announced instead of len(Payload) (to build frames
	// whose payload is cut off, or 64-bit lengths with the top bit set).
	Length    uint64
	SetLength bool
}

// Header returns the frame header bytes.
func (f Frame) Header() []byte {
	n := uint64(len(f.Payload))
	if f.SetLength {
		n = f.Length
	}
	b0 := f.Op & 0x0F
	if f.Fin {
		b0 |= 0x80
	}
	b0 |= (f.RSV & 7) << 4
	var b1 byte
	if f.Masked {
		b1 = 0x80
	}
	form := f.LenForm
	if form == LenMinimal {
		switch {
		case n <= 125:
			form = Len7
		case n <= 0xFFFF:
			form = Len16
		default:
			form = Len64
		}
	}
	h := make([]byte, 0, 14)
	switch form {
	case Len7:
		h = append(h, b0, b1|byte(n&0x7F))
	case Len16:
		h = append(h, b0, b1|126)
		h = binary.BigEndian.AppendUint16(h, uint16(n))
	default:
		h = append(h, b0, b1|127)
		h = binary.BigEndian.AppendUint64(h, n)
	}
	if f.Masked {
		h = append(h, f.Key[:]...)
	}
	return h
}

// Bytes returns the frame header followed by the payload, masked with Key when Masked.
func (f Frame) Bytes() []byte {
	b := f.Header()
	start := len(b)
	b = append(b, f.Payload...)
	if f.Masked {
		for i := start; i < len(b); i++ {
			b[i] ^= f.Key[(i-start)&3]
		}
	}
	return b
}

// Concat joins byte slices, for writing streams of frames.
func Concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Close returns a close frame payload: the big-endian code followed by the reason.
func Close(code uint16, reason string) []byte {
	b := binary.BigEndian.AppendUint16(nil, code)
	return append(b, reason...)
}

// Bits parses a bit string such as "1000 0001 0000 0010" (spaces, underscores and newlines
// ignored) into bytes; a trailing partial byte is padded with zero bits. Characters other
// than 0, 1 and separators are ignored too, so "FIN=1" style comments must not be used.
func Bits(s string) []byte {
	var out []byte
	var cur byte
	n := 0
	for _, r := range s {
		if r != '0' && r != '1' {
			continue
		}
		cur = cur<<1 | byte(r-'0')
		n++
		if n == 8 {
			out = append(out, cur)
			cur, n = 0, 0
		}
	}
	if n > 0 {
		out = append(out, cur<<(8-n))
	}
	return out
}

// AcceptKey returns the Sec-WebSocket-Accept value for a Sec-WebSocket-Key:
// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
func AcceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// Request returns a WebSocket upgrade request for path with Host example.com, version 13,
// the given key and extra header lines ("Name: value"), ending with the blank line.
func Request(path, key string, extra ...string) []byte {
	var b strings.Builder
	b.WriteString("GET " + path + " HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n" +
		"Connection: Upgrade\r\nSec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n")
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

// Response101 returns a 101 Switching Protocols response accepting key, with extra header
// lines, ending with the blank line.
func Response101(key string, extra ...string) []byte {
	return Response(101, "Switching Protocols", append([]string{"Upgrade: websocket",
		"Connection: Upgrade", "Sec-WebSocket-Accept: " + AcceptKey(key)}, extra...)...)
}

// Response returns an HTTP/1.1 response with the status code, reason phrase and header
// lines, ending with the blank line (no body).
func Response(status int, reason string, headers ...string) []byte {
	var b strings.Builder
	b.WriteString("HTTP/1.1 " + strconv.Itoa(status))
	if reason != "" {
		b.WriteString(" " + reason)
	}
	b.WriteString("\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}
