package analyze

import (
	"strings"
	"testing"

	"github.com/wsclosescan/wsclosescan/report"
)

func TestContradictions(t *testing.T) {
	code := func(c int) *int { return &c }
	closeOf := func(c int) *report.Close { return &report.Close{Code: code(c), Valid: true} }
	fin, client := "fin", report.SideClient
	ended := report.TCPEnd{First: &client, How: &fin}
	tests := []struct {
		name string
		r    report.Record
		want string // substring of the contradiction; "" for none
	}{
		{"consistent clean", report.Record{WebSocket: true, Verdict: report.VerdictClean, ClientClose: closeOf(1000), ServerClose: closeOf(1000),
			ClientObserved: code(1000), ServerObserved: code(1000), TCPEnd: ended}, ""},
		{"clean with a wrong observed code", report.Record{WebSocket: true, Verdict: report.VerdictClean, ClientClose: closeOf(1000), ServerClose: closeOf(1001),
			ClientObserved: code(1000), ServerObserved: code(1000), TCPEnd: ended}, "the client observed 1000, not 1001"},
		{"clean with an invalid close", report.Record{WebSocket: true, Verdict: report.VerdictClean, ClientClose: &report.Close{Code: code(1005)},
			ServerClose: closeOf(1002), ClientObserved: code(1002), ServerObserved: code(1005), TCPEnd: ended}, "clean without a valid client close"},
		{"handshake_failed with client frames", report.Record{WebSocket: true, Verdict: report.VerdictHandshakeFailed, Handshake: report.HandshakeRejected,
			Frames: report.PerSide{Client: 3}, ClientObserved: code(1006), ServerObserved: code(1006), TCPEnd: ended}, "client sent 3 frames"},
		{"hint against the observed code", report.Record{WebSocket: true, Verdict: report.VerdictHalfClosed, ClientClose: closeOf(1001), ServerClose: closeOf(1001),
			ClientObserved: code(1001), ServerObserved: code(1001), TCPEnd: ended,
			Hints: []string{"client closed TCP before the server's close arrived: its application never saw the server's code"}}, "never saw"},
		{"abnormal with a hidden close", report.Record{WebSocket: true, Verdict: report.VerdictAbnormal, Unknown: []string{"server_close"},
			ClientObserved: code(1006), ServerObserved: code(1006), TCPEnd: ended}, "possibly hidden"},
		{"unknown verdict not listed", report.Record{WebSocket: true, Verdict: report.VerdictUnknown, TCPEnd: ended,
			ClientObserved: code(1006), ServerObserved: code(1006)}, "verdict unknown"},
		{"ended without an observed code", report.Record{WebSocket: true, Verdict: report.VerdictAbnormal, TCPEnd: ended, ClientObserved: code(1006)}, "server observed nothing"},
		{"plain TCP with a close frame", report.Record{Verdict: report.VerdictNotWebSocket, ClientClose: closeOf(1000)}, "not WebSocket"},
		{"a claimed code that differs", report.Record{WebSocket: true, Verdict: report.VerdictHalfClosed, ClientClose: closeOf(1000), TCPEnd: ended,
			ClientObserved: code(1006), ServerObserved: code(1000),
			Hints: []string{"the client sent close 1000 but the server never answered with a close frame before TCP ended (FIN by client): the client reports 1005, the server 1000"}}, "reports 1005"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(Contradictions(&tt.r), "\n")
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want one containing %q", got, tt.want)
			}
		})
	}
}
