package tlsdec

import (
	"testing"
	"time"
)

// appStream returns a TLS 1.3 AES-128-GCM connection's handshake and n full-size server
// application records after it.
func appStream(tb testing.TB, n int) (hs, app []event, keys *KeyLog) {
	b := newSynth(suiteByID(0x1301), 77)
	b.build(synthOpts{noClose: true})
	hs = b.events
	payload := make([]byte, maxPlaintext)
	for i := range payload {
		payload[i] = byte(i)
	}
	for i := 0; i < n; i++ {
		app = append(app, event{ServerToClient, b.w[1].seal(recAppData, payload, 0), base.Add(time.Second)})
	}
	return hs, app, b.keys(tb)
}

// BenchmarkDecrypt13AES128GCM decrypts about 10 MB of TLS 1.3 application data per
// operation, in 1460-byte chunks like TCP segments (so most records are reassembled in the
// buffer).
func BenchmarkDecrypt13AES128GCM(b *testing.B) {
	hs, app, keys := appStream(b, 640)
	var size int64
	for _, e := range app {
		size += int64(len(e.data))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	var got int
	for b.Loop() {
		c := NewConn(Options{Keys: keys, Plaintext: func(_ Dir, data []byte, _ time.Time) { got += len(data) }})
		for _, e := range hs {
			c.Feed(e.dir, e.data, e.t)
		}
		for _, e := range app {
			for d := e.data; len(d) > 0; {
				n := min(len(d), 1460)
				c.Feed(e.dir, d[:n], e.t)
				d = d[n:]
			}
		}
	}
	if got == 0 {
		b.Fatal("nothing decrypted")
	}
}

// TestSteadyStateAllocs checks that decrypting application records allocates nothing,
// whether a record arrives whole or in segments.
func TestSteadyStateAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	hs, app, keys := appStream(t, 400)
	var got int
	c := NewConn(Options{Keys: keys, Plaintext: func(_ Dir, data []byte, _ time.Time) { got += len(data) }})
	for _, e := range hs {
		c.Feed(e.dir, e.data, e.t)
	}
	next := 0
	for _, chunk := range []int{1 << 20, 1460} {
		allocs := testing.AllocsPerRun(50, func() {
			e := app[next]
			next++
			for d := e.data; len(d) > 0; {
				n := min(len(d), chunk)
				c.Feed(e.dir, d[:n], e.t)
				d = d[n:]
			}
		})
		if allocs != 0 {
			t.Errorf("chunks of %d: %v allocations per record, want 0", chunk, allocs)
		}
	}
	if want := next * maxPlaintext; got != want {
		t.Errorf("decrypted %d bytes, want %d", got, want)
	}
}
