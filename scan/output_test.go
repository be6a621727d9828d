package scan

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"github.com/wsclosescan/wsclosescan/internal/wstest"
	"strings"
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/internal/wsframe"
	"github.com/wsclosescan/wsclosescan/report"
)

// hostileReasons are close reasons that try to break terminals and line formats.
var hostileReasons = []struct {
	name, reason string
	// inTable is how the table and CSV show the reason (Printable's escapes).
	inTable string
}{
	{"OSC title and clear screen", "\x1b]0;pwned\x07\x1b[2J", `\x1b]0;pwned\a\x1b[2J`},
	{"newline and carriage return", "a\r\nb", `a\r\nb`},
	{"comma and quotes", `x,"y"`, `x,"y"`},
	{"invalid UTF-8", "ok\xff\xfe", `ok\xff\xfe`},
	{"C1 CSI and line separator", "\u009b31m\u2028", `\u009b31m\u2028`},
	{"backslash escape lookalike", `\x1b`, `\\x1b`},
}

const hostileFile = "evil\x1b[31m\n,\"name\xff.pcap"

func TestHostileTextIsEscaped(t *testing.T) {
	var convs []*wstest.Conv
	for i, h := range hostileReasons {
		convs = append(convs, wstest.NewConv(fmt.Sprintf("10.0.0.1:%d", 50000+i), "10.0.0.2:80").Upgraded().
			Close(s2c, 4000, h.reason).Close(c2s, 4000, "").FIN(s2c).FIN(c2s))
	}
	o := DefaultOptions()
	o.Layers.Timeline = true
	res := scanBytes(hostileFile, mkCapture(t, pcapgen.Options{}, wstest.Merge(convs...)), o)
	if res.err != nil || len(res.recs) != len(hostileReasons) {
		t.Fatalf("got %d records, error %v; want %d and none", len(res.recs), res.err, len(hostileReasons))
	}
	out := checkOutputs(t, res.recs, []report.FileInfo{res.info})
	rows, err := csv.NewReader(bytes.NewReader(out["csv"])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for i, h := range hostileReasons {
		t.Run(h.name, func(t *testing.T) {
			r := byClient(res.recs, fmt.Sprintf("10.0.0.1:%d", 50000+i))
			if r == nil || r.ServerClose == nil || r.ServerClose.Reason != h.reason {
				t.Fatalf("record: got %+v, want server close reason %q", r, h.reason)
			}
			var row []string
			for _, rw := range rows[1:] {
				if rw[col["client"]] == r.Client {
					row = rw
				}
			}
			if row == nil {
				t.Fatalf("no CSV row for %s", r.Client)
			}
			if got := row[col["server_close_reason"]]; got != h.inTable {
				t.Errorf("csv reason: got %q, want %q", got, h.inTable)
			}
			if got, want := row[col["file"]], `evil\x1b[31m\n,"name\xff.pcap`; got != want {
				t.Errorf("csv file: got %q, want %q", got, want)
			}
			// The table's reason column is as wide as fits: at least its first 7 characters.
			if !strings.Contains(string(out["table"]), "| "+string([]rune(h.inTable)[:min(7, len([]rune(h.inTable)))])) {
				t.Errorf("table lacks %q:\n%s", h.inTable, out["table"])
			}
			// JSON keeps the text; bytes that are not UTF-8 become U+FFFD.
			var back report.Record
			if err := json.Unmarshal(jsonLine(t, out["jsonl"], r.Client), &back); err != nil {
				t.Fatal(err)
			}
			if want := string([]rune(h.reason)); back.ServerClose == nil || back.ServerClose.Reason != want {
				t.Errorf("json reason: got %+v, want %q", back.ServerClose, want)
			}
		})
	}
}

// jsonLine returns the JSON line of the record of client.
func jsonLine(t *testing.T, jsonl []byte, client string) []byte {
	t.Helper()
	for _, l := range bytes.Split(jsonl, []byte("\n")) {
		if bytes.Contains(l, []byte(`"client":"`+client+`"`)) {
			return l
		}
	}
	t.Fatalf("no JSON line for %s", client)
	return nil
}

// TestHostileHandshakeText puts terminal escapes into the parts of the handshake that
// reach the hints and the timeline: the status line's reason phrase and header values.
func TestHostileHandshakeText(t *testing.T) {
	tests := []struct {
		name    string
		resp    []byte
		verdict report.Verdict
	}{
		{"reason phrase", []byte("HTTP/1.1 403 \x1b]0;pwned\x07\x1b[2JForbidden\r\nContent-Length: 0\r\n\r\n"), report.VerdictHandshakeFailed},
		{"upgrade header", []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: \x1b[2Jweb\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + wsframe.AcceptKey(wstest.Key) + "\r\n\r\n"), report.VerdictHandshakeFailed},
		{"connection header", []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: \x1b[2J\r\n" +
			"Sec-WebSocket-Accept: " + wsframe.AcceptKey(wstest.Key) + "\r\n\r\n"), report.VerdictHandshakeFailed},
		// net/http rejects the request line, so this is not a WebSocket connection.
		{"request path", nil, report.VerdictNotWebSocket},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := wstest.NewConv("10.0.0.1:50000", "10.0.0.2:80").SYN()
			if tt.resp == nil {
				c.Send(c2s, wsframe.Request("/\x1b[2J\x9b", wstest.Key)).Send(s2c, wsframe.Response(400, "Bad \x1b[1mRequest"))
			} else {
				c.Send(c2s, wsframe.Request("/chat", wstest.Key)).Send(s2c, tt.resp)
			}
			c.FIN(s2c).FIN(c2s)
			o := DefaultOptions()
			o.Layers.Timeline = true
			res := scanBytes("h.pcap", mkCapture(t, pcapgen.Options{}, c.Packets), o)
			if len(res.recs) != 1 || res.recs[0].Verdict != tt.verdict {
				t.Fatalf("got %d records %+v, want one %s", len(res.recs), res.recs, tt.verdict)
			}
			out, err := writeAll(res.recs, []report.FileInfo{res.info})
			if err != nil {
				t.Fatal(err)
			}
			if msg := unsafeOutput(out, 1); msg != "" {
				t.Error("text from the wire reached an output unescaped (hints in the timeline once were): " + msg)
			}
		})
	}
}
