package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/net/http2"
)

// WebSocket over HTTP/2 (RFC 8441) with Go on both sides. The server is
// net/http's own HTTP/2 server (Go 1.26), which announces
// SETTINGS_ENABLE_CONNECT_PROTOCOL and accepts :protocol only with
// GODEBUG=http2xconnect=1 in the environment at start (read once, in an init
// function: the peer refuses to run without it). The client is a
// golang.org/x/net/http2 ClientConn: a request with Method CONNECT and the
// header ":protocol: websocket" is an extended CONNECT, and the client waits
// for the server's first SETTINGS to allow it. The WebSocket frames on the
// stream are written and read here (no Go WebSocket library speaks RFC 8441).
//
// Two streams on one HTTP/2 connection:
//
//	stream 1 /one: text "one", echo "echo: one", client close 1000 "done", the
//	server echoes the close frame and its handler returns (net/http then ends
//	the stream: END_STREAM and, the request body still open, RST_STREAM(NO_ERROR));
//	stream 3 /two: text "two", echo, then the server sends close 1011
//	"internal error" and panics with http.ErrAbortHandler (RST_STREAM(INTERNAL_ERROR)).
//
// Then the client shuts the ClientConn down (GOAWAY, then TCP close).

// wsFrame encodes one final WebSocket frame; clients mask (RFC 6455 5.3).
func wsFrame(op byte, payload []byte, mask bool) []byte {
	b := []byte{0x80 | op}
	n := len(payload)
	var m byte
	if mask {
		m = 0x80
	}
	switch {
	case n < 126:
		b = append(b, m|byte(n))
	default:
		b = append(b, m|126, byte(n>>8), byte(n))
	}
	if !mask {
		return append(b, payload...)
	}
	var key [4]byte
	rand.Read(key[:])
	b = append(b, key[:]...)
	for i, c := range payload {
		b = append(b, c^key[i&3])
	}
	return b
}

// readWSFrame reads one WebSocket frame and returns its opcode and unmasked payload.
func readWSFrame(r *bufio.Reader) (op byte, payload []byte, masked bool, err error) {
	var h [2]byte
	if _, err = io.ReadFull(r, h[:]); err != nil {
		return
	}
	op, masked = h[0]&0x0f, h[1]&0x80 != 0
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		if _, err = io.ReadFull(r, l[:]); err != nil {
			return
		}
		n = int(binary.BigEndian.Uint16(l[:]))
	case 127:
		err = errors.New("64-bit frame length")
		return
	}
	var key [4]byte
	if masked {
		if _, err = io.ReadFull(r, key[:]); err != nil {
			return
		}
	}
	payload = make([]byte, n)
	if _, err = io.ReadFull(r, payload); err != nil {
		return
	}
	if masked {
		for i := range payload {
			payload[i] ^= key[i&3]
		}
	}
	return
}

func closePayload(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

func closeText(p []byte) string {
	if len(p) < 2 {
		return "no code"
	}
	return fmt.Sprintf("%d %q", binary.BigEndian.Uint16(p), p[2:])
}

// h2WSHandler answers extended CONNECT streams with 200 and speaks WebSocket
// on them: it echoes text as "echo: MSG". On /one it echoes the client's close
// frame and returns; on /two it answers the first text's echo with close 1011
// "internal error" and aborts the stream. Each stream's end goes to done.
func h2WSHandler(name string, done chan<- error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logf("%s server: %s %s %s :protocol %q sec-websocket-version %q", name, r.Proto, r.Method, r.URL.Path,
			r.Header.Get(":protocol"), r.Header.Get("Sec-Websocket-Version"))
		if r.Method != http.MethodConnect || r.Header.Get(":protocol") != "websocket" {
			http.Error(w, "want an extended CONNECT", http.StatusBadRequest)
			done <- fmt.Errorf("server: not an extended CONNECT: %s %q", r.Method, r.Header.Get(":protocol"))
			return
		}
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		if err := rc.Flush(); err != nil {
			done <- err
			return
		}
		br := bufio.NewReader(r.Body)
		send := func(b []byte) error {
			if _, err := w.Write(b); err != nil {
				return err
			}
			return rc.Flush()
		}
		for {
			op, p, masked, err := readWSFrame(br)
			if err != nil {
				logf("%s server %s: read: %v", name, r.URL.Path, err)
				done <- err
				return
			}
			if !masked {
				done <- errors.New("server: unmasked client frame")
				return
			}
			switch op {
			case 1:
				logf("%s server %s: got text %q", name, r.URL.Path, p)
				if err := send(wsFrame(1, append([]byte("echo: "), p...), false)); err != nil {
					done <- err
					return
				}
				if r.URL.Path == "/two" {
					if err := send(wsFrame(8, closePayload(1011, "internal error"), false)); err != nil {
						done <- err
						return
					}
					logf("%s server %s: sent close 1011 \"internal error\"; aborting the stream", name, r.URL.Path)
					done <- nil
					panic(http.ErrAbortHandler)
				}
			case 8:
				logf("%s server %s: got close %s; echoing it and returning", name, r.URL.Path, closeText(p))
				err := send(wsFrame(8, p, false))
				done <- err
				return
			default:
				done <- fmt.Errorf("server: unexpected opcode %d", op)
				return
			}
		}
	})
}

// h2wsStream is the client's side of one extended CONNECT stream.
type h2wsStream struct {
	path string
	w    *io.PipeWriter
	body io.ReadCloser
	br   *bufio.Reader
}

