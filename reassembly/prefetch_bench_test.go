package reassembly

import (
	"testing"
	"time"
)

// runBenchPrefetch is runBench over nConns connections open at once, in a scattered order
// and in batches of 256 segments, as a scan shard takes them, with or without
// Assembler.Prefetch before each batch.
func runBenchPrefetch(b *testing.B, nConns int, pf bool) {
	conns := newBenchConns(nConns)
	a := NewAssembler(nopFactory{}, DefaultOptions())
	startBenchConns(a, conns)
	flows := make([]uint64, nConns)
	for i := range conns {
		flows[i] = FlowHash(conns[i].data.Src, conns[i].data.Dst)
	}
	// a scattered order, the same for every step (7919 is prime)
	order := make([]int, nConns)
	for i := range order {
		order[i] = (i * 7919) % nConns
	}
	batch := make([]uint64, 0, 256)
	now := t0
	b.ResetTimer()
	for i := 0; i < b.N; {
		k := i / nConns
		pair, step := k/3, k%3
		j := i % nConns
		n := min(256, nConns-j, b.N-i)
		if pf {
			batch = batch[:0]
			for x := range n {
				batch = append(batch, flows[order[j+x]])
			}
			a.Prefetch(batch)
		}
		for x := range n {
			bc := &conns[order[j+x]]
			now = now.Add(time.Microsecond)
			switch step {
			case 0, 1:
				bc.data.Time = now
				bc.data.Seq = 1001 + uint32(pair*2800+step*1400)
				a.AddFlow(&bc.data, flows[order[j+x]])
			case 2:
				bc.ack.Time, bc.ack.Ack = now, 1001+uint32((pair+1)*2800)
				a.AddFlow(&bc.ack, flows[order[j+x]])
			}
		}
		i += n
	}
}

func BenchmarkInterleaved100k(b *testing.B)         { runBenchPrefetch(b, 100_000, false) }
func BenchmarkInterleaved100kPrefetch(b *testing.B) { runBenchPrefetch(b, 100_000, true) }
