package wsparse

import (
	"math/rand"
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/wsframe"
)

// randomFrame returns a frame that is valid most of the time.
func randomFrame(r *rand.Rand, masked bool) []byte {
	ops := []byte{wsframe.OpText, wsframe.OpBinary, wsframe.OpContinuation, wsframe.OpPing, wsframe.OpPong, wsframe.OpClose, 0x3}
	f := wsframe.Frame{Fin: r.Intn(4) != 0, Op: ops[r.Intn(len(ops))], Masked: masked}
	if r.Intn(20) == 0 {
		f.Masked = !masked
	}
	r.Read(f.Key[:])
	n := r.Intn(40)
	if r.Intn(10) == 0 {
		n = 100 + r.Intn(3000)
	}
	switch f.Op {
	case wsframe.OpText:
		f.Payload = []byte(string(make([]rune, n/3)) + "é€")
		if r.Intn(10) == 0 {
			f.Payload = append(f.Payload, 0xFF)
		}
	case wsframe.OpClose:
		f.Payload = wsframe.Close(uint16(1000+r.Intn(16)), "r")
	default:
		f.Payload = make([]byte, n)
		r.Read(f.Payload)
	}
	if r.Intn(15) == 0 {
		f.RSV = wsframe.RSV1
	}
	if r.Intn(15) == 0 {
		f.LenForm = wsframe.Len64
	}
	return f.Bytes()
}

// randomScript returns a random script for seed: an upgrade (mid-stream for every fourth
// seed), then 12 steps of random frames, gaps and cuts.
func randomScript(seed int64) []step {
	r := rand.New(rand.NewSource(seed))
	steps := handshake(nil, []string{"Sec-WebSocket-Extensions: permessage-deflate"})
	if seed%4 == 0 {
		steps = nil // mid-stream
	}
	for i := 0; i < 12; i++ {
		side := Side(r.Intn(2))
		var data []byte
		for j := 0; j < 1+r.Intn(4); j++ {
			data = append(data, randomFrame(r, side == Client)...)
		}
		switch r.Intn(8) {
		case 0:
			steps = append(steps, gapOf(side, int64(r.Intn(50))))
		case 1:
			data = data[r.Intn(len(data)):]
		}
		steps = append(steps, feed(side, data))
	}
	return steps
}

// TestSplitInvariance runs random scripts (frames, gaps, cuts) whole, byte by byte and at
// random split points.
func TestSplitInvariance(t *testing.T) {
	for seed := int64(0); seed < 40; seed++ {
		runAll(t, randomScript(seed), Options{})
	}
}
