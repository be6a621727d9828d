package wsparse

import (
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/wsframe"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name   string
		bits   string
		want   header
		wantN  int
		wantOK bool
	}{
		{"empty", "", header{}, 2, false},
		{"one byte", "1000 0001", header{}, 2, false},
		{"text, 7-bit length", "1000 0001  0000 0101", header{fin: true, op: OpText, length: 5}, 2, true},
		{"masked close", "1000 1000  1000 0010  0000 0001 0000 0010 0000 0011 0000 0100",
			header{fin: true, op: OpClose, masked: true, key: [4]byte{1, 2, 3, 4}, length: 2}, 6, true},
		{"masked, key cut", "1000 1000  1000 0010  0000 0001", header{}, 6, false},
		{"rsv bits, continuation, FIN clear", "0111 0000  0000 0000", header{rsv: 7, op: OpContinuation}, 2, true},
		{"reserved opcode kept", "1000 1011  0000 0000", header{fin: true, op: 0xB}, 2, true},
		{"16-bit length", "1000 0010  0111 1110  0000 0001 0000 0000",
			header{fin: true, op: OpBinary, length: 256, lenBytes: 2}, 4, true},
		{"16-bit length cut", "1000 0010  0111 1110  0000 0001", header{}, 4, false},
		{"16-bit non-minimal", "1000 0010  0111 1110  0000 0000 0000 0011",
			header{fin: true, op: OpBinary, length: 3, lenBytes: 2}, 4, true},
		{"64-bit length", "1000 0010  0111 1111" + " 0000 0000 0000 0000 0000 0000 0000 0001 0000 0000 0000 0000 0000 0000 0000 0000",
			header{fin: true, op: OpBinary, length: 1 << 32, lenBytes: 8}, 10, true},
		{"64-bit length, top bit", "1000 0010  0111 1111" + " 1000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0001",
			header{fin: true, op: OpBinary, length: -1<<63 | 1, lenBytes: 8}, 10, true},
		{"64-bit masked cut", "1000 0010  1111 1111  0000 0000", header{}, 14, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := wsframe.Bits(tt.bits)
			var h header
			n, ok := parseHeader(b, &h)
			if n != tt.wantN || ok != tt.wantOK || (ok && h != tt.want) {
				t.Errorf("parseHeader(%x): got %+v %d %v, want %+v %d %v", b, h, n, ok, tt.want, tt.wantN, tt.wantOK)
			}
		})
	}
}

func TestHeaderViolations(t *testing.T) {
	client := headerRules{wantMask: true, maskKnown: true, rsv1OK: true}
	with := func(r headerRules, f func(*headerRules)) headerRules { f(&r); return r }
	noExt := with(client, func(r *headerRules) { r.rsv1OK = false })
	open := with(client, func(r *headerRules) { r.frag = fragOpen })
	unknown := with(client, func(r *headerRules) { r.frag = fragUnknown })
	closed := with(client, func(r *headerRules) { r.closeSent = true })
	text := header{fin: true, op: OpText, masked: true, length: 5}
	tests := []struct {
		name  string
		h     header
		rules headerRules
		want  violations
	}{
		{"valid", text, client, 0},
		{"mask not judged when unknown", header{fin: true, op: OpText}, headerRules{}, 0},
		{"client unmasked", header{fin: true, op: OpText}, client, vMask},
		{"server masked", text, headerRules{maskKnown: true}, vMask},
		{"reserved opcode judges only mask and length", header{op: 0x3, rsv: 7, masked: true, length: 3, lenBytes: 2}, closed,
			vReservedOpcode | vNonMinimalLength},
		{"rsv2 rsv3", header{fin: true, op: OpBinary, rsv: 3, masked: true}, client, vRSV23},
		{"rsv1 compressed", header{fin: true, op: OpText, rsv: 4, masked: true}, client, 0},
		{"rsv1 without extension", header{fin: true, op: OpText, rsv: 4, masked: true}, noExt, vRSV1NoExtension},
		{"rsv1 on continuation", header{fin: true, op: OpContinuation, rsv: 4, masked: true}, open, vRSV1NotFirst},
		{"rsv1 on ping, no extension", header{fin: true, op: OpPing, rsv: 4, masked: true}, noExt, vRSV1NotFirst},
		{"16-bit minimal", header{fin: true, op: OpBinary, masked: true, length: 126, lenBytes: 2}, client, 0},
		{"16-bit non-minimal", header{fin: true, op: OpBinary, masked: true, length: 125, lenBytes: 2}, client, vNonMinimalLength},
		{"64-bit non-minimal", header{fin: true, op: OpBinary, masked: true, length: 0xFFFF, lenBytes: 8}, client, vNonMinimalLength},
		{"64-bit top bit", header{fin: true, op: OpBinary, masked: true, length: -1, lenBytes: 8}, client, vLengthTopBit},
		{"control fragmented and long", header{op: OpPing, masked: true, length: 126, lenBytes: 2}, client,
			vControlFragmented | vControlTooLong},
		{"close one byte", header{fin: true, op: OpClose, masked: true, length: 1}, client, vCloseOneByte},
		{"second close", header{fin: true, op: OpClose, masked: true}, closed, vDuplicateClose},
		{"data after close", text, closed, vDataAfterClose},
		{"empty fragment", header{op: OpText, masked: true}, client, vEmptyFragment},
		{"continuation without message", header{fin: true, op: OpContinuation, masked: true, length: 1}, client, vUnexpectedContinuation},
		{"continuation of message", header{fin: true, op: OpContinuation, masked: true, length: 1}, open, 0},
		{"continuation after lost bytes", header{fin: true, op: OpContinuation, masked: true, length: 1}, unknown, 0},
		{"message interrupted", text, open, vMessageInterrupted},
		{"control inside message", header{fin: true, op: OpPong, masked: true}, open, 0},
		{"new message after lost bytes", text, unknown, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := headerViolations(&tt.h, tt.rules); got != tt.want {
				t.Errorf("headerViolations(%+v, %+v): got %b, want %b", tt.h, tt.rules, got, tt.want)
			}
		})
	}
}

func TestFragStateAfterData(t *testing.T) {
	tests := []struct {
		from fragState
		h    header
		want fragState
	}{
		{fragNone, header{fin: true, op: OpText}, fragNone},
		{fragNone, header{op: OpText}, fragOpen},
		{fragOpen, header{op: OpContinuation}, fragOpen},
		{fragOpen, header{fin: true, op: OpContinuation}, fragNone},
		{fragUnknown, header{op: OpContinuation}, fragUnknown},
		{fragUnknown, header{fin: true, op: OpContinuation}, fragNone},
		{fragUnknown, header{op: OpBinary}, fragOpen},
	}
	for _, tt := range tests {
		if got := tt.from.afterData(&tt.h); got != tt.want {
			t.Errorf("%v.afterData(%+v): got %v, want %v", tt.from, tt.h, got, tt.want)
		}
	}
}
