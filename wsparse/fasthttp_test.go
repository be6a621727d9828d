package wsparse

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

var fastRequestSeeds = []string{
	"GET /chat HTTP/1.1\r\nHost: example.com:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n" +
		"Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
		"User-Agent: test/1.0\r\n\r\n",
	"GET /a?b=c&d HTTP/1.1\r\nhost:  h \t\r\nupgrade: h2c, WebSocket\r\nsec-websocket-protocol: a\r\nSEC-WEBSOCKET-PROTOCOL: b,,c\r\n\r\n",
	"GET / HTTP/1.1\r\nContent-Length: 12\r\nUpgrade: foo\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	"GET /%41 HTTP/1.1\r\nHost: a\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
	"GET / HTTP/1.0\r\nHost: a\r\n\r\n",
}

var fastResponseSeeds = []string{
	"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol:  chat \r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
	"HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\nContent-Type: text/plain\r\n\r\n",
	"HTTP/1.1 400 Bad Request\r\nSec-WebSocket-Version: 13, 8\r\nConnection: close\r\nConnection: x\r\n\r\n",
	"HTTP/1.1  200\r\n\r\n",
	"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
	"HTTP/1.1 304 Not Modified\r\n\r\n",
	"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0012\r\n\r\n",
	"HTTP/1.1 101\r\nupgrade: websocket\r\n\r\n",
}

// mutate applies a few random edits that tend to hit the fast path's limits: blanks,
// tabs, CR, LF, colons, '%', non-ASCII bytes, case changes, deleted and duplicated bytes.
func mutate(r *rand.Rand, s string) string {
	b := []byte(s)
	alphabet := []byte(" \t\r\n:%,;\"\x00\x7f\x80\xffaZ0-_/?")
	for range 1 + r.IntN(3) {
		if len(b) == 0 {
			break
		}
		i := r.IntN(len(b))
		switch r.IntN(5) {
		case 0:
			b[i] = alphabet[r.IntN(len(alphabet))]
		case 1:
			b = append(b[:i], append([]byte{alphabet[r.IntN(len(alphabet))]}, b[i:]...)...)
		case 2:
			b = append(b[:i], b[i+1:]...)
		case 3:
			b[i] ^= 0x20
		case 4:
			j := min(len(b), i+1+r.IntN(20))
			b = append(b[:j], append(append([]byte{}, b[i:j]...), b[j:]...)...)
		}
	}
	return string(b)
}

// TestFastPathMatchesNetHTTP: whenever the fast path accepts a block, net/http accepts it
// too and yields the same values. Blocks are seeds and thousands of mutations of them.
func TestFastPathMatchesNetHTTP(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	fastReq, fastResp := 0, 0
	for i := range 20000 {
		seed := fastRequestSeeds[i%len(fastRequestSeeds)]
		block := seed
		if i >= len(fastRequestSeeds) {
			block = mutate(r, seed)
		}
		if got, ok := fastRequest([]byte(block)); ok {
			fastReq++
			want, err := netRequest([]byte(block))
			if err != nil {
				t.Fatalf("block %q: fast path accepted it, net/http: %v", block, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("block %q:\ngot  %+v\nwant %+v", block, got, want)
			}
		}
		rseed := fastResponseSeeds[i%len(fastResponseSeeds)]
		rblock := rseed
		if i >= len(fastResponseSeeds) {
			rblock = mutate(r, rseed)
		}
		for _, head := range []bool{false, true} {
			if got, ok := fastResponse([]byte(rblock), head); ok {
				fastResp++
				want, err := netResponse([]byte(rblock), head)
				if err != nil {
					t.Fatalf("block %q: fast path accepted it, net/http: %v", rblock, err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("block %q head %v:\ngot  %+v\nwant %+v", rblock, head, got, want)
				}
			}
		}
	}
	if fastReq < 1000 || fastResp < 1000 {
		t.Errorf("fast path taken %d (requests) and %d (responses) times, want at least 1000 each", fastReq, fastResp)
	}
}

// TestFastPathTaken: the handshakes of typical clients and servers take the fast path.
func TestFastPathTaken(t *testing.T) {
	if _, ok := fastRequest([]byte(fastRequestSeeds[0])); !ok {
		t.Errorf("request seed 0: got fallback, want fast path")
	}
	for i, s := range fastResponseSeeds[:3] {
		if _, ok := fastResponse([]byte(s), false); !ok {
			t.Errorf("response seed %d: got fallback, want fast path", i)
		}
	}
}
