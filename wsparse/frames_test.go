package wsparse

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/wsframe"
)

// F is a short alias for building frames in tables.
type F = wsframe.Frame

func TestFrameFindings(t *testing.T) {
	deflateHS := handshake([]string{"Sec-WebSocket-Extensions: permessage-deflate"}, []string{"Sec-WebSocket-Extensions: permessage-deflate"})
	k := maskKey
	tests := []struct {
		name   string
		hs     []step
		client [][]byte
		server [][]byte
		want   []string // "side:code:count"
		// stats checks
		wantClientMsgs, wantServerMsgs int64
	}{
		{
			name:           "valid fragmented text with interleaved ping",
			client:         [][]byte{cf(false, wsframe.OpText, []byte("hé")), cf(true, wsframe.OpPing, nil), cf(false, wsframe.OpContinuation, []byte("llo ")), cf(true, wsframe.OpContinuation, []byte("wörld"))},
			server:         [][]byte{sf(true, wsframe.OpBinary, bytes.Repeat([]byte{0xff}, 70000))},
			wantClientMsgs: 1, wantServerMsgs: 1,
		},
		{
			name:           "bit strings: unmasked client text, masked server text",
			client:         [][]byte{wsframe.Bits("1000 0001  0000 0010"), []byte("hi")},
			server:         [][]byte{wsframe.Bits("1000 0001  1000 0000  0000 0001 0000 0010 0000 0011 0000 0100")},
			want:           []string{"client:client-frame-unmasked:1", "server:server-frame-masked:1"},
			wantClientMsgs: 1, wantServerMsgs: 1,
		},
		{
			name:           "unmasked client repeated merges",
			client:         [][]byte{sf(true, wsframe.OpText, []byte("a")), sf(true, wsframe.OpText, []byte("b")), sf(true, wsframe.OpText, []byte("c"))},
			want:           []string{"client:client-frame-unmasked:3"},
			wantClientMsgs: 3,
		},
		{
			name:           "rsv bits without extension",
			client:         [][]byte{F{Fin: true, RSV: wsframe.RSV1, Op: wsframe.OpBinary, Masked: true, Key: k, Payload: []byte{1}}.Bytes(), F{Fin: true, RSV: wsframe.RSV3, Op: wsframe.OpBinary, Masked: true, Key: k}.Bytes()},
			want:           []string{"client:rsv-without-extension:2"},
			wantClientMsgs: 2,
		},
		{
			name:           "rsv1 legal with deflate, not on continuation or control",
			hs:             deflateHS,
			client:         [][]byte{F{RSV: wsframe.RSV1, Op: wsframe.OpText, Masked: true, Key: k, Payload: []byte{0xff, 0xfe}}.Bytes(), F{Fin: true, RSV: wsframe.RSV1, Op: wsframe.OpContinuation, Masked: true, Key: k, Payload: []byte{0xc0}}.Bytes(), F{Fin: true, RSV: wsframe.RSV1, Op: wsframe.OpPing, Masked: true, Key: k}.Bytes()},
			want:           []string{"client:rsv1-not-first-frame:2"},
			wantClientMsgs: 1,
		},
		{
			name:           "reserved opcodes",
			client:         [][]byte{F{Fin: true, Op: 0x3, Masked: true, Key: k, Payload: []byte("xyz")}.Bytes(), F{Fin: true, Op: 0xB, Masked: true, Key: k}.Bytes(), cf(true, wsframe.OpText, []byte("ok"))},
			want:           []string{"client:reserved-opcode:2"},
			wantClientMsgs: 1,
		},
		{
			name:   "control fragmented and too long",
			server: [][]byte{sf(false, wsframe.OpPing, []byte("x")), sf(true, wsframe.OpPong, bytes.Repeat([]byte("p"), 200))},
			want:   []string{"server:control-fragmented:1", "server:control-too-long:1"},
		},
		{
			name:           "continuation without start",
			server:         [][]byte{sf(true, wsframe.OpContinuation, []byte("x"))},
			want:           []string{"server:unexpected-continuation:1"},
			wantServerMsgs: 1,
		},
		{
			name:           "new message inside fragmented one",
			server:         [][]byte{sf(false, wsframe.OpText, []byte("a")), sf(true, wsframe.OpBinary, []byte("b"))},
			want:           []string{"server:message-interrupted:1"},
			wantServerMsgs: 1,
		},
		{
			name:           "non-minimal lengths",
			server:         [][]byte{F{Fin: true, Op: wsframe.OpBinary, LenForm: wsframe.Len16, Payload: []byte("abc")}.Bytes(), F{Fin: true, Op: wsframe.OpBinary, LenForm: wsframe.Len64, Payload: make([]byte, 300)}.Bytes()},
			want:           []string{"server:non-minimal-length:2"},
			wantServerMsgs: 2,
		},
		{
			name:           "64-bit length top bit",
			server:         [][]byte{F{Fin: true, Op: wsframe.OpBinary, Length: 1 << 63, SetLength: true}.Bytes(), sf(true, wsframe.OpText, []byte("after")), sf(true, wsframe.OpText, []byte("b")), sf(true, wsframe.OpText, []byte("c"))},
			want:           []string{"server:length-top-bit:1"},
			wantServerMsgs: 3,
		},
		{
			name:           "data after close and second close",
			client:         [][]byte{cf(true, wsframe.OpClose, wsframe.Close(1000, "")), cf(true, wsframe.OpText, []byte("late")), cf(true, wsframe.OpClose, wsframe.Close(1001, ""))},
			want:           []string{"client:data-after-close:1", "client:duplicate-close:1"},
			wantClientMsgs: 1,
		},
		{
			name:           "invalid utf8 across fragments",
			client:         [][]byte{cf(false, wsframe.OpText, []byte{'a', 0xE2, 0x82}), cf(true, wsframe.OpContinuation, []byte{0xAC, 'b'}), cf(false, wsframe.OpText, []byte{0xE2}), cf(true, wsframe.OpContinuation, []byte{'x'})},
			want:           []string{"client:invalid-utf8:1"},
			wantClientMsgs: 2,
		},
		{
			name:           "invalid utf8 truncated at message end",
			server:         [][]byte{sf(true, wsframe.OpText, []byte{'a', 0xF0, 0x9F})},
			want:           []string{"server:invalid-utf8:1"},
			wantServerMsgs: 1,
		},
		{
			name:           "utf8 surrogate and overlong",
			server:         [][]byte{sf(true, wsframe.OpText, []byte{0xED, 0xA0, 0x80}), sf(true, wsframe.OpText, []byte{0xC0, 0xAF})},
			want:           []string{"server:invalid-utf8:2"},
			wantServerMsgs: 2,
		},
		{
			name:           "compressed text not validated",
			hs:             deflateHS,
			server:         [][]byte{F{Fin: true, RSV: wsframe.RSV1, Op: wsframe.OpText, Payload: []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}}.Bytes()},
			wantServerMsgs: 1,
		},
		{
			name:   "incomplete frame at end",
			server: [][]byte{F{Fin: true, Op: wsframe.OpBinary, Length: 1000, SetLength: true, Payload: make([]byte, 10)}.Bytes()},
			want:   []string{"server:incomplete-frame:1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps := tt.hs
			if steps == nil {
				steps = handshake(nil, nil)
			}
			steps = append(append([]step(nil), steps...), feed(Client, tt.client...), feed(Server, tt.server...))
			c, _ := runAll(t, steps, Options{})
			var got []string
			for _, f := range c.Findings() {
				got = append(got, f.Side.String()+":"+string(f.Code)+":"+itoa64(int64(f.Count)))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("findings: got %v, want %v\n%s", got, tt.want, snapshot(c, nil))
			}
			if g := c.Stats(Client).Messages; g != tt.wantClientMsgs {
				t.Errorf("client messages: got %d, want %d", g, tt.wantClientMsgs)
			}
			if g := c.Stats(Server).Messages; g != tt.wantServerMsgs {
				t.Errorf("server messages: got %d, want %d", g, tt.wantServerMsgs)
			}
		})
	}
}

