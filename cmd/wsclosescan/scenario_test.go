package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/internal/wsframe"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
)

const (
	c2s = reassembly.ClientToServer
	s2c = reassembly.ServerToClient
	key = "dGhlIHNhbXBsZSBub25jZQ=="
)

// wsConv builds the packets of one synthetic WebSocket connection.
type wsConv struct {
	c    *pcapgen.Conn
	pkts []pcapgen.Packet
}

func newConv(client, server string) *wsConv {
	c := pcapgen.NewConn(netip.MustParseAddrPort(client), netip.MustParseAddrPort(server))
	c.Step = 100 * time.Microsecond
	return &wsConv{c: c}
}

// upgraded opens TCP and completes a plain upgrade.
func (w *wsConv) upgraded() *wsConv {
	return w.syn().send(c2s, wsframe.Request("/chat", key)).send(s2c, wsframe.Response101(key))
}

func (w *wsConv) syn() *wsConv { return w.add(w.c.Handshake()) }

func (w *wsConv) add(p []pcapgen.Packet) *wsConv {
	w.pkts = append(w.pkts, p...)
	return w
}

func (w *wsConv) send(dir reassembly.Dir, b []byte) *wsConv { return w.add(w.c.Send(dir, b)) }

// frame sends one frame, masked when the client sends it.
func (w *wsConv) frame(dir reassembly.Dir, op byte, payload []byte) *wsConv {
	f := wsframe.Frame{Fin: true, Op: op, Payload: payload}
	if dir == c2s {
		f.Masked, f.Key = true, [4]byte{0x11, 0x22, 0x33, 0x44}
	}
	return w.send(dir, f.Bytes())
}

func (w *wsConv) text(dir reassembly.Dir, s string) *wsConv {
	return w.frame(dir, wsframe.OpText, []byte(s))
}

func (w *wsConv) close(dir reassembly.Dir, code uint16, reason string) *wsConv {
	return w.frame(dir, wsframe.OpClose, wsframe.Close(code, reason))
}

func (w *wsConv) fin(dir reassembly.Dir) *wsConv { return w.add(w.c.Close(dir)) }
func (w *wsConv) rst(dir reassembly.Dir) *wsConv { return w.add(w.c.RSTACK(dir)) }

// wait advances the clock.
func (w *wsConv) wait(d time.Duration) *wsConv {
	w.c.Time = w.c.Time.Add(d)
	return w
}

