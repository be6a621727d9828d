// Command peers runs the Go WebSocket peers used by scripts/record-captures.sh.
//
// Each scenario runs a server and a client in one process on a fixed address so
// that the recorded traffic is the same on every run:
//
//	peers gorilla-clean-close 127.0.0.1:9101
//	peers gorilla-close-then-fin 127.0.0.1:9171
//	peers coder-1008 127.0.0.1:9191
//	peers gorilla-wss-tls12-gcm 127.0.0.1:9303 CERT KEY KEYLOG
//	GODEBUG=http2xconnect=1 peers go-h2c-wss 127.0.0.1:9403
//	GODEBUG=http2xconnect=1 peers go-h2-wss 127.0.0.1:9404 CERT KEY KEYLOG
package main

import (
	"fmt"
	"os"
)

const usage = `usage: peers SCENARIO HOST:PORT

scenarios:
  gorilla-clean-close     gorilla client and server, messages, ping/pong, close 1000 "bye"
  gorilla-close-then-fin  gorilla client writes close 1001 and closes TCP at once
  coder-1008              coder/websocket server closes with 1008 "policy violation"

usage: peers SCENARIO HOST:PORT CERT KEY KEYLOG   (wss; the client writes its TLS key log to KEYLOG)

  gorilla-wss-tls12-gcm     gorilla over TLS 1.2, ECDHE-ECDSA/RSA-AES128-GCM-SHA256, close 1000 "bye"
  gorilla-wss-tls12-chacha  the same with ECDHE-ECDSA/RSA-CHACHA20-POLY1305
  gorilla-wss-tls13         the same over TLS 1.3 (Go picks TLS_AES_128_GCM_SHA256)

WebSocket over HTTP/2 (RFC 8441), run with GODEBUG=http2xconnect=1 (see h2.go):

  go-h2c-wss HOST:PORT                 net/http h2c server, x/net/http2 client, two extended CONNECT streams
  go-h2-wss HOST:PORT CERT KEY KEYLOG  the same over TLS with ALPN h2; the client writes its key log
`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "peers: error: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", usage)
	}
	if f, ok := wssScenarios[args[0]]; ok && len(args) == 5 {
		return f(args[1], args[2], args[3], args[4])
	}
	if f, ok := h2Scenarios[args[0]]; ok && len(args) >= 2 {
		return f(args[1], args[2:])
	}
	if len(args) != 2 {
		return fmt.Errorf("%s", usage)
	}
	scenarios := map[string]func(addr string) error{
		"gorilla-clean-close":    gorillaCleanClose,
		"gorilla-close-then-fin": gorillaCloseThenFIN,
		"coder-1008":             coder1008,
	}
	f, ok := scenarios[args[0]]
	if !ok {
		return fmt.Errorf("unknown scenario %q\n%s", args[0], usage)
	}
	return f(args[1])
}
