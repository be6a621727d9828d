package h2demux

import (
	"bytes"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// This file writes synthetic HTTP/2 connections with x/net/http2's Framer and hpack's
// Encoder (one per direction, as a peer would), feeds them to a Conn in several ways and
// records what the Conn reports.

// base is the fake capture time of the first write; each write is 1 ms later.
var base = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// event is one write of one side: the bytes a TCP segment could carry.
type event struct {
	dir  Dir
	data []byte // nil with gap > 0: that many bytes lost
	gap  int64
	t    time.Time
}

// script builds a connection.
type script struct {
	t      testing.TB
	events []event
	// joined: writes go into the last event when it has their direction (many frames in
	// one segment).
	joined bool
	enc    [2]*hpack.Encoder
	encBuf [2]bytes.Buffer
}

func newScript(t testing.TB) *script {
	s := &script{t: t}
	for i := range s.enc {
		s.enc[i] = hpack.NewEncoder(&s.encBuf[i])
	}
	return s
}

// time returns the time the next write will have.
func (s *script) time() time.Time {
	return base.Add(time.Duration(len(s.events)) * time.Millisecond)
}

// write adds one event with what fn writes through a Framer.
func (s *script) write(dir Dir, fn func(fr *http2.Framer) error) time.Time {
	s.t.Helper()
	var b bytes.Buffer
	fr := http2.NewFramer(&b, nil)
	fr.AllowIllegalWrites = true
	if err := fn(fr); err != nil {
		s.t.Fatalf("framer: %v", err)
	}
	return s.raw(dir, b.Bytes())
}

// together makes the writes of fn that follow one another in one direction one event.
func (s *script) together(fn func()) {
	s.joined = true
	fn()
	s.joined = false
}

// raw adds one event with bytes b.
func (s *script) raw(dir Dir, b []byte) time.Time {
	if n := len(s.events); s.joined && n > 0 && s.events[n-1].dir == dir && s.events[n-1].data != nil {
		s.events[n-1].data = append(s.events[n-1].data, b...)
		return s.events[n-1].t
	}
	t := s.time()
	s.events = append(s.events, event{dir: dir, data: bytes.Clone(b), t: t})
	return t
}

// lose adds a gap of n bytes.
func (s *script) lose(dir Dir, n int64) time.Time {
	t := s.time()
	s.events = append(s.events, event{dir: dir, gap: n, t: t})
	return t
}

// block encodes header fields, given as name, value pairs, with dir's encoder.
func (s *script) block(dir Dir, kv ...string) []byte {
	s.t.Helper()
	s.encBuf[dir].Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		if err := s.enc[dir].WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]}); err != nil {
			s.t.Fatal(err)
		}
	}
	return bytes.Clone(s.encBuf[dir].Bytes())
}

// start writes the preface and both SETTINGS (the server's with ENABLE_CONNECT_PROTOCOL
// = connect unless it is negative) and their acknowledgements.
func (s *script) start(connect int) {
	s.raw(ClientToServer, []byte(clientPreface))
	s.write(ClientToServer, func(fr *http2.Framer) error {
		return fr.WriteSettings(http2.Setting{ID: http2.SettingHeaderTableSize, Val: 65536},
			http2.Setting{ID: http2.SettingInitialWindowSize, Val: 6291456})
	})
	s.write(ServerToClient, func(fr *http2.Framer) error {
		st := []http2.Setting{{ID: http2.SettingMaxConcurrentStreams, Val: 100}}
		if connect >= 0 {
			st = append(st, http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: uint32(connect)})
		}
		return fr.WriteSettings(st...)
	})
	s.write(ClientToServer, func(fr *http2.Framer) error { return fr.WriteSettingsAck() })
	s.write(ServerToClient, func(fr *http2.Framer) error { return fr.WriteSettingsAck() })
}

// headers writes a header block in one HEADERS frame.
func (s *script) headers(dir Dir, id uint32, end bool, kv ...string) time.Time {
	frag := s.block(dir, kv...)
	return s.write(dir, func(fr *http2.Framer) error {
		return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: frag, EndStream: end, EndHeaders: true})
	})
}

