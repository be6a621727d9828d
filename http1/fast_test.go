package http1

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Header blocks as real clients and servers write them, and the edge cases the fast path
// must either decline or get exactly right.
var fastRequestSeeds = []string{
	// Chromium
	"GET /chat?room=1 HTTP/1.1\r\nHost: localhost:8080\r\nConnection: Upgrade\r\nPragma: no-cache\r\n" +
		"Cache-Control: no-cache\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36\r\n" +
		"Upgrade: websocket\r\nOrigin: http://localhost:8080\r\nSec-WebSocket-Version: 13\r\n" +
		"Accept-Encoding: gzip, deflate, br, zstd\r\nAccept-Language: en-US,en;q=0.9\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n",
	// Firefox
	"GET /socket HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0\r\n" +
		"Accept: */*\r\nSec-WebSocket-Version: 13\r\nOrigin: https://app.example.com\r\n" +
		"Sec-WebSocket-Protocol: graphql-transport-ws, graphql-ws\r\nSec-WebSocket-Extensions: permessage-deflate\r\n" +
		"Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\nConnection: keep-alive, Upgrade\r\nSec-Fetch-Dest: empty\r\n" +
		"Pragma: no-cache\r\nUpgrade: websocket\r\n\r\n",
	// Python websockets, Node ws, Go
	"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:8765\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: 9rY8mMyTt3Zj7y9nJ8r5bw==\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\nUser-Agent: Python/3.11 websockets/10.4\r\n\r\n",
	"GET / HTTP/1.1\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\nConnection: Upgrade\r\n" +
		"Upgrade: websocket\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\nHost: localhost:9001\r\n\r\n",
	"GET /echo HTTP/1.1\r\nHost: 127.0.0.1:40000\r\nUser-Agent: Go-http-client/1.1\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: 5n0BcW4R8kz1Jt2lP7yq3A==\r\nSec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n\r\n",
	// nginx proxying (proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for), and
	// repeated forwarding headers, which are joined.
	"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\nHost: 127.0.0.1:9201\r\n" +
		"X-Forwarded-For: 127.0.0.1\r\nSec-WebSocket-Key: 9rY8mMyTt3Zj7y9nJ8r5bw==\r\nSec-WebSocket-Version: 13\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nx-forwarded-for: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2, 10.0.0.3\r\n" +
		"Forwarded: for=192.0.2.60;proto=http;by=203.0.113.43\r\nforwarded: for=\"[2001:db8:cafe::17]:4711\"\r\n\r\n",
	// Edge cases: case, blanks, repeated and empty headers, quoted commas, bodies.
	"GET /a?b=c&d HTTP/1.1\r\nhost:  h \t\r\nupgrade: h2c, WebSocket\r\nsec-websocket-protocol: a\r\n" +
		"SEC-WEBSOCKET-PROTOCOL: b,,c\r\nsec-websocket-extensions: x; p=\"1,2\", y\r\nOrigin:\r\n\r\n",
	"GET / HTTP/1.1\r\nContent-Length: 12\r\nUpgrade: foo\r\n\r\n",
	"GET / HTTP/1.1\r\nContent-Length: 0\r\nUpgrade: websocket\r\nUpgrade: h2c\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	"GET /%41 HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET //x/../y?#z HTTP/1.1\r\nHost: a\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
	"GET / HTTP/1.0\r\nHost: a\r\n\r\n",
	"GET http://example.com/ HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.1\r\nX-Folded: a\r\n b\r\n\r\n",
	"GET / HTTP/1.1\nHost: a\n\n",
}

