package reassembly

import (
	"net/netip"
	"testing"
	"time"
)

type nopFactory struct{}

func (nopFactory) NewStream(ConnInfo) Stream { return nopStream{} }

// benchConn is one synthetic connection: the client sends 1400-byte segments, the server
// acknowledges every second one.
type benchConn struct {
	data, ack Segment
}

func newBenchConns(n int) []benchConn {
	payload := make([]byte, 1400)
	conns := make([]benchConn, n)
	for i := range conns {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), uint16(40000+i%20000))
		dst := netip.MustParseAddrPort("10.1.0.1:443")
		conns[i] = benchConn{
			data: Segment{Time: t0, Src: src, Dst: dst, Seq: 1001, Ack: 5001, Flags: FlagACK | FlagPSH, Window: 512, Payload: payload},
			ack:  Segment{Time: t0, Src: dst, Dst: src, Seq: 5001, Ack: 1001, Flags: FlagACK, Window: 512},
		}
	}
	return conns
}

// start sends each connection's handshake.
func startBenchConns(a *Assembler, conns []benchConn) {
	for i := range conns {
		bc := &conns[i]
		syn := Segment{Time: t0, Src: bc.data.Src, Dst: bc.data.Dst, Seq: 1000, Flags: FlagSYN}
		synack := Segment{Time: t0, Src: bc.ack.Src, Dst: bc.ack.Dst, Seq: 5000, Ack: 1001, Flags: FlagSYN | FlagACK}
		a.Add(&syn)
		a.Add(&synack)
	}
}

// runBench sends b.N segments (one per op) round-robin over conns: per connection two data
// segments then an ACK of both. Every oooEvery-th pair of data segments is sent in reverse
// order (0: never), with the ACK not covering the hole.
func runBench(b *testing.B, nConns, oooEvery int) {
	conns := newBenchConns(nConns)
	a := NewAssembler(nopFactory{}, DefaultOptions())
	startBenchConns(a, conns)
	now := t0
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		bc := &conns[i%nConns]
		now = now.Add(time.Microsecond)
		k := i / nConns
		pair, step := k/3, k%3
		ooo := oooEvery > 0 && pair%oooEvery == 0
		switch step {
		case 0, 1:
			bc.data.Time = now
			bc.data.Seq = 1001 + uint32(pair*2800+step*1400)
			if ooo {
				bc.data.Seq = 1001 + uint32(pair*2800+(1-step)*1400)
			}
			a.Add(&bc.data)
		case 2:
			bc.ack.Time, bc.ack.Ack = now, 1001+uint32((pair+1)*2800)
			a.Add(&bc.ack)
		}
	}
	b.StopTimer()
	if st := a.Stats(); st.ConnLimitGaps+st.TotalLimitGaps != 0 {
		b.Fatalf("got %d limit gaps, want 0", st.ConnLimitGaps+st.TotalLimitGaps)
	}
}

func BenchmarkInOrderOneConn(b *testing.B)          { runBench(b, 1, 0) }
func BenchmarkInOrderInterleaved1000(b *testing.B)  { runBench(b, 1000, 0) }
func BenchmarkOutOfOrder1Percent(b *testing.B)      { runBench(b, 1, 50) }
func BenchmarkOutOfOrder1PercentConns(b *testing.B) { runBench(b, 100, 50) }
