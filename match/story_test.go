package match

import (
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/report"
)

func closeAt(code int, at time.Duration) *report.Close {
	return &report.Close{Code: &code, Time: report.Time{Time: t0.Add(at)}, Valid: true}
}

func endAt(side report.Side, how string, at time.Duration) report.TCPEnd {
	return report.TCPEnd{First: &side, How: &how, Time: &report.Time{Time: t0.Add(at)}}
}

func TestStory(t *testing.T) {
	ms := time.Millisecond
	i1006 := 1006
	tests := []struct {
		name string
		set  func(c, b *report.Record)
		want string
	}{
		{"backend close passed on", func(c, b *report.Record) {
			b.ServerClose, c.ServerClose = closeAt(1000, 100*ms), closeAt(1000, 100*ms+200*time.Microsecond)
		}, "the backend sent close 1000; the proxy passed it on to the client 0.2 ms later"},
		{"backend close changed by the proxy", func(c, b *report.Record) {
			b.ServerClose, c.ServerClose = closeAt(1000, 100*ms), closeAt(1001, 102*ms)
		}, "the backend sent close 1000; the proxy sent close 1001 to the client 2.0 ms later"},
		{"backend close dropped by the proxy", func(c, b *report.Record) {
			b.ServerClose, c.TCPEnd, c.ClientObserved = closeAt(1000, 100*ms), endAt(report.SideServer, "fin", 101*ms), &i1006
		}, "the backend sent close 1000; the proxy then closed the client leg without a close frame (FIN) 1.0 ms later: the client saw 1006"},
		{"client close passed on", func(c, b *report.Record) {
			c.ClientClose, b.ClientClose = closeAt(1001, 50*ms), closeAt(1001, 50*ms+50*time.Microsecond)
		}, "the client sent close 1001; the proxy passed it on to the backend 0.05 ms later"},
		{"idle timeout of the proxy", func(c, b *report.Record) {
			c.LastActivity, b.LastActivity = &report.Time{Time: t0.Add(5 * ms)}, &report.Time{Time: t0.Add(5 * ms)}
			c.TCPEnd = endAt(report.SideServer, "fin", 5*ms+60*time.Second)
			b.TCPEnd = endAt(report.SideClient, "fin", 5*ms+60*time.Second+140*time.Microsecond)
		}, "the proxy closed both legs 0.14 ms apart after 60.0 s without frames: its idle timeout (nginx proxy_read_timeout defaults to 60 s)"},
		{"short idle timeout of the proxy", func(c, b *report.Record) {
			c.LastActivity, b.LastActivity = &report.Time{Time: t0.Add(5 * ms)}, &report.Time{Time: t0.Add(5 * ms)}
			c.TCPEnd = endAt(report.SideServer, "fin", 5*ms+2*time.Second)
			b.TCPEnd = endAt(report.SideClient, "fin", 5*ms+2*time.Second+100*time.Microsecond)
		}, "the proxy closed both legs 0.1 ms apart after 2.0 s without frames: its idle timeout (nginx: proxy_read_timeout, 60 s by default)"},
		{"backend reset", func(c, b *report.Record) {
			b.TCPEnd = endAt(report.SideServer, "rst", 300*ms)
			c.TCPEnd, c.ClientObserved = endAt(report.SideServer, "fin", 300*ms+400*time.Microsecond), &i1006
		}, "the backend reset its leg without a close frame; the proxy then closed the client leg without a close frame (FIN) 0.4 ms later: the client saw 1006"},
		{"client went away", func(c, b *report.Record) {
			c.TCPEnd = endAt(report.SideClient, "rst", 300*ms)
		}, "the client reset its leg without a close frame; the backend leg was still open at the end of the capture"},
		{"both open", func(c, b *report.Record) {}, "both legs were still open at the end of the capture"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rec("10.0.0.1:50000", "10.0.0.2:80", 0, 5*ms, "k", "")
			b := rec("10.0.0.2:40000", "10.0.0.3:9000", 2*ms, 4*ms, "k", "")
			tt.set(c, b)
			if got := Story(c, b, time.Second); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
