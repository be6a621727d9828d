package tlsdec

import (
	"crypto/tls"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestTLS13ChaChaRealHandshake runs a real TLS 1.3 handshake that picks
// TLS_CHACHA20_POLY1305_SHA256. crypto/tls offers no knob for TLS 1.3 suites; its server
// prefers ChaCha20 when the machine lacks AES hardware, which GODEBUG=cpu.aes=off pretends.
// The setting must be there at start-up, so the test runs itself in a child process.
func TestTLS13ChaChaRealHandshake(t *testing.T) {
	if !strings.Contains(os.Getenv("GODEBUG"), "cpu.aes=off") {
		if testing.Short() {
			t.Skip("needs a child process")
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestTLS13ChaChaRealHandshake$", "-test.v")
		cmd.Env = append(os.Environ(), "GODEBUG=cpu.aes=off")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestTLS13ChaChaRealHandshake") {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return
	}
	_, ecC := testCerts(t)
	rec := &recording{}
	cl, sv := configs(t, ecC, rec)
	s := session{client: cl, server: sv, clientMsgs: messages(5, 10, 3000), serverMsgs: messages(6, 10, 20000)}
	st := run(t, s, rec)
	if st.CipherSuite != tls.TLS_CHACHA20_POLY1305_SHA256 {
		t.Skipf("GODEBUG=cpu.aes=off did not make crypto/tls pick ChaCha20 (got %s)", tls.CipherSuiteName(st.CipherSuite))
	}
	want := Info{
		Version: "TLS 1.3", CipherSuite: "TLS_CHACHA20_POLY1305_SHA256", SNI: "example.test",
		ALPNOffered: []string{"h2", "http/1.1"}, ALPN: "http/1.1", Decryption: "full", HandshakeDone: true,
	}
	checkSession(t, "chacha", rec, Options{Keys: rec.keyLog(t)}, s, want)
}