func openH2WS(name string, cc *http2.ClientConn, scheme, authority, path string) (*h2wsStream, error) {
	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodConnect, scheme+"://"+authority+path, pr)
	if err != nil {
		return nil, err
	}
	req.Header.Set(":protocol", "websocket")
	req.Header.Set("Sec-Websocket-Version", "13")
	req.Header.Set("Origin", scheme+"://"+authority)
	// No deadline on the request's context: cancelling it, even after
	// RoundTrip has returned, resets the stream (RST_STREAM(CANCEL)).
	resp, err := cc.RoundTrip(req)
	if err != nil {
		return nil, fmt.Errorf("extended CONNECT %s: %w", path, err)
	}
	logf("%s client %s: %s %s", name, path, resp.Proto, resp.Status)
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("extended CONNECT %s: %s", path, resp.Status)
	}
	return &h2wsStream{path: path, w: pw, body: resp.Body, br: bufio.NewReader(resp.Body)}, nil
}

func (s *h2wsStream) send(op byte, p []byte) error {
	_, err := s.w.Write(wsFrame(op, p, true))
	return err
}

func (s *h2wsStream) read() (byte, []byte, error) {
	op, p, masked, err := readWSFrame(s.br)
	if err == nil && masked {
		err = errors.New("masked server frame")
	}
	return op, p, err
}

func goH2Scenario(name string, tlsOn bool) func(addr string, extra []string) error {
	return func(addr string, extra []string) error {
		if !strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1") {
			return errors.New("run with GODEBUG=http2xconnect=1 (net/http reads it at start)")
		}
		done := make(chan error, 2)
		srv := &http.Server{Handler: h2WSHandler(name, done), ReadHeaderTimeout: 5 * time.Second}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("listen %s: %w", addr, err)
		}
		var conn net.Conn
		scheme := "http"
		if tlsOn {
			if len(extra) != 3 {
				return errors.New("want CERT KEY KEYLOG")
			}
			cert, err := tls.LoadX509KeyPair(extra[0], extra[1])
			if err != nil {
				return err
			}
			kl, err := os.Create(extra[2])
			if err != nil {
				return err
			}
			defer kl.Close()
			srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
			srv.Protocols = new(http.Protocols)
			srv.Protocols.SetHTTP2(true)
			go srv.ServeTLS(ln, "", "")
			tc, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}, KeyLogWriter: kl})
			if err != nil {
				return fmt.Errorf("dial: %w", err)
			}
			st := tc.ConnectionState()
			logf("%s client: %s %s ALPN %q", name, tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), st.NegotiatedProtocol)
			if st.NegotiatedProtocol != "h2" {
				return fmt.Errorf("ALPN %q, want h2", st.NegotiatedProtocol)
			}
			conn, scheme = tc, "https"
		} else {
			// h2c with prior knowledge: HTTP/2 only, no HTTP/1.1 and no Upgrade: h2c.
			srv.Protocols = new(http.Protocols)
			srv.Protocols.SetUnencryptedHTTP2(true)
			go srv.Serve(ln)
			conn, err = net.Dial("tcp", addr)
			if err != nil {
				return fmt.Errorf("dial: %w", err)
			}
		}
		defer srv.Close()

		t := &http2.Transport{AllowHTTP: true}
		cc, err := t.NewClientConn(conn)
		if err != nil {
			return err
		}

		// Stream 1: clean close, client first.
		s, err := openH2WS(name, cc, scheme, addr, "/one")
		if err != nil {
			return err
		}
		if err := s.send(1, []byte("one")); err != nil {
			return err
		}
		op, p, err := s.read()
		if err != nil {
			return err
		}
		logf("%s client /one: got opcode %d %q", name, op, p)
		if err := s.send(8, closePayload(1000, "done")); err != nil {
			return err
		}
		op, p, err = s.read()
		if err != nil {
			return err
		}
		logf("%s client /one: got opcode %d close %s", name, op, closeText(p))
		_, _, err = s.read()
		logf("%s client /one: read after the close: %v", name, err)
		if err := <-done; err != nil {
			return err
		}
		time.Sleep(50 * time.Millisecond)
		err = s.w.Close()
		logf("%s client /one: end of request body: %v", name, err)
		s.body.Close()
		time.Sleep(50 * time.Millisecond)

		// Stream 3: the server closes 1011 and resets the stream.
		s, err = openH2WS(name, cc, scheme, addr, "/two")
		if err != nil {
			return err
		}
		if err := s.send(1, []byte("two")); err != nil {
			return err
		}
		for {
			op, p, err := s.read()
			if err != nil {
				logf("%s client /two: read: %v", name, err)
				break
			}
			if op == 8 {
				logf("%s client /two: got close %s", name, closeText(p))
				continue
			}
			logf("%s client /two: got opcode %d %q", name, op, p)
		}
		if err := <-done; err != nil {
			return err
		}
		time.Sleep(50 * time.Millisecond)
		err = s.send(8, closePayload(1011, "internal error"))
		logf("%s client /two: echoing the close after the reset: %v", name, err)
		s.w.Close()
		s.body.Close()
		time.Sleep(50 * time.Millisecond)

		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err = cc.Shutdown(ctx)
		logf("%s client: ClientConn.Shutdown: %v", name, err)
		time.Sleep(200 * time.Millisecond)
		return nil
	}
}

var h2Scenarios = map[string]func(addr string, extra []string) error{
	"go-h2c-wss": goH2Scenario("go-h2c-wss", false),
	"go-h2-wss":  goH2Scenario("go-h2-wss", true),
}
