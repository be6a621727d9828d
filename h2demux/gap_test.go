package h2demux

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/http2"
)

// cut replaces bytes [from, to) of the last event with a gap (to < 0: a gap of unknown
// length); the pieces keep the event's time.
func (s *script) cut(from, to int) {
	e := s.events[len(s.events)-1]
	s.events = s.events[:len(s.events)-1]
	var n int64
	var rest []byte
	if to >= 0 {
		n, rest = int64(to-from), e.data[to:]
	}
	s.events = append(s.events, event{dir: e.dir, data: e.data[:from], t: e.t}, event{dir: e.dir, gap: n, t: e.t})
	if len(rest) > 0 {
		s.events = append(s.events, event{dir: e.dir, data: rest, t: e.t})
	}
}

// gapScript is a WebSocket stream 1 with a DATA frame from the client.
func gapScript(t *testing.T) *script {
	s := newScript(t)
	s.start(1)
	s.connect(1, "/ws")
	s.accept(1)
	s.data(ClientToServer, 1, false, clientText) // 9 + 11 bytes
	return s
}

func TestGapInData(t *testing.T) {
	s := gapScript(t)
	s.cut(9+2, 9+6) // 4 bytes of the WebSocket frame
	s.data(ClientToServer, 1, true, clientClose)
	s.data(ServerToClient, 1, true, serverClose)
	r := run(t, s.events, Options{})
	want := slices.Concat(clientText[:2], clientText[6:], clientClose)
	checkData(t, r, 1, want, serverClose)
	if !slices.Contains(r.log, "1 client gap 4 00.007") {
		t.Errorf("no 4-byte gap in log:\n%s", strings.Join(r.log, "\n"))
	}
	if e := r.ends[1]; e.How != EndStream {
		t.Errorf("end = %s, want end_stream: the frames stayed in step", fmtEnd(e))
	}
	if r.info.FramingLost != [2]bool{} || r.info.HeaderStateLost != [2]bool{} {
		t.Errorf("Info = %+v", r.info)
	}
}

func TestGapLosesFraming(t *testing.T) {
	// One segment with two DATA frames of 20 bytes each.
	for _, tc := range []struct {
		name     string
		from, to int
		gaps     []string
		data     []byte
	}{
		{"past the frame end", 9 + 8, 20 + 5, []string{"1 client gap 3 00.007", "1 client gap 0 00.007"}, clientText[:8]},
		{"unknown length", 9 + 8, -1, []string{"1 client gap 0 00.007"}, clientText[:8]},
		{"frame header", 20 + 4, 20 + 6, []string{"1 client gap 0 00.007"}, clientText},
		{"frame boundary", 20, 23, []string{"1 client gap 0 00.007"}, clientText},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScript(t)
			s.start(1)
			s.connect(1, "/ws")
			s.accept(1)
			s.together(func() {
				s.data(ClientToServer, 1, false, clientText)
				s.data(ClientToServer, 1, false, clientClose)
			})
			s.cut(tc.from, tc.to)
			s.data(ClientToServer, 1, true, clientText) // ignored
			s.data(ServerToClient, 1, true, serverClose)
			r := run(t, s.events, Options{})
			var gaps []string
			for _, l := range r.log {
				if strings.Contains(l, " gap ") {
					gaps = append(gaps, l)
				}
			}
			if !slices.Equal(gaps, tc.gaps) {
				t.Errorf("gaps = %q, want %q", gaps, tc.gaps)
			}
			if r.info.FramingLost != [2]bool{true, false} || !hasProblem(r.info, "client: gap") {
				t.Errorf("Info = %+v", r.info)
			}
			if e := r.ends[1]; e.How != EndTCP || e.ServerEndStream == nil || e.ClientEndStream != nil {
				t.Errorf("end = %s, want tcp with only the server's END_STREAM", fmtEnd(e))
			}
			checkData(t, r, 1, tc.data, serverClose)
		})
	}
}

