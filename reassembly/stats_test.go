package reassembly

import (
	"bytes"
	"net/netip"
	"testing"
	"time"
)

func TestConnStats(t *testing.T) {
	tests := []struct {
		name string
		segs []Segment
		want ConnStats
	}{
		{
			name: "counters per direction",
			segs: []Segment{
				c(0, "S", 1000, 0, ""), c(1000, "S", 1000, 0, ""), s(1001, "SA", 5000, 1001, ""),
				c(1002, "PA", 1006, 5001, "world"), c(1003, "PA", 1001, 5001, "hello"), // out of order
				c(1004, "PA", 1001, 5001, "hello"), // retransmission
				c(1005, "A", 1010, 5001, ""),       // keep-alive
				withMissing(s(1006, "PA", 5001, 1011, "ab"), 2),
				withWindow(c(1007, "A", 1011, 5005, ""), 0),
				s(1008, "A", 5004, 1011, ""), // zero-window probe
				s(1009, "PA", 5010, 1011, "xyz"),
			},
			want: ConnStats{Reason: EndFlushed, Dirs: [2]DirStats{
				{Packets: 7, Bytes: 10, Retransmitted: 2, OutOfOrder: 1, KeepAlives: 1},
				{Packets: 4, Bytes: 5, MissingBytes: 7, OutOfOrder: 1, ZeroWindowProb: 1},
			}},
		},
		{
			name: "FIN retransmission",
			segs: hs(c(3, "FA", 1001, 5001, ""), c(300, "FA", 1001, 5001, "")),
			want: ConnStats{Reason: EndFlushed, Dirs: [2]DirStats{{Packets: 4, Retransmitted: 1}, {Packets: 1}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := run(t, Options{}, tt.segs, false)
			got := r.streams[0].stats
			got.At = time.Time{}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestAssemblerStats(t *testing.T) {
	segs := hs(c(3, "PA", 1011, 5001, "abcdef"), c(4, "PA", 1021, 5001, "ghijk"),
		other(5, "PA", 1, 1, "x"), c(6, "FA", 1001, 5001, "0123456789"))
	r := &recorder{t: t}
	a := NewAssembler(r, Options{MaxBufferedPerConn: 8})
	for i := range segs {
		a.Add(&segs[i])
	}
	// The first connection's SYN kept it half-open until its next segment.
	want := AssemblerStats{Segments: 7, Connections: 2, Tracked: 2, PeakTracked: 2, PeakHalfOpen: 1, PeakBuffered: 11,
		ConnLimitGaps: 1, Memory: 2 * DefaultConnCost}
	if got := a.Stats(); got != want {
		t.Errorf("before Flush: got %+v, want %+v", got, want)
	}
	a.Flush()
	want.Tracked, want.Memory = 0, 0
	want.Ended[EndFlushed] = 2
	if got := a.Stats(); got != want {
		t.Errorf("after Flush: got %+v, want %+v", got, want)
	}
}

func TestPickClient(t *testing.T) {
	tests := []struct {
		name      string
		flags     string
		src, dst  uint16
		srcClient bool
		by        ClientBy
	}{
		{"SYN sender", "S", 80, 50000, true, ClientBySYN},
		{"SYN-ACK receiver", "SA", 50000, 80, false, ClientBySYNACK},
		{"well-known destination", "PA", 8080, 443, true, ClientByPort},
		{"well-known source", "PA", 443, 1024, false, ClientByPort},
		{"ephemeral source", "A", 50000, 8080, true, ClientByPort},
		{"ephemeral destination", "A", 8080, 32768, false, ClientByPort},
		{"both ephemeral: first sender", "A", 40000, 50000, true, ClientByPort},
		{"both well-known: first sender", "A", 80, 22, true, ClientByPort},
		{"same port", "A", 9000, 9000, true, ClientByPort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seg := Segment{Flags: flagsOf(tt.flags),
				Src: netip.AddrPortFrom(cli.Addr(), tt.src), Dst: netip.AddrPortFrom(srv.Addr(), tt.dst)}
			gotClient, gotBy := pickClient(&seg)
			if gotClient != tt.srcClient || gotBy != tt.by {
				t.Errorf("got %v, %v, want %v, %v", gotClient, gotBy, tt.srcClient, tt.by)
			}
		})
	}
}

func TestRSTWindow(t *testing.T) {
	synWS := func(g Segment, ws uint8) Segment { g.HasWScale, g.WScale = true, ws; return g }
	scaled := []Segment{synWS(c(0, "S", 1000, 0, ""), 7), synWS(s(1, "SA", 5000, 1001, ""), 2),
		withWindow(c(2, "A", 1001, 5001, ""), 100)}
	scaled0 := []Segment{synWS(c(0, "S", 1000, 0, ""), 0), synWS(s(1, "SA", 5000, 1001, ""), 0),
		withWindow(c(2, "A", 1001, 5001, ""), 100)}
	unscaled := []Segment{c(0, "S", 1000, 0, ""), s(1, "SA", 5000, 1001, ""), withWindow(c(2, "A", 1001, 5001, ""), 100)}
	midstream := []Segment{withWindow(c(2, "A", 1001, 5001, ""), 100)}
	tests := []struct {
		name string
		segs []Segment
		rst  Segment
		oow  bool
	}{
		{"scaled window, last byte", scaled, s(3, "R", 5001+100<<7-1, 0, ""), false},
		{"scaled window, past the end", scaled, s(3, "R", 5001+100<<7, 0, ""), true},
		{"scale 0 announced, last byte", scaled0, s(3, "R", 5001+99, 0, ""), false},
		{"scale 0 announced, past the end", scaled0, s(3, "R", 5001+100, 0, ""), true},
		{"no scale option assumes 14", unscaled, s(3, "R", 5001+100<<14-1, 0, ""), false},
		{"no scale option, past the largest window", unscaled, s(3, "R", 5001+100<<14, 0, ""), true},
		{"before the window", unscaled, s(3, "R", 5000, 0, ""), true},
		{"window from a SYN is not scaled", scaled[:2], c(3, "R", 1001+65535, 0, ""), true},
		{"unknown scale assumes 14", midstream, s(3, "R", 5001+100<<14-1, 0, ""), false},
		{"unknown scale, past the largest window", midstream, s(3, "R", 5001+100<<14, 0, ""), true},
		{"zero window, exact", append(unscaled[:2:2], withWindow(c(2, "A", 1001, 5001, ""), 0)), s(3, "R", 5001, 0, ""), false},
		{"zero window, one past", append(unscaled[:2:2], withWindow(c(2, "A", 1001, 5001, ""), 0)), s(3, "R", 5002, 0, ""), true},
		{"receiver sent no ACK yet", []Segment{c(0, "S", 1000, 0, "")}, s(3, "RA", 0, 1001, ""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var oow, found bool
			rec := eventFunc(func(e Event) {
				if e.Kind == EventRST {
					oow, found = e.OutOfWindow, true
				}
			})
			a := NewAssembler(rec, Options{})
			for _, g := range append(append([]Segment{}, tt.segs...), tt.rst) {
				a.Add(&g)
			}
			if !found || oow != tt.oow {
				t.Errorf("got RST event %v, OutOfWindow %v, want true, %v", found, oow, tt.oow)
			}
		})
	}
}

// eventFunc is a StreamFactory whose Streams pass events to a function.
type eventFunc func(Event)

func (f eventFunc) NewStream(ConnInfo) Stream { return f }

func (f eventFunc) Data(Dir, []byte, Stamp)                {}
func (f eventFunc) Gap(Dir, int64, int64, GapCause, Stamp) {}
func (f eventFunc) Event(e Event)                          { f(e) }
func (f eventFunc) End(ConnStats)                          {}

// zeroCopy checks that in-order payload is passed on without a copy.
type zeroCopy struct {
	t       *testing.T
	payload []byte
	calls   int
}

func (z *zeroCopy) NewStream(ConnInfo) Stream { return z }
func (z *zeroCopy) Data(_ Dir, b []byte, _ Stamp) {
	z.calls++
	if &b[0] != &z.payload[0] || !bytes.Equal(b, z.payload) {
		z.t.Errorf("got a copy of the payload, want the segment's own slice")
	}
}
func (z *zeroCopy) Gap(Dir, int64, int64, GapCause, Stamp) {}
func (z *zeroCopy) Event(Event)                            {}
func (z *zeroCopy) End(ConnStats)                          {}

func TestInOrderZeroCopy(t *testing.T) {
	z := &zeroCopy{t: t}
	a := NewAssembler(z, Options{})
	for _, g := range handshake() {
		a.Add(&g)
	}
	g := c(3, "PA", 1001, 5001, "hello")
	z.payload = g.Payload
	a.Add(&g)
	if z.calls != 1 {
		t.Errorf("got %d Data calls, want 1", z.calls)
	}
}
