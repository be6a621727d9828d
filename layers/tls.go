package layers

import (
	"time"

	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/tlsdec"
)

// The TLS layer. A connection whose first bytes are a TLS handshake record goes through
// tlsdec: its plaintext, when the key log has the secrets, goes on like cleartext does.

// route says where a connection's bytes go.
type route uint8

const (
	routeUndecided route = iota
	routePlain
	routeTLS
)

// decide picks the route from the first bytes of the connection.
func (c *Conn) decide(data []byte) {
	if !tlsdec.LooksLikeTLS(data) {
		c.route = routePlain
		return
	}
	c.route = routeTLS
	c.tls = tlsdec.NewConn(tlsdec.Options{Keys: c.f.opts.Keys, Sessions: c.f.opts.Sessions,
		Plaintext: c.plaintext, PlainGap: c.plainGap})
}

// plaintext feeds decrypted application data on.
func (c *Conn) plaintext(dir tlsdec.Dir, data []byte, t time.Time) {
	c.feedApp(reassembly.Dir(dir), data, t)
}

// plainGap reports plaintext the TLS layer could not deliver.
func (c *Conn) plainGap(dir tlsdec.Dir, length int64, t time.Time) {
	c.gapApp(reassembly.Dir(dir), length, t)
}
