package analyze

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/wsframe"
	"github.com/wsclosescan/wsclosescan/layers"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
)

const testKey = "dGhlIHNhbXBsZSBub25jZQ=="

// newStream returns a connection through the layers, whose records the Analyzer appends
// to *got.
func newStream(opts layers.Options, got *[]report.Record, info reassembly.ConnInfo) reassembly.Stream {
	a := New(Options{}, func(r *report.Record) { *got = append(*got, *r) })
	return layers.New(opts, a.Judge).NewStream(info)
}

// runConn feeds one connection through the layers and an Analyzer and returns its record.
func runConn(t *testing.T, opts layers.Options, feed func(s reassembly.Stream, at func() reassembly.Stamp)) report.Record {
	t.Helper()
	var got []report.Record
	s := newStream(opts, &got, reassembly.ConnInfo{Client: netip.MustParseAddrPort("10.0.0.1:5000"),
		Server: netip.MustParseAddrPort("10.0.0.2:80"), Start: t0})
	now, frame := t0, uint64(0)
	at := func() reassembly.Stamp {
		now, frame = now.Add(time.Millisecond), frame+1
		return reassembly.Stamp{Time: now, Frame: frame}
	}
	s.Data(reassembly.ClientToServer, wsframe.Request("/", testKey), at())
	s.Data(reassembly.ServerToClient, wsframe.Response101(testKey), at())
	feed(s, at)
	s.End(reassembly.ConnStats{})
	if len(got) != 1 {
		t.Fatalf("got %d records, want 1", len(got))
	}
	return got[0]
}

func msg(dir reassembly.Dir, text string) []byte {
	f := wsframe.Frame{Fin: true, Op: wsframe.OpText, Payload: []byte(text)}
	if dir == reassembly.ClientToServer {
		f.Masked, f.Key = true, [4]byte{1, 2, 3, 4}
	}
	return f.Bytes()
}

func closeFrame(dir reassembly.Dir, code uint16) []byte {
	f := wsframe.Frame{Fin: true, Op: wsframe.OpClose, Payload: wsframe.Close(code, "")}
	if dir == reassembly.ClientToServer {
		f.Masked = true
	}
	return f.Bytes()
}

func whats(r report.Record) []string {
	var out []string
	for _, e := range r.Timeline {
		out = append(out, e.From.String()+": "+e.What)
	}
	return out
}

func TestTimelineMergesConsecutiveMessages(t *testing.T) {
	r := runConn(t, layers.Options{Timeline: true}, func(s reassembly.Stream, at func() reassembly.Stamp) {
		for range 5 {
			s.Data(reassembly.ClientToServer, msg(reassembly.ClientToServer, "abcd"), at())
		}
		s.Data(reassembly.ServerToClient, msg(reassembly.ServerToClient, "ok"), at())
	})
	got := strings.Join(whats(r), "\n")
	want := strings.Join([]string{
		"client: GET /",
		"server: HTTP 101 Switching Protocols",
		"client: 5 data messages, 20 bytes, the last at 0.007000 s",
		"server: text message, 2 bytes",
	}, "\n")
	if got != want {
		t.Errorf("timeline:\n%s\nwant\n%s", got, want)
	}
}

func TestTimelineKeepsTheEnd(t *testing.T) {
	r := runConn(t, layers.Options{Timeline: true, MaxTimeline: 10}, func(s reassembly.Stream, at func() reassembly.Stamp) {
		for range 100 { // alternating sides: every message is its own entry
			s.Data(reassembly.ClientToServer, msg(reassembly.ClientToServer, "a"), at())
			s.Data(reassembly.ServerToClient, msg(reassembly.ServerToClient, "b"), at())
		}
		s.Data(reassembly.ClientToServer, closeFrame(reassembly.ClientToServer, 1000), at())
		s.Data(reassembly.ServerToClient, closeFrame(reassembly.ServerToClient, 1000), at())
		fin := at()
		s.Event(reassembly.Event{Kind: reassembly.EventFIN, Dir: reassembly.ServerToClient, Time: fin.Time, Frame: fin.Frame})
	})
	got := whats(r)
	if len(got) != 11 {
		t.Fatalf("got %d entries, want 10 plus the marker:\n%s", len(got), strings.Join(got, "\n"))
	}
	if got[0] != "client: GET /" || got[5] != ": 195 earlier events not shown" {
		t.Errorf("head or marker wrong:\n%s", strings.Join(got, "\n"))
	}
	tail := strings.Join(got[len(got)-3:], "\n")
	if tail != "client: close 1000\nserver: close 1000\nserver: FIN" {
		t.Errorf("the end of the connection was lost:\n%s", strings.Join(got, "\n"))
	}
}
