package report

import (
	"regexp"
	"strings"
)

// Redacted replaces a value hidden by Redact.
const Redacted = "[redacted]"

// Redaction: what goes into a bug report must not carry credentials. Redact hides, in a
// record:
//   - the query string and fragment of the request path (/chat?token=abc becomes
//     /chat?[redacted]): tokens and session ids travel there;
//   - the parts of Sec-WebSocket-Protocol values that look like tokens (wstunnel's
//     "authorization.bearer.<JWT>", Kubernetes' "base64url.bearer.authorization.k8s.io.<token>"),
//     in the offered protocols and the one chosen;
//   - user:password@ in an Origin;
//   - wherever those values or a JWT, a "Bearer" token, an Authorization, Cookie or
//     Set-Cookie header value appear in other text: hints, problems, the handshake error,
//     close reasons and the timeline.
//
// Cookies and Authorization headers are never part of a record; the text rules are the
// safety net for a hint or a reason that quotes one.

var (
	jwtRe    = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)
	bearerRe = regexp.MustCompile(`(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}`)
	headerRe = regexp.MustCompile(`(?i)\b(authorization|proxy-authorization|cookie|set-cookie|x-api-key)(\s*[:=]\s*)[^\r\n]+`)
	queryRe  = regexp.MustCompile(`(/[^\s?#"]*)[?#][^\s"]+`)
	userRe   = regexp.MustCompile(`(://)[^/@\s]+@`)
	// tokenRe: a run of base64 / base64url / hex that is long for a name.
	tokenRe = regexp.MustCompile(`^[A-Za-z0-9+/=_-]{20,}$`)
)

// Redact hides credentials in r, in place (see above).
func Redact(r *Record) {
	var secrets []string // raw values found in the request, hidden wherever they appear
	if q := r.Request; q != nil {
		q.Path = redactPath(q.Path, &secrets)
		if strings.IndexByte(q.Origin, '@') >= 0 {
			q.Origin = userRe.ReplaceAllString(q.Origin, "${1}"+Redacted+"@")
		}
		for i, p := range q.Protocols {
			q.Protocols[i] = redactProtocol(p, &secrets)
		}
	}
	if r.Subprotocol != nil {
		s := redactProtocol(*r.Subprotocol, &secrets)
		r.Subprotocol = &s
	}
	text := func(s string) string { return RedactText(s, secrets) }
	for i := range r.Hints {
		r.Hints[i] = text(r.Hints[i])
	}
	for i := range r.Problems {
		r.Problems[i] = text(r.Problems[i])
	}
	for i := range r.Timeline {
		r.Timeline[i].What = text(r.Timeline[i].What)
	}
	if lm := r.LastMessages; lm != nil {
		for _, m := range []*Message{lm.Client, lm.Server} {
			if m != nil && m.Preview != nil && m.Type == "text" {
				s := text(*m.Preview)
				m.Preview = &s
			}
		}
	}
	if r.HandshakeError != nil {
		s := text(*r.HandshakeError)
		r.HandshakeError = &s
	}
	for _, c := range []*Close{r.ClientClose, r.ServerClose} {
		if c != nil {
			c.Reason = text(c.Reason)
			for i := range c.Problems {
				c.Problems[i] = text(c.Problems[i])
			}
		}
	}
}

// RedactText hides the secrets given (exact values) and anything that looks like a
// credential in s.
func RedactText(s string, secrets []string) string {
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, Redacted)
		}
	}
	// Each rule runs only on text that has what it needs to match (most hints have
	// none of it): the regular expressions were a tenth of a busy capture's table.
	ascii := isASCII(s) // (?i) also folds the Kelvin sign to k and the long s to s
	if strings.Contains(s, "eyJ") {
		s = jwtRe.ReplaceAllString(s, Redacted)
	}
	if !ascii || hasFold(s, "authorization") || hasFold(s, "cookie") || hasFold(s, "x-api-key") {
		s = headerRe.ReplaceAllString(s, "${1}${2}"+Redacted)
	}
	if !ascii || hasFold(s, "bearer") || hasFold(s, "basic") {
		s = bearerRe.ReplaceAllString(s, "${1}${2}"+Redacted)
	}
	if strings.IndexByte(s, '/') >= 0 && strings.IndexAny(s, "?#") >= 0 {
		s = queryRe.ReplaceAllString(s, "${1}?"+Redacted)
	}
	return s
}

// isASCII reports whether s is all ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// hasFold reports whether s contains the lower-case ASCII word w in any case (ASCII
// folding only).
func hasFold(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		j := 0
		for ; j < len(w); j++ {
			if c := s[i+j]; c != w[j] && c+'a'-'A' != w[j] {
				break
			}
		}
		if j == len(w) {
			return true
		}
	}
	return false
}

// redactPath hides the query and fragment of a request path, and a JWT in it.
func redactPath(p string, secrets *[]string) string {
	if i := strings.IndexAny(p, "?#"); i >= 0 && i+1 < len(p) {
		*secrets = append(*secrets, p[i+1:])
		p = p[:i+1] + Redacted
		if p[i] == '#' {
			p = p[:i] + "?" + Redacted
		}
	}
	if !strings.Contains(p, "eyJ") {
		return p
	}
	return jwtRe.ReplaceAllString(p, Redacted)
}

// redactProtocol hides the dot-separated parts of a subprotocol that look like tokens:
// "authorization.bearer.eyJ..." keeps "authorization.bearer." to show what was there.
func redactProtocol(p string, secrets *[]string) string {
	parts := strings.Split(p, ".")
	if strings.Contains(p, "eyJ") && jwtRe.MatchString(p) {
		loc := jwtRe.FindStringIndex(p)
		*secrets = append(*secrets, p[loc[0]:loc[1]])
		return p[:loc[0]] + Redacted + p[loc[1]:]
	}
	changed := false
	for i, part := range parts {
		if looksLikeToken(part) {
			*secrets = append(*secrets, part)
			parts[i], changed = Redacted, true
		}
	}
	if !changed {
		return p
	}
	return strings.Join(parts, ".")
}

// looksLikeToken: at least 20 characters of base64 or hex, with digits and letters
// mixed (protocol names such as "graphql-transport-ws" have no digits).
func looksLikeToken(s string) bool {
	if !tokenRe.MatchString(s) {
		return false
	}
	digits, letters := false, false
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits = true
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letters = true
		}
	}
	return digits && letters
}
