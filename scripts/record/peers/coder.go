package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

func coder1008(addr string) error {
	done := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			done <- err
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		mt, msg, err := c.Read(ctx)
		if err != nil {
			done <- err
			return
		}
		logf("coder server: got %v %q", mt, msg)
		// Close sends 1008, waits for the peer's close frame, then closes TCP.
		err = c.Close(websocket.StatusPolicyViolation, "policy violation")
		logf("coder server: close: %v", err)
		done <- nil
	})
	url, stop, err := serveOnce(addr, h)
	if err != nil {
		return err
	}
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	// coder/websocket's client closes TCP right after echoing a close frame,
	// racing the server's own close. Delaying the client's Close by 50 ms
	// makes the server's FIN come first on every recording.
	hc := &http.Client{Transport: &http.Transport{DialContext: slowCloseDial(50 * time.Millisecond)}}
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.CloseNow()
	if err := c.Write(ctx, websocket.MessageText, []byte("forbidden action")); err != nil {
		return err
	}
	_, _, err = c.Read(ctx)
	logf("coder client: read: %v (status %d)", err, websocket.CloseStatus(err))
	if err := <-done; err != nil {
		return err
	}
	time.Sleep(200 * time.Millisecond)
	return nil
}

// slowCloseConn delays Close by delay.
type slowCloseConn struct {
	net.Conn
	delay time.Duration
}

// Close waits, then closes the connection.
func (c slowCloseConn) Close() error {
	time.Sleep(c.delay)
	return c.Conn.Close()
}

// slowCloseDial returns a DialContext whose connections close late.
func slowCloseDial(delay time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return slowCloseConn{Conn: c, delay: delay}, nil
	}
}
