package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/internal/wstest"
	"github.com/wsclosescan/wsclosescan/report"
)

// built is the binary buildBinary built, once for the tests of the package.
var built struct {
	once sync.Once
	dir  string
	path string
	err  error
	out  []byte
}

// buildBinary builds wsclosescan into a temporary directory (removed by TestMain).
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "wsclosescan-test"); built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "wsclosescan")
		built.out, built.err = exec.Command("go", "build", "-o", built.path, ".").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	return built.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// TestLivePipeAndInterrupt runs the built binary as tcpdump -U -w - | wsclosescan -f jsonl -
// would: the capture arrives slowly through a pipe. The record of a connection that ended
// (past the 10 s linger, in capture time) is written while the pipe stays open; SIGINT
// then writes the connection still open, as open_at_end, and exits 0.
func TestLivePipeAndInterrupt(t *testing.T) {
	bin := buildBinary(t)
	done := wstest.NewConv("10.0.0.1:40000", "10.0.0.2:80").Upgraded().Text(c2s, "hi").
		Close(c2s, 1000, "bye").Close(s2c, 1000, "bye").FIN(s2c).FIN(c2s)
	open := wstest.NewConv("10.0.0.3:40001", "10.0.0.2:80").Wait(15*time.Second).Upgraded().Text(c2s, "still here")
	data, err := pcapgen.Capture(pcapgen.Options{LinkType: pcapgen.LinkEthernet}, wstest.Merge(done, open))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-f", "jsonl", "-")
	stdin, _ := cmd.StdinPipe()
	stdoutPipe, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(stdoutPipe)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// Slowly: a few hundred bytes at a time, as packets come.
	for off := 0; off < len(data); off += 300 {
		if _, err := stdin.Write(data[off:min(off+300, len(data))]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	var first report.Record
	select {
	case l := <-lines:
		if err := json.Unmarshal([]byte(l), &first); err != nil || first.Client != "10.0.0.1:40000" || first.Verdict != report.VerdictClean {
			t.Fatalf("first line %q (%v), want the clean connection", l, err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no record while the pipe is open; stderr %q", stderr.String())
	}
	// The pipe stays open: Ctrl-C.
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for l := range lines {
		rest = append(rest, l)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) || err != nil {
		t.Fatalf("exit: %v, want status 0; stderr %q", err, stderr.String())
	}
	if len(rest) != 1 || !strings.Contains(rest[0], `"client":"10.0.0.3:40001"`) || !strings.Contains(rest[0], `"verdict":"open_at_end"`) {
		t.Errorf("after SIGINT got %q, want the open connection as open_at_end", rest)
	}
	if !strings.Contains(stderr.String(), "wsclosescan: interrupted:") || strings.Contains(stderr.String(), "warning") {
		t.Errorf("stderr %q, want the interruption said and no warning", stderr.String())
	}
	stdin.Close()
}

// TestInterruptTable: with the table, SIGINT before the end of the input prints the table
// of what was read, and exits 0.
func TestInterruptTable(t *testing.T) {
	bin := buildBinary(t)
	c := wstest.NewConv("10.0.0.1:40000", "10.0.0.2:80").Upgraded().Text(c2s, "hi")
	data, err := pcapgen.Capture(pcapgen.Options{LinkType: pcapgen.LinkEthernet}, c.Packets)
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// The signal goes only once the progress line says every byte was read: a fixed sleep
	// was too short on a loaded machine.
	cmd := exec.Command(bin, "--progress", "always", "-")
	cmd.Stdin = r
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	defer w.Close()
	w.Write(data)
	want := sizeText(int64(len(data))) + " read"
	var stderr strings.Builder
	buf := make([]byte, 4096)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stderr.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no progress line with %q after 30 s; stderr %q", want, stderr.String())
		}
		n, err := errPipe.Read(buf)
		stderr.Write(buf[:n])
		if err != nil {
			t.Fatalf("stderr ended before %q: %v; stderr %q", want, err, stderr.String())
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	rest, _ := io.ReadAll(errPipe)
	stderr.Write(rest)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v, want 0; stderr %q", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "1 connection: 1 open_at_end") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
}
