package layers

import (
	"net/netip"
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/wsframe"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/wsparse"
)

const testKey = "dGhlIHNhbXBsZSBub25jZQ=="

// facts runs one connection through a Factory and calls check with its facts, during the
// judge's call (they are valid only then).
func facts(t *testing.T, opts Options, feed func(s reassembly.Stream, at func() reassembly.Stamp), check func(c *Conn)) {
	t.Helper()
	calls := 0
	f := New(opts, func(c *Conn) { calls++; check(c) })
	s := f.NewStream(reassembly.ConnInfo{Client: netip.MustParseAddrPort("10.0.0.1:5000"),
		Server: netip.MustParseAddrPort("10.0.0.2:80"), Start: t0, By: reassembly.ClientBySYN})
	frame := uint64(0)
	at := func() reassembly.Stamp {
		frame++
		return reassembly.Stamp{Time: t0.Add(ms(int(frame))), Frame: frame}
	}
	feed(s, at)
	s.End(reassembly.ConnStats{Reason: reassembly.EndClosed})
	if calls != 1 {
		t.Fatalf("judge called %d times, want 1", calls)
	}
}

func closeFrame(masked bool, code uint16) []byte {
	return wsframe.Frame{Fin: true, Op: wsframe.OpClose, Masked: masked, Payload: wsframe.Close(code, "")}.Bytes()
}

func text(masked bool, s string) []byte {
	return wsframe.Frame{Fin: true, Op: wsframe.OpText, Masked: masked, Key: [4]byte{1, 2, 3, 4}, Payload: []byte(s)}.Bytes()
}

// TestFacts: the judge gets the TCP ends with their frame numbers, the gaps, the
// milestones' frame numbers and the decoder's state, all by the assembler's direction.
func TestFacts(t *testing.T) {
	facts(t, Options{}, func(s reassembly.Stream, at func() reassembly.Stamp) {
		s.Data(reassembly.ClientToServer, wsframe.Request("/", testKey), at()) // 1
		s.Data(reassembly.ServerToClient, wsframe.Response101(testKey), at())  // 2
		s.Gap(reassembly.ClientToServer, 500, 40, reassembly.GapLost, at())    // 3
		s.Data(reassembly.ServerToClient, closeFrame(false, 1001), at())       // 4
		rst := at()                                                            // 5
		s.Event(reassembly.Event{Kind: reassembly.EventRST, Dir: reassembly.ClientToServer, Time: rst.Time, Frame: rst.Frame, WithACK: true})
	}, func(c *Conn) {
		if c.Released != reassembly.EndClosed || !c.Last().Equal(t0.Add(ms(5))) || c.LastFrame != 5 {
			t.Errorf("released %v, last %v frame %d", c.Released, c.Last(), c.LastFrame)
		}
		e := c.End(reassembly.ClientToServer)
		if e.RSTFrame != 5 || !e.RSTWithACK || !e.FIN.IsZero() {
			t.Errorf("client end %+v", e)
		}
		if tm, rst, fr := e.First(); !rst || fr != 5 || !tm.Equal(t0.Add(ms(5))) {
			t.Errorf("First() = %v, %v, %d", tm, rst, fr)
		}
		gaps, _ := c.Gaps()
		if c.Missing[reassembly.ClientToServer] != 40 || len(gaps) != 1 || gaps[0].Offset != 500 || c.LastGap(0).Length != 40 {
			t.Errorf("missing %v, gaps %+v", c.Missing, gaps)
		}
		if m := c.Frames; m.Request != 1 || m.Response != 2 || m.Closes[wsparse.Server] != 4 || m.Closes[wsparse.Client] != 0 {
			t.Errorf("milestones %+v", m)
		}
		if cl := c.WS().Close(wsparse.Server); cl == nil || cl.Code != 1001 {
			t.Errorf("server close %+v", cl)
		}
		if _, ok := c.TLS(); ok {
			t.Error("a cleartext connection has TLS facts")
		}
		if _, ok := c.H2(); ok || c.Stream() != nil || len(c.Streams()) != 0 {
			t.Error("an HTTP/1.1 connection has HTTP/2 facts")
		}
		if _, _, _, ok := c.Timeline(); ok {
			t.Error("a timeline without Options.Timeline")
		}
	})
}

