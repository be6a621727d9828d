package tlsdec

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"net"
	"testing"
	"time"
)

func TestLooksLikeTLS(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		want bool
	}{
		{"client hello", []byte{22, 3, 1, 0x02, 0x00, 1, 0, 1, 0xfc}, true},
		{"server hello", []byte{22, 3, 3, 0x00, 0x7a, 2}, true},
		{"header only", []byte{22, 3, 3, 0x00, 0x7a}, true},
		{"short", []byte{22, 3, 1, 2}, false},
		{"http", []byte("GET / HTTP/1.1\r\n"), false},
		{"app data", []byte{23, 3, 3, 0, 20, 1}, false},
		{"ssl2-ish version", []byte{22, 2, 0, 0, 10, 1}, false},
		{"too long", []byte{22, 3, 1, 0x48, 0x01, 1}, false},
		{"empty", []byte{22, 3, 1, 0, 0}, false},
		{"certificate first", []byte{22, 3, 3, 0, 40, 11}, false},
	} {
		if got := LooksLikeTLS(tc.b); got != tc.want {
			t.Errorf("%s: LooksLikeTLS = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNotTLS(t *testing.T) {
	var plain int
	c := NewConn(Options{Plaintext: func(Dir, []byte, time.Time) { plain++ }})
	c.Feed(ClientToServer, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), base)
	c.Feed(ServerToClient, []byte("HTTP/1.1 101 Switching Protocols\r\n\r\n"), base)
	c.Finish(base)
	in := c.Info()
	if in.Records != [2]int{} || in.Version != "" || plain != 0 || in.Decryption != "no_keys" {
		t.Errorf("Info %+v", summary(in))
	}
}

// TestTLS12WithoutKeys: what the outer records show: version, suite, that each side sent
// CCS and its Finished, and the encrypted alerts at the end (level unknown).
func TestTLS12WithoutKeys(t *testing.T) {
	rsaC, _ := testCerts(t)
	rec := &recording{}
	cl, sv := configs(t, rsaC, rec)
	cl.MaxVersion = tls.VersionTLS12
	s := session{client: cl, server: sv, clientMsgs: messages(1, 2, 100), serverMsgs: messages(2, 2, 100)}
	run(t, s, rec)
	for _, opts := range []Options{{}, {Keys: NewKeyLog()}} {
		r := decode(rec.events, opts, splitRandom, 4)
		in := r.info
		if in.Version != "TLS 1.2" || in.CipherSuite != "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" || in.ALPN != "http/1.1" ||
			!in.HandshakeDone || in.HandshakeFailed || in.Decryption != "no_keys" {
			t.Errorf("Info %+v", summary(in))
		}
		if len(in.Alerts) != 2 || in.Alerts[0] != (Alert{Dir: ClientToServer, Time: rec.last(ClientToServer), Encrypted: true}) ||
			in.Alerts[1].Dir != ServerToClient || in.Alerts[1].Level != 0 {
			t.Errorf("Alerts %+v", in.Alerts)
		}
		if in.CloseNotify[0] != nil || in.CloseNotify[1] != nil || len(r.gaps[0])+len(r.gaps[1]) != 0 {
			t.Errorf("CloseNotify %v, gaps %v: want none without keys", in.CloseNotify, r.gaps)
		}
	}
}

// TestTLS12HandshakeFailure: the server refuses the client's only suite with a plaintext
// fatal alert.
func TestTLS12HandshakeFailure(t *testing.T) {
	rsaC, _ := testCerts(t)
	rec := &recording{}
	cl, sv := configs(t, rsaC, rec)
	cl.MaxVersion, cl.CipherSuites = tls.VersionTLS12, []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}
	sv.CipherSuites = []uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		raw, err := ln.Accept()
		if err != nil {
			return
		}
		defer raw.Close()
		tls.Server(&teeConn{raw, rec, ServerToClient}, sv).Handshake()
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if err := tls.Client(&teeConn{raw, rec, ClientToServer}, cl).Handshake(); err == nil {
		t.Fatal("handshake succeeded")
	}
	raw.Close()
	<-done
	r := decode(rec.events, Options{Keys: rec.keyLog(t)}, splitBytes, 1)
	in := r.info
	want := Alert{Dir: ServerToClient, Time: rec.last(ServerToClient), Level: 2, Description: 40}
	if !in.HandshakeFailed || in.HandshakeDone || len(in.Alerts) != 1 || in.Alerts[0] != want || in.Version != "" || in.SNI != "example.test" {
		t.Errorf("Info %+v, alerts %+v", summary(in), in.Alerts)
	}
}

