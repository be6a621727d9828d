package wsparse

import (
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/wsframe"
)

// runSleeping is runOn for a Conn of p that, with sleep, is put to sleep and woken after
// every chunk it can sleep after; it returns how many times it slept. With events, the
// Conn has an OnEvent and the events are returned.
func runSleeping(p *Pool, steps []step, split splitter, opts Options, events, sleep bool) (*Conn, []Event, int) {
	var evs []Event
	if events {
		opts.OnEvent = func(e Event) { evs = append(evs, e) }
	}
	c := p.Get(opts)
	base := t0.UnixNano()
	slept := 0
	nap := func() {
		if !sleep {
			return
		}
		b, ok := c.AppendSleep(nil, base)
		if !ok {
			return
		}
		p.Put(c)
		var rest []byte
		if c, rest, ok = p.Wake(opts, b, base); !ok || len(rest) != 0 {
			panic("the sleeping state does not read back")
		}
		slept++
	}
	for i, st := range steps {
		t := t0.Add(time.Duration(i) * time.Second)
		if st.isGap {
			c.Gap(st.side, st.gap, t)
			nap()
			continue
		}
		data := st.data
		for _, k := range split(len(data)) {
			c.Feed(st.side, append([]byte(nil), data[:k]...), t)
			nap()
			data = data[k:]
		}
	}
	c.Finish(t0.Add(time.Duration(len(steps)) * time.Second))
	return c, evs, slept
}

// TestSleepInvariance: a Conn that sleeps between any two chunks reports what one that
// never slept reports, on random scripts (frames in pieces, gaps, cuts, close frames,
// pings, permessage-deflate), with and without Payloads.
func TestSleepInvariance(t *testing.T) {
	total := 0
	for seed := int64(0); seed < 60; seed++ {
		steps := randomScript(seed)
		opts := Options{Payloads: seed%3 == 0}
		var awake, asleep Pool
		for _, sp := range []splitter{whole, randomSplit(seed)} {
			for _, events := range []bool{false, true} {
				c, ev, _ := runSleeping(&awake, steps, sp, opts, events, false)
				want := snapshot(c, ev)
				c2, ev2, n := runSleeping(&asleep, steps, sp, opts, events, true)
				if got := snapshot(c2, ev2); got != want {
					t.Fatalf("seed %d (events %v), %d sleeps: asleep:\n%s\nawake:\n%s", seed, events, n, got, want)
				}
				total += n
			}
		}
	}
	if total < 500 {
		t.Errorf("%d sleeps in all, want the Conns to sleep often", total)
	}
	t.Logf("%d sleeps", total)
}

// TestAppendSleepRefuses: a Conn that holds what a sleeping one cannot keep stays awake.
func TestAppendSleepRefuses(t *testing.T) {
	var p Pool
	cases := []struct {
		name  string
		steps []step
	}{
		{"request without its response", handshake(nil, nil)[:1]},
		{"an invalid close frame", append(handshake(nil, nil), feed(Client, cf(true, 0x8, wsframe.Close(1005, ""))))},
		{"bytes held before the 101", []step{handshake(nil, nil)[0], feed(Client, cf(true, 0x1, []byte("early")))}},
	}
	for _, tc := range cases {
		c := p.Get(Options{})
		for i, st := range tc.steps {
			c.Feed(st.side, st.data, t0.Add(time.Duration(i)*time.Second))
		}
		if _, ok := c.AppendSleep(nil, 0); ok {
			t.Errorf("%s: AppendSleep ok", tc.name)
		}
	}
	if _, ok := NewConn(Options{}).AppendSleep(nil, 0); ok {
		t.Errorf("a Conn without a Pool: AppendSleep ok")
	}
	withEvents := p.Get(Options{OnEvent: func(Event) {}})
	for i, st := range append(handshake(nil, nil), feed(Client, cf(true, 0x8, wsframe.Close(1000, "")))) {
		withEvents.Feed(st.side, st.data, t0.Add(time.Duration(i)*time.Second))
	}
	if _, ok := withEvents.AppendSleep(nil, 0); ok {
		t.Errorf("a close frame an Event holds: AppendSleep ok")
	}
	withEvents.opts.OnEvent = nil
	if _, ok := withEvents.AppendSleep(nil, 0); !ok {
		t.Errorf("a valid close frame, no events: AppendSleep refused")
	}
}

// FuzzWake: Wake reads any bytes without a panic, and a state it accepts, put to sleep
// again, wakes and sleeps to the same bytes (the input need not be in the canonical form
// AppendSleep writes).
func FuzzWake(f *testing.F) {
	var p Pool
	c := p.Get(Options{})
	for i, st := range append(handshake(nil, nil), feed(Client, cf(true, 0x9, []byte("hi"))), feed(Server, sf(true, 0x8, wsframe.Close(1001, "away")))) {
		c.Feed(st.side, st.data, t0.Add(time.Duration(i)*time.Second))
	}
	b, ok := c.AppendSleep(nil, t0.UnixNano())
	if !ok {
		f.Fatal("the seed Conn does not sleep")
	}
	f.Add(b)
	f.Add([]byte{})
	base := t0.UnixNano()
	f.Fuzz(func(t *testing.T, b []byte) {
		c, _, ok := p.Wake(Options{}, b, base)
		if !ok {
			return
		}
		once, ok := c.AppendSleep(nil, base)
		p.Put(c)
		if !ok {
			return
		}
		c, rest, ok := p.Wake(Options{}, once, base)
		if !ok || len(rest) != 0 {
			t.Fatalf("a state AppendSleep wrote does not wake: ok %v, %d bytes left", ok, len(rest))
		}
		twice, ok := c.AppendSleep(nil, base)
		p.Put(c)
		if !ok || string(twice) != string(once) {
			t.Errorf("woken and put to sleep again, the state changed (ok %v): %d bytes, then %d", ok, len(once), len(twice))
		}
	})
}

// BenchmarkSleepWake puts an upgraded Conn with a message each way, a ping and its pong to
// sleep and wakes it, once per iteration; it reports the packed state's size.
func BenchmarkSleepWake(b *testing.B) {
	var p Pool
	c := p.Get(Options{})
	steps := append(handshake(nil, []string{"Sec-WebSocket-Extensions: permessage-deflate"}),
		feed(Client, cf(true, 0x1, []byte(`{"type":"subscribe"}`)), cf(true, 0x9, []byte("hb"))),
		feed(Server, sf(true, 0x1, []byte(`{"type":"update"}`)), sf(true, 0xA, []byte("hb"))))
	for i, st := range steps {
		c.Feed(st.side, st.data, t0.Add(time.Duration(i)*time.Second))
	}
	base := t0.UnixNano()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		var ok bool
		if buf, ok = c.AppendSleep(buf[:0], base); !ok {
			b.Fatal("the Conn does not sleep")
		}
		p.Put(c)
		if c, _, ok = p.Wake(Options{}, buf, base); !ok {
			b.Fatal("the Conn does not wake")
		}
	}
	b.ReportMetric(float64(len(buf)), "bytes/state")
}
