package wsparse

import (
	"github.com/wsclosescan/wsclosescan/internal/wsframe"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// TestPackRoundTrip checks that a packed handshake unpacks to the one packed, whatever its
// fields hold: nil and empty lists, zero times and the Unix epoch, an accept key and a
// reason phrase that are (or are not) the derived ones, long strings.
func TestPackRoundTrip(t *testing.T) {
	key := testKey
	full := Handshake{RequestSeen: true, ResponseSeen: true,
		RequestTime: time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC), ResponseTime: time.Date(2024, 1, 2, 3, 4, 5, 999999999, time.UTC),
		Method: "GET", Path: "/chat?x=1", Host: "example.com", Origin: "https://example.com",
		UserAgent: strings.Repeat("Mozilla/5.0 ", 30), Version: "13", Key: key,
		XForwardedFor: "10.0.0.1, 10.0.0.2", Forwarded: "for=1.2.3.4",
		Protocols: []string{"chat", "superchat"}, Extensions: []string{"permessage-deflate; client_max_window_bits"},
		Status: 101, StatusText: "Switching Protocols", Accept: acceptKey(key), Subprotocol: "chat",
		ChosenExtensions: []string{"permessage-deflate"}, Failure: "", Unchecked: []string{"Upgrade", "Connection"},
		Deflate: true, HeadersTruncated: true, Upgraded: true, reqTruncated: true}
	tests := []struct {
		name string
		h    Handshake
	}{
		{"empty", Handshake{}},
		{"full", full},
		{"request only", Handshake{RequestSeen: true, RequestTime: full.RequestTime, Method: "GET", Path: "/", Key: key}},
		{"response only", Handshake{ResponseSeen: true, ResponseTime: full.ResponseTime, Status: 403, StatusText: "Go away",
			Accept: "bogus", Failure: "server answered 403 Go away", respTruncated: true}},
		{"empty lists, not nil", Handshake{Protocols: []string{}, Extensions: []string{}, ChosenExtensions: []string{}, Unchecked: []string{}}},
		{"empty items", Handshake{Protocols: []string{""}, Extensions: []string{"", "a"}}},
		{"the Unix epoch", Handshake{RequestSeen: true, RequestTime: time.Unix(0, 0).UTC(), ResponseTime: time.Unix(-5, 7).UTC()}},
		{"after 2262", Handshake{RequestTime: time.Date(3000, 1, 1, 0, 0, 0, 1, time.UTC)}},
		{"the standard reason of another status", Handshake{Status: 101, StatusText: "OK"}},
		{"accept without a key", Handshake{Accept: acceptKey("")}},
		{"426", Handshake{Status: 426, StatusText: "Upgrade Required", ServerVersions: "8, 13", Tunnel: true}},
		{"long list", Handshake{Extensions: strings.Split(strings.Repeat("x-ext; p=1,", 300), ",")}},
		{"negative status", Handshake{Status: -1}},
		{"status beyond 16 bits", Handshake{Status: 70000, StatusText: "x"}},
		{"response long after the request", Handshake{RequestTime: full.RequestTime, ResponseTime: full.RequestTime.Add(time.Hour)}},
		{"response before the request", Handshake{RequestTime: full.RequestTime, ResponseTime: full.RequestTime.Add(-1)}},
		{"response only, time set", Handshake{ResponseTime: full.ResponseTime, Status: 101}},
		{"a key that is not base64", Handshake{Key: "not a key"}},
		{"a key whose base64 is not canonical", Handshake{Key: "dGhlIHNhbXBsZSBub25jZR==", Accept: acceptKey("dGhlIHNhbXBsZSBub25jZR==")}},
		{"a key of other than 16 bytes", Handshake{Key: "AAAA"}},
	}
	var pool Pool // its dictionary is shared by the cases, and each is packed twice
	for _, tt := range tests {
		for i, d := range []*hsDict{nil, &pool.dict, &pool.dict} {
			p := pack(&tt.h, d)
			if got := (&Conn{hsp: unsafe.StringData(p)}).packed(); got != p {
				t.Errorf("%s: packed() returned %d bytes, want the %d packed", tt.name, len(got), len(p))
			}
			got := unpack(p, d)
			if !reflect.DeepEqual(*got, tt.h) {
				t.Errorf("%s, dictionary %d: unpack(pack(h)):\n got %#v\nwant %#v", tt.name, i, *got, tt.h)
			}
			c := &Conn{hsSeen: true, hsp: unsafe.StringData(p)}
			if d != nil {
				c.pool = &pool
			}
			reqSeen, req, respSeen, resp := c.HandshakeTimes()
			if reqSeen != tt.h.RequestSeen || !req.Equal(tt.h.RequestTime) || respSeen != tt.h.ResponseSeen ||
				!resp.Equal(tt.h.ResponseTime) || req.IsZero() != tt.h.RequestTime.IsZero() {
				t.Errorf("HandshakeTimes: got %v %v %v %v", reqSeen, req, respSeen, resp)
			}
			var chosen []string
			for e := range c.chosenExtensions() {
				chosen = append(chosen, e)
			}
			if len(chosen) != len(tt.h.ChosenExtensions) || (len(chosen) > 0 && !reflect.DeepEqual(chosen, tt.h.ChosenExtensions)) {
				t.Errorf("chosenExtensions: got %q, want %q", chosen, tt.h.ChosenExtensions)
			}
		}
	}
	if len(pool.dict.strs) == 0 {
		t.Error("nothing was shared through the dictionary")
	}
	// A shared string is packed as an index: the Host and the Origin cost a byte or two
	// each, not their length (the User-Agent here is too long to be shared).
	if with, without := len(pack(&full, &pool.dict)), len(pack(&full, nil)); with > without-len(full.Host)-len(full.Origin)+4 {
		t.Errorf("packed with the dictionary in %d bytes, without in %d", with, without)
	}
	// The lists share a backing array: appending to one must not change the next.
	h := unpack(pack(&full, nil), nil)
	h.Protocols = append(h.Protocols, "x")
	if h.Extensions[0] != full.Extensions[0] {
		t.Errorf("appending to Protocols changed Extensions to %q", h.Extensions)
	}
}

