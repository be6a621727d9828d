package tlsdec

import (
	"bytes"
	"crypto/cipher"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"
)

// This file builds TLS 1.3 connections record by record from chosen secrets, for what a real
// crypto/tls session cannot show: TLS_AES_256_GCM_SHA384 (crypto/tls never picks it),
// KeyUpdate (it has no API to send one), 0-RTT, HelloRetryRequest, padding, a client alert
// instead of its Finished, and lost records. Records are sealed with crypto/cipher here;
// the key and IV derivation reuses the package's expandLabel, which the real handshakes test
// (SHA-256 with crypto/tls's own secrets; SHA-384 only here).

// sealer protects the records of one direction.
type sealer struct {
	s      *suite
	aead   cipher.AEAD
	iv     [12]byte
	seq    uint64
	secret []byte
}

func newSealer(s *suite, secret []byte) *sealer {
	sl := &sealer{s: s, secret: secret, aead: newAEAD(s.bulk, expandLabel(s.prf, secret, "key", s.keyLen))}
	copy(sl.iv[:], expandLabel(s.prf, secret, "iv", 12))
	return sl
}

// seal returns a whole record: content ‖ inner type ‖ pad zeros, sealed.
func (sl *sealer) seal(inner uint8, content []byte, pad int) []byte {
	pt := append(append(bytes.Clone(content), inner), make([]byte, pad)...)
	n := len(pt) + sl.aead.Overhead()
	hdr := []byte{recAppData, 3, 3, byte(n >> 8), byte(n)}
	nonce := sl.iv
	xorSeq(&nonce, sl.seq)
	sl.seq++
	return sl.aead.Seal(hdr, nonce[:], pt, hdr)
}

// synth accumulates the records of one synthetic connection.
type synth struct {
	s      *suite
	random [32]byte
	sec    [numSecretKinds][]byte
	events []event
	w      [2]*sealer
	plain  [2]bytes.Buffer // the application data each side sent
	keyLog strings.Builder
}

func newSynth(s *suite, seed uint64) *synth {
	rng := mrand.New(mrand.NewPCG(seed, 3))
	b := &synth{s: s}
	for i := range b.random {
		b.random[i] = byte(rng.Uint32())
	}
	for k := secClientHS; k < numSecretKinds; k++ {
		b.sec[k] = make([]byte, s.prf.size())
		for i := range b.sec[k] {
			b.sec[k][i] = byte(rng.Uint32())
		}
	}
	labels := map[secretKind]string{secClientHS: "CLIENT_HANDSHAKE_TRAFFIC_SECRET", secServerHS: "SERVER_HANDSHAKE_TRAFFIC_SECRET",
		secClientApp: "CLIENT_TRAFFIC_SECRET_0", secServerApp: "SERVER_TRAFFIC_SECRET_0", secClientEarly: "CLIENT_EARLY_TRAFFIC_SECRET"}
	for k := secClientHS; k < numSecretKinds; k++ {
		fmt.Fprintf(&b.keyLog, "%s %x %x\n", labels[k], b.random, b.sec[k])
	}
	return b
}

func (b *synth) emit(dir Dir, rec []byte) {
	b.events = append(b.events, event{dir, rec, base.Add(time.Duration(len(b.events)) * time.Millisecond)})
}

// plainRecord frames payload as a cleartext record.
func plainRecord(typ uint8, ver uint16, payload []byte) []byte {
	return append([]byte{typ, byte(ver >> 8), byte(ver), byte(len(payload) >> 8), byte(len(payload))}, payload...)
}

