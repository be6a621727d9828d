package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/reassembly"
)

// keyLog is an NSS key log of n TLS 1.3 connections (fake secrets).
func keyLog(n int) []byte {
	var b strings.Builder
	for i := range n {
		cr := fmt.Sprintf("%064x", i)
		for _, l := range []string{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
			"CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"} {
			fmt.Fprintf(&b, "%s %s %096x\n", l, cr, i+1)
		}
	}
	return []byte(b.String())
}

// secretsEvent is a call of Options.Secrets, or (kind 0) a segment returned by Next.
type secretsEvent struct {
	kind uint32
	data string
}

// readSecrets reads data to its end with a Secrets callback, returning the calls and the
// segments in the order they came.
func readSecrets(t *testing.T, data []byte) ([]secretsEvent, Stats, error) {
	t.Helper()
	var ev []secretsEvent
	r, err := NewReader("dsb.pcapng", bytes.NewReader(data), Options{Secrets: func(kind uint32, data []byte) {
		ev = append(ev, secretsEvent{kind, string(data)})
	}})
	if err != nil {
		t.Fatal(err)
	}
	for {
		var s reassembly.Segment
		if err := r.Next(&s); err != nil {
			return ev, r.Stats(), err
		}
		ev = append(ev, secretsEvent{data: "segment"})
	}
}

// ngWith writes a pcapng of the packets with extra blocks written by at(w, i) before
// packet i (and i == len(pkts) after the last).
func ngWith(t *testing.T, be bool, pkts []pcapgen.Packet, at func(w *pcapgen.Writer, i int) error) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := pcapgen.NewWriter(&buf, pcapgen.Options{Format: pcapgen.FormatPcapNG, BigEndian: be, LinkType: pcapgen.LinkEthernet})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i <= len(pkts); i++ {
		if err := at(w, i); err != nil {
			t.Fatal(err)
		}
		if i < len(pkts) {
			if err := w.Write(pkts[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	return buf.Bytes()
}

func segmentEvents(n int) []secretsEvent {
	out := make([]secretsEvent, n)
	for i := range out {
		out[i].data = "segment"
	}
	return out
}

// TestSecretsBlocks: a DSB right after the section header (as editcap --inject-secrets
// writes it), one of odd length between packets, one after the last packet, one of an
// unknown type: each reaches the callback with exactly its secrets, before the packets
// that follow it; the packets are unchanged.
func TestSecretsBlocks(t *testing.T) {
	pkts := smallConversation()
	first := keyLog(2)
	odd := []byte("CLIENT_RANDOM " + strings.Repeat("ab", 32) + " " + strings.Repeat("cd", 48) + "\r\n#") // 212 bytes
	if len(odd)%4 == 0 {
		t.Fatalf("odd secrets are %d bytes", len(odd))
	}
	last := []byte("SERVER_TRAFFIC_SECRET_N 00 11\n")
	const wireGuard = 0x57474b4c
	for _, be := range []bool{false, true} {
		t.Run(fmt.Sprintf("big-endian %v", be), func(t *testing.T) {
			data := ngWith(t, be, pkts, func(w *pcapgen.Writer, i int) error {
				switch i {
				case 0:
					return w.Secrets(pcapgen.SecretsTLSKeyLog, first)
				case 3:
					if err := w.Secrets(pcapgen.SecretsTLSKeyLog, odd); err != nil {
						return err
					}
					return w.Secrets(wireGuard, []byte("wg"))
				case len(pkts):
					return w.Secrets(pcapgen.SecretsTLSKeyLog, last)
				}
				return nil
			})
			ev, st, err := readSecrets(t, data)
			wantEOF(t, err)
			want := []secretsEvent{{SecretsTLSKeyLog, string(first)}}
			want = append(want, segmentEvents(3)...)
			want = append(want, secretsEvent{SecretsTLSKeyLog, string(odd)}, secretsEvent{wireGuard, "wg"})
			want = append(want, segmentEvents(len(pkts)-3)...)
			want = append(want, secretsEvent{SecretsTLSKeyLog, string(last)})
			compareEvents(t, ev, want)
			if st.SecretsBlocks != 4 || st.UnknownSecrets != 1 || st.BadSecrets != 0 || len(st.Skipped) != 0 ||
				st.Packets != int64(len(pkts)) {
				t.Errorf("got stats %+v, want 4 secrets blocks, 1 unknown, %d packets", st, len(pkts))
			}

			// Without a callback the blocks are counted and skipped, the packets the same.
			segs, st2, err := readAll(t, data, Options{})
			wantEOF(t, err)
			compareSegs(t, segs, wantSegs(pkts))
			if st2.SecretsBlocks != 4 || st2.UnknownSecrets != 1 || st2.BadSecrets != 0 {
				t.Errorf("without a callback: got stats %+v", st2)
			}
		})
	}
}

func compareEvents(t *testing.T, got, want []secretsEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d events, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("event %d: got %#x %q, want %#x %q", i, got[i].kind, got[i].data, want[i].kind, want[i].data)
		}
	}
}

// TestSecretsBlockDamaged: a DSB whose secrets length runs past the block, one too short
// for its fixed fields and one whose trailing length is wrong are counted as bad and not
// passed on; the packets after them are read. A file cut inside a DSB is truncated there.
func TestSecretsBlockDamaged(t *testing.T) {
	pkts := smallConversation()
	keys := keyLog(1)
	body := func(kind, n uint32, secrets []byte) []byte {
		b := []byte{byte(kind), byte(kind >> 8), byte(kind >> 16), byte(kind >> 24), byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)}
		return append(b, secrets...)
	}
	data := ngWith(t, false, pkts, func(w *pcapgen.Writer, i int) error {
		switch i {
		case 0:
			return w.Block(10, body(SecretsTLSKeyLog, uint32(len(keys))+4, keys)) // length past the block
		case 1:
			return w.Block(10, []byte{'K', 'S', 'L', 'T'}) // no length
		}
		return nil
	})
	ev, st, err := readSecrets(t, data)
	wantEOF(t, err)
	compareEvents(t, ev, segmentEvents(len(pkts)))
	if st.SecretsBlocks != 2 || st.BadSecrets != 2 || len(st.Skipped) != 0 {
		t.Errorf("got stats %+v, want 2 bad secrets blocks", st)
	}

	// A wrong trailing block length.
	good := ngWith(t, false, pkts[:1], func(w *pcapgen.Writer, i int) error {
		if i == 1 {
			return w.Secrets(SecretsTLSKeyLog, keys)
		}
		return nil
	})
	bad := bytes.Clone(good)
	bad[len(bad)-4]++
	ev, st, err = readSecrets(t, bad)
	wantEOF(t, err)
	compareEvents(t, ev, segmentEvents(1))
	if st.SecretsBlocks != 1 || st.BadSecrets != 1 {
		t.Errorf("trailing length: got stats %+v, want 1 bad secrets block", st)
	}

	// Cut inside the DSB after the first packet: the packet, then ErrTruncated at the DSB.
	dsbStart := len(good) - (12 + 8 + (len(keys)+3)/4*4)
	for _, cut := range []int{dsbStart + 4, dsbStart + 16, len(good) - 1} {
		ev, _, err := readSecrets(t, good[:cut])
		fe := fileError(t, err)
		if !errors.Is(fe.Err, ErrTruncated) || fe.Offset != int64(dsbStart) {
			t.Errorf("cut %d: got %v at %d, want truncated at %d", cut, fe.Err, fe.Offset, dsbStart)
		}
		compareEvents(t, ev, segmentEvents(1))
	}
}

