package wsparse

import (
	"bytes"
	"compress/flate"
	"strings"
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/wsframe"
)

func textFrame(fin bool, op byte, masked bool, rsv byte, p []byte) []byte {
	return wsframe.Frame{Fin: fin, Op: op, RSV: rsv, Masked: masked, Key: [4]byte{9, 8, 7, 6}, Payload: p}.Bytes()
}

// TestLastMessage: the last complete data message of each side, whole or split anywhere,
// fragmented, masked, compressed with and without context takeover.
func TestLastMessage(t *testing.T) {
	long := strings.Repeat("0123456789", 10)
	errMsg := `{"error":"token expired","code":4001}`
	srvComp := deflateMessages(t, [][]byte{[]byte(errMsg + errMsg), []byte(errMsg)}, flate.BestCompression, true)
	cliComp := deflateMessages(t, [][]byte{[]byte("ping ping ping"), []byte("ping ping ping")}, flate.BestCompression, false)
	tests := []struct {
		name       string
		steps      []step
		cli, srv   string // %q of the preview, "" for none
		cliCut     bool
		srvInflate int64
	}{
		{
			name: "plain, fragmented, masked",
			steps: append(handshake(nil, nil),
				feed(Client, textFrame(true, wsframe.OpText, true, 0, []byte("first"))),
				feed(Client, textFrame(false, wsframe.OpText, true, 0, []byte(long[:50])), textFrame(true, wsframe.OpContinuation, true, 0, []byte(long[50:]))),
				feed(Server, textFrame(true, wsframe.OpBinary, false, 0, []byte{1, 2, 3})),
				feed(Client, textFrame(false, wsframe.OpText, true, 0, []byte("never finished")))),
			cli: long[:PreviewBytes], cliCut: true, srv: "\x01\x02\x03", srvInflate: -1,
		},
		{
			name: "permessage-deflate, takeover on the server, none on the client",
			steps: append(handshake([]string{"Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover"},
				[]string{"Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover"}),
				feed(Server, textFrame(true, wsframe.OpText, false, wsframe.RSV1, srvComp[0])),
				feed(Client, textFrame(true, wsframe.OpText, true, wsframe.RSV1, cliComp[0])),
				feed(Client, textFrame(false, wsframe.OpText, true, wsframe.RSV1, cliComp[1][:3]), textFrame(true, wsframe.OpContinuation, true, 0, cliComp[1][3:])),
				feed(Server, textFrame(true, wsframe.OpText, false, wsframe.RSV1, srvComp[1]))),
			cli: "ping ping ping", srv: errMsg, srvInflate: int64(len(errMsg)),
		},
	}
	for _, tt := range tests {
		for _, sp := range []struct {
			name string
			f    splitter
		}{{"whole", whole}, {"one byte", oneByte}, {"random", randomSplit(3)}} {
			c, _ := run(tt.steps, sp.f, Options{Payloads: true})
			cl, okc := c.LastMessage(Client)
			sv, oks := c.LastMessage(Server)
			if !okc || !oks || string(cl.Preview) != tt.cli || string(sv.Preview) != tt.srv || cl.Cut != tt.cliCut ||
				sv.Inflated != tt.srvInflate || cl.NoPreview != "" || sv.NoPreview != "" {
				t.Errorf("%s, %s: client %+v, server %+v; want previews %q and %q", tt.name, sp.name, cl, sv, tt.cli, tt.srv)
			}
		}
	}
}

// Without Options.Payloads nothing is kept; a message that refers to a window the capture
// did not see, or one after lost bytes, says so instead of showing wrong text.
func TestLastMessageLimits(t *testing.T) {
	steps := append(handshake(nil, nil), feed(Client, textFrame(true, wsframe.OpText, true, 0, []byte("x"))))
	if c, _ := run(steps, whole, Options{}); c.payloads() != nil {
		t.Errorf("payload state allocated with Payloads off")
	} else if _, ok := c.LastMessage(Client); ok {
		t.Errorf("a last message with Payloads off")
	}
	comp := deflateMessages(t, [][]byte{[]byte("repeat repeat repeat"), []byte("repeat repeat repeat"), []byte("repeat repeat repeat!")}, flate.BestCompression, true)
	deflate := []string{"Sec-WebSocket-Extensions: permessage-deflate"}
	lost := textFrame(true, wsframe.OpText, false, wsframe.RSV1, comp[1])
	steps = append(handshake(deflate, deflate),
		feed(Server, textFrame(true, wsframe.OpText, false, wsframe.RSV1, comp[0])),
		gapOf(Server, int64(len(lost))),
		feed(Server, textFrame(true, wsframe.OpText, false, wsframe.RSV1, comp[2]), textFrame(true, wsframe.OpClose, false, 0, wsframe.Close(1000, ""))))
	c, _ := run(steps, whole, Options{Payloads: true})
	sv, ok := c.LastMessage(Server)
	if !ok || sv.Length != int64(len(comp[2])) || sv.Preview != nil || !strings.HasPrefix(sv.NoPreview, "could not inflate: bytes of an earlier message") {
		t.Errorf("after a gap in a compressed stream: %+v, want no preview and why", sv)
	}
	// The message before a gap is marked: a later one may be missing.
	steps = append(handshake(nil, nil), feed(Server, textFrame(true, wsframe.OpText, false, 0, []byte("x"))), gapOf(Server, 10))
	c, _ = run(steps, whole, Options{Payloads: true})
	if sv, ok := c.LastMessage(Server); !ok || !sv.LaterMissing || !bytes.Equal(sv.Preview, []byte("x")) {
		t.Errorf("before a gap: %+v", sv)
	}
}

// The inflaters of a Pool are capped and come back when the Conn is put back.
func TestInflaterLimit(t *testing.T) {
	var p Pool
	deflate := []string{"Sec-WebSocket-Extensions: permessage-deflate"}
	comp := deflateMessages(t, [][]byte{[]byte("hello")}, flate.BestSpeed, true)
	steps := append(handshake(deflate, deflate), feed(Server, textFrame(true, wsframe.OpText, false, wsframe.RSV1, comp[0])))
	get := func(o Options) *Conn { return p.Get(o) }
	a, _ := runOn(get, steps, whole, Options{Payloads: true, MaxInflaters: 1})
	b, _ := runOn(get, steps, whole, Options{Payloads: true, MaxInflaters: 1})
	if m, _ := a.LastMessage(Server); string(m.Preview) != "hello" {
		t.Errorf("first connection: %+v", m)
	}
	if m, _ := b.LastMessage(Server); m.Preview != nil || !strings.Contains(m.NoPreview, "1 connections were being inflated at once") {
		t.Errorf("second connection, past the limit: %+v", m)
	}
	p.Put(a)
	p.Put(b)
	if p.inflating != 0 {
		t.Errorf("%d inflaters in use after Put", p.inflating)
	}
	c, _ := runOn(get, steps, whole, Options{Payloads: true, MaxInflaters: 1})
	if m, _ := c.LastMessage(Server); string(m.Preview) != "hello" {
		t.Errorf("after Put: %+v", m)
	}
}