func hsMsg(typ uint8, body []byte) []byte {
	return append([]byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
}

func u16(v int) []byte { return []byte{byte(v >> 8), byte(v)} }

func ext(typ int, data []byte) []byte { return append(append(u16(typ), u16(len(data))...), data...) }

func vec8(b []byte) []byte { return append([]byte{byte(len(b))}, b...) }

func vec16(b []byte) []byte { return append(u16(len(b)), b...) }

func alpnExt(protos ...string) []byte {
	var l []byte
	for _, p := range protos {
		l = append(l, vec8([]byte(p))...)
	}
	return ext(extALPN, vec16(l))
}

// clientHello returns a ClientHello body with SNI, ALPN, supported_versions, a big fake key
// share (like X25519MLKEM768's) and optionally early_data.
func (b *synth) clientHello(early bool) []byte {
	body := append(u16(0x0303), b.random[:]...)
	body = append(body, vec8(bytes.Repeat([]byte{7}, 32))...)                 // legacy session id
	body = append(body, vec16([]byte{0x13, 0x01, 0x13, 0x02, 0x13, 0x03})...) // suites
	body = append(body, 1, 0)                                                 // compression
	var exts []byte
	sni := append([]byte{0}, vec16([]byte("synth.test"))...)
	exts = append(exts, ext(extServerName, vec16(sni))...)
	exts = append(exts, alpnExt("http/1.1")...)
	exts = append(exts, ext(extSupportedVersions, vec8([]byte{3, 4, 3, 3}))...)
	exts = append(exts, ext(51, vec16(append(u16(0x11ec), vec16(make([]byte, 1216))...)))...) // key_share
	if early {
		exts = append(exts, ext(extEarlyData, nil)...)
	}
	return hsMsg(hsClientHello, append(body, vec16(exts)...))
}

func (b *synth) serverHello(random []byte, psk bool) []byte {
	body := append(u16(0x0303), random...)
	body = append(body, vec8(bytes.Repeat([]byte{7}, 32))...)
	body = append(body, byte(b.s.id>>8), byte(b.s.id), 0)
	exts := ext(extSupportedVersions, u16(0x0304))
	if psk {
		exts = append(exts, ext(extPreSharedKey, u16(0))...)
	}
	return hsMsg(hsServerHello, append(body, vec16(exts)...))
}

// synthOpts chooses what a synthetic connection does.
type synthOpts struct {
	hrr         bool
	early       bool // the client sends 0-RTT data
	keyUpdate   bool // the client updates its key mid-stream, the server answers with its own
	pad         int  // zero padding on application records
	alertNoFin  bool // the client sends an alert instead of its Finished
	appRecords  int
	serverFirst bool
	noClose     bool // stop after the application data, keys ready for more
}

// build writes a whole connection: hello(s), the encrypted handshake, application data,
// close_notify from both sides.
func (b *synth) build(o synthOpts) {
	ch := b.clientHello(o.early)
	// The ClientHello spans two records, the way big ones span segments.
	b.emit(ClientToServer, append(plainRecord(recHandshake, 0x0301, ch[:700]), plainRecord(recHandshake, 0x0301, ch[700:])...))
	if o.hrr {
		b.emit(ServerToClient, plainRecord(recHandshake, 0x0303, b.serverHello(helloRetryRandom[:], false)))
		b.emit(ClientToServer, plainRecord(recChangeCipherSpec, 0x0303, []byte{1}))
		b.emit(ClientToServer, plainRecord(recHandshake, 0x0303, ch))
	}
	if o.early {
		ew := newSealer(b.s, b.sec[secClientEarly])
		for i := 0; i < 3; i++ {
			m := []byte(fmt.Sprintf("GET /early/%d HTTP/1.1\r\n", i))
			b.plain[0].Write(m)
			b.emit(ClientToServer, ew.seal(recAppData, m, 0))
		}
		b.w[0] = ew
	}
	b.emit(ServerToClient, plainRecord(recHandshake, 0x0303, b.serverHello(bytes.Repeat([]byte{9}, 32), false)))
	b.emit(ServerToClient, plainRecord(recChangeCipherSpec, 0x0303, []byte{1}))
	sw := newSealer(b.s, b.sec[secServerHS])
	ee := hsMsg(hsEncryptedExtensions, vec16(alpnExt("http/1.1")))
	cert := hsMsg(11, bytes.Repeat([]byte{0xcc}, 20000)) // bigger than a record: split
	fin := hsMsg(hsFinished, make([]byte, b.s.prf.size()))
	flight := append(append(ee, cert...), hsMsg(15, make([]byte, 80))...)
	b.emit(ServerToClient, append(sw.seal(recHandshake, flight[:9000], 0), sw.seal(recHandshake, flight[9000:], 0)...))
	b.emit(ServerToClient, sw.seal(recHandshake, fin, 0))
	b.w[1] = newSealer(b.s, b.sec[secServerApp])
	if o.early {
		b.emit(ClientToServer, b.w[0].seal(recHandshake, hsMsg(hsEndOfEarlyData, nil), 0))
	}
	cw := newSealer(b.s, b.sec[secClientHS])
	if o.alertNoFin {
		b.emit(ClientToServer, cw.seal(recAlert, []byte{2, 51}, 0)) // fatal decrypt_error
		return
	}
	b.emit(ClientToServer, plainRecord(recChangeCipherSpec, 0x0303, []byte{1}))
	b.emit(ClientToServer, cw.seal(recHandshake, fin, 0))
	b.w[0] = newSealer(b.s, b.sec[secClientApp])
	b.appData(o)
	if o.noClose {
		return
	}
	b.emit(ClientToServer, b.w[0].seal(recAlert, []byte{1, 0}, 0))
	b.emit(ServerToClient, b.w[1].seal(recAlert, []byte{1, 0}, o.pad))
}

func (b *synth) appData(o synthOpts) {
	rng := mrand.New(mrand.NewPCG(uint64(o.appRecords), 4))
	for i := 0; i < o.appRecords; i++ {
		for _, dir := range []Dir{ClientToServer, ServerToClient} {
			if o.serverFirst {
				dir ^= 1
			}
			m := make([]byte, 1+rng.IntN(3000))
			for j := range m {
				m[j] = byte(rng.Uint32())
			}
			b.plain[dir].Write(m)
			b.emit(dir, b.w[dir].seal(recAppData, m, o.pad))
		}
		if o.keyUpdate && i == o.appRecords/2 {
			// update_requested: the server answers with its own KeyUpdate.
			b.emit(ClientToServer, b.w[0].seal(recHandshake, hsMsg(hsKeyUpdate, []byte{1}), 0))
			b.w[0] = newSealer(b.s, nextTrafficSecret(b.s.prf, b.w[0].secret))
			b.emit(ServerToClient, b.w[1].seal(recHandshake, hsMsg(hsKeyUpdate, []byte{0}), 0))
			b.w[1] = newSealer(b.s, nextTrafficSecret(b.s.prf, b.w[1].secret))
		}
	}
}

func (b *synth) keys(t testing.TB, drop ...secretKind) *KeyLog {
	t.Helper()
	var text strings.Builder
	for _, line := range strings.SplitAfter(b.keyLog.String(), "\n") {
		keep := line != ""
		for _, k := range drop {
			if strings.HasPrefix(line, map[secretKind]string{secClientEarly: "CLIENT_EARLY", secClientHS: "CLIENT_HANDSHAKE",
				secServerHS: "SERVER_HANDSHAKE"}[k]) {
				keep = false
			}
		}
		if keep {
			text.WriteString(line)
		}
	}
	k := NewKeyLog()
	if _, err := k.Add(strings.NewReader(text.String())); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestTLS13Synthetic(t *testing.T) {
	for _, tc := range []struct {
		name  string
		suite uint16
		o     synthOpts
	}{
		{"aes128", 0x1301, synthOpts{appRecords: 20}},
		{"aes256", 0x1302, synthOpts{appRecords: 20}},
		{"chacha", 0x1303, synthOpts{appRecords: 20}},
		{"aes256 keyupdate", 0x1302, synthOpts{appRecords: 20, keyUpdate: true}},
		{"chacha keyupdate padded", 0x1303, synthOpts{appRecords: 20, keyUpdate: true, pad: 100}},
		{"aes128 hrr", 0x1301, synthOpts{appRecords: 5, hrr: true}},
		{"aes256 early", 0x1302, synthOpts{appRecords: 5, early: true}},
		{"chacha early server first", 0x1303, synthOpts{appRecords: 5, early: true, serverFirst: true}},
	} {
		b := newSynth(suiteByID(tc.suite), 11)
		b.build(tc.o)
		want := Info{Version: "TLS 1.3", CipherSuite: suiteByID(tc.suite).name, SNI: "synth.test",
			ALPNOffered: []string{"http/1.1"}, ALPN: "http/1.1", Decryption: "full", HandshakeDone: true}
		for _, mode := range []splitMode{splitWhole, splitBytes, splitRandom} {
			t.Run(fmt.Sprintf("%s/%v", tc.name, mode), func(t *testing.T) {
				r := decode(b.events, Options{Keys: b.keys(t)}, mode, 5)
				if !bytes.Equal(r.plain[0].Bytes(), b.plain[0].Bytes()) || !bytes.Equal(r.plain[1].Bytes(), b.plain[1].Bytes()) {
					t.Errorf("plaintext: got %d+%d bytes, want %d+%d", r.plain[0].Len(), r.plain[1].Len(), b.plain[0].Len(), b.plain[1].Len())
				}
				checkInfo(t, r.info, want)
				last := b.events[len(b.events)-1].t
				if cn := r.info.CloseNotify; cn[0] == nil || cn[1] == nil || !cn[1].Equal(last) {
					t.Errorf("CloseNotify = %v, want the server's at %v", cn, last)
				}
				if len(r.gaps[0])+len(r.gaps[1]) != 0 {
					t.Errorf("gaps %v", r.gaps)
				}
			})
		}
	}
}

func TestTLS13EarlyDataWithoutItsSecret(t *testing.T) {
	b := newSynth(suiteByID(0x1301), 12)
	b.build(synthOpts{appRecords: 4, early: true})
	r := decode(b.events, Options{Keys: b.keys(t, secClientEarly)}, splitRandom, 1)
	early := len("GET /early/0 HTTP/1.1\r\n") * 3
	if got, want := r.plain[0].Bytes(), b.plain[0].Bytes()[early:]; !bytes.Equal(got, want) {
		t.Errorf("client plaintext: got %d bytes, want %d", len(got), len(want))
	}
	if !bytes.Equal(r.plain[1].Bytes(), b.plain[1].Bytes()) {
		t.Errorf("server plaintext differs")
	}
	if len(r.gaps[0]) != 3 || r.info.Decryption != "partial" {
		t.Errorf("client gaps %v, Decryption %q; want 3 gaps, partial", r.gaps[0], r.info.Decryption)
	}
}

func TestTLS13ClientAlertInsteadOfFinished(t *testing.T) {
	b := newSynth(suiteByID(0x1301), 13)
	b.build(synthOpts{alertNoFin: true})
	for _, keys := range []*KeyLog{b.keys(t), nil} {
		r := decode(b.events, Options{Keys: keys}, splitWhole, 1)
		if !r.info.HandshakeFailed || r.info.HandshakeDone {
			t.Errorf("keys %v: HandshakeFailed %v, HandshakeDone %v", keys != nil, r.info.HandshakeFailed, r.info.HandshakeDone)
		}
		if keys != nil && (len(r.info.Alerts) != 1 || r.info.Alerts[0] != Alert{Dir: ClientToServer, Time: b.events[len(b.events)-1].t, Level: 2, Description: 51, Encrypted: true}) {
			t.Errorf("alerts %+v", r.info.Alerts)
		}
	}
}

func TestTLS13MissingHandshakeSecrets(t *testing.T) {
	// With only the application secrets, application data is still decrypted: the
	// handshake records fail, and the first record that opens under the application key
	// moves the direction to it.
	b := newSynth(suiteByID(0x1302), 14)
	b.build(synthOpts{appRecords: 6})
	r := decode(b.events, Options{Keys: b.keys(t, secClientHS, secServerHS)}, splitRandom, 2)
	if !bytes.Equal(r.plain[0].Bytes(), b.plain[0].Bytes()) || !bytes.Equal(r.plain[1].Bytes(), b.plain[1].Bytes()) {
		t.Errorf("plaintext: got %d+%d bytes, want %d+%d", r.plain[0].Len(), r.plain[1].Len(), b.plain[0].Len(), b.plain[1].Len())
	}
	if r.info.Decryption != "partial" || r.info.ALPN != "" {
		t.Errorf("Decryption %q, ALPN %q; want partial and unknown", r.info.Decryption, r.info.ALPN)
	}
}

func TestKeyLogHexRoundTrip(t *testing.T) {
	b := newSynth(suiteByID(0x1302), 1)
	k := b.keys(t)
	sec := k.lookup(b.random)
	if sec == nil || !bytes.Equal(sec[secServerApp], b.sec[secServerApp]) || hex.EncodeToString(sec[secClientHS]) != hex.EncodeToString(b.sec[secClientHS]) {
		t.Fatal("secrets differ after parsing")
	}
}
