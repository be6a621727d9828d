package h2demux

import (
	"encoding/binary"
	"flag"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/fuzzseed"
	"golang.org/x/net/http2"
)

var updateSeeds = flag.Bool("update", false, "rewrite testdata/fuzz/FuzzFeed seeds")

// fuzzInput packs a connection for FuzzFeed: the client bytes' length (2 bytes), the client
// bytes, the server bytes.
func fuzzInput(s *script) []byte {
	c, sv := s.bytes(ClientToServer), s.bytes(ServerToClient)
	c = c[:min(len(c), 0xffff)]
	return slices.Concat(binary.BigEndian.AppendUint16(nil, uint16(len(c))), c, sv)
}

// fuzzSeeds builds the seed corpus from scripted connections.
func fuzzSeeds(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{}
	s := newScript(t)
	s.start(1)
	s.headers(ClientToServer, 1, true, ":method", "GET", ":scheme", "https", ":path", "/", ":authority", "a")
	s.connect(3, "/chat", "sec-websocket-protocol", "chat")
	s.accept(3, "sec-websocket-protocol", "chat")
	s.data(ClientToServer, 3, false, clientText)
	s.data(ServerToClient, 3, false, serverText)
	s.data(ClientToServer, 3, true, clientClose)
	s.data(ServerToClient, 3, true, serverClose)
	seeds["chromium"] = fuzzInput(s)

	s = newScript(t)
	s.start(1)
	s.connect(1, "/a")
	s.connect(3, "/b")
	s.accept(1)
	s.headers(ServerToClient, 3, true, ":status", "404")
	s.data(ServerToClient, 1, true, serverClose)
	s.rst(ServerToClient, 1, http2.ErrCodeNo)
	s.rst(ClientToServer, 3, http2.ErrCodeCancel)
	s.write(ServerToClient, func(fr *http2.Framer) error { return fr.WritePing(false, [8]byte{7}) })
	s.goAway(ServerToClient, 1, http2.ErrCodeNo, "bye")
	seeds["go-server-rejected-goaway"] = fuzzInput(s)

	s = newScript(t)
	s.start(1)
	blk := s.block(ClientToServer, ":method", "CONNECT", ":protocol", "websocket", ":scheme", "http", ":path", "/p", ":authority", "h")
	s.write(ClientToServer, func(fr *http2.Framer) error {
		return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: blk[:4], PadLength: 3, Priority: http2.PriorityParam{Weight: 9}})
	})
	s.write(ClientToServer, func(fr *http2.Framer) error { return fr.WriteContinuation(1, true, blk[4:]) })
	s.accept(1)
	s.write(ServerToClient, func(fr *http2.Framer) error { return fr.WriteDataPadded(1, false, serverText, make([]byte, 5)) })
	s.write(ClientToServer, func(fr *http2.Framer) error { return fr.WriteDataPadded(1, true, clientClose, []byte{0}) })
	s.raw(ClientToServer, rawFrame(0xfa, 0, 1, []byte("unknown")))
	seeds["padded-continuation"] = fuzzInput(s)
	return seeds
}

func TestFuzzSeeds(t *testing.T) {
	fuzzseed.Check(t, filepath.Join("testdata", "fuzz", "FuzzFeed"), fuzzSeeds(t), *updateSeeds,
		"go test ./h2demux -run TestFuzzSeeds -update")
}

// fuzzEvents unpacks a FuzzFeed input into interleaved events: chunks of varying sizes,
// client and server in turn.
func fuzzEvents(data []byte) []event {
	if len(data) < 2 {
		return nil
	}
	n := min(int(binary.BigEndian.Uint16(data)), len(data)-2)
	side := [2][]byte{data[2 : 2+n], data[2+n:]}
	var events []event
	for i := 0; len(side[0])+len(side[1]) > 0; i++ {
		dir := Dir(i & 1)
		k := min(len(side[dir]), 1+(i*37)%97)
		if k == 0 {
			continue
		}
		events = append(events, event{dir: dir, data: side[dir][:k], t: base.Add(time.Duration(i) * time.Millisecond)})
		side[dir] = side[dir][k:]
	}
	return events
}

// FuzzFeed checks that any bytes are decoded without panics, the same way however they are
// split, and that sinks see nothing after End.
func FuzzFeed(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		events := fuzzEvents(data)
		whole := decode(events, Options{MaxStreams: 8}, splitWhole, 1)
		bytewise := decode(events, Options{MaxStreams: 8}, splitBytes, 1)
		if !slices.Equal(whole.log, bytewise.log) {
			t.Fatalf("byte by byte differs:\n%s\nwhole:\n%s", strings.Join(bytewise.log, "\n"), strings.Join(whole.log, "\n"))
		}
		for _, l := range whole.log {
			if strings.Contains(l, "after End") {
				t.Fatalf("sink called after End: %s", l)
			}
		}
		if len(whole.info.Problems) > maxProblems || len(whole.info.GoAways) > maxGoAways {
			t.Fatalf("Info unbounded: %d problems, %d GOAWAYs", len(whole.info.Problems), len(whole.info.GoAways))
		}
		// The same with a gap in each direction.
		if len(events) > 2 {
			gapped := slices.Clone(events)
			gapped = slices.Insert(gapped, len(events)/2, event{dir: 0, gap: int64(len(data) % 29), t: events[len(events)/2].t},
				event{dir: 1, gap: int64(len(data) % 3), t: events[len(events)/2].t})
			r := decode(gapped, Options{}, splitRandom, uint64(len(data)))
			for _, l := range r.log {
				if strings.Contains(l, "after End") {
					t.Fatalf("sink called after End: %s", l)
				}
			}
		}
	})
}
