package layers

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"time"
	"unsafe"

	"github.com/wsclosescan/wsclosescan/internal/offheap"
	"github.com/wsclosescan/wsclosescan/internal/statepack"
	"github.com/wsclosescan/wsclosescan/reassembly"
)

// Sleeping connections. When the assembler tracks so many connections that their state
// matters (reassembly.Options.SleepFrom), an idle one whose layers hold nothing but
// numbers (no TLS or HTTP/2 layer, no gap notes or timeline, and a decoder between
// handshakes, outside HTTP and not holding bytes back; see
// wsparse.Conn.AppendSleep) is packed into a few hundred bytes off the Go heap, and its
// structs go back to the pools. Its next call rebuilds them: what it reports is what it
// would have reported awake.
//
// What a sleeping connection drops: the frame numbers of all but its latest ringInline
// segments each way. They serve bytes the decoder holds back, which it holds none of.

// connPlan and ringsPlan pack a Conn and its frame rings; the fields they skip are rebuilt
// by Wake (Info, f, file, ws, stamps) or are nil while asleep.
var (
	connPlan  = statepack.New(reflect.TypeFor[Conn](), "file", "Info", "f", "ws", "tls", "h2", "stream", "stamps", "ends", "rare")
	ringsPlan = statepack.New(reflect.TypeFor[[2]stampRing](), "more")
	endsPlan  = statepack.New(reflect.TypeFor[[2]TCPEnd]())
)

// Nap names a sleeping connection of a Factory.
type Nap offheap.Handle

// Sleep puts s, a Stream of f for a TCP connection, to sleep if it can, and returns the
// Nap that Wake takes to rebuild it. s must not be used afterwards, unless ok is false.
func (f *Factory) Sleep(s reassembly.Stream) (n Nap, ok bool) {
	ts, ok := s.(*tcpStream)
	if !ok {
		return 0, false
	}
	c := (*Conn)(ts)
	base := c.Info.Start.UnixNano()
	if c.ws == nil || c.tls != nil || c.h2 != nil || c.stream != nil || c.rare != nil ||
		c.Info.Acks == nil || time.Unix(0, base).UTC() != c.Info.Start || c.Info != c.Info.Acks.Info() {
		return 0, false
	}
	b := f.napBuf[:0]
	b = binary.AppendUvarint(b, uint64(f.fileIndex(c.file)))
	b, ok = connPlan.Append(b, unsafe.Pointer(c), base)
	rings := latestStamps(c.stamps)
	if ok {
		b, ok = ringsPlan.Append(b, unsafe.Pointer(&rings), base)
	}
	if ok && c.ends == nil {
		b = append(b, 0)
	} else if ok {
		b = append(b, 1)
		b, ok = endsPlan.Append(b, unsafe.Pointer(c.ends), base)
	}
	if ok {
		b, ok = c.ws.AppendSleep(b, base)
	}
	f.napBuf = b[:0]
	if !ok {
		return 0, false
	}
	h := f.naps.Put(b)
	if h == 0 {
		return 0, false // too long to keep
	}
	f.pool.Put(c.ws)
	c.ws = nil
	f.putRings(c.stamps)
	c.stamps = nil
	f.putEnds(c.ends)
	c.ends = nil
	return Nap(h), true
}

// Wake returns the Stream that went to sleep as n, rebuilt; acks is the AckWatch its
// ConnInfo had. n must not be used again.
func (f *Factory) Wake(n Nap, acks *reassembly.AckWatch) reassembly.Stream {
	h := offheap.Handle(n)
	b := f.naps.Get(h)
	c := &Conn{f: f, Info: acks.Info()}
	base := c.Info.Start.UnixNano()
	file, k := binary.Uvarint(b)
	ok := k > 0 && file < uint64(len(f.files))+1
	if ok {
		c.file = f.fileAt(int(file))
		b, ok = connPlan.Read(b[k:], unsafe.Pointer(c), base)
	}
	if ok {
		c.stamps = f.getRings()
		b, ok = ringsPlan.Read(b, unsafe.Pointer(c.stamps), base)
		for d := range c.stamps {
			if r := &c.stamps[d]; r.more != nil {
				copy(r.more[:], r.inline[:r.n])
			}
		}
	}
	switch {
	case !ok || len(b) == 0 || b[0] > 1:
		ok = false
	case b[0] == 0:
		b = b[1:]
	default:
		c.ends = f.getEnds()
		b, ok = endsPlan.Read(b[1:], unsafe.Pointer(c.ends), base)
	}
	if ok {
		c.ws, b, ok = f.pool.Wake(f.wsOptions(c, (*handoff)(c)), b, base)
	}
	if !ok || len(b) != 0 {
		panic(fmt.Sprintf("layers: the sleeping state of %v-%v does not read back", c.Info.Client, c.Info.Server))
	}
	f.naps.Free(h)
	return (*tcpStream)(c)
}

// latestStamps returns rings that hold (inline) the latest ringInline stamps of r, oldest
// first, as a ring that never grew would.
func latestStamps(r *[2]stampRing) [2]stampRing {
	var out [2]stampRing
	for d := range r {
		s := r[d].stamps()
		n := min(len(s), ringInline)
		for i := range n {
			out[d].inline[n-1-i] = s[r[d].latest(i)]
		}
		out[d].n = uint8(n)
	}
	return out
}

// fileIndex returns the index in f.files, plus one, of file (0 for nil).
func (f *Factory) fileIndex(file *string) int {
	for i := len(f.files) - 1; i >= 0; i-- {
		if f.files[i] == file {
			return i + 1
		}
	}
	return 0
}

// fileAt undoes fileIndex.
func (f *Factory) fileAt(i int) *string {
	if i == 0 {
		return nil
	}
	return f.files[i-1]
}

// Sleeping returns the bytes the sleeping connections take.
func (f *Factory) Sleeping() int64 { return f.naps.Bytes() }