// TestTLS11Unsupported: TLS 1.1 is described but not decrypted.
func TestTLS11Unsupported(t *testing.T) {
	rsaC, _ := testCerts(t)
	rec := &recording{}
	cl, sv := configs(t, rsaC, rec)
	cl.MinVersion, cl.MaxVersion, sv.MinVersion = tls.VersionTLS11, tls.VersionTLS11, tls.VersionTLS10
	s := session{client: cl, server: sv, clientMsgs: messages(1, 2, 100), serverMsgs: messages(2, 2, 100)}
	st := run(t, s, rec)
	if st.Version != tls.VersionTLS11 {
		t.Skipf("crypto/tls negotiated %x", st.Version)
	}
	r := decode(rec.events, Options{Keys: rec.keyLog(t)}, splitWhole, 1)
	if r.info.Version != "TLS 1.1" || r.info.Decryption != "unsupported" || r.plain[0].Len() != 0 {
		t.Errorf("Info %+v", summary(r.info))
	}
}

// TestCBCEncryptThenMAC checks RFC 7366 records (crypto/tls does not negotiate it), sealed
// here with known keys.
func TestCBCEncryptThenMAC(t *testing.T) {
	s := suiteByID(0xc027) // AES-128-CBC, HMAC-SHA256
	key, macKey := bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 32)
	rc := newCipher12(s, key, nil, macKey, true)
	block, _ := aes.NewCipher(key)
	for _, n := range []int{0, 1, 15, 16, 17, 1000} {
		content := bytes.Repeat([]byte{byte(n)}, n)
		pad := 16 - (n+1)%16
		if pad == 16 {
			pad = 0
		}
		pt := append(bytes.Clone(content), bytes.Repeat([]byte{byte(pad)}, pad+1)...)
		iv := bytes.Repeat([]byte{byte(n + 3)}, 16)
		ct := make([]byte, len(pt))
		cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, pt)
		body := append(bytes.Clone(iv), ct...)
		hdr := [5]byte{recAppData, 3, 3, 0, 0}
		seq := uint64(n)
		mac := hmac.New(sha256.New, macKey)
		var aad [13]byte
		for i := 0; i < 8; i++ {
			aad[i] = byte(seq >> (56 - 8*i))
		}
		aad[8], aad[9], aad[10], aad[11], aad[12] = recAppData, 3, 3, byte(len(body)>>8), byte(len(body))
		mac.Write(aad[:])
		mac.Write(body)
		body = mac.Sum(body)
		hdr[3], hdr[4] = byte(len(body)>>8), byte(len(body))
		got, typ, ok := rc.open(nil, &hdr, body, seq)
		if !ok || typ != recAppData || !bytes.Equal(got, content) {
			t.Errorf("n=%d: ok %v, got %d bytes", n, ok, len(got))
		}
		if _, _, ok := rc.open(nil, &hdr, body, seq+1); ok {
			t.Errorf("n=%d: opened with the wrong sequence number", n)
		}
		body[20] ^= 1
		if _, _, ok := rc.open(nil, &hdr, body, seq); ok {
			t.Errorf("n=%d: opened a corrupted record", n)
		}
	}
}
