package scan

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/analyze"
	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/internal/wsframe"
	"github.com/wsclosescan/wsclosescan/internal/wstest"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
)

// plainConns are connections that never became WebSocket, of every kind a brief record
// stands for or must not: lone SYNs, a handshake and nothing more, resets, plain HTTP,
// a GET cut by the snapshot length (may have been an upgrade), and a WebSocket.
func plainConns(t *testing.T) []byte {
	var convs []*wstest.Conv
	add := func(c *wstest.Conv) { convs = append(convs, c) }
	conv := func(i int) *wstest.Conv {
		return wstest.NewConv(fmt.Sprintf("10.0.%d.%d:%d", i/200, 1+i%200, 40000+i), "10.0.9.9:80")
	}
	for i := range 20 { // lone SYNs, one retransmitted
		c := conv(i)
		c.Add(c.Conn.Segment(c2s, reassembly.FlagSYN, 1000, 0, nil))
		if i == 3 {
			c.Add(c.Conn.Segment(c2s, reassembly.FlagSYN, 1000, 0, nil))
		}
		add(c)
	}
	add(conv(20).SYN())                   // handshake only, open at the end
	add(conv(21).SYN().FIN(c2s).FIN(s2c)) // handshake and FINs
	add(conv(22).SYN().RST(s2c))          // reset at once
	c := conv(23)                         // SYN answered by RST
	c.Add(c.Conn.Segment(c2s, reassembly.FlagSYN, 1000, 0, nil))
	c.Add(c.Conn.Segment(s2c, reassembly.FlagRST|reassembly.FlagACK, 0, 1001, nil))
	add(c)
	add(conv(24).SYN().Send(c2s, []byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n")).
		Send(s2c, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")).FIN(c2s).FIN(s2c)) // plain HTTP
	add(conv(25).SYN().Send(c2s, []byte("hello")).FIN(c2s).FIN(s2c)) // not HTTP
	add(conv(26).SYN().Send(c2s, wsframe.Request("/chat", wstest.Key)).
		Send(s2c, wsframe.Response(403, "Forbidden", "Content-Length: 0")).FIN(s2c).FIN(c2s)) // rejected upgrade
	add(cleanConv("10.0.8.1:50000"))
	mid := conv(27) // a connection seen from its middle, no bytes
	mid.Conn.Time = mid.Conn.Time.Add(time.Second)
	mid.FIN(c2s).FIN(s2c)
	add(mid)
	return mkCapture(t, pcapgen.Options{}, wstest.Merge(convs...))
}

// cutGET is a connection whose GET the snapshot length cut before the Upgrade header.
func cutGET(t *testing.T) []byte {
	c := wstest.NewConv("10.0.0.1:50000", "10.0.0.2:80").SYN().
		Send(c2s, []byte("GET /chat HTTP/1.1\r\nHost: example.com\r\nUser-Agent: "+strings.Repeat("x", 300)+"\r\nUpgrade: websocket\r\n\r\n")).
		FIN(c2s).FIN(s2c)
	return mkCapture(t, pcapgen.Options{Snaplen: 200}, c.Packets)
}

// briefCaptures returns the captures the brief-record tests scan, by name: plain
// connections, a GET cut before its Upgrade header, the fuzz seeds and testdata/pcaps.
func briefCaptures(t *testing.T) map[string][]byte {
	caps := map[string][]byte{"plain": plainConns(t), "cut-get": cutGET(t)}
	for name, data := range fuzzSeeds(t) {
		caps["seed-"+name] = data
	}
	paths, _ := filepath.Glob(filepath.Join("..", "testdata", "pcaps", "*.pcap*"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		caps[filepath.Base(p)] = data
	}
	return caps
}

// TestBriefRecords runs the pipeline with and without analyze.Options.Brief: the records
// come in the same order, and a record that differs is cut to its brief fields, of a
// connection that a caller not listing plain connections would never list (not WebSocket,
// "websocket" not unknown, not TLS, no hint that it may have been an upgrade).
func TestBriefRecords(t *testing.T) {
	caps := briefCaptures(t)
	cut := 0
	for name, data := range caps {
		for _, order := range []Order{OrderStart, OrderEnd} {
			opts := DefaultOptions()
			opts.Order = order
			full := scanBytes(name, data, opts)
			opts.Analyze.Brief = true
			brief := scanBytes(name, data, opts)
			if len(full.recs) != len(brief.recs) {
				t.Fatalf("%s: %d records, %d with Brief", name, len(full.recs), len(brief.recs))
			}
			for i := range full.recs {
				f, b := &full.recs[i], &brief.recs[i]
				if reflect.DeepEqual(f, b) {
					continue
				}
				cut++
				if f.WebSocket || f.IsUnknown("websocket") || f.TLS != nil || f.H2 != nil ||
					len(f.Hints) > 0 && strings.HasPrefix(f.Hints[0], analyze.MaybeUpgradeHint) {
					t.Errorf("%s: record %d (%s) cut, but a caller not listing plain connections lists it", name, i, f.Client)
				}
				want := report.Record{File: f.File, Client: f.Client, Server: f.Server, ClientAddr: f.ClientAddr,
					ServerAddr: f.ServerAddr, Released: f.Released, Start: f.Start, End: f.End, Handshake: f.Handshake, Verdict: f.Verdict}
				if !reflect.DeepEqual(*b, want) {
					t.Errorf("%s: record %d: brief\n%+v\nwant\n%+v", name, i, *b, want)
				}
			}
		}
	}
	if cut < 40 {
		t.Errorf("only %d records were cut; the lone SYNs alone should be", cut)
	}
}

// TestSkipHalfOpen: with Options.SkipHalfOpen the records are those without it, in the
// same order, less some of the connections a caller not listing plain connections would
// not list (SYNs only: not WebSocket, nothing carried), which SkippedHalfOpen counts; the
// reassemblers release as many connections, for the same reasons.
func TestSkipHalfOpen(t *testing.T) {
	caps := briefCaptures(t)
	skipped := 0
	for name, data := range caps {
		for _, order := range []Order{OrderStart, OrderEnd} {
			for _, idle := range []time.Duration{0, 50 * time.Millisecond} {
				opts := DefaultOptions()
				opts.Order, opts.Analyze.Brief, opts.Reassembly.IdleTimeout = order, true, idle
				var rel [2]Released
				all := scanBytes(name, data, opts)
				opts.SkipHalfOpen = true
				var n int64
				var some result
				s := New(opts, func(r *report.Record) { some.recs = append(some.recs, *r) })
				some.info, some.err = s.Read(name, bytes.NewReader(data))
				s.Flush()
				n, rel[1] = s.SkippedHalfOpen(), s.Released()
				s = New(func() Options { o := opts; o.SkipHalfOpen = false; return o }(), func(*report.Record) {})
				_, _ = s.Read(name, bytes.NewReader(data))
				s.Flush()
				rel[0] = s.Released()
				if rel[0] != rel[1] {
					t.Errorf("%s %v idle %v: released %+v, with SkipHalfOpen %+v", name, order, idle, rel[0], rel[1])
				}
				j := 0
				for i := range all.recs {
					f := &all.recs[i]
					if j < len(some.recs) && reflect.DeepEqual(f, &some.recs[j]) {
						j++
						continue
					}
					if f.WebSocket || f.Verdict != report.VerdictNotWebSocket || f.Handshake != report.HandshakeNotSeen ||
						f.Bytes.Client != 0 || f.Bytes.Server != 0 {
						t.Errorf("%s %v idle %v: record %d (%s, %s) skipped", name, order, idle, i, f.Client, f.Verdict)
					}
				}
				if j != len(some.recs) || int64(len(all.recs)-len(some.recs)) != n {
					t.Fatalf("%s %v idle %v: %d records, %d with SkipHalfOpen (%d in order), %d skipped", name, order,
						idle, len(all.recs), len(some.recs), j, n)
				}
				skipped += int(n)
			}
		}
	}
	if skipped < 4*20 {
		t.Errorf("only %d connections were skipped; the lone SYNs alone should be", skipped)
	}
}
