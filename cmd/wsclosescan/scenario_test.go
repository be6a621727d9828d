package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/internal/wsframe"
	"github.com/wsclosescan/wsclosescan/internal/wstest"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
)

const (
	c2s = reassembly.ClientToServer
	s2c = reassembly.ServerToClient
)

// writeCapture writes the packets of the conversations, in time order, to a pcap file.
func writeCapture(t *testing.T, convs ...*wstest.Conv) string {
	t.Helper()
	data, err := pcapgen.Capture(pcapgen.Options{LinkType: pcapgen.LinkEthernet}, wstest.Merge(convs...))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "synthetic.pcap")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// scanJSON runs the CLI with --format json and returns the document and exit status.
func scanJSON(t *testing.T, args ...string) (report.Document, int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"--format", "json"}, args...), strings.NewReader(""), &stdout, &stderr)
	var doc report.Document
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatalf("output is not a JSON document: %v\n%s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	return doc, code, stderr.String()
}

// recordView is the part of a record the scenario tests compare.
type recordView struct {
	Verdict, Handshake     string
	ClientSent, ServerSent string // close codes, "-" when no close frame, "none" for no code
	First                  string
	TCPEnd                 string // e.g. "fin server", "open"
	ClientSaw, ServerSaw   string
}

func view(r report.Record) recordView {
	sent := func(c *report.Close) string {
		if c == nil {
			return "-"
		}
		return report.CodeText(c.Code)
	}
	v := recordView{Verdict: string(r.Verdict), Handshake: r.Handshake, ClientSent: sent(r.ClientClose),
		ServerSent: sent(r.ServerClose), First: "-", TCPEnd: "open",
		ClientSaw: report.CodeText(r.ClientObserved), ServerSaw: report.CodeText(r.ServerObserved)}
	if r.FirstClose != nil {
		v.First = r.FirstClose.String()
	}
	if r.TCPEnd.How != nil {
		v.TCPEnd = *r.TCPEnd.How + " " + r.TCPEnd.First.String()
	}
	return v
}