var fastResponseSeeds = []string{
	"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol:  chat \r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n",
	"HTTP/1.1 101 Switching Protocols\r\nServer: nginx/1.22.1\r\nDate: Mon, 02 Mar 2026 09:00:00 GMT\r\n" +
		"Connection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=\r\n\r\n",
	"HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\nContent-Type: text/plain\r\n\r\n",
	"HTTP/1.1 400 Bad Request\r\nSec-WebSocket-Version: 13, 8\r\nConnection: close\r\nConnection: x\r\n\r\n",
	"HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1  200\r\n\r\n",
	"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
	"HTTP/1.1 304 Not Modified\r\n\r\n",
	"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0012\r\n\r\n",
	"HTTP/1.1 101\r\nupgrade: websocket\r\nUPGRADE: h2c\r\nconnection: upgrade, x\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
	"HTTP/1.0 200 OK\r\n\r\n",
	"HTTP/1.1 2000 OK\r\n\r\n",
	"HTTP/1.1 101\tX\r\n\r\n",
}

// mutate applies a few random edits that tend to hit the fast path's limits: blanks, tabs,
// CR, LF, colons, '%', non-ASCII bytes, case changes, deleted and duplicated runs.
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
			j := min(len(b), i+1+r.IntN(40))
			b = append(b[:j], append(append([]byte{}, b[i:j]...), b[j:]...)...)
		}
	}
	return string(b)
}