// writeCapture writes the packets of the conversations, in time order, to a pcap file.
func writeCapture(t *testing.T, convs ...*wsConv) string {
	t.Helper()
	var all []pcapgen.Packet
	for _, c := range convs {
		all = append(all, c.pkts...)
	}
	data, err := pcapgen.Capture(pcapgen.Options{LinkType: pcapgen.LinkEthernet}, sortByTime(all))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "synthetic.pcap")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func sortByTime(p []pcapgen.Packet) []pcapgen.Packet {
	out := append([]pcapgen.Packet(nil), p...)
	for i := 1; i < len(out); i++ { // insertion sort keeps equal times in order
		for j := i; j > 0 && out[j].Time.Before(out[j-1].Time); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
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
	v := recordView{Verdict: r.Verdict, Handshake: r.Handshake, ClientSent: sent(r.ClientClose),
		ServerSent: sent(r.ServerClose), First: "-", TCPEnd: "open",
		ClientSaw: report.CodeText(r.ClientObserved), ServerSaw: report.CodeText(r.ServerObserved)}
	if r.FirstClose != nil {
		v.First = *r.FirstClose
	}
	if r.TCPEnd.How != nil {
		v.TCPEnd = *r.TCPEnd.How + " " + *r.TCPEnd.First
	}
	return v
}

func TestScenarios(t *testing.T) {
	tests := []struct {
		name     string
		conv     *wsConv
		want     recordView
		hints    []string // substrings that must appear in the hints
		problems []string // substrings that must appear in the problems
	}{
		{
			name: "clean client-initiated close",
			conv: newConv("10.0.0.1:50000", "10.0.0.2:80").upgraded().text(c2s, "hi").text(s2c, "ho").
				close(c2s, 1000, "bye").close(s2c, 1000, "bye").fin(s2c).fin(c2s),
			want: recordView{"clean", "completed", "1000", "1000", "client", "fin server", "1000", "1000"},
		},
		{
			name: "server close 1011 then reset",
			conv: newConv("10.0.0.1:50001", "10.0.0.2:80").upgraded().text(c2s, "hi").
				close(s2c, 1011, "internal error").wait(100 * time.Microsecond).rst(s2c),
			want:  recordView{"half_closed", "completed", "-", "1011", "server", "rst server", "1011", "1006"},
			hints: []string{"server sent close 1011 then reset the connection 0.2 ms later: the client reports 1006, not 1011, if the reset arrives before it reads the close frame"},
		},
		{
			name: "client closes TCP before the server's close",
			conv: newConv("10.0.0.1:50002", "10.0.0.2:80").upgraded().close(c2s, 1001, "leaving").fin(c2s).
				close(s2c, 1001, "").rst(c2s),
			want:  recordView{"clean", "completed", "1001", "1001", "client", "fin client", "1001", "1001"},
			hints: []string{"client closed TCP before the server's close arrived: its application never saw the server's code"},
		},
		{
			name: "idle timeout",
			conv: newConv("10.0.0.1:50003", "10.0.0.2:80").upgraded().text(c2s, "hi").wait(60 * time.Second).
				fin(s2c).fin(c2s),
			want:  recordView{"abnormal", "completed", "-", "-", "-", "fin server", "1006", "1006"},
			hints: []string{"no frames for 60.0 s, then FIN from the server: looks like an idle timeout in the server or a proxy"},
		},
		{
			name: "server ignored the requested subprotocol",
			conv: newConv("10.0.0.1:50004", "10.0.0.2:80").syn().
				send(c2s, wsframe.Request("/chat", key, "Sec-WebSocket-Protocol: chat.v2")).
				send(s2c, wsframe.Response101(key)).fin(c2s).fin(s2c),
			want:  recordView{"handshake_failed", "rejected", "-", "-", "-", "fin client", "1006", "1006"},
			hints: []string{"the browser fails the connection because the server ignored the requested subprotocol"},
		},
		{
			name: "upgrade refused with 403",
			conv: newConv("10.0.0.1:50005", "10.0.0.2:80").syn().send(c2s, wsframe.Request("/chat", key)).
				send(s2c, wsframe.Response(403, "Forbidden", "Content-Length: 0")).fin(s2c).fin(c2s),
			want:  recordView{"handshake_failed", "rejected", "-", "-", "-", "fin server", "1006", "1006"},
			hints: []string{"the server refused the upgrade (server answered 403 Forbidden)"},
		},
		{
			name: "wrong accept key",
			conv: newConv("10.0.0.1:50006", "10.0.0.2:80").syn().send(c2s, wsframe.Request("/chat", key)).
				send(s2c, wsframe.Response101("c29tZSBvdGhlciBrZXkhIQ==")).fin(c2s).fin(s2c),
			want:  recordView{"handshake_failed", "rejected", "-", "-", "-", "fin client", "1006", "1006"},
			hints: []string{"Sec-WebSocket-Accept is not derived from its Sec-WebSocket-Key"},
		},
		{
			name: "upgrade request never answered",
			conv: newConv("10.0.0.1:50007", "10.0.0.2:80").syn().send(c2s, wsframe.Request("/chat", key)).
				wait(5 * time.Second).fin(c2s),
			want:  recordView{"handshake_failed", "incomplete", "-", "-", "-", "fin client", "1006", "1006"},
			hints: []string{"the upgrade request got no response before FIN from the client"},
		},
		{
			name: "unanswered client close",
			conv: newConv("10.0.0.1:50008", "10.0.0.2:80").upgraded().close(c2s, 1000, "").
				wait(time.Second).fin(s2c).fin(c2s),
			want:  recordView{"half_closed", "completed", "1000", "-", "client", "fin server", "1006", "1000"},
			hints: []string{"the client sent close 1000 but the server never answered with a close frame before TCP ended (FIN by server)"},
		},
		{
			name:  "open at the end of the capture",
			conv:  newConv("10.0.0.1:50009", "10.0.0.2:80").upgraded().text(c2s, "hi").close(s2c, 1001, ""),
			want:  recordView{"open_at_end", "completed", "-", "1001", "server", "open", "none", "none"},
			hints: []string{"capture ended while the connection was still open"},
		},
		{
			name: "empty close frames",
			conv: newConv("10.0.0.1:50010", "10.0.0.2:80").upgraded().frame(c2s, wsframe.OpClose, nil).
				frame(s2c, wsframe.OpClose, nil).fin(s2c).fin(c2s),
			want: recordView{"clean", "completed", "none", "none", "client", "fin server", "1005", "1005"},
		},
		{
			name: "1006 on the wire and an unmasked client frame",
			conv: newConv("10.0.0.1:50011", "10.0.0.2:80").upgraded().
				send(c2s, wsframe.Frame{Fin: true, Op: wsframe.OpText, Payload: []byte("plain")}.Bytes()).
				close(s2c, 1006, "").fin(s2c).fin(c2s),
			want:     recordView{"half_closed", "completed", "-", "1006", "server", "fin server", "1006", "1006"},
			problems: []string{"client: ", "1006"},
		},
		{
			name: "oversized close frame",
			conv: newConv("10.0.0.1:50012", "10.0.0.2:80").upgraded().
				close(s2c, 1000, strings.Repeat("C", 128)).fin(c2s).fin(s2c),
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
