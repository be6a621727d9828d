package analyze

import (
	"strings"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/wsframe"
	"github.com/wsclosescan/wsclosescan/layers"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
)

func control(dir reassembly.Dir, op byte, payload string) []byte {
	f := wsframe.Frame{Fin: true, Op: op, Payload: []byte(payload)}
	if dir == reassembly.ClientToServer {
		f.Masked, f.Key = true, [4]byte{9, 8, 7, 6}
	}
	return f.Bytes()
}

// keepaliveConn runs a connection through its handshake, then steps, each at an offset
// from the start, then a FIN from the server at end.
func keepaliveConn(t *testing.T, steps []step, end time.Duration) report.Record {
	t.Helper()
	return runConn(t, layers.Options{}, func(s reassembly.Stream, at func() reassembly.Stamp) {
		for i, st := range steps {
			s.Data(st.dir, st.b, reassembly.Stamp{Time: t0.Add(st.at), Frame: uint64(10 + i)})
		}
		s.Event(reassembly.Event{Kind: reassembly.EventFIN, Dir: reassembly.ServerToClient, Time: t0.Add(end), Frame: 99})
	})
}

type step struct {
	at  time.Duration
	dir reassembly.Dir
	b   []byte
}

const c2s, s2c = reassembly.ClientToServer, reassembly.ServerToClient

func TestKeepalive(t *testing.T) {
	sec := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	tests := []struct {
		name  string
		steps []step
		end   time.Duration
		check func(k report.Keepalive) string
		hints []string
		not   []string
	}{
		{"answered pings: intervals and RTT",
			[]step{
				{sec(1), s2c, control(s2c, wsframe.OpPing, "a")}, {sec(1.002), c2s, control(c2s, wsframe.OpPong, "a")},
				{sec(31), s2c, control(s2c, wsframe.OpPing, "b")}, {sec(31.010), c2s, control(c2s, wsframe.OpPong, "b")},
				{sec(61), s2c, control(s2c, wsframe.OpPing, "c")}, {sec(61.004), c2s, control(c2s, wsframe.OpPong, "c")},
			}, sec(62),
			func(k report.Keepalive) string {
				if k.Pings != (report.PerSide{Client: 0, Server: 3}) || k.Unanswered != (report.PerSide{}) {
					return "counts"
				}
				if k.IntervalS.Server == nil || *k.IntervalS.Server != 30 || k.IntervalS.Client != nil {
					return "interval"
				}
				if r := k.RTTMs; r == nil || !near(r.Min, 2) || !near(r.Median, 4) || !near(r.Max, 10) {
					return "rtt"
				}
				return ""
			}, nil, []string{"pong"}},
		{"unanswered pings",
			[]step{
				{sec(1), s2c, control(s2c, wsframe.OpPing, "a")}, {sec(1.002), c2s, control(c2s, wsframe.OpPong, "a")},
				{sec(31), s2c, control(s2c, wsframe.OpPing, "b")},
				{sec(61), s2c, control(s2c, wsframe.OpPing, "c")},
			}, sec(91),
			func(k report.Keepalive) string {
				if k.Unanswered != (report.PerSide{Server: 2}) {
					return "unanswered"
				}
				return ""
			}, []string{"the server sent 2 pings that the client never answered with a pong (the last 30.0 s before the end)"}, nil},
		{"a ping just before the end does not count for the hint",
			[]step{{sec(1), s2c, control(s2c, wsframe.OpPing, "a")}}, sec(1.5),
			func(k report.Keepalive) string {
				if k.Unanswered.Server != 1 {
					return "unanswered"
				}
				return ""
			}, nil, []string{"never answered with a pong"}},
		{"60 s of silence without pings",
			[]step{{sec(0.1), c2s, msg(c2s, "hi")}}, sec(60.3),
			nil, []string{"no frames for 60.2 s", "matches nginx's proxy_read_timeout (60 s by default) or an AWS ALB's idle timeout", "no pings kept it busy"}, nil},
		{"100 s of silence, pings too rare",
			[]step{{sec(0.1), c2s, control(c2s, wsframe.OpPing, "a")}, {sec(0.101), s2c, control(s2c, wsframe.OpPong, "a")},
				{sec(150.1), c2s, control(c2s, wsframe.OpPing, "b")}, {sec(150.101), s2c, control(s2c, wsframe.OpPong, "b")}},
			sec(251),
			nil, []string{"matches Cloudflare's idle limit (100 s)", "the client pinged every 150.0 s, less often than the limit"}, nil},
		{"a silence that matches no limit names none",
			[]step{{sec(0.1), c2s, msg(c2s, "hi")}}, sec(45),
			nil, []string{"looks like an idle timeout"}, []string{"matches"}},
		{"just outside the tolerance",
			[]step{{sec(0.1), c2s, msg(c2s, "hi")}}, sec(61.5),
			nil, []string{"looks like an idle timeout"}, []string{"matches"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := keepaliveConn(t, tt.steps, tt.end)
			if tt.check != nil {
				if what := tt.check(r.Keepalive); what != "" {
					t.Errorf("keepalive %s wrong: got %+v (rtt %+v)", what, r.Keepalive, r.Keepalive.RTTMs)
				}
			}
			all := strings.Join(r.Hints, "\n")
			for _, w := range tt.hints {
				if !strings.Contains(all, w) {
					t.Errorf("missing hint %q; got:\n%s", w, all)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(all, n) {
					t.Errorf("unexpected %q in hints:\n%s", n, all)
				}
			}
		})
	}
}

func near(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 }

func TestMatchIdleLimit(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{60 * time.Second, "nginx"}, {58900 * time.Millisecond, "nginx"}, {61200 * time.Millisecond, "nginx"},
		{58700 * time.Millisecond, ""}, {61300 * time.Millisecond, ""}, {100 * time.Second, "Cloudflare"},
		{0, ""}, {-60 * time.Second, ""},
	} {
		got := matchIdleLimit(tt.d)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("matchIdleLimit(%v): got %q, want one naming %q", tt.d, got, tt.want)
		}
	}
}
