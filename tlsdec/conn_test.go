package tlsdec

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"slices"
	"testing"
	"time"
)

// checkSession decodes rec in every split mode and checks the plaintext and Info.
func checkSession(t *testing.T, name string, rec *recording, opts Options, s session, want Info) {
	t.Helper()
	for _, mode := range []splitMode{splitWhole, splitBytes, splitRandom} {
		t.Run(fmt.Sprintf("%s/%v", name, mode), func(t *testing.T) {
			o := opts
			if o.Sessions != nil {
				// Each decode must see the cache as the first decode left it.
				o.Sessions = cloneSessions(o.Sessions)
			}
			r := decode(rec.events, o, mode, 7)
			checkPlain(t, r, s)
			checkInfo(t, r.info, want)
			if got := r.info.CloseNotify; got[0] == nil || !got[0].Equal(rec.last(ClientToServer)) ||
				got[1] == nil || !got[1].Equal(rec.last(ServerToClient)) {
				t.Errorf("CloseNotify = %v, want client %v, server %v", got, rec.last(ClientToServer), rec.last(ServerToClient))
			}
			if len(r.gaps[0])+len(r.gaps[1]) != 0 {
				t.Errorf("PlainGap calls = %v, want none", r.gaps)
			}
		})
	}
}

func cloneSessions(s *Sessions) *Sessions {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := NewSessions(s.max)
	for _, k := range s.order {
		c.put(k, s.m[k])
	}
	return c
}

