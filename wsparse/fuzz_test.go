package wsparse

import (
	"bytes"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/wsclosescan/wsclosescan/internal/wsframe"
)

// checkInvariants asserts properties that hold for any input.
func checkInvariants(t *testing.T, c *Conn) {
	t.Helper()
	for _, s := range []Side{Client, Server} {
		st := c.Stats(s)
		if st.Frames < 0 || st.Messages > st.Frames+1 || st.Pings+st.Pongs > st.Frames {
			t.Fatalf("%v stats inconsistent: %+v", s, st)
		}
		if cl := c.Close(s); cl != nil {
			if c.CloseCount(s) < 1 || len(cl.Reason) > DefaultMaxControlPayload {
				t.Fatalf("%v close inconsistent: %+v count %d", s, *cl, c.CloseCount(s))
			}
		} else if c.CloseCount(s) != 0 {
			t.Fatalf("%v close count %d without a close", s, c.CloseCount(s))
		}
	}
	if len(c.Pings()) > DefaultMaxPings {
		t.Fatalf("%d ping records", len(c.Pings()))
	}
	if len(c.Findings()) > 2*len(AllFindingCodes()) {
		t.Fatalf("%d findings", len(c.Findings()))
	}
}

// FuzzFrames feeds arbitrary bytes as frames after a handshake, whole and split, with an
// optional gap, and checks that the results do not depend on the split.
func FuzzFrames(f *testing.F) {
	f.Add(cf(true, wsframe.OpText, []byte("hello")), sf(true, wsframe.OpClose, wsframe.Close(1000, "bye")), uint16(3), uint16(0))
	f.Add(wsframe.Bits("1000 0001 0000 0010 0110 1000 0110 1001"), []byte{0x88, 0x01, 0x03}, uint16(1), uint16(2))
	f.Add(wsframe.Frame{Fin: true, Op: 2, Length: 1 << 63, SetLength: true}.Bytes(), sf(false, 1, []byte{0xE2}), uint16(9), uint16(5))
	f.Add(cf(false, 1, []byte("a")), sf(true, 9, bytes.Repeat([]byte("p"), 130)), uint16(5), uint16(1))
	f.Fuzz(func(t *testing.T, client, server []byte, split, gapAt uint16) {
		steps := append(handshake(nil, nil), feed(Client, client), feed(Server, server))
		if gapAt > 0 && int(gapAt) < len(server) {
			steps = append(handshake(nil, nil), feed(Client, client), feed(Server, server[:gapAt]), gapOf(Server, int64(gapAt%7)), feed(Server, server[gapAt:]))
		}
		c, ev := run(steps, whole, Options{})
		checkInvariants(t, c)
		k := int(split%64) + 1
		c2, ev2 := run(steps, func(n int) []int {
			var out []int
			for n > 0 {
				m := min(k, n)
				out = append(out, m)
				n -= m
			}
			return out
		}, Options{})
		if a, b := snapshot(c, ev), snapshot(c2, ev2); a != b {
			t.Fatalf("split %d changes the result:\n%s\nvs\n%s", k, a, b)
		}
	})
}

// FuzzHandshake feeds arbitrary request and response bytes followed by frames.
func FuzzHandshake(f *testing.F) {
	f.Add(wsframe.Request("/", testKey), wsframe.Response101(testKey), true)
	f.Add(wsframe.Request("/", testKey, "Sec-WebSocket-Protocol: a, b"), wsframe.Response(426, "", "Sec-WebSocket-Version: 13, 8"), false)
	f.Add([]byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"), true)
	f.Add([]byte("GET / HTTP/1.1\r\nUpgrade: websocket\r\nSec-WebSocket-Key: x"), []byte("HTTP/1.1 101 Swi"), false)
	f.Fuzz(func(t *testing.T, req, resp []byte, swap bool) {
		a, b := Client, Server
		if swap {
			a, b = Server, Client
		}
		steps := []step{feed(a, req), feed(b, resp), feed(a, cf(true, 1, []byte("x"))), feed(b, sf(true, 8, nil))}
		c, ev := run(steps, whole, Options{})
		checkInvariants(t, c)
		if h := c.Handshake(); h != nil && h.Upgraded && h.Failure != "" {
			t.Fatalf("upgraded with failure %q", h.Failure)
		}
		c2, ev2 := run(steps, oneByte, Options{})
		if x, y := snapshot(c, ev), snapshot(c2, ev2); x != y {
			t.Fatalf("one-byte feed changes the result:\n%s\nvs\n%s", x, y)
		}
		// A Conn of a Pool packs its handshake with the Pool's dictionary, which earlier
		// inputs have filled: the same results.
		fuzzPoolMu.Lock()
		defer fuzzPoolMu.Unlock()
		c3, ev3 := runOn(fuzzPool.Get, steps, whole, Options{})
		if x, y := snapshot(c, ev), snapshot(c3, ev3); x != y {
			t.Fatalf("a pooled Conn changes the result:\n%s\nvs\n%s", x, y)
		}
		fuzzPool.Put(c3)
	})
}

// fuzzPool is the Pool of FuzzHandshake's pooled runs, shared by its inputs.
var (
	fuzzPool   Pool
	fuzzPoolMu sync.Mutex
)

// FuzzUTF8 compares the incremental validator with unicode/utf8.
func FuzzUTF8(f *testing.F) {
	f.Add([]byte("héllo wörld €𝄞"), uint8(3))
	f.Add([]byte{0xED, 0xA0, 0x80, 0xF4, 0x90, 0x80, 0x80}, uint8(1))
	f.Fuzz(func(t *testing.T, p []byte, cut uint8) {
		var u utf8State
		k := int(cut) % (len(p) + 1)
		ok := u.push(p[:k]) && u.push(p[k:]) && u.complete()
		if want := utf8.Valid(p); ok != want {
			t.Fatalf("valid(%x) split at %d: got %v, want %v", p, k, ok, want)
		}
	})
}