func TestScenarios(t *testing.T) {
	tests := []struct {
		name     string
		conv     *wstest.Conv
		want     recordView
		hints    []string // substrings that must appear in the hints
		problems []string // substrings that must appear in the problems
	}{
		{
			name: "clean client-initiated close",
			conv: wstest.NewConv("10.0.0.1:50000", "10.0.0.2:80").Upgraded().Text(c2s, "hi").Text(s2c, "ho").
				Close(c2s, 1000, "bye").Close(s2c, 1000, "bye").FIN(s2c).FIN(c2s),
			want: recordView{"clean", "completed", "1000", "1000", "client", "fin server", "1000", "1000"},
		},
		{
			name: "server close 1011 then reset",
			conv: wstest.NewConv("10.0.0.1:50001", "10.0.0.2:80").Upgraded().Text(c2s, "hi").
				Close(s2c, 1011, "internal error").Wait(100 * time.Microsecond).RST(s2c),
			want:  recordView{"half_closed", "completed", "-", "1011", "server", "rst server", "1011", "1006"},
			hints: []string{"server sent close 1011 then reset the connection 0.2 ms later: the client reports 1006, not 1011, if the reset arrives before it reads the close frame"},
		},
		{
			name: "client closes TCP before the server's close",
			conv: wstest.NewConv("10.0.0.1:50002", "10.0.0.2:80").Upgraded().Close(c2s, 1001, "leaving").FIN(c2s).
				Close(s2c, 1001, "").RST(c2s),
			want:  recordView{"half_closed", "completed", "1001", "1001", "client", "fin client", "1006", "1001"},
			hints: []string{"client closed TCP before the server's close arrived: its application never saw the server's code"},
		},
		{
			name: "idle timeout",
			conv: wstest.NewConv("10.0.0.1:50003", "10.0.0.2:80").Upgraded().Text(c2s, "hi").Wait(60 * time.Second).
				FIN(s2c).FIN(c2s),
			want:  recordView{"abnormal", "completed", "-", "-", "-", "fin server", "1006", "1006"},
			hints: []string{"no frames for 60.0 s, then FIN from the server: looks like an idle timeout in the server or a proxy"},
		},
		{
			name: "server ignored the requested subprotocol",
			conv: wstest.NewConv("10.0.0.1:50004", "10.0.0.2:80").SYN().
				Send(c2s, wsframe.Request("/chat", wstest.Key, "Sec-WebSocket-Protocol: chat.v2")).
				Send(s2c, wsframe.Response101(wstest.Key)).FIN(c2s).FIN(s2c),
			want:  recordView{"handshake_failed", "rejected", "-", "-", "-", "fin client", "1006", "1006"},
			hints: []string{"the browser fails the connection because the server ignored the requested subprotocol"},
		},
		{
			name: "upgrade refused with 403",
			conv: wstest.NewConv("10.0.0.1:50005", "10.0.0.2:80").SYN().Send(c2s, wsframe.Request("/chat", wstest.Key)).
				Send(s2c, wsframe.Response(403, "Forbidden", "Content-Length: 0")).FIN(s2c).FIN(c2s),
			want:  recordView{"handshake_failed", "rejected", "-", "-", "-", "fin server", "1006", "1006"},
			hints: []string{"the server refused the upgrade (server answered 403 Forbidden)"},
		},
		{
			name: "wrong accept key",
			conv: wstest.NewConv("10.0.0.1:50006", "10.0.0.2:80").SYN().Send(c2s, wsframe.Request("/chat", wstest.Key)).
				Send(s2c, wsframe.Response101("c29tZSBvdGhlciBrZXkhIQ==")).FIN(c2s).FIN(s2c),
			want:  recordView{"handshake_failed", "rejected", "-", "-", "-", "fin client", "1006", "1006"},
			hints: []string{"Sec-WebSocket-Accept is not derived from its Sec-WebSocket-Key"},
		},
		{
			name: "upgrade request never answered",
			conv: wstest.NewConv("10.0.0.1:50007", "10.0.0.2:80").SYN().Send(c2s, wsframe.Request("/chat", wstest.Key)).
				Wait(5 * time.Second).FIN(c2s),
			want:  recordView{"handshake_failed", "incomplete", "-", "-", "-", "fin client", "1006", "1006"},
			hints: []string{"the upgrade request got no response before FIN from the client"},
		},
		{
			name: "unanswered client close",
			conv: wstest.NewConv("10.0.0.1:50008", "10.0.0.2:80").Upgraded().Close(c2s, 1000, "").
				Wait(time.Second).FIN(s2c).FIN(c2s),
			want:  recordView{"half_closed", "completed", "1000", "-", "client", "fin server", "1006", "1000"},
			hints: []string{"the client sent close 1000 but the server never answered with a close frame before TCP ended (FIN by server)"},
		},
		{
			name:  "open at the end of the capture",
			conv:  wstest.NewConv("10.0.0.1:50009", "10.0.0.2:80").Upgraded().Text(c2s, "hi").Close(s2c, 1001, ""),
			want:  recordView{"open_at_end", "completed", "-", "1001", "server", "open", "none", "none"},
			hints: []string{"capture ended while the connection was still open"},
		},
		{
			name: "empty close frames",
			conv: wstest.NewConv("10.0.0.1:50010", "10.0.0.2:80").Upgraded().Frame(c2s, wsframe.OpClose, nil).
				Frame(s2c, wsframe.OpClose, nil).FIN(s2c).FIN(c2s),
			want: recordView{"clean", "completed", "none", "none", "client", "fin server", "1005", "1005"},
		},
		{
			name: "1006 on the wire and an unmasked client frame",
			conv: wstest.NewConv("10.0.0.1:50011", "10.0.0.2:80").Upgraded().
				Send(c2s, wsframe.Frame{Fin: true, Op: wsframe.OpText, Payload: []byte("plain")}.Bytes()).
				Close(s2c, 1006, "").FIN(s2c).FIN(c2s),
			want:     recordView{"half_closed", "completed", "-", "1006", "server", "fin server", "1006", "1006"},
			problems: []string{"client text frame (its WebSocket frame #1) is not masked", "1006"},
		},
		{
			name: "oversized close frame",
			conv: wstest.NewConv("10.0.0.1:50012", "10.0.0.2:80").Upgraded().
				Close(s2c, 1000, strings.Repeat("C", 128)).FIN(c2s).FIN(s2c),
			want:     recordView{"half_closed", "completed", "-", "1000", "server", "fin client", "1000", "1006"},
			hints:    []string{"the server's close frame is invalid"},
			problems: []string{"125"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, code, stderr := scanJSON(t, writeCapture(t, tt.conv))
			if code != 0 || stderr != "" {
				t.Errorf("exit %d, stderr %q; want 0 and nothing", code, stderr)
			}
			if len(doc.Connections) != 1 {
				t.Fatalf("got %d connections, want 1", len(doc.Connections))
			}
			r := doc.Connections[0]
			if got := view(r); got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			checkContains(t, "hints", r.Hints, tt.hints)
			checkContains(t, "problems", r.Problems, tt.problems)
		})
	}
}

func checkContains(t *testing.T, what string, got, want []string) {
	t.Helper()
	all := strings.Join(got, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("%s lack %q; got:\n%s", what, w, all)
		}
	}
}
