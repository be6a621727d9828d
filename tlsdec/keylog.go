package tlsdec

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"sync"
)

// secretKind names one secret of an NSS key log line.
type secretKind uint8

const (
	secMaster      secretKind = iota // CLIENT_RANDOM: the TLS 1.2 (or earlier) master secret
	secClientHS                      // CLIENT_HANDSHAKE_TRAFFIC_SECRET
	secServerHS                      // SERVER_HANDSHAKE_TRAFFIC_SECRET
	secClientApp                     // CLIENT_TRAFFIC_SECRET_0
	secServerApp                     // SERVER_TRAFFIC_SECRET_0
	secClientEarly                   // CLIENT_EARLY_TRAFFIC_SECRET
	numSecretKinds
)

// keyLogLabels maps the labels this package uses to the secret they carry.
var keyLogLabels = map[string]secretKind{
	"CLIENT_RANDOM":                   secMaster,
	"CLIENT_HANDSHAKE_TRAFFIC_SECRET": secClientHS,
	"SERVER_HANDSHAKE_TRAFFIC_SECRET": secServerHS,
	"CLIENT_TRAFFIC_SECRET_0":         secClientApp,
	"SERVER_TRAFFIC_SECRET_0":         secServerApp,
	"CLIENT_EARLY_TRAFFIC_SECRET":     secClientEarly,
}

// maxKeyLogLine bounds one key log line; longer lines are malformed. A real line is at most
// 31 + 1 + 64 + 1 + 96 characters.
const maxKeyLogLine = 1024

// secrets holds the secrets logged for one client random. A nil entry was not logged.
type secrets [numSecretKinds][]byte

// KeyLog holds secrets from NSS key log files (SSLKEYLOGFILE), keyed by client random.
// It is safe for concurrent use. It never prints its secrets: String reports only the
// number of entries.
type KeyLog struct {
	mu sync.RWMutex
	m  map[[32]byte]*secrets
}

// NewKeyLog returns an empty key log.
func NewKeyLog() *KeyLog {
	return &KeyLog{m: make(map[[32]byte]*secrets)}
}

// KeyLogError reports malformed key log lines. It carries line numbers only, never the
// line's text, which may hold key material.
type KeyLogError struct {
	// Line is the 1-based number, within the text given to one Add call, of the first
	// malformed line.
	Line int
	// Count is the number of malformed lines.
	Count int
}

func (e *KeyLogError) Error() string {
	if e.Count == 1 {
		return fmt.Sprintf("tlsdec: key log: malformed line %d", e.Line)
	}
	return fmt.Sprintf("tlsdec: key log: %d malformed lines, the first at line %d", e.Count, e.Line)
}

// Add parses key log text: CLIENT_RANDOM (TLS 1.2 master secret),
// CLIENT_/SERVER_HANDSHAKE_TRAFFIC_SECRET, CLIENT_/SERVER_TRAFFIC_SECRET_0 and
// CLIENT_EARLY_TRAFFIC_SECRET. Line ends may be LF or CRLF, hex either case; blank lines and
// '#' comments are skipped, and lines with other labels (EXPORTER_SECRET,
// CLIENT_TRAFFIC_SECRET_N, ...) are ignored. A later line for the same random and label wins.
//
// It returns how many lines it used. Malformed lines are skipped and reported in a
// *KeyLogError (never fatal: the good lines are kept); a read error is returned as such.
func (k *KeyLog) Add(r io.Reader) (used int, err error) {
	br := bufio.NewReaderSize(r, 4096)
	var bad KeyLogError
	for lineNo := 1; ; lineNo++ {
		line, tooLong, rerr := readKeyLogLine(br)
		if rerr != nil && len(line) == 0 && !tooLong {
			if rerr == io.EOF {
				break
			}
			return used, fmt.Errorf("tlsdec: reading key log: %w", rerr)
		}
		ok, use := false, false
		if !tooLong {
			ok, use = k.addLine(line)
		}
		if use {
			used++
		} else if !ok {
			bad.Count++
			if bad.Line == 0 {
				bad.Line = lineNo
			}
		}
		if rerr != nil {
			if rerr == io.EOF {
				break
			}
			return used, fmt.Errorf("tlsdec: reading key log: %w", rerr)
		}
	}
	if bad.Count > 0 {
		return used, &bad
	}
	return used, nil
}

// readKeyLogLine returns the next line without its line end. A line longer than
// maxKeyLogLine is consumed and reported as tooLong.
func readKeyLogLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	line, err = br.ReadSlice('\n')
	for err == bufio.ErrBufferFull {
		tooLong = true
		_, err = br.ReadSlice('\n')
	}
	if tooLong || len(line) > maxKeyLogLine {
		return nil, true, err
	}
	line = bytes.TrimRight(line, "\r\n")
	return line, false, err
}

// addLine parses one line. ok is false for a malformed line; use is true when a secret was
// stored.
func (k *KeyLog) addLine(line []byte) (ok, use bool) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] == '#' {
		return true, false
	}
	fields := bytes.Fields(line)
	if len(fields) != 3 || !isLabel(fields[0]) {
		return false, false
	}
	kind, known := keyLogLabels[string(fields[0])]
	if !known {
		return true, false
	}
	var random [32]byte
	if len(fields[1]) != 64 {
		return false, false
	}
	if _, err := hex.Decode(random[:], fields[1]); err != nil {
		return false, false
	}
	secret := make([]byte, hex.DecodedLen(len(fields[2])))
	if _, err := hex.Decode(secret, fields[2]); err != nil || !validSecretLen(kind, len(secret)) {
		return false, false
	}
	k.store(random, kind, secret)
	return true, true
}

// validSecretLen reports whether n bytes is a plausible length for a secret of kind: 48 for a
// master secret, a SHA-256 or SHA-384 output for a TLS 1.3 traffic secret.
func validSecretLen(kind secretKind, n int) bool {
	if kind == secMaster {
		return n == 48
	}
	return n == 32 || n == 48
}

// isLabel reports whether b looks like a key log label: upper-case letters, digits and '_'.
func isLabel(b []byte) bool {
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return len(b) > 0
}

func (k *KeyLog) store(random [32]byte, kind secretKind, secret []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = make(map[[32]byte]*secrets)
	}
	s := k.m[random]
	if s == nil {
		s = new(secrets)
		k.m[random] = s
	}
	s[kind] = secret
}

// lookup returns the secrets logged for random, or nil. The caller must not modify them.
func (k *KeyLog) lookup(random [32]byte) *secrets {
	if k == nil {
		return nil
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	s := k.m[random]
	if s == nil {
		return nil
	}
	cp := *s
	return &cp
}

// Len returns the number of client randoms with at least one secret.
func (k *KeyLog) Len() int {
	if k == nil {
		return 0
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return len(k.m)
}

// String describes the key log without any key material.
func (k *KeyLog) String() string {
	return "tlsdec.KeyLog{" + strconv.Itoa(k.Len()) + " client randoms}"
}

// GoString is String, so that %#v cannot print secrets either.
func (k *KeyLog) GoString() string { return k.String() }