// TestHandshakePackedAfterResponse checks that a Conn keeps its handshake packed once the
// 101 is judged, and that Handshake then returns what it held before packing.
func TestHandshakePackedAfterResponse(t *testing.T) {
	req := "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, x\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + acceptKey(testKey) + "\r\nSec-WebSocket-Protocol: chat\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
	c := NewConn(Options{})
	c.Feed(Client, []byte(req), t0)
	if c.hs == nil || c.hsp != nil {
		t.Fatalf("after the request: hs %v, packed %q; want the Handshake unpacked", c.hs, c.packed())
	}
	c.Feed(Server, []byte(resp), t0.Add(time.Millisecond))
	if c.hs != nil || c.hsp == nil {
		t.Fatalf("after the 101: hs %v, packed %q; want it packed", c.hs, c.packed())
	}
	h := c.Handshake()
	want := Handshake{RequestSeen: true, ResponseSeen: true, RequestTime: t0, ResponseTime: t0.Add(time.Millisecond),
		Method: "GET", Path: "/chat", Host: "example.com", Version: "13", Key: testKey,
		Protocols: []string{"chat", "x"}, Extensions: []string{"permessage-deflate; client_max_window_bits"},
		Status: 101, StatusText: "Switching Protocols", Accept: acceptKey(testKey), Subprotocol: "chat",
		ChosenExtensions: []string{"permessage-deflate"}, Deflate: true, Upgraded: true}
	if !reflect.DeepEqual(*h, want) {
		t.Errorf("Handshake:\n got %#v\nwant %#v", *h, want)
	}
	if !c.deflate {
		t.Error("deflate not set after a 101 with permessage-deflate")
	}
}

// TestLastFrameTimeExact checks that a side's LastFrameTime comes back as it was fed, also
// for times a nanoTime cannot hold (kept in the notes), after the sides were swapped too.
func TestLastFrameTimeExact(t *testing.T) {
	for _, last := range []time.Time{
		t0.Add(123456789), time.Unix(0, 0).UTC(), time.Date(3000, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600)),
	} {
		for _, swapped := range []bool{false, true} {
			c := NewConn(Options{})
			cl, sv := Client, Server
			if swapped {
				cl, sv = Server, Client
			}
			c.Feed(cl, wsframe.Request("/chat", testKey), t0)
			c.Feed(sv, wsframe.Response101(testKey), t0)
			c.Feed(sv, sf(true, 1, []byte("a")), t0)
			c.Feed(cl, cf(true, 1, []byte("b")), last)
			if got := c.Stats(Client).LastFrameTime; got != last {
				t.Errorf("swapped %v: got client LastFrameTime %v, want %v", swapped, got, last)
			}
			if got := c.Stats(Server).LastFrameTime; got != t0 {
				t.Errorf("swapped %v: got server LastFrameTime %v, want %v", swapped, got, t0)
			}
		}
	}
}
