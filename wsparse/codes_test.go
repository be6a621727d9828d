package wsparse

import (
	"crypto/sha1"
	"encoding/base64"
	"strings"
	"testing"
)

func TestCloseCodes(t *testing.T) {
	tests := []struct {
		code    CloseCode
		str     string
		rng     string
		maySend bool
	}{
		{0, "0 (invalid)", "invalid", false},
		{999, "999 (invalid)", "invalid", false},
		{1000, "1000 (Normal Closure)", "standard", true},
		{1001, "1001 (Going Away)", "standard", true},
		{1002, "1002 (Protocol Error)", "standard", true},
		{1003, "1003 (Unsupported Data)", "standard", true},
		{1004, "1004 (Reserved)", "reserved", false},
		{1005, "1005 (No Status Received)", "standard", false},
		{1006, "1006 (Abnormal Closure)", "standard", false},
		{1007, "1007 (Invalid Frame Payload Data)", "standard", true},
		{1008, "1008 (Policy Violation)", "standard", true},
		{1009, "1009 (Message Too Big)", "standard", true},
		{1010, "1010 (Mandatory Extension)", "standard", true},
		{1011, "1011 (Internal Error)", "standard", true},
		{1012, "1012 (Service Restart)", "standard", true},
		{1013, "1013 (Try Again Later)", "standard", true},
		{1014, "1014 (Bad Gateway)", "standard", true},
		{1015, "1015 (TLS Handshake)", "standard", false},
		{1016, "1016 (reserved)", "reserved", false},
		{2999, "2999 (reserved)", "reserved", false},
		{3000, "3000 (registered)", "registered", true},
		{3999, "3999 (registered)", "registered", true},
		{4000, "4000 (private)", "private", true},
		{4999, "4999 (private)", "private", true},
		{5000, "5000 (invalid)", "invalid", false},
		{65535, "65535 (invalid)", "invalid", false},
	}
	for _, tt := range tests {
		t.Run(tt.str, func(t *testing.T) {
			if got := tt.code.String(); got != tt.str {
				t.Errorf("String: got %q, want %q", got, tt.str)
			}
			if got := tt.code.Range().String(); got != tt.rng {
				t.Errorf("Range: got %q, want %q", got, tt.rng)
			}
			if got := tt.code.MaySend(); got != tt.maySend {
				t.Errorf("MaySend: got %v, want %v", got, tt.maySend)
			}
			if got := tt.code.wireProblem() == ""; got != tt.maySend {
				t.Errorf("wireProblem empty: got %v, want %v", got, tt.maySend)
			}
			e := Explain(tt.code)
			if e.Code != tt.code || e.Name != tt.code.Name() || e.Range != tt.rng || e.MaySend != tt.maySend {
				t.Errorf("Explain header: got %+v", e)
			}
			if e.Meaning == "" || e.UsuallySentBy == "" || e.PeerSees == "" || e.WhatToCheck == "" || e.Reference == "" {
				t.Errorf("Explain: empty field in %+v", e)
			}
		})
	}
}

func TestExplainText(t *testing.T) {
	tests := []struct {
		code CloseCode
		want []string // substrings of UsuallySentBy + WhatToCheck
	}{
		{1006, []string{"never on the wire", "idle timeout", "RST"}},
		{1005, []string{"never sent", "empty payload"}},
		{1015, []string{"never on the wire", "certificates"}},
		{1001, []string{"navigation", "deploys"}},
		{1002, []string{"unmasked client frame"}},
		{1009, []string{"limit"}},
		{3003, []string{"IANA"}},
		{4321, []string{"application"}},
	}
	for _, tt := range tests {
		e := Explain(tt.code)
		all := e.Meaning + " | " + e.UsuallySentBy + " | " + e.PeerSees + " | " + e.WhatToCheck
		for _, w := range tt.want {
			if !strings.Contains(all, w) {
				t.Errorf("Explain(%d): got %q, want it to mention %q", tt.code, all, w)
			}
		}
	}
}

// TestAcceptKey: RFC 6455's example key gives its accept value, and keys of every length
// around the stack buffer's agree with the plain formula.
func TestAcceptKey(t *testing.T) {
	if got := acceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Errorf("acceptKey(RFC example) = %q", got)
	}
	for n := range 80 {
		key := strings.Repeat("k", n)
		h := sha1.Sum([]byte(key + websocketGUID))
		if got, want := acceptKey(key), base64.StdEncoding.EncodeToString(h[:]); got != want {
			t.Errorf("acceptKey(%d bytes) = %q, want %q", n, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = acceptKey("dGhlIHNhbXBsZSBub25jZQ==") }); n > 1 {
		t.Errorf("acceptKey allocates %v times, want at most 1", n)
	}
}