// checkFastPath fails when the fast path accepts block and net/http does not, or yields
// something else. It reports which of the three parses (request, response, response to
// a HEAD) the fast path took.
func checkFastPath(t *testing.T, block []byte) (req, resp bool) {
	t.Helper()
	if got, ok := fastRequest(block); ok {
		req = true
		want, err := netRequest(blockReader(block))
		if err != nil {
			t.Fatalf("request %q: the fast path took it, net/http: %v", block, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("request %q:\nfast     %+v\nnet/http %+v", block, got, want)
		}
	}
	for _, head := range []bool{false, true} {
		if got, ok := fastResponse(block, head); ok {
			resp = true
			want, err := netResponse(block, head, blockReader)
			if err != nil {
				t.Fatalf("response %q (HEAD %v): the fast path took it, net/http: %v", block, head, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("response %q (HEAD %v):\nfast     %+v\nnet/http %+v", block, head, got, want)
			}
		}
	}
	return req, resp
}

// TestFastPathMatchesNetHTTP: whenever the fast path takes a block, net/http accepts it
// too and yields the same values. Blocks are the seeds and 30,000 mutations of them.
func TestFastPathMatchesNetHTTP(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	fastReq, fastResp := 0, 0
	for i := range 30000 {
		for _, seeds := range [][]string{fastRequestSeeds, fastResponseSeeds} {
			block := seeds[i%len(seeds)]
			if i >= len(seeds) {
				block = mutate(r, block)
			}
			req, resp := checkFastPath(t, []byte(block))
			if req {
				fastReq++
			}
			if resp {
				fastResp++
			}
		}
	}
	// Most mutations leave a block plain, so the comparison is exercised.
	if fastReq < 3000 || fastResp < 3000 {
		t.Errorf("the fast path took %d requests and %d responses, want at least 3000 each", fastReq, fastResp)
	}
}

// FuzzFastPath: the same check as TestFastPathMatchesNetHTTP on arbitrary blocks; the
// same blocks, taken as cut by the capture, must parse or fail without a panic.
func FuzzFastPath(f *testing.F) {
	for _, s := range append(append([]string{}, fastRequestSeeds...), fastResponseSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, block []byte) {
		checkFastPath(t, block)
		ParseRequest(block, true)
		ParseResponse(block, true, false)
	})
}

// TestFastPathTakesTypicalHandshakes: the handshakes of real clients and servers and the
// plain edge cases take the fast path; what net/http must judge does not.
func TestFastPathTakesTypicalHandshakes(t *testing.T) {
	tests := []struct {
		name     string
		seeds    []string
		parse    func([]byte) bool
		declined []int // indexes of the seeds left to net/http
	}{
		{"request", fastRequestSeeds, func(b []byte) bool { _, ok := fastRequest(b); return ok },
			[]int{10, 11, 13, 14, 15, 16, 17}},
		{"response", fastResponseSeeds, func(b []byte) bool { _, ok := fastResponse(b, false); return ok },
			[]int{10, 11, 12, 13, 14}},
	}
	for _, tt := range tests {
		for i, s := range tt.seeds {
			want := !slices.Contains(tt.declined, i)
			if got := tt.parse([]byte(s)); got != want {
				t.Errorf("%s seed %d (%.50q): fast path %v, want %v", tt.name, i, s, got, want)
			}
		}
	}
}

// TestForwardingHeaders: X-Forwarded-For and Forwarded are kept as sent, repeated headers
// joined by ", ", by the fast path and by net/http alike.
func TestForwardingHeaders(t *testing.T) {
	block := []byte(fastRequestSeeds[6])
	const wantXFF, wantFwd = "10.0.0.1, 10.0.0.2, 10.0.0.3",
		`for=192.0.2.60;proto=http;by=203.0.113.43, for="[2001:db8:cafe::17]:4711"`
	fast, ok := fastRequest(block)
	if !ok {
		t.Fatal("the fast path declined a plain block")
	}
	slow, err := netRequest(blockReader(block))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Request{fast, slow} {
		if r.XForwardedFor != wantXFF || r.Forwarded != wantFwd {
			t.Errorf("got X-Forwarded-For %q, Forwarded %q; want %q, %q", r.XForwardedFor, r.Forwarded, wantXFF, wantFwd)
		}
	}
}

// TestFastPathStringsDoNotPinTheBlock: the strings the fast path returns are copies, so a
// record does not keep the whole header block alive, and changing the block afterwards
// does not change them.
func TestFastPathStringsDoNotPinTheBlock(t *testing.T) {
	block := []byte(fastRequestSeeds[1])
	r, ok := fastRequest(block)
	if !ok {
		t.Fatal("seed 1 not taken by the fast path")
	}
	want := r
	want.Protocols = append([]string(nil), r.Protocols...)
	for i := range block {
		block[i] = 'x'
	}
	if !reflect.DeepEqual(r, want) || r.Host != "example.com" || strings.Join(r.Protocols, "|") != "graphql-transport-ws|graphql-ws" {
		t.Errorf("after overwriting the block: %+v", r)
	}
}

// BenchmarkHeaderBlock parses a browser's upgrade request and a server's 101 response by
// the fast path and by net/http.
func BenchmarkHeaderBlock(b *testing.B) {
	req, resp := []byte(fastRequestSeeds[0]), []byte(fastResponseSeeds[1])
	b.Run("fast/request", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := fastRequest(req); !ok {
				b.Fatal("not taken")
			}
		}
	})
	b.Run("fast/response", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := fastResponse(resp, false); !ok {
				b.Fatal("not taken")
			}
		}
	})
	var p Parser
	b.Run("net-http/request", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := netRequest(p.reader(req)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("net-http/response", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := netResponse(resp, false, p.reader); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestPlainTextWords: plainText, which looks at eight bytes at a time, agrees with
// plainBytes for every byte value at every position of lines of several lengths.
func TestPlainTextWords(t *testing.T) {
	for _, n := range []int{1, 7, 8, 9, 16, 23, 40} {
		for pos := range n {
			for v := range 256 {
				b := []byte(strings.Repeat("a~ Z", n)[:n])
				b[pos] = byte(v)
				if got, want := plainText(b), plainBytes(b); got != want {
					t.Fatalf("%q: plainText %v, plainBytes %v", b, got, want)
				}
			}
		}
	}
}

// TestKindOf: every fast kind's name, in any case, is found, and names of the same
// lengths that differ are not.
func TestKindOf(t *testing.T) {
	for _, k := range fastKinds {
		for _, name := range []string{k.name, strings.ToLower(k.name), strings.ToUpper(k.name)} {
			if got := kindOf([]byte(name)); got != k.kind {
				t.Errorf("kindOf(%q) = %v, want %v", name, got, k.kind)
			}
			other := []byte(name)
			other[len(other)-1] ^= 0x01
			if got := kindOf(other); got != hdrOther {
				t.Errorf("kindOf(%q) = %v, want hdrOther", other, got)
			}
		}
	}
	if got := kindOf([]byte(strings.Repeat("x", 40))); got != hdrOther {
		t.Errorf("a long name: %v", got)
	}
}