// connect opens WebSocket stream id.
func (s *script) connect(id uint32, path string, extra ...string) time.Time {
	kv := append([]string{":method", "CONNECT", ":protocol", "websocket", ":scheme", "https",
		":path", path, ":authority", "example.test:8443", "sec-websocket-version", "13",
		"origin", "https://example.test:8443"}, extra...)
	return s.headers(ClientToServer, id, false, kv...)
}

// accept answers stream id with :status 200.
func (s *script) accept(id uint32, extra ...string) time.Time {
	return s.headers(ServerToClient, id, false, append([]string{":status", "200"}, extra...)...)
}

// data writes one DATA frame.
func (s *script) data(dir Dir, id uint32, end bool, b []byte) time.Time {
	return s.write(dir, func(fr *http2.Framer) error { return fr.WriteData(id, end, b) })
}

// rst writes RST_STREAM.
func (s *script) rst(dir Dir, id uint32, code http2.ErrCode) time.Time {
	return s.write(dir, func(fr *http2.Framer) error { return fr.WriteRSTStream(id, code) })
}

// goAway writes GOAWAY.
func (s *script) goAway(dir Dir, last uint32, code http2.ErrCode, debug string) time.Time {
	return s.write(dir, func(fr *http2.Framer) error { return fr.WriteGoAway(last, code, []byte(debug)) })
}

// bytes returns what dir sent, gaps left out.
func (s *script) bytes(dir Dir) []byte {
	var b []byte
	for _, e := range s.events {
		if e.dir == dir {
			b = append(b, e.data...)
		}
	}
	return b
}

// splitMode says how events are cut into Feed calls.
type splitMode int

const (
	splitWhole splitMode = iota
	splitBytes
	splitRandom
)

func (m splitMode) String() string {
	return [...]string{"whole", "bytes", "random"}[m]
}

var allModes = []splitMode{splitWhole, splitBytes, splitRandom}

// result is what a Conn reported.
type result struct {
	log     []string // streams, sink calls and events; adjacent Data calls merged
	data    map[uint32]*[2]bytes.Buffer
	opened  []*StreamInfo
	resp    map[uint32][]Response
	ends    map[uint32]StreamEnd
	events  []ConnEvent
	info    Info
	ignored map[uint32]bool // streams the test's Stream returned nil for
}

func (r *result) logf(format string, args ...any) {
	r.log = append(r.log, fmt.Sprintf(format, args...))
}

// recSink records one stream.
type recSink struct {
	r     *result
	id    uint32
	ended bool
}

func (k *recSink) check(what string) {
	if k.ended {
		k.r.logf("stream %d: %s after End", k.id, what)
	}
}

func (k *recSink) Data(dir Dir, data []byte, t time.Time) {
	k.check("Data")
	k.r.data[k.id][dir].Write(data)
	line := fmt.Sprintf("%d %v data %s", k.id, dir, t.Format("05.000"))
	if n := len(k.r.log); n > 0 && strings.HasPrefix(k.r.log[n-1], line+" ") {
		var m int
		fmt.Sscanf(k.r.log[n-1][len(line)+1:], "%d", &m)
		k.r.log[n-1] = fmt.Sprintf("%s %d", line, m+len(data))
		return
	}
	k.r.logf("%s %d", line, len(data))
}

func (k *recSink) Gap(dir Dir, n int64, t time.Time) {
	k.check("Gap")
	k.r.logf("%d %v gap %d %s", k.id, dir, n, t.Format("05.000"))
}

func (k *recSink) Response(resp *Response, t time.Time) {
	k.check("Response")
	k.r.resp[k.id] = append(k.r.resp[k.id], *resp)
	k.r.logf("%d response %+v %s", k.id, *resp, t.Format("05.000"))
}

func (k *recSink) End(e StreamEnd) {
	k.check("End")
	k.ended = true
	k.r.ends[k.id] = e
	k.r.logf("%d end %s", k.id, fmtEnd(e))
}

