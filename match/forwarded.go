package match

import (
	"net/netip"
	"strings"
)

// Forwarder is the client a forwarding header names: the address, and the port when the
// header gave one (0 otherwise, as X-Forwarded-For never does).
type Forwarder struct {
	Addr netip.Addr
	Port uint16
}

// LastForwarder returns the client named by the last hop of a request's forwarding headers:
// the last for= of Forwarded (RFC 7239), else the last address of X-Forwarded-For. The last
// hop is the one the nearest proxy added; earlier ones came from further away, or from the
// client itself. ok is false when neither header names an address (absent, "unknown", an
// obfuscated identifier such as "_hidden", or malformed).
func LastForwarder(xff, forwarded string) (Forwarder, bool) {
	if forwarded != "" {
		return lastForwardedFor(forwarded)
	}
	if xff == "" {
		return Forwarder{}, false
	}
	last := xff
	if i := strings.LastIndexByte(xff, ','); i >= 0 {
		last = xff[i+1:]
	}
	return parseNode(strings.TrimSpace(last))
}

// lastForwardedFor returns the for= of the last element of a Forwarded header value:
// elements are separated by commas, pairs by semicolons, values may be quoted strings.
func lastForwardedFor(v string) (Forwarder, bool) {
	var elem string
	for rest := v; ; {
		e, tail, more := cutUnquoted(rest, ',')
		if strings.TrimSpace(e) != "" {
			elem = e
		}
		if !more {
			break
		}
		rest = tail
	}
	for rest := elem; ; {
		pair, tail, more := cutUnquoted(rest, ';')
		name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if ok && strings.EqualFold(strings.TrimSpace(name), "for") {
			return parseNode(unquote(strings.TrimSpace(value)))
		}
		if !more {
			return Forwarder{}, false
		}
		rest = tail
	}
}

// cutUnquoted cuts s at the first sep outside a quoted string.
func cutUnquoted(s string, sep byte) (before, after string, found bool) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// unquote removes the quotes of an RFC 7230 quoted-string, and its backslash escapes.
func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	s = s[1 : len(s)-1]
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// parseNode reads a node as RFC 7239 section 6 writes it: an IPv4 address, a bracketed
// IPv6 address, either with ":port", or a bare IPv6 address as X-Forwarded-For has it.
func parseNode(s string) (Forwarder, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return Forwarder{Addr: ap.Addr().Unmap(), Port: ap.Port()}, ap.Port() != 0
	}
	if strings.HasPrefix(s, "[") {
		host, port, _ := strings.Cut(s[1:], "]")
		a, err := netip.ParseAddr(host)
		if err != nil || a.Zone() != "" {
			return Forwarder{}, false
		}
		if port == "" {
			return Forwarder{Addr: a.Unmap()}, true
		}
		return Forwarder{}, false // "[::1]:_obf" or junk after the bracket
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return Forwarder{}, false
	}
	return Forwarder{Addr: a.Unmap()}, true
}

// Names reports whether the forwarder is the client at ap.
func (f Forwarder) Names(ap netip.AddrPort) bool {
	return f.Addr == ap.Addr().Unmap() && (f.Port == 0 || f.Port == ap.Port())
}

// String writes the forwarder as an address, with the port when known.
func (f Forwarder) String() string {
	if f.Port == 0 {
		return f.Addr.String()
	}
	return netip.AddrPortFrom(f.Addr, f.Port).String()
}
