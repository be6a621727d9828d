package match

import (
	"fmt"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/report"
)

// recordsFrom turns fuzz bytes into records in start order: 4 bytes each, for the client
// and server address (a few of each, so that candidates collide; the client port is the
// record's index), the start step, the
// handshake's length and a key from a small set ("" included), an optional
// X-Forwarded-For.
func recordsFrom(data []byte) []*report.Record {
	var recs []*report.Record
	at := time.Duration(0)
	for i := 0; i+4 <= len(data) && len(recs) < 200; i += 4 {
		b := data[i : i+4]
		at += time.Duration(b[2]&0x3f) * 100 * time.Microsecond
		client := fmt.Sprintf("10.0.0.%d:%d", b[0]&3, 1000+len(recs)) // one connection per record
		server := fmt.Sprintf("10.0.0.%d:%d", b[1]&3, 80+int(b[1]>>6))
		key := ""
		if b[3]&7 != 0 {
			key = fmt.Sprint("k", b[3]&7)
		}
		xff := ""
		if b[3]&8 != 0 {
			xff = fmt.Sprintf("10.0.0.%d", b[3]>>4&3)
		}
		r := rec(client, server, at, at+time.Millisecond+time.Duration(b[2]>>6)*time.Millisecond, key, xff)
		if b[3]&0x80 != 0 {
			r.ResponseTime = nil
		}
		recs = append(recs, r)
	}
	return recs
}

// FuzzLegs: whatever the records, every one comes out once and in order, pairs are
// mutual (each names the other, one client leg and one backend leg), and a pause or the
// end releases everything.
func FuzzLegs(f *testing.F) {
	f.Add([]byte{0, 1, 10, 1, 6, 2, 5, 1})
	f.Add([]byte{0, 1, 10, 0x19, 6, 2, 5, 0x02, 4, 1, 1, 0x0a, 8, 2, 3, 0})
	f.Add([]byte("the quick brown fox jumps over the lazy dog, twice over"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs := recordsFrom(data)
		byEnd := len(data) > 0 && data[0]&2 != 0
		if byEnd {
			// In end order a later-starting record (a backend leg) may come first: swap
			// neighbours as the data says, then release them in the order they come.
			for i := 0; i+1 < len(recs); i += 2 {
				if data[(4*i)%len(data)]&0x40 != 0 {
					recs[i], recs[i+1] = recs[i+1], recs[i]
				}
			}
			rel := t0
			for i, r := range recs {
				rel = rel.Add(time.Duration(data[i%len(data)]&0x3f) * 50 * time.Millisecond)
				r.Released = rel
			}
		}
		var out []*report.Record
		m := NewLegs(Options{MaxHeld: 8, ByEnd: byEnd}, func(r *report.Record) { out = append(out, r) })
		for i, r := range recs {
			m.Add(r)
			if len(data) > 0 && data[0]&1 == 1 && i == len(recs)/2 {
				m.Pause()
			}
		}
		m.Flush()
		if len(out) != len(recs) {
			t.Fatalf("%d records out of %d", len(out), len(recs))
		}
		byAddr := map[string]*report.Record{}
		for i, r := range out {
			if r != recs[i] {
				t.Fatalf("record %d out of order", i)
			}
			byAddr[r.Client+" "+r.Server] = r
		}
		for _, r := range out {
			p := r.Proxy
			if p == nil {
				continue
			}
			o := byAddr[p.Other.Client+" "+p.Other.Server]
			if o == nil || o.Proxy == nil || o.Proxy.Other.Client != r.Client || o.Proxy.Other.Server != r.Server ||
				o.Proxy.Leg == p.Leg || o.Proxy.MatchedBy != p.MatchedBy {
				t.Fatalf("%s -> %s names %s -> %s, which does not name it back", r.Client, r.Server, p.Other.Client, p.Other.Server)
			}
		}
	})
}

// FuzzPairer: every record of either capture comes out exactly once, in a match or alone.
func FuzzPairer(f *testing.F) {
	f.Add([]byte{0, 1, 10, 1, 6, 2, 5, 1}, []byte{0, 1, 10, 1})
	f.Add([]byte("client side records"), []byte("server side"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		cs, ss := recordsFrom(a), recordsFrom(b)
		seen := map[*report.Record]int{}
		p := NewPairer(PairOptions{MaxHeld: 4}, func(m Match) {
			if m.Client == nil && m.Server == nil {
				t.Fatal("an empty match")
			}
			if (m.Client == nil || m.Server == nil) != (m.MatchedBy == "") {
				t.Fatalf("matched_by %q with client %v, server %v", m.MatchedBy, m.Client != nil, m.Server != nil)
			}
			for _, r := range []*report.Record{m.Client, m.Server} {
				if r != nil {
					seen[r]++
				}
			}
		})
		i, j := 0, 0
		for i < len(cs) || j < len(ss) {
			if j >= len(ss) || i < len(cs) && !ss[j].Start.Before(cs[i].Start.Time) {
				p.Add(ClientSide, cs[i])
				i++
			} else {
				p.Add(ServerSide, ss[j])
				j++
			}
		}
		p.Flush()
		for _, r := range append(cs, ss...) {
			if seen[r] != 1 {
				t.Fatalf("%s -> %s came out %d times", r.Client, r.Server, seen[r])
			}
		}
	})
}
