package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// gorillaEchoHandler echoes every data message until the peer closes. The
// default gorilla close handler echoes the peer's close code (with an empty
// reason); the handler then closes the TCP connection.
// closeDelay, when positive, makes the server wait that long before it
// echoes a close frame.
func gorillaEchoHandler(done chan<- error, closeDelay time.Duration) http.Handler {
	up := websocket.Upgrader{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		if closeDelay > 0 {
			c.SetCloseHandler(func(code int, text string) error {
				time.Sleep(closeDelay)
				msg := websocket.FormatCloseMessage(code, "")
				c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
				return nil
			})
		}
		sentHello := false
		for {
			mt, msg, err := c.ReadMessage()
			if err != nil {
				logf("gorilla server: read: %v", err)
				done <- nil
				return
			}
			if err := c.WriteMessage(mt, msg); err != nil {
				logf("gorilla server: write: %v", err)
				done <- nil
				return
			}
			if !sentHello {
				sentHello = true
				if err := c.WriteMessage(websocket.TextMessage, []byte("hello from server")); err != nil {
					done <- err
					return
				}
			}
		}
	})
}

func gorillaCleanClose(addr string) error {
	done := make(chan error, 1)
	url, stop, err := serveOnce(addr, gorillaEchoHandler(done, 0))
	if err != nil {
		return err
	}
	defer stop()
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	pong := make(chan struct{}, 1)
	c.SetPongHandler(func(string) error { pong <- struct{}{}; return nil })

	// text, then the server's own text, then binary.
	if err := c.WriteMessage(websocket.TextMessage, []byte("hello")); err != nil {
		return err
	}
	for i := 0; i < 2; i++ {
		mt, msg, err := c.ReadMessage()
		if err != nil {
			return err
		}
		logf("gorilla client: got type %d %q", mt, msg)
	}
	if err := c.WriteMessage(websocket.BinaryMessage, []byte{0x01, 0x02, 0x03, 0x04}); err != nil {
		return err
	}
	if _, msg, err := c.ReadMessage(); err != nil {
		return err
	} else {
		logf("gorilla client: got binary % x", msg)
	}
	// A ping; wait for the pong (the pong handler runs inside a read, so a
	// reader goroutine is started first), then a text and its echo. Waiting
	// keeps the order ping, pong, text, echo the same on every recording.
	type result struct {
		msg []byte
		err error
	}
	echo := make(chan result, 1)
	go func() {
		_, msg, err := c.ReadMessage()
		echo <- result{msg, err}
	}()
	if err := c.WriteControl(websocket.PingMessage, []byte("ping-1"), time.Now().Add(time.Second)); err != nil {
		return err
	}
	select {
	case <-pong:
		logf("gorilla client: got pong")
	case <-time.After(2 * time.Second):
		return errors.New("no pong")
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte("after ping")); err != nil {
		return err
	}
	r := <-echo
	if r.err != nil {
		return r.err
	}
	logf("gorilla client: got %q", r.msg)
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
	if err := c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)); err != nil {
		return err
	}
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			logf("gorilla client: read: %v", err)
			break
		}
	}
	if err := <-done; err != nil {
		return err
	}
	// Let the server close TCP first, as RFC 6455 section 7.1.1 asks: wait
	// for its FIN before closing our side.
	waitEOF(c)
	return nil
}

// waitEOF waits (at most 2 s) until the peer has closed its side of TCP.
func waitEOF(c *websocket.Conn) {
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 64)
	for {
		if _, err := c.UnderlyingConn().Read(buf); err != nil {
			if !errors.Is(err, io.EOF) {
				logf("gorilla client: wait for FIN: %v", err)
			}
			return
		}
	}
}

func gorillaCloseThenFIN(addr string) error {
	done := make(chan error, 1)
	// The server echoes the close 50 ms late, so the client's FIN always
	// comes first and the echo always meets a closed socket.
	url, stop, err := serveOnce(addr, gorillaEchoHandler(done, 50*time.Millisecond))
	if err != nil {
		return err
	}
	defer stop()
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte("hello")); err != nil {
		return err
	}
	for i := 0; i < 2; i++ {
		if _, _, err := c.ReadMessage(); err != nil {
			return err
		}
	}
	msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "client leaving")
	if err := c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)); err != nil {
		return err
	}
	c.Close() // closes the net.Conn at once: the server's echo meets a closed socket.
	return <-done
}
