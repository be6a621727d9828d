package wsparse

import (
	"reflect"
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/wsframe"
)

func TestHandshakeJudge(t *testing.T) {
	accept := "Sec-WebSocket-Accept: " + wsframe.AcceptKey(testKey)
	tests := []struct {
		name         string
		steps        []step
		wantUpgraded bool
		wantFailure  string
		wantStatus   int
		wantText     string
		wantTrunc    bool
		wantDeflate  bool
		wantWS       bool
	}{
		{
			name:         "ok",
			steps:        handshake(nil, nil),
			wantUpgraded: true, wantStatus: 101, wantText: "Switching Protocols", wantWS: true,
		},
		{
			name: "403 forbidden",
			steps: []step{feed(Client, wsframe.Request("/", testKey)),
				feed(Server, wsframe.Response(403, "Forbidden", "Content-Length: 0"))},
			wantFailure: "server answered 403 Forbidden", wantStatus: 403, wantText: "Forbidden", wantWS: true,
		},
		{
			name: "reason phrase as sent",
			steps: []step{feed(Client, wsframe.Request("/", testKey)),
				feed(Server, wsframe.Response(403, "Go Away", "Content-Length: 0"))},
			wantFailure: "server answered 403 Go Away", wantStatus: 403, wantText: "Go Away", wantWS: true,
		},
		{
			name: "empty reason uses status text",
			steps: []step{feed(Client, wsframe.Request("/", testKey)),
				feed(Server, wsframe.Response(404, "", "Content-Length: 0"))},
			wantFailure: "server answered 404 Not Found", wantStatus: 404, wantWS: true,
		},
		{
			name: "426 versions",
			steps: []step{feed(Client, wsframe.Request("/", testKey)),
				feed(Server, wsframe.Response(426, "Upgrade Required", "Sec-WebSocket-Version: 8, 7", "Content-Length: 0"))},
			wantFailure: "server does not support WebSocket version 13 (it supports 8, 7)", wantStatus: 426, wantText: "Upgrade Required", wantWS: true,
		},
		{
			name: "accept mismatch",
			steps: []step{feed(Client, wsframe.Request("/", testKey)),
				feed(Server, wsframe.Response(101, "Switching Protocols", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Accept: AAAA"))},
			wantFailure: "accept key does not match the request key", wantStatus: 101, wantText: "Switching Protocols", wantWS: true,
		},
		{
			name: "accept missing",
			steps: []step{feed(Client, wsframe.Request("/", testKey)),
				feed(Server, wsframe.Response(101, "Switching Protocols", "Upgrade: websocket", "Connection: Upgrade"))},
			wantFailure: "server answered 101 without Sec-WebSocket-Accept", wantStatus: 101, wantText: "Switching Protocols", wantWS: true,
		},
		{
			name: "upgrade header missing",
			steps: []step{feed(Client, wsframe.Request("/", testKey)),
				feed(Server, wsframe.Response(101, "Switching Protocols", "Connection: Upgrade", accept))},
			wantFailure: "server answered 101 without Upgrade: websocket", wantStatus: 101, wantText: "Switching Protocols", wantWS: true,
		},
		{
			name: "connection list and case",
			steps: []step{feed(Client, wsframe.Request("/", testKey)),
				feed(Server, wsframe.Response(101, "Switching Protocols", "upgrade: WebSocket", "connection: keep-alive, UPGRADE", accept))},
			wantUpgraded: true, wantStatus: 101, wantText: "Switching Protocols", wantWS: true,
		},
		{
			name: "connection without upgrade",
			steps: []step{feed(Client, wsframe.Request("/", testKey)),
				feed(Server, wsframe.Response(101, "Switching Protocols", "Upgrade: websocket", "Connection: keep-alive", accept))},
			wantFailure: "server answered 101 with Connection: keep-alive instead of Upgrade", wantStatus: 101, wantText: "Switching Protocols", wantWS: true,
		},
		{
			// net/http deletes a Connection header that lists close; the judge reads the
			// header as sent, where Upgrade is listed.
			name: "connection close and upgrade",
			steps: []step{feed(Client, wsframe.Request("/", testKey)),
				feed(Server, wsframe.Response(101, "Switching Protocols", "Upgrade: websocket", "Connection: close, Upgrade", accept))},
			wantUpgraded: true, wantStatus: 101, wantText: "Switching Protocols", wantWS: true,
		},
		{
			name: "connection close",
			steps: []step{feed(Client, wsframe.Request("/", testKey)),
				feed(Server, wsframe.Response(101, "Switching Protocols", "Upgrade: websocket", "Connection: close", accept))},
			wantFailure: "server answered 101 with Connection: close instead of Upgrade", wantStatus: 101, wantText: "Switching Protocols", wantWS: true,
		},
		{
			name: "connection close, folded header for net/http",
			steps: []step{feed(Client, wsframe.Request("/", testKey)),
				feed(Server, wsframe.Response(101, "Switching Protocols", "Upgrade: websocket", "Connection: close,\r\n Upgrade", accept))},
			wantUpgraded: true, wantStatus: 101, wantText: "Switching Protocols", wantWS: true,
		},
		{
			name:        "subprotocol not offered",
			steps:       handshake(nil, []string{"Sec-WebSocket-Protocol: x"}),
			wantFailure: `server chose subprotocol "x" that the client did not offer`, wantStatus: 101, wantText: "Switching Protocols", wantWS: true,
		},
		{
			name:        "subprotocol ignored",
			steps:       handshake([]string{"Sec-WebSocket-Protocol: chat.v2"}, nil),
			wantFailure: `server ignored the requested subprotocol "chat.v2"`, wantStatus: 101, wantText: "Switching Protocols", wantWS: true,
		},
		{
			name:        "subprotocols ignored",
			steps:       handshake([]string{"Sec-WebSocket-Protocol: a, b", "Sec-WebSocket-Protocol: c"}, nil),
			wantFailure: `server ignored the requested subprotocols "a", "b", "c"`, wantStatus: 101, wantText: "Switching Protocols", wantWS: true,
		},
		{
			name:         "subprotocol chosen from repeated headers",
			steps:        handshake([]string{"Sec-WebSocket-Protocol: a", "Sec-WebSocket-Protocol:  b ,c"}, []string{"Sec-WebSocket-Protocol: c"}),
			wantUpgraded: true, wantStatus: 101, wantText: "Switching Protocols", wantWS: true,
		},
		{
			name:        "extension not offered",
			steps:       handshake(nil, []string{"Sec-WebSocket-Extensions: permessage-deflate"}),
			wantFailure: `server chose extension "permessage-deflate" that the client did not offer`, wantStatus: 101, wantText: "Switching Protocols", wantDeflate: true, wantWS: true,
		},
		{
			name: "deflate negotiated",
			steps: handshake([]string{"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-foo"},
				[]string{"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover"}),
			wantUpgraded: true, wantStatus: 101, wantText: "Switching Protocols", wantDeflate: true, wantWS: true,
		},
		{
			name: "truncated 101 at end",
			steps: []step{feed(Client, wsframe.Request("/", testKey, "Sec-WebSocket-Protocol: chat")),
				feed(Server, []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConn"))},
			wantUpgraded: true, wantStatus: 101, wantText: "Switching Protocols", wantTrunc: true, wantWS: true,
		},
		{
			name: "truncated inside status line",
			steps: []step{feed(Client, wsframe.Request("/", testKey)),
				feed(Server, []byte("HTTP/1.1 101 Swi"))},
			wantUpgraded: true, wantStatus: 101, wantText: "Swi", wantTrunc: true, wantWS: true,
		},
		{
			name: "truncated by gap but accept present and wrong",
			steps: []step{feed(Client, wsframe.Request("/", testKey)),
				feed(Server, []byte("HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: AAAA\r\nUpg")), gapOf(Server, 100)},
			wantFailure: "accept key does not match the request key", wantStatus: 101, wantText: "Switching Protocols", wantTrunc: true, wantWS: true,
		},
		{
			name: "401 then retry",
			steps: []step{
				feed(Client, wsframe.Request("/", "b2xka2V5b2xka2V5b2xkaw==")),
				feed(Server, wsframe.Response(401, "Unauthorized", "Content-Length: 5"), []byte("nope!")),
				feed(Client, wsframe.Request("/", testKey, "Authorization: Basic eDp5")),
				feed(Server, wsframe.Response101(testKey)),
			},
			wantUpgraded: true, wantStatus: 101, wantText: "Switching Protocols", wantWS: true,
		},
		{
			name: "keep-alive before upgrade with bodies",
			steps: []step{
				feed(Client, []byte("POST /login HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nabcd")),
				feed(Server, []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nGET \r\n3;x=y\r\nabc\r\n0\r\nX-T: 1\r\n\r\n")),
				feed(Client, []byte("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n")),
				feed(Server, []byte("HTTP/1.1 204 No Content\r\n\r\n")),
				feed(Client, []byte("HEAD /y HTTP/1.1\r\nHost: a\r\n\r\n")),
				feed(Server, []byte("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")),
				feed(Client, wsframe.Request("/chat?x=1", testKey)),
				feed(Server, wsframe.Response101(testKey), sf(true, wsframe.OpClose, wsframe.Close(1001, ""))),
			},
			wantUpgraded: true, wantStatus: 101, wantText: "Switching Protocols", wantWS: true,
		},
		{
			name: "plain http is not websocket",
			steps: []step{
				feed(Client, []byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n")),
				feed(Server, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := runAll(t, tt.steps, Options{})
			if got := c.IsWebSocket(); got != tt.wantWS {
				t.Errorf("IsWebSocket: got %v, want %v", got, tt.wantWS)
			}
			h := c.Handshake()
			if !tt.wantWS {
				if h != nil {
					t.Errorf("Handshake: got %+v, want nil", *h)
				}
				return
			}
			if h == nil {
				t.Fatalf("Handshake: got nil")
			}
			if h.Upgraded != tt.wantUpgraded || h.Failure != tt.wantFailure {
				t.Errorf("Upgraded, Failure: got %v %q, want %v %q", h.Upgraded, h.Failure, tt.wantUpgraded, tt.wantFailure)
			}
			if h.Status != tt.wantStatus || h.StatusText != tt.wantText {
				t.Errorf("Status: got %d %q, want %d %q", h.Status, h.StatusText, tt.wantStatus, tt.wantText)
			}
			if h.HeadersTruncated != tt.wantTrunc {
				t.Errorf("HeadersTruncated: got %v, want %v", h.HeadersTruncated, tt.wantTrunc)
			}
			if h.Deflate != tt.wantDeflate {
				t.Errorf("Deflate: got %v, want %v", h.Deflate, tt.wantDeflate)
			}
		})
	}
}

func TestHandshakeFields(t *testing.T) {
	req := []byte("GET /chat?room=1&x=%20 HTTP/1.1\r\nHost: ws.example.com:8443\r\nUpgrade: websocket\r\n" +
		"Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n" +
		"Origin: https://example.com\r\nUser-Agent: test/1.0\r\nSec-WebSocket-Protocol: chat, superchat\r\n" +
		"Sec-WebSocket-Protocol: v3\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
		"Sec-WebSocket-Extensions: x-foo; a=\"1,2\", x-bar\r\n\r\n")
	resp := wsframe.Response101(testKey, "Sec-WebSocket-Protocol: superchat", "Sec-WebSocket-Extensions: permessage-deflate")
	c, _ := runAll(t, []step{feed(Client, req), feed(Server, resp)}, Options{})
	h := c.Handshake()
	if h == nil {
		t.Fatal("Handshake: got nil")
	}
	got := []any{h.Method, h.Path, h.Host, h.Origin, h.UserAgent, h.Version, h.Key, h.Protocols, h.Extensions,
		h.Status, h.Subprotocol, h.ChosenExtensions, h.Deflate, h.Upgraded, h.RequestTime, h.ResponseTime}
	want := []any{"GET", "/chat?room=1&x=%20", "ws.example.com:8443", "https://example.com", "test/1.0", "13", testKey,
		[]string{"chat", "superchat", "v3"}, []string{"permessage-deflate; client_max_window_bits", `x-foo; a="1,2"`, "x-bar"},
		101, "superchat", []string{"permessage-deflate"}, true, true, t0, t0.Add(1e9)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields:\ngot  %v\nwant %v", got, want)
	}
}

func TestHandshakeSwappedSides(t *testing.T) {
	steps := []step{
		feed(Server, wsframe.Request("/", testKey)),
		feed(Client, wsframe.Response101(testKey)),
		feed(Server, cf(true, wsframe.OpClose, wsframe.Close(1000, ""))),
		feed(Client, sf(true, wsframe.OpClose, wsframe.Close(1000, ""))),
	}
	c, _ := runAll(t, steps, Options{})
	if !c.SidesSwapped() {
		t.Fatalf("SidesSwapped: got false, want true")
	}
	if cl := c.Close(Client); cl == nil || cl.Frame != 0 || cl.Time != t0.Add(2e9) {
		t.Errorf("Close(Client): got %+v, want the frame fed as Server at 2s", cl)
	}
	if got := findingCodes(c); len(got) != 0 {
		t.Errorf("findings: got %v, want none", got)
	}
	if h := c.Handshake(); h == nil || !h.Upgraded {
		t.Errorf("Handshake: got %+v, want upgraded", h)
	}
}

func TestHeaderTooLarge(t *testing.T) {
	big := wsframe.Request("/", testKey, "X-Big: "+string(make([]byte, 300)))
	c, _ := runAll(t, []step{feed(Client, big)}, Options{MaxHeaderBytes: 200})
	got := findingCodes(c)
	want := []string{"client:header-too-large"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("findings: got %v, want %v", got, want)
	}
	if h := c.Handshake(); h != nil {
		t.Errorf("Handshake: got %+v, want nil", *h)
	}
}

func TestTruncatedUnchecked(t *testing.T) {
	steps := []step{
		feed(Client, wsframe.Request("/", testKey, "Sec-WebSocket-Protocol: chat")),
		feed(Server, []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConn")),
	}
	c, _ := runAll(t, steps, Options{})
	h := c.Handshake()
	want := []string{"Connection", "Sec-WebSocket-Accept", "Sec-WebSocket-Protocol"}
	if h == nil || !reflect.DeepEqual(h.Unchecked, want) || h.Failure != "" || !h.Upgraded {
		t.Fatalf("got %+v, want Unchecked %v, upgraded without failure", h, want)
	}
	if got, want := findingCodes(c), []string{"server:headers-truncated"}; !reflect.DeepEqual(got, want) {
		t.Errorf("findings: got %v, want %v", got, want)
	}
}

func TestCaptureStartsAtResponse(t *testing.T) {
	// The request was not captured: the 101 alone identifies the upgrade; the client's
	// frames are found by a chain.
	steps := []step{
		feed(Server, wsframe.Response101(testKey), sf(true, wsframe.OpText, []byte("hi"))),
		feed(Client, cf(true, wsframe.OpText, []byte("a")), cf(true, wsframe.OpText, []byte("b")), cf(true, wsframe.OpClose, wsframe.Close(1000, ""))),
		feed(Server, sf(true, wsframe.OpClose, wsframe.Close(1000, ""))),
	}
	c, _ := runAll(t, steps, Options{})
	h := c.Handshake()
	if h == nil || h.RequestSeen || !h.Upgraded || !c.IsWebSocket() || c.SidesSwapped() {
		t.Fatalf("handshake: got %+v", h)
	}
	if !reflect.DeepEqual(h.Unchecked, []string{"Sec-WebSocket-Accept"}) {
		t.Errorf("Unchecked: got %v", h.Unchecked)
	}
	if c.Close(Client) == nil || c.Close(Server) == nil || c.Stats(Client).Frames != 3 {
		t.Errorf("closes: got %v %v, client stats %+v", c.Close(Client), c.Close(Server), c.Stats(Client))
	}
}

func TestTimeline(t *testing.T) {
	steps := append(handshake(nil, nil),
		feed(Server, sf(true, wsframe.OpPing, nil)),
		feed(Client, cf(true, wsframe.OpPong, nil)),
		gapOf(Server, 0),
		feed(Server, sf(true, wsframe.OpClose, wsframe.Close(1000, ""))),
	)
	_, ev := runAll(t, steps, Options{})
	var got []string
	for _, e := range ev {
		got = append(got, e.Kind.String()+"/"+e.Side.String()+"/"+e.Time.Sub(t0).String())
	}
	want := []string{"request/client/0s", "response/server/1s", "ping/server/2s", "pong/client/3s",
		"gap/server/4s", "finding/server/4s", "resync/server/5s", "close/server/5s"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events:\ngot  %v\nwant %v", got, want)
	}
}

func TestPipelinedRequests(t *testing.T) {
	steps := []step{
		feed(Client, []byte("GET /a HTTP/1.1\r\nHost: a\r\n\r\n"), wsframe.Request("/ws", testKey)),
		feed(Server, []byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"), wsframe.Response101(testKey)),
		feed(Client, cf(true, wsframe.OpClose, wsframe.Close(1000, ""))),
	}
	c, _ := runAll(t, steps, Options{})
	if h := c.Handshake(); h == nil || !h.Upgraded || h.Path != "/ws" {
		t.Fatalf("handshake: got %+v", h)
	}
	if cl := c.Close(Client); cl == nil || cl.Code != 1000 {
		t.Errorf("client close: got %+v", cl)
	}
}

func TestRequestCutByGap(t *testing.T) {
	req := wsframe.Request("/chat", testKey)
	steps := []step{
		feed(Client, req[:30]), gapOf(Client, int64(len(req)-30)),
		feed(Server, wsframe.Response101(testKey)),
		feed(Client, cf(true, wsframe.OpText, []byte("a")), cf(true, wsframe.OpText, []byte("b")), cf(true, wsframe.OpClose, wsframe.Close(1000, ""))),
	}
	c, _ := runAll(t, steps, Options{})
	h := c.Handshake()
	if h == nil || !h.RequestSeen || !h.HeadersTruncated || h.Path != "/chat" || !h.Upgraded || !c.IsWebSocket() {
		t.Fatalf("handshake: got %+v", h)
	}
	if cl := c.Close(Client); cl == nil || cl.Code != 1000 || c.Stats(Client).Resyncs != 1 {
		t.Errorf("client close: got %+v, stats %+v", cl, c.Stats(Client))
	}
}

func TestEmptyLinesBeforeRequest(t *testing.T) {
	steps := []step{
		feed(Client, []byte("POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\nok\r\n"), wsframe.Request("/ws", testKey)),
		feed(Server, []byte("HTTP/1.1 204 No Content\r\n\r\n"), wsframe.Response101(testKey)),
	}
	c, _ := runAll(t, steps, Options{})
	if h := c.Handshake(); h == nil || !h.Upgraded || h.Path != "/ws" {
		t.Fatalf("handshake: got %+v", h)
	}
	if got := findingCodes(c); len(got) != 0 {
		t.Errorf("findings: got %v, want none", got)
	}
}