func TestFindingDetails(t *testing.T) {
	steps := append(handshake(nil, nil),
		feed(Client, cf(true, wsframe.OpText, []byte("ok")), sf(true, wsframe.OpText, []byte("x"))),
		feed(Server, sf(true, wsframe.OpPing, bytes.Repeat([]byte("p"), 130))))
	c, ev := runAll(t, steps, Options{})
	got := c.Findings()
	want := []Finding{
		{Code: FindClientUnmasked, Side: Client, Frame: 1, Time: t0.Add(2e9), Detail: "client text frame (its WebSocket frame #2) is not masked", Count: 1},
		{Code: FindControlTooLong, Side: Server, Frame: 0, Time: t0.Add(3e9), Detail: "server ping frame (its WebSocket frame #1) has a 130-byte payload (control frames are limited to 125)", Count: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("findings:\ngot  %+v\nwant %+v", got, want)
	}
	var kinds []string
	for _, e := range ev {
		kinds = append(kinds, e.Kind.String())
	}
	if g, w := strings.Join(kinds, ","), "request,response,message,finding,message,finding,ping"; g != w {
		t.Errorf("events: got %s, want %s", g, w)
	}
	if m := ev[2]; m.Side != Client || m.Length != 2 || m.Detail != "text message, 2 bytes" || m.Frame != 0 {
		t.Errorf("message event: got %+v", m)
	}
	st := c.Stats(Server)
	if st.Pings != 1 || st.Frames != 1 || st.LastFrameTime != t0.Add(3e9) {
		t.Errorf("server stats: got %+v", st)
	}
	if p := c.Pings(); len(p) != 1 || len(p[0].Payload) != 130 {
		t.Errorf("pings: got %d records", len(p))
	}
}

func TestPingCapAndPayloadCap(t *testing.T) {
	var client [][]byte
	for i := 0; i < 5; i++ {
		client = append(client, cf(true, wsframe.OpPing, []byte{byte(i)}))
	}
	client = append(client, cf(true, wsframe.OpPing, bytes.Repeat([]byte("z"), 300)))
	steps := append(handshake(nil, nil), feed(Client, client...))
	c, _ := runAll(t, steps, Options{MaxPings: 3, MaxControlPayload: 200})
	if g := c.Stats(Client).Pings; g != 6 {
		t.Errorf("pings counted: got %d, want 6", g)
	}
	p := c.Pings()
	if len(p) != 3 || !bytes.Equal(p[2].Payload, []byte{2}) {
		t.Errorf("ping records: got %+v, want 3 records ending with payload [2]", p)
	}
	steps = append(handshake(nil, nil), feed(Client, cf(true, wsframe.OpPing, bytes.Repeat([]byte("z"), 300))))
	c, _ = runAll(t, steps, Options{MaxControlPayload: 200})
	if p := c.Pings(); len(p) != 1 || !bytes.Equal(p[0].Payload, bytes.Repeat([]byte("z"), 200)) {
		t.Errorf("capped payload: got %d bytes, want 200 z", len(p[0].Payload))
	}
}

func TestFrameTimes(t *testing.T) {
	// The second frame is split across two steps: it gets the time of the second one.
	fr := sf(true, wsframe.OpText, []byte("hello"))
	steps := append(handshake(nil, nil), feed(Server, sf(true, wsframe.OpPing, nil), fr[:3]), feed(Server, fr[3:]))
	c, _ := runAll(t, steps, Options{})
	st := c.Stats(Server)
	if st.Frames != 2 || st.LastFrameTime != t0.Add(3e9) {
		t.Errorf("stats: got %+v, want 2 frames, last at 3s", st)
	}
	if p := c.Pings(); len(p) != 1 || p[0].Time != t0.Add(2e9) {
		t.Errorf("ping time: got %+v, want 2s", p)
	}
}

func TestClientFramesBeforeResponse(t *testing.T) {
	// The client's first frame arrives in the capture before the 101 is fed.
	steps := []step{
		feed(Client, wsframe.Request("/", testKey), cf(true, wsframe.OpText, []byte("early"))),
		feed(Server, wsframe.Response101(testKey), sf(true, wsframe.OpText, []byte("hi"))),
		feed(Client, cf(true, wsframe.OpClose, wsframe.Close(1000, ""))),
	}
	c, _ := runAll(t, steps, Options{})
	st := c.Stats(Client)
	if st.Frames != 2 || st.Messages != 1 {
		t.Errorf("client stats: got %+v, want 2 frames 1 message", st)
	}
	if cl := c.Close(Client); cl == nil || cl.Code != 1000 {
		t.Errorf("client close: got %+v", cl)
	}
	// Rejected upgrade: the client's next bytes are HTTP again.
	steps = []step{
		feed(Client, wsframe.Request("/", testKey), wsframe.Request("/", testKey)),
		feed(Server, wsframe.Response(403, "Forbidden", "Content-Length: 0"), wsframe.Response101(testKey)),
		feed(Client, cf(true, wsframe.OpClose, nil)),
	}
	c, _ = runAll(t, steps, Options{})
	if h := c.Handshake(); h == nil || !h.Upgraded {
		t.Errorf("handshake: got %+v, want upgraded", h)
	}
	if cl := c.Close(Client); cl == nil || cl.HasCode {
		t.Errorf("client close: got %+v, want empty close", cl)
	}
}

func TestMessageEventsCountFragments(t *testing.T) {
	first := sf(false, wsframe.OpBinary, []byte("he"))
	ping := sf(true, wsframe.OpPing, nil)
	last := sf(true, wsframe.OpContinuation, []byte("llo"))
	steps := append(handshake(nil, nil), feed(Server, first, ping, last))
	_, ev := runAll(t, steps, Options{})
	var msgs []Event
	for _, e := range ev {
		if e.Kind == EventMessage {
			msgs = append(msgs, e)
		}
	}
	if len(msgs) != 1 || msgs[0].Length != 5 || msgs[0].Frame != 2 || msgs[0].Detail != "binary message, 5 bytes" {
		t.Errorf("got message events %+v, want one binary message of 5 bytes ending at frame 2", msgs)
	}
}
