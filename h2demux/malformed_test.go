package h2demux

import (
	"testing"

	"golang.org/x/net/http2"
)

// rawFrame returns a frame header and payload as given.
func rawFrame(typ, flags uint8, stream uint32, payload []byte) []byte {
	n := len(payload)
	b := []byte{byte(n >> 16), byte(n >> 8), byte(n), typ, flags,
		byte(stream >> 24), byte(stream >> 16), byte(stream >> 8), byte(stream)}
	return append(b, payload...)
}

// TestMalformed: each row adds bad frames after stream 1 was opened and accepted; the
// problem is reported, and a DATA frame after it still reaches the stream.
func TestMalformed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dir     Dir
		frames  func(s *script) []byte
		problem string
		// headersLost: the direction's HPACK state is expected to be lost.
		headersLost bool
		// ended: the stream is expected to have ended anyway (how).
		ended string
	}{
		{name: "short RST_STREAM", frames: func(*script) []byte { return rawFrame(3, 0, 1, []byte{0, 0, 8}) },
			problem: "client: RST_STREAM frame on stream 1: malformed: skipped"},
		{name: "RST_STREAM on stream 0", frames: func(*script) []byte { return rawFrame(3, 0, 0, []byte{0, 0, 0, 8}) },
			problem: "RST_STREAM frame on stream 0: malformed"},
		{name: "SETTINGS of 5 bytes", frames: func(*script) []byte { return rawFrame(4, 0, 0, []byte{0, 8, 0, 0, 1}) },
			problem: "SETTINGS frame on stream 0: malformed"},
		{name: "SETTINGS ack with payload", frames: func(*script) []byte { return rawFrame(4, 1, 0, []byte{0, 8, 0, 0, 0, 1}) },
			problem: "SETTINGS frame on stream 0: malformed"},
		{name: "SETTINGS on a stream", frames: func(*script) []byte { return rawFrame(4, 0, 1, nil) },
			problem: "SETTINGS frame on stream 1: malformed"},
		{name: "PING of 4 bytes", frames: func(*script) []byte { return rawFrame(6, 0, 0, []byte{1, 2, 3, 4}) },
			problem: "PING frame on stream 0: malformed"},
		{name: "short GOAWAY", frames: func(*script) []byte { return rawFrame(7, 0, 0, []byte{0, 0, 0, 1}) },
			problem: "GOAWAY frame on stream 0: malformed"},
		{name: "DATA on stream 0", frames: func(*script) []byte { return rawFrame(0, 1, 0, []byte("x")) },
			problem: "DATA frame on stream 0: stream 0"},
		{name: "padding beyond the payload", frames: func(*script) []byte { return rawFrame(0, 8, 1, []byte{10, 'a', 'b'}) },
			problem: "DATA frame on stream 1: padding exceeds the payload"},
		{name: "PADDED DATA without pad length", frames: func(*script) []byte { return rawFrame(0, 8, 1, nil) },
			problem: "DATA frame on stream 1: too short"},
		{name: "HEADERS with PRIORITY too short", frames: func(*script) []byte { return rawFrame(1, 0x24, 3, []byte{0, 0}) },
			problem: "HEADERS frame on stream 3: too short"},
		{name: "HEADERS on an even stream",
			frames: func(s *script) []byte {
				return rawFrame(1, 4, 2, s.block(ClientToServer, ":method", "CONNECT", ":protocol", "websocket"))
			},
			problem: "client: HEADERS on even stream 2"},
		{name: "CONTINUATION without HEADERS", frames: func(*script) []byte { return rawFrame(9, 4, 1, []byte{0x82}) },
			problem: "CONTINUATION frame on stream 1: no header block open"},
		{name: "header block interrupted",
			frames: func(s *script) []byte {
				return append(rawFrame(1, 0, 3, s.block(ClientToServer, ":method", "GET")), rawFrame(8, 0, 0, []byte{0, 0, 1, 0})...)
			},
			problem: "client: header block of stream 3: interrupted by a WINDOW_UPDATE frame", headersLost: true},
		{name: "CONTINUATION of another stream",
			frames: func(s *script) []byte {
				return append(rawFrame(1, 0, 3, s.block(ClientToServer, ":method", "GET")), rawFrame(9, 4, 5, []byte{0x82})...)
			},
			problem: "interrupted by a CONTINUATION frame", headersLost: true},
		{name: "bad HPACK index", frames: func(*script) []byte { return rawFrame(1, 4, 3, []byte{0xff, 0x7f}) },
			problem: "client: header block of stream 3: decoding error: invalid indexed representation index 254", headersLost: true},
		{name: "truncated HPACK field", frames: func(*script) []byte { return rawFrame(1, 4, 3, []byte{0x40, 0x05, 'a'}) },
			problem: "client: header block of stream 3: decoding error: truncated headers", headersLost: true},
		{name: "dynamic table over the allowed size", dir: ServerToClient,
			frames:  func(*script) []byte { return rawFrame(1, 4, 1, []byte{0x3f, 0xd1, 0xa2, 0x04}) }, // size update to 70000
			problem: "server: header block of stream 1: decoding error: dynamic table size update too large", headersLost: true},
		{name: "frame over SETTINGS_MAX_FRAME_SIZE", dir: ServerToClient,
			frames:  func(*script) []byte { return rawFrame(0, 0, 1, make([]byte, 20000)) },
			problem: "server: DATA frame of 20000 bytes exceeds SETTINGS_MAX_FRAME_SIZE 16384"},
		{name: "invalid MAX_FRAME_SIZE", frames: func(*script) []byte { return rawFrame(4, 0, 0, []byte{0, 5, 0, 0, 0, 1}) },
			problem: "client: invalid SETTINGS_MAX_FRAME_SIZE 1"},
		{name: "invalid ENABLE_CONNECT_PROTOCOL", dir: ServerToClient,
			frames:  func(*script) []byte { return rawFrame(4, 0, 0, []byte{0, 8, 0, 0, 0, 2}) },
			problem: "server: invalid SETTINGS_ENABLE_CONNECT_PROTOCOL 2"},
		{name: "END_STREAM twice",
			frames: func(*script) []byte {
				return append(rawFrame(0, 1, 1, nil), rawFrame(0, 1, 1, nil)...)
			},
			problem: "client: END_STREAM again on stream 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScript(t)
			s.start(1)
			s.connect(1, "/ws")
			s.accept(1)
			s.raw(tc.dir, tc.frames(s))
			s.write(tc.dir, func(fr *http2.Framer) error { return fr.WriteData(1, false, clientText) })
			r := run(t, s.events, Options{})
			if !hasProblem(r.info, tc.problem) {
				t.Errorf("Problems = %q, want one with %q", r.info.Problems, tc.problem)
			}
			if got := r.data[1][tc.dir].Bytes(); len(got) < len(clientText) || string(got[len(got)-len(clientText):]) != string(clientText) {
				t.Errorf("stream 1 data from %v = %x, want it to end with the DATA after the bad frames", tc.dir, got)
			}
			if r.info.FramingLost != [2]bool{} {
				t.Errorf("FramingLost = %v", r.info.FramingLost)
			}
			if want := [2]bool{tc.dir == 0 && tc.headersLost, tc.dir == 1 && tc.headersLost}; r.info.HeaderStateLost != want {
				t.Errorf("HeaderStateLost = %v, want %v", r.info.HeaderStateLost, want)
			}
		})
	}
}

