package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/gorilla/websocket"
)

// wssScenario is a gorilla client and server over TLS: the server is
// gorillaEchoHandler behind tls.Listen with cert and key; both sides are
// limited to the TLS version and suites given, and the client writes its key
// log (NSS format) to keylog. The client sends "hello", reads the echo and
// the server's "hello from server", closes with 1000 "bye", reads until the
// server's close, and waits for the server's FIN.
func wssScenario(name string, version uint16, suites []uint16) func(addr, cert, key, keylog string) error {
	return func(addr, certFile, keyFile, keylog string) error {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return err
		}
		kl, err := os.Create(keylog)
		if err != nil {
			return err
		}
		defer kl.Close()
		scfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: version, MaxVersion: version, CipherSuites: suites}
		ln, err := tls.Listen("tcp", addr, scfg)
		if err != nil {
			return fmt.Errorf("listen %s: %w", addr, err)
		}
		done := make(chan error, 1)
		srv := &http.Server{Handler: gorillaEchoHandler(done, 0), ReadHeaderTimeout: 5 * time.Second,
			ConnState: func(c net.Conn, s http.ConnState) {
				if tc, ok := c.(*tls.Conn); ok && s == http.StateActive {
					st := tc.ConnectionState()
					logf("%s server: %s %s", name, tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
				}
			}}
		go srv.Serve(ln)
		defer srv.Close()

		d := websocket.Dialer{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: version,
			MaxVersion: version, CipherSuites: suites, KeyLogWriter: kl}, HandshakeTimeout: 5 * time.Second}
		c, _, err := d.Dial("wss://"+addr+"/", nil)
		if err != nil {
			return fmt.Errorf("dial: %w", err)
		}
		defer c.Close()
		st := c.UnderlyingConn().(*tls.Conn).ConnectionState()
		logf("%s client: %s %s", name, tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
		if err := c.WriteMessage(websocket.TextMessage, []byte("hello")); err != nil {
			return err
		}
		for range 2 {
			mt, msg, err := c.ReadMessage()
			if err != nil {
				return err
			}
			logf("%s client: got type %d %q", name, mt, msg)
		}
		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
		if err := c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)); err != nil {
			return err
		}
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				logf("%s client: read: %v", name, err)
				break
			}
		}
		if err := <-done; err != nil {
			return err
		}
		waitEOF(c)
		return nil
	}
}

var wssScenarios = map[string]func(addr, cert, key, keylog string) error{
	"gorilla-wss-tls12-gcm": wssScenario("gorilla-wss-tls12-gcm", tls.VersionTLS12,
		[]uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}),
	"gorilla-wss-tls12-chacha": wssScenario("gorilla-wss-tls12-chacha", tls.VersionTLS12,
		[]uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256}),
	"gorilla-wss-tls13": wssScenario("gorilla-wss-tls13", tls.VersionTLS13, nil),
}