func checkPlain(t *testing.T, r *result, s session) {
	t.Helper()
	if got, want := r.plain[0].Bytes(), bytes.Join(s.clientMsgs, nil); !bytes.Equal(got, want) {
		t.Errorf("client plaintext: got %d bytes, want %d (equal prefix %d)", len(got), len(want), commonPrefix(got, want))
	}
	if got, want := r.plain[1].Bytes(), bytes.Join(s.serverMsgs, nil); !bytes.Equal(got, want) {
		t.Errorf("server plaintext: got %d bytes, want %d (equal prefix %d)", len(got), len(want), commonPrefix(got, want))
	}
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// checkInfo compares the fields of want that tests set.
func checkInfo(t *testing.T, got, want Info) {
	t.Helper()
	if got.Version != want.Version || got.CipherSuite != want.CipherSuite || got.SNI != want.SNI ||
		got.ALPN != want.ALPN || got.Resumed != want.Resumed || got.Decryption != want.Decryption ||
		got.HandshakeFailed != want.HandshakeFailed || got.HandshakeDone != want.HandshakeDone ||
		!slices.Equal(got.ALPNOffered, want.ALPNOffered) {
		t.Errorf("Info:\n got %+v\nwant %+v", summary(got), summary(want))
	}
}

func summary(in Info) Info {
	in.Alerts, in.CloseNotify = nil, [2]*time.Time{}
	return in
}

func TestTLS13RealHandshake(t *testing.T) {
	rsaC, ecC := testCerts(t)
	for _, tc := range []struct {
		name string
		cert tls.Certificate
	}{{"rsa", rsaC}, {"ecdsa", ecC}} {
		rec := &recording{}
		cl, sv := configs(t, tc.cert, rec)
		s := session{client: cl, server: sv, clientMsgs: messages(1, 30, 5000), serverMsgs: messages(2, 40, 40000)}
		st := run(t, s, rec)
		if st.Version != tls.VersionTLS13 {
			t.Fatalf("negotiated %x", st.Version)
		}
		want := Info{
			Version: "TLS 1.3", CipherSuite: tls.CipherSuiteName(st.CipherSuite), SNI: "example.test",
			ALPNOffered: []string{"h2", "http/1.1"}, ALPN: "http/1.1", Decryption: "full", HandshakeDone: true,
		}
		checkSession(t, tc.name, rec, Options{Keys: rec.keyLog(t)}, s, want)

		t.Run(tc.name+"/nokeys", func(t *testing.T) {
			r := decode(rec.events, Options{}, splitRandom, 3)
			w := want
			w.ALPN, w.Decryption = "", "no_keys"
			checkInfo(t, r.info, w)
			if r.plain[0].Len()+r.plain[1].Len() != 0 {
				t.Errorf("plaintext without keys")
			}
			if r.info.CloseNotify[0] != nil || r.info.CloseNotify[1] != nil {
				t.Errorf("CloseNotify without keys = %v", r.info.CloseNotify)
			}
		})
	}
}

func TestTLS12RealHandshake(t *testing.T) {
	rsaC, ecC := testCerts(t)
	for _, tc := range []struct {
		cert  tls.Certificate
		suite uint16
	}{
		{rsaC, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256},
		{rsaC, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384},
		{rsaC, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256},
		{ecC, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		{ecC, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384},
		{ecC, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256},
		{rsaC, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA},
		{rsaC, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA},
		{rsaC, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256},
		{ecC, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA},
	} {
		name := tls.CipherSuiteName(tc.suite)
		rec := &recording{}
		cl, sv := configs(t, tc.cert, rec)
		cl.MaxVersion, cl.CipherSuites, sv.CipherSuites = tls.VersionTLS12, []uint16{tc.suite}, []uint16{tc.suite}
		s := session{client: cl, server: sv, clientMsgs: messages(3, 20, 3000), serverMsgs: messages(4, 20, 30000)}
		st := run(t, s, rec)
		if st.CipherSuite != tc.suite {
			t.Fatalf("%s: negotiated %s", name, tls.CipherSuiteName(st.CipherSuite))
		}
		want := Info{
			Version: "TLS 1.2", CipherSuite: name, SNI: "example.test",
			ALPNOffered: []string{"h2", "http/1.1"}, ALPN: "http/1.1", Decryption: "full", HandshakeDone: true,
		}
		checkSession(t, name, rec, Options{Keys: rec.keyLog(t)}, s, want)
	}
}

func TestTLS12Resumption(t *testing.T) {
	rsaC, _ := testCerts(t)
	cache := tls.NewLRUClientSessionCache(4)
	var server *tls.Config
	sessions := NewSessions(0)
	var recs []*recording
	var sess []session
	for i := 0; i < 2; i++ {
		rec := &recording{}
		cl, sv := configs(t, rsaC, rec)
		if i == 0 {
			server = sv // the same ticket keys for both connections
		}
		sv = server
		cl.MaxVersion, cl.ClientSessionCache = tls.VersionTLS12, cache
		s := session{client: cl, server: sv, clientMsgs: messages(uint64(10+i), 5, 2000), serverMsgs: messages(uint64(20+i), 5, 2000)}
		st := run(t, s, rec)
		if st.DidResume != (i == 1) {
			t.Fatalf("connection %d: DidResume = %v", i, st.DidResume)
		}
		recs, sess = append(recs, rec), append(sess, s)
	}
	keys := recs[0].keyLog(t)
	if n := recs[1].keyLog(t).Len(); n != 0 {
		t.Logf("crypto/tls logged %d secrets for the resumed session", n)
	}
	want := Info{
		Version: "TLS 1.2", CipherSuite: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", SNI: "example.test",
		ALPNOffered: []string{"h2", "http/1.1"}, ALPN: "http/1.1", Decryption: "full", HandshakeDone: true,
	}
	r0 := decode(recs[0].events, Options{Keys: keys, Sessions: sessions}, splitWhole, 1)
	checkPlain(t, r0, sess[0])
	checkInfo(t, r0.info, want)
	if sessions.Len() == 0 {
		t.Fatalf("full handshake left nothing in Sessions")
	}
	want.Resumed = true
	checkSession(t, "resumed", recs[1], Options{Keys: keys, Sessions: sessions}, sess[1], want)

	// Without the cache the resumed connection cannot be decrypted.
	r := decode(recs[1].events, Options{Keys: keys}, splitWhole, 1)
	if r.info.Decryption != "no_keys" || !r.info.Resumed || r.plain[0].Len()+r.plain[1].Len() != 0 {
		t.Errorf("resumed without Sessions: Decryption %q, Resumed %v, %d+%d plaintext bytes",
			r.info.Decryption, r.info.Resumed, r.plain[0].Len(), r.plain[1].Len())
	}
}

func TestTLS13Resumption(t *testing.T) {
	_, ecC := testCerts(t)
	cache := tls.NewLRUClientSessionCache(4)
	var server *tls.Config
	for i := 0; i < 2; i++ {
		rec := &recording{}
		cl, sv := configs(t, ecC, rec)
		if i == 0 {
			server = sv // the same ticket keys for both connections
		}
		sv = server
		cl.ClientSessionCache = cache
		s := session{client: cl, server: sv, clientMsgs: messages(uint64(30+i), 5, 2000), serverMsgs: messages(uint64(40+i), 5, 2000)}
		st := run(t, s, rec)
		if st.DidResume != (i == 1) {
			t.Fatalf("connection %d: DidResume = %v", i, st.DidResume)
		}
		want := Info{
			Version: "TLS 1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", SNI: "example.test",
			ALPNOffered: []string{"h2", "http/1.1"}, ALPN: "http/1.1", Decryption: "full", HandshakeDone: true,
			Resumed: i == 1,
		}
		checkSession(t, fmt.Sprint("conn", i), rec, Options{Keys: rec.keyLog(t)}, s, want)
	}
}
