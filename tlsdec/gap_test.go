package tlsdec

import (
	"bytes"
	"crypto/tls"
	mrand "math/rand/v2"
	"testing"
	"time"
)

// recordSpans returns the [start, end) offsets of the records in a direction's stream.
func recordSpans(events []event, dir Dir) [][2]int {
	var stream []byte
	for _, e := range events {
		if e.dir == dir {
			stream = append(stream, e.data...)
		}
	}
	var spans [][2]int
	for off := 0; off+5 <= len(stream); {
		end := off + 5 + (int(stream[off+3])<<8 | int(stream[off+4]))
		spans = append(spans, [2]int{off, end})
		off = end
	}
	return spans
}

// decodeCut feeds events with bytes [a, b) of dir's stream replaced by one Gap call, of
// length b-a or, if !known, 0.
func decodeCut(events []event, opts Options, dir Dir, a, b int, known bool, seed uint64) *result {
	var r result
	opts.Plaintext = func(d Dir, data []byte, t time.Time) { r.plain[d].Write(data) }
	opts.PlainGap = func(d Dir, n int64, t time.Time) { r.gaps[d] = append(r.gaps[d], n) }
	c := NewConn(opts)
	rng := mrand.New(mrand.NewPCG(seed, 9))
	off := 0
	for _, e := range events {
		if e.dir != dir {
			feedSplit(c, e, splitRandom, rng)
			continue
		}
		data := e.data
		for len(data) > 0 {
			switch {
			case off < a:
				n := min(len(data), a-off)
				feedSplit(c, event{dir, data[:n], e.t}, splitRandom, rng)
				off, data = off+n, data[n:]
			case off < b:
				if off == a {
					n := int64(0)
					if known {
						n = int64(b - a)
					}
					c.Gap(dir, n, e.t)
				}
				n := min(len(data), b-off)
				off, data = off+n, data[n:]
			default:
				feedSplit(c, event{dir, data, e.t}, splitRandom, rng)
				off, data = off+len(data), nil
			}
		}
	}
	c.Finish(base.Add(time.Hour))
	r.info = c.Info()
	return &r
}

// hole checks that got is want with one contiguous run of bytes missing, and returns its
// length.
func hole(t *testing.T, got, want []byte) int {
	t.Helper()
	p := commonPrefix(got, want)
	rest := len(got) - p
	if len(got) >= len(want) || !bytes.Equal(got[p:], want[len(want)-rest:]) {
		t.Fatalf("plaintext is not the original with one hole: got %d bytes, want fewer than %d, prefix %d", len(got), len(want), p)
	}
	return len(want) - len(got)
}

func TestGaps(t *testing.T) {
	rsaC, _ := testCerts(t)
	for _, suite := range []uint16{0, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA} {
		rec := &recording{}
		cl, sv := configs(t, rsaC, rec)
		name := "TLS 1.3"
		if suite != 0 {
			cl.MaxVersion, cl.CipherSuites, sv.CipherSuites = tls.VersionTLS12, []uint16{suite}, []uint16{suite}
			name = tls.CipherSuiteName(suite)
		}
		s := session{client: cl, server: sv, clientMsgs: messages(7, 3, 100), serverMsgs: messages(8, 60, 3000)}
		run(t, s, rec)
		keys := rec.keyLog(t)
		spans := recordSpans(rec.events, ServerToClient)
		k := len(spans) / 2
		want := bytes.Join(s.serverMsgs, nil)
		exact := suite != 0 && suite != tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA
		for _, tc := range []struct {
			name    string
			a, b    int
			known   bool
			records int  // records whose plaintext is lost
			exact   bool // the lost length is known: the record's header was seen
		}{
			{"one record, known length", spans[k][0], spans[k][1], true, 1, true},
			{"one record, unknown length", spans[k][0], spans[k][1], false, 1, false},
			{"inside one record", spans[k][0] + 7, spans[k][0] + 20, true, 1, true},
			{"across a boundary", spans[k][1] - 10, spans[k+1][0] + 12, true, 2, false},
			{"three records from mid-record, unknown", spans[k][0] + 3, spans[k+2][1] + 2, false, 4, false},
			{"ten records", spans[k][0], spans[k+10][0], true, 10, true},
		} {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				r := decodeCut(rec.events, Options{Keys: keys}, ServerToClient, tc.a, tc.b, tc.known, 3)
				if !bytes.Equal(r.plain[0].Bytes(), bytes.Join(s.clientMsgs, nil)) {
					t.Errorf("client plaintext damaged")
				}
				n := hole(t, r.plain[1].Bytes(), want)
				if len(r.gaps[1]) != 1 {
					t.Fatalf("PlainGap calls %v, want one", r.gaps[1])
				}
				if exact && tc.exact && (len(r.gaps[1]) != 1 || r.gaps[1][0] != int64(n)) {
					t.Errorf("PlainGap = %v, want [%d]", r.gaps[1], n)
				}
				if r.info.Decryption != "partial" {
					t.Errorf("Decryption = %q, want partial", r.info.Decryption)
				}
				// What is lost is no more than the records the gap touched.
				maxLost := 0
				for i := k - 1; i <= k+tc.records; i++ {
					maxLost += spans[i][1] - spans[i][0]
				}
				if n > maxLost {
					t.Errorf("lost %d plaintext bytes, more than the %d bytes of the records touched", n, maxLost)
				}
				if r.info.CloseNotify[1] == nil {
					t.Errorf("close_notify after the gap not seen")
				}
			})
		}
	}
}