// TestBadStart: no preface, or a server starting with something else than SETTINGS.
func TestBadStart(t *testing.T) {
	s := newScript(t)
	s.raw(ClientToServer, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	s.raw(ServerToClient, rawFrame(6, 0, 0, make([]byte, 8)))
	r := run(t, s.events, Options{})
	if r.info.Preface || r.info.FramingLost != [2]bool{true, false} || !hasProblem(r.info, "client: no client preface") ||
		!hasProblem(r.info, "server: first frame is PING, not SETTINGS") || r.info.Frames != [2]int{0, 1} {
		t.Errorf("Info = %+v", r.info)
	}
}

// TestFinishInsideFrame: the connection ends in a frame and in a header block.
func TestFinishInsideFrame(t *testing.T) {
	s := newScript(t)
	s.start(1)
	s.connect(1, "/ws")
	s.accept(1)
	s.raw(ClientToServer, rawFrame(1, 0, 3, []byte{0x82})) // no END_HEADERS
	s.raw(ServerToClient, rawFrame(0, 0, 1, []byte("abc"))[:10])
	r := run(t, s.events, Options{})
	if !hasProblem(r.info, "client: connection ended inside the header block of stream 3") ||
		!hasProblem(r.info, "server: connection ended inside a frame") {
		t.Errorf("Problems = %q", r.info.Problems)
	}
	if got := r.data[1][1].String(); got != "a" {
		t.Errorf("server data = %q, want the byte that came", got)
	}
	if e := r.ends[1]; e.How != EndTCP {
		t.Errorf("end = %s", fmtEnd(e))
	}
}
