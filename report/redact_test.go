package report

import (
	"strings"
	"testing"
)

func TestRedactRecord(t *testing.T) {
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
	r := Record{
		Request: &Request{Path: "/tunnel?token=s3cr3t&x=1", Origin: "https://bob:pw@example.com",
			Protocols: []string{"v1", "authorization.bearer." + jwt, "base64url.bearer.authorization.k8s.io.ZXlKaGJHY2lPaUpTVXpJMU5pSXNJbXRwWkNJNklq", "graphql-transport-ws"}},
		Subprotocol: String("authorization.bearer." + jwt),
		Hints:       []string{`server ignored the requested subprotocol "authorization.bearer.` + jwt + `"`},
		Problems:    []string{"client: Authorization: Bearer abcdefghijkl", "client: Cookie: session=abc; theme=dark"},
		Timeline:    []TimelineEntry{{What: "GET /tunnel?token=s3cr3t&x=1"}, {What: "close 4001 \"token s3cr3t expired\""}},
		ServerClose: &Close{Reason: "bad Bearer 0123456789abcdef", Problems: []string{}},
	}
	Redact(&r)
	checks := []struct{ name, got, want string }{
		{"path", r.Request.Path, "/tunnel?[redacted]"},
		{"origin", r.Request.Origin, "https://[redacted]@example.com"},
		{"plain protocol", r.Request.Protocols[0], "v1"},
		{"wstunnel JWT", r.Request.Protocols[1], "authorization.bearer.[redacted]"},
		{"k8s token", r.Request.Protocols[2], "base64url.bearer.authorization.k8s.io.[redacted]"},
		{"protocol name", r.Request.Protocols[3], "graphql-transport-ws"},
		{"subprotocol", *r.Subprotocol, "authorization.bearer.[redacted]"},
		{"hint", r.Hints[0], `server ignored the requested subprotocol "authorization.bearer.[redacted]"`},
		{"authorization", r.Problems[0], "client: Authorization: [redacted]"},
		{"cookie", r.Problems[1], "client: Cookie: [redacted]"},
		{"timeline GET", r.Timeline[0].What, "GET /tunnel?[redacted]"},
		{"query value elsewhere", r.Timeline[1].What, `close 4001 "token s3cr3t expired"`},
		{"bearer in a reason", r.ServerClose.Reason, "bad Bearer [redacted]"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	for _, s := range append(append(r.Request.Protocols, r.Hints...), r.Problems...) {
		if strings.Contains(s, "eyJ") || strings.Contains(s, "abcdefghijkl") {
			t.Errorf("secret left in %q", s)
		}
	}
}

// TestRedactLeavesPlainValues: nothing that is not a credential changes.
func TestRedactLeavesPlainValues(t *testing.T) {
	recs := sampleRecords()
	recs[0].Request.Path = "/chat"
	before := recs[0]
	Redact(&recs[0])
	if recs[0].Request.Path != "/chat" || *recs[0].Subprotocol != "chat.v2" || recs[0].ClientClose.Reason != "bye" ||
		recs[0].Timeline[2].What != before.Timeline[2].What {
		t.Errorf("plain values changed: %+v", recs[0])
	}
	if got := RedactText("what happened? (bytes missing)", nil); got != "what happened? (bytes missing)" {
		t.Errorf("got %q", got)
	}
}

// A text preview of --payloads is redacted as the hints are: a JWT in it is hidden.
func TestRedactPreview(t *testing.T) {
	r := sampleRecords()[1]
	Redact(&r)
	if p := *r.LastMessages.Client.Preview; strings.Contains(p, "eyJ") || !strings.Contains(p, Redacted) {
		t.Errorf("preview %q, want the JWT redacted", p)
	}
	if p := *r.LastMessages.Server.Preview; p != "0102ff" {
		t.Errorf("binary preview %q changed", p)
	}
}

func TestNewPreview(t *testing.T) {
	for _, tt := range []struct {
		typ    string
		p      string
		length int64
		want   string
		cut    bool
	}{
		{"text", "hello", 5, "hello", false},
		{"text", strings.Repeat("a", 63) + "é", 70, strings.Repeat("a", 63), true}, // é cut in two
		{"text", strings.Repeat("a", 62) + "é", 70, strings.Repeat("a", 62) + "é", true},
		{"binary", "\x00\x01\x02", 3, "000102", false},
		{"binary", strings.Repeat("\xff", 20), 20, strings.Repeat("ff", 16), true},
	} {
		p := []byte(tt.p)
		got, cut := NewPreview(tt.typ, p[:min(len(p), 64)], tt.length)
		if got != tt.want || cut != tt.cut {
			t.Errorf("NewPreview(%s, %q, %d) = %q, %v; want %q, %v", tt.typ, tt.p, tt.length, got, cut, tt.want, tt.cut)
		}
	}
}

// FuzzRedactText checks RedactText against the four rules applied unconditionally: the
// checks that skip a rule must never skip one that would match.
func FuzzRedactText(f *testing.F) {
	for _, s := range []string{
		"server sent close 1011 then reset the connection 0.2 ms later",
		"GET /chat?token=abc HTTP/1.1", "Authorization: Bearer abcdefghijkl", "cookie=xyz",
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "BASIC  dXNlcjpwYXNzd29yZA==",
		"x-api-KEY: 1", "ba\u017fic abcdefghijkl", "set-coo\u212Aie: a", "/a#b",
	} {
		f.Add(s, "")
	}
	f.Add("the reason was secret-value here", "secret-value")
	f.Fuzz(func(t *testing.T, s, secret string) {
		secrets := []string{secret}
		want := s
		if secret != "" {
			want = strings.ReplaceAll(want, secret, Redacted)
		}
		want = jwtRe.ReplaceAllString(want, Redacted)
		want = headerRe.ReplaceAllString(want, "${1}${2}"+Redacted)
		want = bearerRe.ReplaceAllString(want, "${1}${2}"+Redacted)
		want = queryRe.ReplaceAllString(want, "${1}?"+Redacted)
		if got := RedactText(s, secrets); got != want {
			t.Errorf("RedactText(%q, %q) = %q, want %q", s, secret, got, want)
		}
	})
}