func TestGapSynthetic13KeyUpdateLost(t *testing.T) {
	// The gap swallows the client's KeyUpdate: resynchronisation tries the next key
	// generation too.
	b := newSynth(suiteByID(0x1301), 21)
	b.build(synthOpts{appRecords: 10, keyUpdate: true})
	spans := recordSpans(b.events, ClientToServer)
	// Client records: CH(2 records), CCS, Finished, then per round one app record; the
	// KeyUpdate follows the 6th app record (i == 5).
	ku := 4 + 6
	r := decodeCut(b.events, Options{Keys: b.keys(t)}, ClientToServer, spans[ku-1][0], spans[ku][1], false, 1)
	n := hole(t, r.plain[0].Bytes(), b.plain[0].Bytes())
	if n == 0 || r.info.CloseNotify[0] == nil {
		t.Errorf("hole %d, CloseNotify %v", n, r.info.CloseNotify)
	}
	if !bytes.Equal(r.plain[1].Bytes(), b.plain[1].Bytes()) {
		t.Errorf("server plaintext damaged")
	}
}

func TestGapAtStart(t *testing.T) {
	// The capture starts with a gap: the ClientHello is missing, nothing can be decrypted,
	// but record framing is found again.
	b := newSynth(suiteByID(0x1301), 22)
	b.build(synthOpts{appRecords: 3})
	c := NewConn(Options{Keys: b.keys(t)})
	c.Gap(ClientToServer, 0, base)
	for _, e := range b.events[1:] { // without the ClientHello
		c.Feed(e.dir, e.data, e.t)
	}
	in := c.Info()
	if in.Decryption != "none" || in.Records[0] == 0 || in.Version != "TLS 1.3" {
		t.Errorf("Info %+v", summary(in))
	}
}

func TestGapSynthetic13ServerFinishedLost(t *testing.T) {
	b := newSynth(suiteByID(0x1303), 23)
	b.build(synthOpts{appRecords: 6})
	spans := recordSpans(b.events, ServerToClient) // SH, CCS, 2 flight records, Finished, app...
	t.Run("only the Finished", func(t *testing.T) {
		r := decodeCut(b.events, Options{Keys: b.keys(t)}, ServerToClient, spans[4][0], spans[4][1], true, 1)
		if !bytes.Equal(r.plain[1].Bytes(), b.plain[1].Bytes()) || len(r.gaps[1]) != 0 {
			t.Errorf("server plaintext %d bytes (want %d), gaps %v (want none)", r.plain[1].Len(), b.plain[1].Len(), r.gaps[1])
		}
	})
	t.Run("Finished and the first application record", func(t *testing.T) {
		r := decodeCut(b.events, Options{Keys: b.keys(t)}, ServerToClient, spans[3][0]+9, spans[5][1], true, 1)
		if n := hole(t, r.plain[1].Bytes(), b.plain[1].Bytes()); n == 0 || len(r.gaps[1]) != 1 {
			t.Errorf("hole %d, gaps %v; want one gap", n, r.gaps[1])
		}
		if r.info.ALPN != "http/1.1" {
			t.Errorf("ALPN %q: the EncryptedExtensions came before the gap", r.info.ALPN)
		}
	})
}
