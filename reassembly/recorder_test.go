package reassembly

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var (
	t0  = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cli = netip.MustParseAddrPort("10.0.0.1:50000")
	srv = netip.MustParseAddrPort("10.0.0.2:80")
)

// at returns the capture time t0 + ms milliseconds.
func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// ms formats a time as milliseconds after t0.
func ms(t time.Time) int64 { return t.Sub(t0).Milliseconds() }

// flagsOf parses flag letters: S=SYN A=ACK F=FIN R=RST P=PSH.
func flagsOf(s string) TCPFlags {
	var f TCPFlags
	for _, r := range s {
		switch r {
		case 'S':
			f |= FlagSYN
		case 'A':
			f |= FlagACK
		case 'F':
			f |= FlagFIN
		case 'R':
			f |= FlagRST
		case 'P':
			f |= FlagPSH
		}
	}
	return f
}

// c and s build segments sent by the client (cli) or the server (srv).
func c(ms int, flags string, seq, ack uint32, payload string) Segment {
	return Segment{Time: at(ms), Src: cli, Dst: srv, Seq: seq, Ack: ack, Flags: flagsOf(flags),
		Window: 65535, Payload: []byte(payload)}
}

func s(ms int, flags string, seq, ack uint32, payload string) Segment {
	g := c(ms, flags, seq, ack, payload)
	g.Src, g.Dst = srv, cli
	return g
}

// withMissing, withWindow adjust a segment.
func withMissing(g Segment, n int) Segment   { g.Missing = n; return g }
func withWindow(g Segment, w uint16) Segment { g.Window = w; return g }

// recorder is a StreamFactory whose Streams log every call, one line each, prefixed with
// the connection's number (1 for the first NewStream) when there is more than one.
type recorder struct {
	// checkBytes, for streams whose byte at sequence number n is byte(n), checks that
	// every delivered byte sits at its place, gaps included.
	checkBytes bool
	log        []string
	streams    []*recStream
	t          testing.TB
}

func (r *recorder) NewStream(info ConnInfo) Stream {
	st := &recStream{r: r, n: len(r.streams) + 1, info: info, want: [2]int{-1, -1}}
	r.streams = append(r.streams, st)
	r.add(st, fmt.Sprintf("new client=%v by=%v t=%d", info.Client, info.By, ms(info.Start)))
	return st
}

func (r *recorder) add(st *recStream, line string) {
	if st.ended && r.t != nil {
		r.t.Errorf("conn %d: call after End: %s", st.n, line)
	}
	r.log = append(r.log, fmt.Sprintf("%d: %s", st.n, line))
}

type recStream struct {
	r     *recorder
	n     int
	info  ConnInfo
	pos   [2]int64 // data plus gap bytes seen per direction
	data  [2][]byte
	ended bool
	ends  int
	stats ConnStats
	fin   [2]bool
	want  [2]int // the next byte expected with checkBytes, -1 before the first
}

func (st *recStream) Data(d Dir, b []byte, at Stamp) {
	st.r.add(st, fmt.Sprintf("%v data %q t=%d", d, b, ms(at.Time)))
	st.pos[d] += int64(len(b))
	st.data[d] = append(st.data[d], b...)
	for i, v := range b {
		if st.r.checkBytes && st.want[d] >= 0 && int(v) != st.want[d] {
			st.r.t.Errorf("conn %d: %v byte at %d: got %#x, want %#x", st.n, d, st.pos[d]-int64(len(b)-i), v, st.want[d])
		}
		st.want[d] = int(v+1) & 0xff
	}
	if st.fin[d] && st.r.t != nil {
		st.r.t.Errorf("conn %d: %v data after the FIN event", st.n, d)
	}
}

func (st *recStream) Gap(d Dir, off, n int64, cause GapCause, at Stamp) {
	st.r.add(st, fmt.Sprintf("%v gap %d+%d %v t=%d", d, off, n, cause, ms(at.Time)))
	if st.r.t != nil && (off != st.pos[d] || n < 0 || st.fin[d]) {
		st.r.t.Errorf("conn %d: %v gap at %d+%d, stream position %d, fin %v", st.n, d, off, n, st.pos[d], st.fin[d])
	}
	st.pos[d] += n
	if st.want[d] >= 0 {
		st.want[d] = (st.want[d] + int(n&0xff)) & 0xff
	}
}

func (st *recStream) Event(e Event) {
	line := fmt.Sprintf("%v %v @%d t=%d", e.Dir, e.Kind, e.Offset, ms(e.Time))
	if e.WithACK {
		line += " ack"
	}
	if e.OutOfWindow {
		line += " oow"
	}
	st.r.add(st, line)
	if e.Kind == EventFIN {
		if st.r.t != nil && (st.fin[e.Dir] || e.Offset > st.pos[e.Dir]) {
			st.r.t.Errorf("conn %d: %v FIN at %d, stream position %d, repeated %v", st.n, e.Dir, e.Offset, st.pos[e.Dir], st.fin[e.Dir])
		}
		st.fin[e.Dir] = true
	}
}

func (st *recStream) End(cs ConnStats) {
	st.r.add(st, "end "+cs.Reason.String())
	st.ended = true
	st.ends++
	st.stats = cs
	for d := range cs.Dirs {
		if got, want := cs.Dirs[d].Bytes+cs.Dirs[d].MissingBytes, st.pos[d]; got != want && st.r.t != nil {
			st.r.t.Errorf("conn %d: %v stats bytes+missing %d, stream position %d", st.n, Dir(d), got, want)
		}
	}
}

// run feeds segs to a new Assembler, flushes it unless noFlush, and returns the log.
func run(t testing.TB, opts Options, segs []Segment, noFlush bool) (*recorder, *Assembler) {
	return runChecked(t, opts, segs, noFlush, false)
}

func runChecked(t testing.TB, opts Options, segs []Segment, noFlush, checkBytes bool) (*recorder, *Assembler) {
	r := &recorder{t: t, checkBytes: checkBytes}
	a := NewAssembler(r, opts)
	for i := range segs {
		a.Add(&segs[i])
	}
	if !noFlush {
		a.Flush()
		for _, st := range r.streams {
			if st.ends != 1 {
				t.Errorf("conn %d: End called %d times, want 1", st.n, st.ends)
			}
		}
	}
	return r, a
}

// checkLog compares logs line by line.
func checkLog(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") == strings.Join(want, "\n") {
		return
	}
	t.Errorf("log mismatch\ngot:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
}
