package scan

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/internal/tlstest"
	"github.com/wsclosescan/wsclosescan/internal/wsframe"
	"github.com/wsclosescan/wsclosescan/internal/wstest"
	"github.com/wsclosescan/wsclosescan/layers"
	"github.com/wsclosescan/wsclosescan/report"
	"github.com/wsclosescan/wsclosescan/tlsdec"
)

// wssBench holds a capture of wss connections, the same WebSocket traffic in cleartext, and
// the key log, built once per process.
var wssBench struct {
	once              sync.Once
	wss, plain, keys  []byte
	conns, plainBytes int
}

// wssBenchCaptures runs conns TLS 1.3 sessions, each an upgrade, msgs text messages of 50 B
// to 2 KB each way, and a clean close, and writes them as one capture; plain is the same
// WebSocket bytes without TLS.
func wssBenchCaptures(b *testing.B) (wss, plain, keys []byte) {
	b.Helper()
	wssBench.once.Do(func() {
		const conns, msgs = 40, 400
		client, server, err := tlstest.Configs(tls.VersionTLS13)
		if err != nil {
			b.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		var wssPkts, plainPkts []pcapgen.Packet
		var keyLog bytes.Buffer
		for i := range conns {
			steps := []tlstest.Step{
				{Dir: c2s, Data: wsframe.Request("/chat", wstest.Key)},
				{Dir: s2c, Data: wsframe.Response101(wstest.Key)},
			}
			for range msgs {
				for _, d := range []uint8{0, 1} {
					dir := c2s
					if d == 1 {
						dir = s2c
					}
					msg := bytes.Repeat([]byte("x"), 50+rng.IntN(2000))
					steps = append(steps, tlstest.Step{Dir: dir, Data: wstest.Frame(dir, wsframe.OpText, msg)})
				}
			}
			steps = append(steps, tlstest.Step{Dir: c2s, Data: wstest.Frame(c2s, wsframe.OpClose, wsframe.Close(1000, ""))},
				tlstest.Step{Dir: s2c, Data: wstest.Frame(s2c, wsframe.OpClose, wsframe.Close(1000, ""))})
			s, err := tlstest.Run(client, server, steps, true)
			if err != nil {
				b.Fatal(err)
			}
			keyLog.Write(s.KeyLog)
			cl := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 40000)
			wc := wstest.NewConv(cl.String(), "10.2.0.1:443").SYN()
			for _, w := range s.Writes {
				wc.Send(w.Dir, w.Data)
			}
			wssPkts = append(wssPkts, wc.FIN(s2c).FIN(c2s).Packets...)
			pc := wstest.NewConv(cl.String(), "10.2.0.1:80").SYN()
			for _, st := range steps {
				pc.Send(st.Dir, st.Data)
				wssBench.plainBytes += len(st.Data)
			}
			plainPkts = append(plainPkts, pc.FIN(s2c).FIN(c2s).Packets...)
		}
		var err2 error
		if wssBench.wss, err2 = pcapgen.Capture(pcapgen.Options{LinkType: pcapgen.LinkEthernet}, wssPkts); err2 != nil {
			b.Fatal(err2)
		}
		if wssBench.plain, err2 = pcapgen.Capture(pcapgen.Options{LinkType: pcapgen.LinkEthernet}, plainPkts); err2 != nil {
			b.Fatal(err2)
		}
		wssBench.keys, wssBench.conns = keyLog.Bytes(), conns
	})
	return wssBench.wss, wssBench.plain, wssBench.keys
}

// BenchmarkWSS compares the pipeline on wss traffic (decrypted with its key log) with the
// same WebSocket traffic in cleartext: the TLS layer's cost. The target is within
// 2x of cleartext.
func BenchmarkWSS(b *testing.B) {
	wss, plain, keyText := wssBenchCaptures(b)
	for _, bc := range []struct {
		name string
		data []byte
		tls  bool
	}{{"cleartext", plain, false}, {"tls13", wss, true}} {
		b.Run(bc.name, func(b *testing.B) {
			opts := DefaultOptions()
			if bc.tls {
				keys := tlsdec.NewKeyLog()
				if _, err := keys.Add(bytes.NewReader(keyText)); err != nil {
					b.Fatal(err)
				}
				opts.Layers = layers.Options{Keys: keys, Sessions: tlsdec.NewSessions(0)}
			}
			b.SetBytes(int64(wssBench.plainBytes)) // the same WebSocket bytes in both
			b.ReportAllocs()
			for b.Loop() {
				clean := 0
				s := New(opts, func(r *report.Record) {
					if r.Verdict == report.VerdictClean {
						clean++
					}
				})
				if _, err := s.Read("bench", bytes.NewReader(bc.data)); err != nil {
					b.Fatal(err)
				}
				s.Flush()
				if clean != wssBench.conns {
					b.Fatal(fmt.Sprintf("%d clean records, want %d", clean, wssBench.conns))
				}
			}
		})
	}
}