// TestGapInHeaderBlock: a gap in a header block leaves that direction's HPACK state
// unknown; the other direction's is intact.
func TestGapInHeaderBlock(t *testing.T) {
	s := gapScript(t)
	s.connect(3, "/second")
	s.cut(9+3, 9+5)
	s.connect(5, "/third")
	s.accept(1, "sec-websocket-protocol", "late") // a second HEADERS: still decoded
	s.data(ClientToServer, 5, false, clientText)
	r := run(t, s.events, Options{})
	in := r.info
	if in.HeaderStateLost != [2]bool{true, false} || in.HeaderFailures != [2]int{2, 0} || in.Streams != 3 ||
		in.WebSocketStreams != 1 || len(r.opened) != 1 || in.FramingLost != [2]bool{} {
		t.Errorf("Info = %+v", in)
	}
	if !hasProblem(in, "client: header block of stream 3: bytes lost in a gap") ||
		!hasProblem(in, "stream 5 opened with a header block not decoded") {
		t.Errorf("Problems = %q", in.Problems)
	}
	if got := r.resp[1]; len(got) != 2 || got[1].Protocol != "late" {
		t.Errorf("stream 1 responses = %+v", got)
	}
}

// TestGapUndecodedResponse: with the server's header state lost, its response HEADERS on
// a followed stream is reported as undecoded, END_STREAM still counts.
func TestGapUndecodedResponse(t *testing.T) {
	s := newScript(t)
	s.start(1)
	s.connect(1, "/a")
	s.accept(1)
	s.cut(9, 9+1) // the block is one byte: :status 200, indexed
	s.connect(3, "/b")
	s.headers(ServerToClient, 3, true, ":status", "403")
	r := run(t, s.events, Options{})
	if got := r.resp[1]; len(got) != 1 || !got[0].Undecoded || got[0].Status != 0 {
		t.Errorf("stream 1 responses = %+v, want one undecoded", got)
	}
	if got := r.resp[3]; len(got) != 1 || !got[0].Undecoded || !got[0].EndStream {
		t.Errorf("stream 3 responses = %+v, want one undecoded with END_STREAM", got)
	}
	if e := r.ends[3]; e.How != EndTCP || e.ServerEndStream == nil {
		t.Errorf("stream 3 end = %s", fmtEnd(e))
	}
}

func TestGapInControlFrame(t *testing.T) {
	s := gapScript(t)
	s.write(ServerToClient, func(fr *http2.Framer) error {
		return fr.WriteSettings(http2.Setting{ID: http2.SettingMaxFrameSize, Val: 1 << 20}, http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1})
	})
	s.cut(9+2, 9+4)
	s.write(ServerToClient, func(fr *http2.Framer) error { return fr.WriteGoAway(1, http2.ErrCodeNo, []byte("bye")) })
	s.cut(9+9, 9+10) // in the debug data
	s.data(ServerToClient, 1, false, serverText)
	r := run(t, s.events, Options{})
	checkData(t, r, 1, clientText, serverText)
	if !hasProblem(r.info, "server: SETTINGS frame cut by a gap: the settings from the gap on ignored") || len(r.info.Problems) != 1 ||
		r.info.FramingLost != [2]bool{} {
		t.Errorf("Info = %+v", r.info)
	}
	// Only the GOAWAY's debug data was cut: the GOAWAY counts, its debug data up to the gap.
	if g := r.info.GoAways; len(g) != 1 || g[0].LastStreamID != 1 || g[0].Debug != "b" {
		t.Errorf("GoAways = %+v", g)
	}
}

func TestGapInPreface(t *testing.T) {
	s := gapScript(t)
	s.events = append([]event{{dir: ClientToServer, data: []byte(clientPreface[:10])}, {dir: ClientToServer, gap: 14}}, s.events[1:]...)
	r := run(t, s.events, Options{})
	if r.info.Preface || r.info.FramingLost != [2]bool{true, false} || len(r.opened) != 0 {
		t.Errorf("Info = %+v", r.info)
	}
}
