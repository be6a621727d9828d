package wsparse

import (
	"reflect"
	"strings"
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/wsframe"
)

func TestCloseFrames(t *testing.T) {
	tests := []struct {
		name         string
		payload      []byte
		length       int64 // announced length when != len(payload)
		wantHasCode  bool
		wantCode     CloseCode
		wantReason   string
		wantProblems []string
		wantFindings []string
	}{
		{name: "empty", payload: nil},
		{name: "code only", payload: wsframe.Close(1001, ""), wantHasCode: true, wantCode: 1001},
		{name: "code and reason", payload: wsframe.Close(4000, "session expired"), wantHasCode: true, wantCode: 4000, wantReason: "session expired"},
		{
			name: "one byte", payload: []byte{0x03},
			wantProblems: []string{"1-byte payload (a close payload is empty or at least 2 bytes)"},
			wantFindings: []string{"server:close-1-byte"},
		},
		{
			name: "1006 on the wire", payload: wsframe.Close(1006, ""), wantHasCode: true, wantCode: 1006,
			wantProblems: []string{"code 1006 must never be sent on the wire"},
			wantFindings: []string{"server:close-code-invalid"},
		},
		{
			name: "1005 on the wire", payload: wsframe.Close(1005, ""), wantHasCode: true, wantCode: 1005,
			wantProblems: []string{"code 1005 must never be sent on the wire"},
			wantFindings: []string{"server:close-code-invalid"},
		},
		{
			name: "code 999", payload: wsframe.Close(999, ""), wantHasCode: true, wantCode: 999,
			wantProblems: []string{"code 999 is not a valid close code (0-999 are unused)"},
			wantFindings: []string{"server:close-code-invalid"},
		},
		{
			name: "code 2000", payload: wsframe.Close(2000, ""), wantHasCode: true, wantCode: 2000,
			wantProblems: []string{"code 2000 is reserved for future use (1016-2999)"},
			wantFindings: []string{"server:close-code-invalid"},
		},
		{
			name: "long reason", payload: wsframe.Close(1000, strings.Repeat("r", 124)), wantHasCode: true, wantCode: 1000,
			wantReason:   strings.Repeat("r", 124),
			wantProblems: []string{"payload is 126 bytes (control frames are limited to 125)", "reason is 124 bytes (limit 123)"},
			wantFindings: []string{"server:close-reason-too-long", "server:control-too-long"},
		},
		{
			name: "very long payload", payload: wsframe.Close(1000, strings.Repeat("r", 256)), wantHasCode: true, wantCode: 1000,
			wantReason:   strings.Repeat("r", 256),
			wantProblems: []string{"payload is 258 bytes (control frames are limited to 125)", "reason is 256 bytes (limit 123)"},
			wantFindings: []string{"server:close-reason-too-long", "server:control-too-long"},
		},
		{
			name: "reason not utf8", payload: wsframe.Close(1000, "ab\xff"), wantHasCode: true, wantCode: 1000, wantReason: "ab\xff",
			wantProblems: []string{"reason is not valid UTF-8"},
			wantFindings: []string{"server:close-reason-invalid-utf8"},
		},
		{
			name: "reason cut inside utf8", payload: wsframe.Close(1000, "ab\xe2\x82"), wantHasCode: true, wantCode: 1000, wantReason: "ab\xe2\x82",
			wantProblems: []string{"reason is not valid UTF-8"},
			wantFindings: []string{"server:close-reason-invalid-utf8"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := sf(true, wsframe.OpClose, tt.payload)
			steps := append(handshake(nil, nil), feed(Server, fr))
			c, _ := runAll(t, steps, Options{})
			cl := c.Close(Server)
			if cl == nil {
				t.Fatal("Close(Server): got nil")
			}
			if cl.HasCode != tt.wantHasCode || cl.Code != tt.wantCode || string(cl.Reason) != tt.wantReason {
				t.Errorf("close: got %v %v %q, want %v %v %q", cl.HasCode, cl.Code, cl.Reason, tt.wantHasCode, tt.wantCode, tt.wantReason)
			}
			if !reflect.DeepEqual(cl.Problems, tt.wantProblems) {
				t.Errorf("problems: got %q, want %q", cl.Problems, tt.wantProblems)
			}
			if cl.Valid() != (len(tt.wantProblems) == 0) || cl.PayloadLen != int64(len(tt.payload)) || cl.Incomplete {
				t.Errorf("valid/len/incomplete: got %v %d %v", cl.Valid(), cl.PayloadLen, cl.Incomplete)
			}
			if cl.Time != t0.Add(2e9) || cl.Frame != 0 || cl.Side != Server {
				t.Errorf("time/frame/side: got %v %d %v", cl.Time, cl.Frame, cl.Side)
			}
			var got []string
			for _, f := range c.Findings() {
				got = append(got, f.Side.String()+":"+string(f.Code))
			}
			if !reflect.DeepEqual(got, tt.wantFindings) {
				t.Errorf("findings: got %v, want %v", got, tt.wantFindings)
			}
		})
	}
}

func TestCloseFirstKeptCountAll(t *testing.T) {
	steps := append(handshake(nil, nil),
		feed(Client, cf(true, wsframe.OpClose, wsframe.Close(1000, "a")), cf(true, wsframe.OpClose, wsframe.Close(1001, "b"))))
	c, _ := runAll(t, steps, Options{})
	if cl := c.Close(Client); cl == nil || cl.Code != 1000 || c.CloseCount(Client) != 2 {
		t.Errorf("got close %+v count %d, want 1000 and 2", cl, c.CloseCount(Client))
	}
	if c.Close(Server) != nil || c.CloseCount(Server) != 0 {
		t.Errorf("server close: got %+v, want none", c.Close(Server))
	}
}

func TestCloseIncomplete(t *testing.T) {
	fr := sf(true, wsframe.OpClose, wsframe.Close(1000, "goodbye"))
	tests := []struct {
		name     string
		steps    []step
		wantCode bool
		reason   string
	}{
		{name: "capture ends in payload", steps: []step{feed(Server, fr[:6])}, wantCode: true, reason: "go"},
		{name: "capture ends before code", steps: []step{feed(Server, fr[:3])}},
		{name: "known gap in reason", steps: []step{feed(Server, fr[:5]), gapOf(Server, 3), feed(Server, fr[8:])}, wantCode: true, reason: "g"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps := append(handshake(nil, nil), tt.steps...)
			c, _ := runAll(t, steps, Options{})
			cl := c.Close(Server)
			if cl == nil {
				t.Fatal("Close(Server): got nil")
			}
			if !cl.Incomplete || cl.HasCode != tt.wantCode || string(cl.Reason) != tt.reason || cl.PayloadLen != 9 {
				t.Errorf("got %+v, want incomplete, HasCode %v, reason %q", *cl, tt.wantCode, tt.reason)
			}
		})
	}
}
