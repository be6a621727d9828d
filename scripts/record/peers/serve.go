package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

// serveOnce listens on addr and serves h until done is closed. It returns
// the listener's URL ("ws://host:port/") and a stop function.
func serveOnce(addr string, h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	stop := func() { srv.Close() }
	return "ws://" + ln.Addr().String() + "/", stop, nil
}

// logf prints progress to stderr so the recording script shows what each peer saw.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}
