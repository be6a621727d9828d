// Command peers runs the Go WebSocket peers used by scripts/record-captures.sh.
//
// Each scenario runs a server and a client in one process on a fixed address so
// that the recorded traffic is the same on every run:
//
//	peers gorilla-clean-close 127.0.0.1:9101
//	peers gorilla-close-then-fin 127.0.0.1:9171
//	peers coder-1008 127.0.0.1:9191
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
`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "peers: error: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
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
