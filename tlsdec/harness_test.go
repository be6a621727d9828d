package tlsdec

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"
)

// This file runs crypto/tls in-process over loopback TCP, records the bytes each side
// wrote (in write order, which is causal order), and feeds them to a Conn.

// event is one Write of one side.
type event struct {
	dir  Dir
	data []byte
	t    time.Time
}

// recording collects the writes of both sides.
type recording struct {
	mu     sync.Mutex
	events []event
	keys   bytes.Buffer
}

// base is the fake capture time of the first write; each write is 1 ms later.
var base = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func (r *recording) add(dir Dir, b []byte) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := base.Add(time.Duration(len(r.events)) * time.Millisecond)
	r.events = append(r.events, event{dir, bytes.Clone(b), t})
	return t
}

// Write collects the key log (crypto/tls writes whole lines).
func (r *recording) Write(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.keys.Write(b)
}

func (r *recording) keyLog(t *testing.T) *KeyLog {
	t.Helper()
	k := NewKeyLog()
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := k.Add(bytes.NewReader(r.keys.Bytes())); err != nil {
		t.Fatalf("key log: %v", err)
	}
	return k
}

// last returns the time of dir's last write.
func (r *recording) last(dir Dir) time.Time {
	for i := len(r.events) - 1; i >= 0; i-- {
		if r.events[i].dir == dir {
			return r.events[i].t
		}
	}
	return time.Time{}
}

// teeConn records what is written to a net.Conn.
type teeConn struct {
	net.Conn
	rec *recording
	dir Dir
}

func (c *teeConn) Write(b []byte) (int, error) {
	c.rec.add(c.dir, b)
	return c.Conn.Write(b)
}

// session describes one TLS connection to run: what each side writes after the handshake.
type session struct {
	client, server *tls.Config
	clientMsgs     [][]byte
	serverMsgs     [][]byte
}

// run performs the session: the client writes its messages, the server reads them and
// writes its own, then the client sends close_notify, the server answers with its own.
func run(t *testing.T, s session, rec *recording) *tls.ConnectionState {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	clientWant, serverWant := total(s.clientMsgs), total(s.serverMsgs)
	errc := make(chan error, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			errc <- err
			return
		}
		defer raw.Close()
		srv := tls.Server(&teeConn{raw, rec, ServerToClient}, s.server)
		got := make([]byte, clientWant)
		if _, err := io.ReadFull(srv, got); err != nil {
			errc <- err
			return
		}
		for _, m := range s.serverMsgs {
			if _, err := srv.Write(m); err != nil {
				errc <- err
				return
			}
		}
		io.Copy(io.Discard, srv) // until the client's close_notify
		errc <- srv.Close()
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	cl := tls.Client(&teeConn{raw, rec, ClientToServer}, s.client)
	if err := cl.Handshake(); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	for _, m := range s.clientMsgs {
		if _, err := cl.Write(m); err != nil {
			t.Fatal(err)
		}
	}
	got := make([]byte, serverWant)
	if _, err := io.ReadFull(cl, got); err != nil {
		t.Fatal(err)
	}
	if err := cl.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, cl); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("server: %v", err)
	}
	st := cl.ConnectionState()
	return &st
}

func total(msgs [][]byte) int {
	n := 0
	for _, m := range msgs {
		n += len(m)
	}
	return n
}

// result is what a Conn delivered.
type result struct {
	plain [2]bytes.Buffer
	gaps  [2][]int64
	times [2][]time.Time
	info  Info
}

// splitMode says how the recorded writes are cut into Feed calls.
type splitMode int

const (
	splitWhole splitMode = iota
	splitBytes
	splitRandom
)

func (m splitMode) String() string {
	return [...]string{"whole", "bytes", "random"}[m]
}

// decode feeds a recording to a new Conn.
func decode(events []event, opts Options, mode splitMode, seed uint64) *result {
	var r result
	opts.Plaintext = func(dir Dir, data []byte, t time.Time) {
		r.plain[dir].Write(data)
		r.times[dir] = append(r.times[dir], t)
	}
	opts.PlainGap = func(dir Dir, n int64, t time.Time) { r.gaps[dir] = append(r.gaps[dir], n) }
	c := NewConn(opts)
	rng := mrand.New(mrand.NewPCG(seed, 1))
	for _, e := range events {
		feedSplit(c, e, mode, rng)
	}
	c.Finish(base.Add(time.Hour))
	r.info = c.Info()
	return &r
}

func feedSplit(c *Conn, e event, mode splitMode, rng *mrand.Rand) {
	b := e.data
	for len(b) > 0 {
		n := len(b)
		switch mode {
		case splitBytes:
			n = 1
		case splitRandom:
			n = 1 + rng.IntN(min(len(b), 700))
		}
		c.Feed(e.dir, b[:n], e.t)
		b = b[n:]
	}
}

var (
	certOnce           sync.Once
	rsaCert, ecdsaCert tls.Certificate
)

// testCerts returns a self-signed RSA and ECDSA certificate for "example.test".
func testCerts(t *testing.T) (rsaC, ecC tls.Certificate) {
	certOnce.Do(func() {
		rk, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		rsaCert, ecdsaCert = selfSigned(rk, &rk.PublicKey), selfSigned(ek, &ek.PublicKey)
	})
	return rsaCert, ecdsaCert
}

func selfSigned(priv, pub any) tls.Certificate {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "example.test"},
		DNSNames:     []string{"example.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		panic(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv}
}

// configs returns a client and server config pair with the client's key log going to rec.
func configs(t *testing.T, cert tls.Certificate, rec *recording) (client, server *tls.Config) {
	server = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}
	client = &tls.Config{
		ServerName:         "example.test",
		InsecureSkipVerify: true,
		NextProtos:         []string{"h2", "http/1.1"},
		KeyLogWriter:       rec,
	}
	return client, server
}

// messages returns n messages of pseudo-random content and sizes up to max.
func messages(seed uint64, n, max int) [][]byte {
	rng := mrand.New(mrand.NewPCG(seed, 2))
	out := make([][]byte, n)
	for i := range out {
		m := make([]byte, 1+rng.IntN(max))
		for j := range m {
			m[j] = byte(rng.Uint32())
		}
		out[i] = m
	}
	return out
}
