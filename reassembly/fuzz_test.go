package reassembly

import (
	"testing"
	"time"
)

// decodeSegments turns fuzz bytes into segments between cli and srv, 4 bytes each:
//
//	b0: TCP flags
//	b1: bit 7 direction (server when set); bits 0-6 a signed sequence delta (-64..63)
//	b2: bits 0-5 payload length; bits 6-7 snaplen-missing bytes
//	b3: bits 0-2 signed ACK delta; bit 3 zero window; bits 4-7 time step of 100 ms
//
// The payload byte at sequence number n is byte(n), so retransmissions repeat it and the
// test can check every delivered byte's place; a time step of 15 corrupts the payload.
func decodeSegments(b []byte) []Segment {
	base := [2]uint32{0xFFFFFF00, 5000} // the client's sequence numbers wrap
	if len(b) > 0 {
		base[1] = uint32(b[0]) << 24
	}
	var pos [2]uint32
	now := t0
	var segs []Segment
	for ; len(b) >= 4; b = b[4:] {
		d := Dir(b[1] >> 7)
		delta := uint32(int32(int8(b[1]<<1)) >> 1)
		seq := base[d] + pos[d] + delta
		n, missing := int(b[2]&0x3f), int(b[2]>>6)
		first := seq // sequence number of the first payload byte
		if TCPFlags(b[0]).Has(FlagSYN) {
			first++
		}
		payload := make([]byte, n)
		for i := range payload {
			payload[i] = byte(first + uint32(i))
			if b[3]>>4 == 15 {
				payload[i] ^= 0x55
			}
		}
		now = now.Add(time.Duration(b[3]>>4) * 100 * time.Millisecond)
		g := Segment{Time: now, Src: cli, Dst: srv, Seq: seq, Flags: TCPFlags(b[0]), Window: 1000,
			Payload: payload, Missing: missing, HasWScale: b[0]&1 == 1, WScale: b[2] & 15}
		if d == ServerToClient {
			g.Src, g.Dst = srv, cli
		}
		g.Ack = base[d^1] + pos[d^1] + uint32(int32(int8(b[3]<<5))>>5)
		if b[3]&8 != 0 {
			g.Window = 0
		}
		if delta == 0 {
			pos[d] += uint32(n + missing)
		}
		segs = append(segs, g)
	}
	return segs
}

func FuzzAssembler(f *testing.F) {
	f.Add([]byte{0x02, 0x00, 0x00, 0x00, 0x12, 0x80, 0x00, 0x10, 0x10, 0x01, 0x05, 0x00, 0x18, 0x00, 0x05, 0x10})
	f.Add([]byte{0x18, 0x00, 0x08, 0x10, 0x18, 0x08, 0x08, 0x10, 0x18, 0x70, 0x08, 0x10, 0x11, 0x80, 0x00, 0xf0, 0x04, 0x00, 0x00, 0x10})
	f.Add([]byte{0x02, 0x00, 0x00, 0x00, 0x18, 0x00, 0x48, 0x10, 0x18, 0x04, 0x4a, 0xf0, 0x11, 0x00, 0x00, 0xa0, 0x02, 0x05, 0x00, 0xf0})
	f.Fuzz(func(t *testing.T, b []byte) {
		segs := decodeSegments(b)
		opts := Options{MaxBufferedPerConn: 100, MaxBufferedTotal: 150, ClosedLinger: time.Second}
		if len(b)%2 == 1 {
			opts.IdleTimeout = 2 * time.Second
		}
		corrupt := false
		for i := 3; i < len(b); i += 4 {
			corrupt = corrupt || b[i]>>4 == 15
		}
		_, a := runChecked(t, opts, segs, false, !corrupt)
		st := a.Stats()
		if st.Tracked != 0 || st.Buffered != 0 {
			t.Errorf("after Flush got %d tracked, %d buffered, want 0, 0", st.Tracked, st.Buffered)
		}
		var ended int64
		for _, n := range st.Ended {
			ended += n
		}
		if ended != st.Connections {
			t.Errorf("got %d ends, want %d (connections)", ended, st.Connections)
		}
		if st.PeakBuffered > opts.MaxBufferedTotal+64 {
			t.Errorf("got peak buffered %d, want at most %d", st.PeakBuffered, opts.MaxBufferedTotal+64)
		}
	})
}
