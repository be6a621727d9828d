package wsparse

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/wsframe"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// step is one action of a test script: bytes fed by a side, or a gap.
type step struct {
	side  Side
	data  []byte
	gap   int64
	isGap bool
}

func feed(s Side, parts ...[]byte) step { return step{side: s, data: wsframe.Concat(parts...)} }
func gapOf(s Side, n int64) step        { return step{side: s, gap: n, isGap: true} }

// splitter returns the chunk sizes to feed n bytes in.
type splitter func(n int) []int

func whole(n int) []int { return []int{n} }

func oneByte(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = 1
	}
	return out
}

func randomSplit(seed int64) splitter {
	return func(n int) []int {
		r := rand.New(rand.NewSource(seed + int64(n)))
		var out []int
		for n > 0 {
			k := 1 + r.Intn(n)
			if r.Intn(3) == 0 && k > 3 {
				k = 1 + r.Intn(3)
			}
			out = append(out, k)
			n -= k
		}
		return out
	}
}

// run feeds the script with the splitter; step i happens at t0 + i seconds, Finish after.
func run(steps []step, split splitter, opts Options) (*Conn, []Event) {
	return runOn(NewConn, steps, split, opts)
}

// runOn is run with the Conn from newConn.
func runOn(newConn func(Options) *Conn, steps []step, split splitter, opts Options) (*Conn, []Event) {
	var events []Event
	opts.OnEvent = func(e Event) { events = append(events, e) }
	c := newConn(opts)
	for i, st := range steps {
		t := t0.Add(time.Duration(i) * time.Second)
		if st.isGap {
			c.Gap(st.side, st.gap, t)
			continue
		}
		data := st.data
		for _, k := range split(len(data)) {
			chunk := append([]byte(nil), data[:k]...)
			c.Feed(st.side, chunk, t)
			for j := range chunk {
				chunk[j] = 0xEE // data is only valid during the call
			}
			data = data[k:]
		}
	}
	c.Finish(t0.Add(time.Duration(len(steps)) * time.Second))
	return c, events
}

// snapshot renders everything observable about a Conn.
func snapshot(c *Conn, events []Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ws=%v swapped=%v\n", c.IsWebSocket(), c.SidesSwapped())
	if h := c.Handshake(); h != nil {
		fmt.Fprintf(&b, "hs=%+v\n", *h)
	}
	for _, s := range []Side{Client, Server} {
		fmt.Fprintf(&b, "%v stats=%+v closes=%d\n", s, c.Stats(s), c.CloseCount(s))
		if cf := c.Close(s); cf != nil {
			fmt.Fprintf(&b, "%v close=%+v\n", s, *cf)
		}
	}
	for _, f := range c.Findings() {
		fmt.Fprintf(&b, "finding %+v\n", f)
	}
	for _, p := range c.Pings() {
		fmt.Fprintf(&b, "ping %+v\n", p)
	}
	for _, e := range events {
		cl := ""
		if e.Close != nil {
			cl = fmt.Sprintf("%+v", *e.Close)
		}
		fmt.Fprintf(&b, "event %v %v %v f=%d st=%d %s %q %s\n", e.Kind, e.Side, e.Time.Sub(t0), e.Frame, e.Status, e.Code, e.Detail, cl)
	}
	return b.String()
}

// runAll runs the script whole, one byte at a time and at random split points, checks that
// every run gives the same snapshot, and returns the whole-fed Conn.
func runAll(t *testing.T, steps []step, opts Options) (*Conn, []Event) {
	t.Helper()
	c, ev := run(steps, whole, opts)
	want := snapshot(c, ev)
	splits := map[string]splitter{"one-byte": oneByte}
	for seed := int64(1); seed <= 4; seed++ {
		splits[fmt.Sprintf("random-%d", seed)] = randomSplit(seed)
	}
	for name, sp := range splits {
		c2, ev2 := run(steps, sp, opts)
		if got := snapshot(c2, ev2); got != want {
			t.Errorf("%s split differs from whole feed:\ngot:\n%s\nwant:\n%s", name, got, want)
		}
	}
	return c, ev
}

// findingCodes lists "side:code" of the findings, in Findings order.
func findingCodes(c *Conn) []string {
	var out []string
	for _, f := range c.Findings() {
		out = append(out, f.Side.String()+":"+string(f.Code))
	}
	return out
}

const testKey = "dGhlIHNhbXBsZSBub25jZQ=="

var maskKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// cf builds a masked client frame.
func cf(fin bool, op byte, payload []byte) []byte {
	return wsframe.Frame{Fin: fin, Op: op, Masked: true, Key: maskKey, Payload: payload}.Bytes()
}

// sf builds an unmasked server frame.
func sf(fin bool, op byte, payload []byte) []byte {
	return wsframe.Frame{Fin: fin, Op: op, Payload: payload}.Bytes()
}

// handshake returns the steps of a successful opening handshake.
func handshake(extraReq, extraResp []string) []step {
	return []step{
		feed(Client, wsframe.Request("/chat?x=1", testKey, extraReq...)),
		feed(Server, wsframe.Response101(testKey, extraResp...)),
	}
}
