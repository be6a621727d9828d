package reassembly

import (
	"fmt"
	"strings"
	"testing"
)

// watchStream watches the acknowledgment of every Data call that carries "CLOSE", and logs
// the EventAcked events.
type watchStream struct {
	info ConnInfo
	log  []string
}

func (w *watchStream) Data(dir Dir, data []byte, at Stamp) {
	if strings.Contains(string(data), "CLOSE") {
		w.info.Acks.Watch(dir)
	}
}
func (w *watchStream) Gap(Dir, int64, int64, GapCause, Stamp) {}
func (w *watchStream) End(ConnStats)                          {}
func (w *watchStream) Event(e Event) {
	if e.Kind == EventAcked {
		w.log = append(w.log, fmt.Sprintf("%v acked @%d t=%d", e.Dir, e.Offset, ms(e.Time)))
	}
}

type watchFactory struct{ s *watchStream }

func (f *watchFactory) NewStream(info ConnInfo) Stream {
	f.s = &watchStream{info: info}
	return f.s
}

// TestAckWatch: the first segment (not a RST) whose ACK covers the watched bytes is
// reported once; an ACK short of them, a RST+ACK and later ACKs are not.
func TestAckWatch(t *testing.T) {
	for _, tt := range []struct {
		name string
		segs []Segment
		want []string
	}{
		{"first covering ACK, once", hs(
			c(3, "AP", 1001, 5001, "hello"),
			c(4, "AP", 1006, 5001, "CLOSE"), // bytes 5..10 of the client's stream
			s(5, "A", 5001, 1006, ""),       // short of it
			s(6, "A", 5001, 1011, ""),       // covers it
			s(7, "A", 5001, 1011, ""),
		), []string{"server acked @10 t=6"}},
		{"a RST does not count", hs(
			c(3, "AP", 1001, 5001, "CLOSE"),
			s(4, "AR", 5001, 1006, ""),
		), nil},
		{"the server's close, acked with the client's own data", hs(
			s(3, "AP", 5001, 1001, "CLOSE"),
			c(4, "AP", 1001, 5006, "bye"),
		), []string{"client acked @5 t=4"}},
	} {
		f := &watchFactory{}
		a := NewAssembler(f, Options{})
		for i := range tt.segs {
			a.Add(&tt.segs[i])
		}
		a.Flush()
		if got := strings.Join(f.s.log, "\n"); got != strings.Join(tt.want, "\n") {
			t.Errorf("%s: got %q, want %q", tt.name, f.s.log, tt.want)
		}
	}
}
