// Package tlstest runs a TLS session with crypto/tls in-process and records what each side
// wrote, in order, with the session's NSS key log, so that tests can turn a wss exchange
// into a capture (with internal/wstest and internal/pcapgen).
package tlstest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"sync"
	"time"

	"github.com/wsclosescan/wsclosescan/reassembly"
)

// Step is what one side writes once the handshake is done; the other side reads it all.
type Step struct {
	Dir  reassembly.Dir
	Data []byte
}

// Write is one Write call on the wire: handshake, application data or alert records.
type Write struct {
	Dir  reassembly.Dir
	Data []byte
}

// Session is a recorded TLS session.
type Session struct {
	Writes []Write
	// KeyLog is the NSS key log crypto/tls wrote (both sides log the same secrets; the
	// client's log is kept).
	KeyLog []byte
	State  tls.ConnectionState
}

// Configs returns a client and a server configuration for version (tls.VersionTLS12 or
// tls.VersionTLS13) with a fresh self-signed ECDSA certificate; suites, if any, restrict
// the TLS 1.2 cipher suites.
func Configs(version uint16, suites ...uint16) (client, server *tls.Config, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	server = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: version, MaxVersion: version,
		CipherSuites: suites}
	client = &tls.Config{InsecureSkipVerify: true, ServerName: "localhost", MinVersion: version, MaxVersion: version,
		CipherSuites: suites, NextProtos: []string{"http/1.1"}}
	return client, server, nil
}

// recorder collects the writes of both sides in the order they happen.
type recorder struct {
	mu     sync.Mutex
	writes []Write
}

func (r *recorder) add(dir reassembly.Dir, b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, Write{dir, bytes.Clone(b)})
}

// tee records what is written to a net.Conn.
type tee struct {
	net.Conn
	rec *recorder
	dir reassembly.Dir
}

func (c *tee) Write(b []byte) (int, error) {
	c.rec.add(c.dir, b)
	return c.Conn.Write(b)
}

// Run performs the handshake, then the steps in order, then, if closeNotify is set, each
// side's close_notify (the client's first). The client's config gets a KeyLogWriter.
func Run(client, server *tls.Config, steps []Step, closeNotify bool) (*Session, error) {
	rec := &recorder{}
	var keys bytes.Buffer
	client = client.Clone()
	client.KeyLogWriter = &keys
	a, b := net.Pipe()
	cc := tls.Client(&tee{a, rec, reassembly.ClientToServer}, client)
	sc := tls.Server(&tee{b, rec, reassembly.ServerToClient}, server)
	errc := make(chan error, 1)
	go func() { errc <- play(sc, reassembly.ServerToClient, steps, closeNotify) }()
	err := play(cc, reassembly.ClientToServer, steps, closeNotify)
	if serr := <-errc; err == nil {
		err = serr
	}
	a.Close()
	b.Close()
	if err != nil {
		return nil, err
	}
	return &Session{Writes: rec.writes, KeyLog: keys.Bytes(), State: cc.ConnectionState()}, nil
}

// play is one side's part of the session.
func play(c *tls.Conn, me reassembly.Dir, steps []Step, closeNotify bool) error {
	if err := c.Handshake(); err != nil {
		return fmt.Errorf("tlstest: %s handshake: %w", me, err)
	}
	for i, s := range steps {
		if s.Dir == me {
			if _, err := c.Write(s.Data); err != nil {
				return fmt.Errorf("tlstest: step %d: %s write: %w", i, me, err)
			}
			continue
		}
		if _, err := io.ReadFull(c, make([]byte, len(s.Data))); err != nil {
			return fmt.Errorf("tlstest: step %d: %s read: %w", i, me, err)
		}
	}
	if !closeNotify {
		return nil
	}
	// The client closes first; the server answers once it has read the client's alert.
	if me == reassembly.ServerToClient {
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
			return fmt.Errorf("tlstest: server: want the client's close_notify, got %v", err)
		}
		return c.CloseWrite()
	}
	if err := c.CloseWrite(); err != nil {
		return err
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		return fmt.Errorf("tlstest: client: want the server's close_notify, got %v", err)
	}
	return nil
}