// TestSecretsBlockLarge: a key log larger than the read buffers (bufSize) is passed whole;
// without a callback it is skipped; cut, it is truncated.
func TestSecretsBlockLarge(t *testing.T) {
	pkts := smallConversation()
	keys := keyLog(bufSize/700 + 1) // about 700 bytes a connection
	if len(keys) <= bufSize {
		t.Fatalf("key log of %d bytes fits in the buffer", len(keys))
	}
	data := ngWith(t, true, pkts, func(w *pcapgen.Writer, i int) error {
		if i == 2 {
			return w.Secrets(SecretsTLSKeyLog, keys)
		}
		return nil
	})
	ev, st, err := readSecrets(t, data)
	wantEOF(t, err)
	want := append(segmentEvents(2), secretsEvent{SecretsTLSKeyLog, string(keys)})
	compareEvents(t, ev, append(want, segmentEvents(len(pkts)-2)...))
	if st.SecretsBlocks != 1 || st.BadSecrets != 0 || st.UnknownSecrets != 0 {
		t.Errorf("got stats %+v", st)
	}
	segs, st, err := readAll(t, data, Options{})
	wantEOF(t, err)
	compareSegs(t, segs, wantSegs(pkts))
	if st.SecretsBlocks != 1 {
		t.Errorf("without a callback: got stats %+v", st)
	}
	// Cut inside the block (read through a plain io.Reader: full-size buffers).
	cut := ngWith(t, true, pkts[:2], func(w *pcapgen.Writer, i int) error {
		if i == 2 {
			return w.Secrets(SecretsTLSKeyLog, keys)
		}
		return nil
	})
	cut = cut[:len(cut)-100]
	for _, cb := range []func(uint32, []byte){nil, func(uint32, []byte) { t.Error("secrets of a cut block") }} {
		r, err := NewReader("cut.pcapng", io.MultiReader(bytes.NewReader(cut)), Options{Secrets: cb})
		if err != nil {
			t.Fatal(err)
		}
		var s reassembly.Segment
		n := 0
		for err = r.Next(&s); err == nil; err = r.Next(&s) {
			n++
		}
		if fe := fileError(t, err); !errors.Is(fe.Err, ErrTruncated) || n != 2 || fe.Offset != int64(len(cut)+100-len(keys)-20) {
			t.Errorf("callback %v: got %d segments, then %v at %d; want 2, then truncated at %d",
				cb != nil, n, fe.Err, fe.Offset, len(cut)+100-len(keys)-20)
		}
	}
}