func fmtEnd(e StreamEnd) string {
	s := e.How + " " + e.Time.Format("05.000")
	if e.ClientEndStream != nil {
		s += " client_es=" + e.ClientEndStream.Format("05.000")
	}
	if e.ServerEndStream != nil {
		s += " server_es=" + e.ServerEndStream.Format("05.000")
	}
	if e.RSTCode != nil {
		s += fmt.Sprintf(" rst=%s by %v", CodeName(*e.RSTCode), *e.RSTBy)
	}
	if e.GoAway != nil {
		s += fmt.Sprintf(" goaway=%+v", *e.GoAway)
	}
	return s
}

// decode feeds the script's events to a new Conn in mode, then calls Finish (unless
// noFinish), and returns what it reported. ignore lists streams whose Stream returns nil.
func decode(events []event, opts Options, mode splitMode, seed uint64, ignore ...uint32) *result {
	r := &result{
		data: map[uint32]*[2]bytes.Buffer{}, resp: map[uint32][]Response{},
		ends: map[uint32]StreamEnd{}, ignored: map[uint32]bool{},
	}
	opts.Stream = func(si *StreamInfo) Sink {
		cp := *si
		r.opened = append(r.opened, &cp)
		r.logf("%d open %+v", si.ID, cp)
		if slices.Contains(ignore, si.ID) {
			r.ignored[si.ID] = true
			return nil
		}
		r.data[si.ID] = &[2]bytes.Buffer{}
		return &recSink{r: r, id: si.ID}
	}
	opts.Event = func(e ConnEvent) {
		r.events = append(r.events, e)
		if e.GoAway != nil {
			r.logf("event %s %v %+v", e.Kind, e.Dir, *e.GoAway)
		} else {
			r.logf("event %+v", e)
		}
	}
	c := NewConn(opts)
	rng := mrand.New(mrand.NewPCG(seed, 1))
	feed := func(dir Dir, b []byte, t time.Time) {
		switch mode {
		case splitBytes:
			for i := range b {
				c.Feed(dir, b[i:i+1], t)
			}
		case splitRandom:
			for len(b) > 0 {
				n := min(len(b), 1+rng.IntN(20))
				c.Feed(dir, b[:n], t)
				b = b[n:]
			}
		default:
			c.Feed(dir, b, t)
		}
	}
	for _, e := range events {
		if e.data == nil {
			c.Gap(e.dir, e.gap, e.t)
			continue
		}
		feed(e.dir, e.data, e.t)
	}
	if len(events) > 0 {
		c.Finish(events[len(events)-1].t.Add(time.Second))
	}
	r.info = c.Info()
	return r
}

// run decodes events in every mode, checks that all give the same result, and returns the
// whole-mode one.
func run(t *testing.T, events []event, opts Options, ignore ...uint32) *result {
	t.Helper()
	var first *result
	for _, mode := range allModes {
		r := decode(events, opts, mode, 7, ignore...)
		if first == nil {
			first = r
			continue
		}
		if !slices.Equal(r.log, first.log) {
			t.Errorf("mode %v: log differs from whole:\n%s\nwant:\n%s", mode, strings.Join(r.log, "\n"), strings.Join(first.log, "\n"))
		}
		if fmt.Sprintf("%+v", r.info) != fmt.Sprintf("%+v", first.info) {
			t.Errorf("mode %v: Info\n got %+v\nwant %+v", mode, r.info, first.info)
		}
		for id, d := range first.data {
			if !bytes.Equal(r.data[id][0].Bytes(), d[0].Bytes()) || !bytes.Equal(r.data[id][1].Bytes(), d[1].Bytes()) {
				t.Errorf("mode %v: stream %d data differs", mode, id)
			}
		}
	}
	for _, l := range first.log {
		if strings.Contains(l, "after End") {
			t.Errorf("sink called after End: %s", l)
		}
	}
	return first
}

// hasProblem reports whether a problem contains sub.
func hasProblem(in Info, sub string) bool {
	return slices.ContainsFunc(in.Problems, func(p string) bool { return strings.Contains(p, sub) })
}
