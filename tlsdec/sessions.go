package tlsdec

import "sync"

// DefaultMaxSessions is the capacity of a Sessions cache made with NewSessions(0).
const DefaultMaxSessions = 10000

// Sessions remembers TLS 1.2 master secrets by session ID and by session ticket, so that a
// resumed (abbreviated) handshake can be decrypted with the master secret of the full
// handshake that created the session. Go logs CLIENT_RANDOM only for full handshakes.
// Share one Sessions between the Conns of a capture. It is safe for concurrent use, holds at
// most its capacity (the oldest entries go first), and never prints its secrets.
type Sessions struct {
	mu    sync.Mutex
	max   int
	m     map[string][]byte
	order []string // insertion order, as a ring of keys
	next  int
}

// NewSessions returns an empty cache holding at most max entries (DefaultMaxSessions if
// max <= 0).
func NewSessions(max int) *Sessions {
	if max <= 0 {
		max = DefaultMaxSessions
	}
	return &Sessions{max: max, m: make(map[string][]byte)}
}

// Len returns the number of cached entries.
func (s *Sessions) Len() int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// String describes the cache without any key material.
func (s *Sessions) String() string { return "tlsdec.Sessions" }

// GoString is String, so that %#v cannot print secrets either.
func (s *Sessions) GoString() string { return s.String() }

func sessionIDKey(id []byte) string    { return "i" + string(id) }
func sessionTicketKey(t []byte) string { return "t" + string(t) }

// put remembers master under key.
func (s *Sessions) put(key string, master []byte) {
	if s == nil || len(key) < 2 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string][]byte)
	}
	if s.max <= 0 {
		s.max = DefaultMaxSessions
	}
	if _, ok := s.m[key]; ok {
		s.m[key] = master
		return
	}
	if len(s.order) < s.max {
		s.order = append(s.order, key)
	} else {
		delete(s.m, s.order[s.next])
		s.order[s.next] = key
		s.next = (s.next + 1) % s.max
	}
	s.m[key] = master
}

// get returns the master secret remembered under key, or nil.
func (s *Sessions) get(key string) []byte {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key]
}