// TestTimelineEntries: the entries are typed, in the order they came; consecutive messages
// of one side share an entry; the decoder's gap events and restated findings are left out;
// with a cap, the first half and the latest are kept.
func TestTimelineEntries(t *testing.T) {
	facts(t, Options{Timeline: true}, func(s reassembly.Stream, at func() reassembly.Stamp) {
		s.Data(reassembly.ClientToServer, wsframe.Request("/", testKey), at())
		s.Data(reassembly.ServerToClient, wsframe.Response101(testKey), at())
		for range 3 {
			s.Data(reassembly.ClientToServer, text(true, "abcd"), at())
		}
		s.Gap(reassembly.ServerToClient, 129, 7, reassembly.GapSnaplen, at())
		fin := at()
		s.Event(reassembly.Event{Kind: reassembly.EventFIN, Dir: reassembly.ServerToClient, Time: fin.Time, Frame: fin.Frame})
	}, func(c *Conn) {
		entries, head, dropped, ok := c.Timeline()
		if !ok || dropped != 0 || head != len(entries) {
			t.Fatalf("ok %v, head %d, dropped %d, %d entries", ok, head, dropped, len(entries))
		}
		type want struct {
			kind  EntryKind
			frame uint64
		}
		// the last: the server's bytes after the gap could not be decoded (the decoder's
		// gap event itself is left out)
		wants := []want{{EntryWS, 1}, {EntryWS, 2}, {EntryMessages, 3}, {EntryGap, 6}, {EntryTCP, 7}, {EntryWS, 7}}
		if len(entries) != len(wants) {
			t.Fatalf("got %d entries, want %d: %+v", len(entries), len(wants), entries)
		}
		for i, w := range wants {
			if e := entries[i]; e.Kind != w.kind || e.Frame != w.frame {
				t.Errorf("entry %d: kind %d frame %d, want kind %d frame %d", i, e.Kind, e.Frame, w.kind, w.frame)
			}
		}
		if m := entries[2]; m.Messages != 3 || m.Length != 12 || !m.LastMsg.Equal(t0.Add(ms(5))) || m.Side != wsparse.Client {
			t.Errorf("messages entry %+v", m)
		}
		if g := entries[3]; g.Dir != reassembly.ServerToClient || g.Offset != 129 || g.Length != 7 || g.Cause != reassembly.GapSnaplen {
			t.Errorf("gap entry %+v", g)
		}
		if f := entries[4]; f.TCP != reassembly.EventFIN || f.Dir != reassembly.ServerToClient {
			t.Errorf("FIN entry %+v", f)
		}
		if u := entries[5]; u.WSKind != wsparse.EventUndecodable || u.Side != wsparse.Server {
			t.Errorf("undecodable entry %+v", u)
		}
	})
	facts(t, Options{Timeline: true, MaxTimeline: 4}, func(s reassembly.Stream, at func() reassembly.Stamp) {
		s.Data(reassembly.ClientToServer, wsframe.Request("/", testKey), at())
		s.Data(reassembly.ServerToClient, wsframe.Response101(testKey), at())
		for range 10 { // alternating sides: every message is its own entry
			s.Data(reassembly.ClientToServer, text(true, "a"), at())
			s.Data(reassembly.ServerToClient, text(false, "b"), at())
		}
	}, func(c *Conn) {
		entries, head, dropped, _ := c.Timeline()
		if len(entries) != 4 || head != 2 || dropped != 18 || entries[0].Frame != 1 || entries[3].Frame != 22 {
			t.Errorf("got %d entries (head %d, dropped %d): %+v", len(entries), head, dropped, entries)
		}
	})
}

func TestRestatedFinding(t *testing.T) {
	if !RestatedFinding(wsparse.FindCaptureGap) || RestatedFinding(wsparse.FindingCode("")) {
		t.Error("RestatedFinding")
	}
}
