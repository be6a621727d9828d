package wsparse

import (
	"encoding/binary"
	"reflect"
	"unsafe"

	"github.com/wsclosescan/wsclosescan/internal/statepack"
)

// connPlan packs the numbers of a Conn for AppendSleep. The fields it does not pack are
// the ones a sleeping Conn has none of, the hooks and limits Wake gives it again, and the
// packed handshake and pings, which AppendSleep copies.
var connPlan = statepack.New(reflect.TypeFor[Conn](),
	"opts", "pool", // Wake's Options and Pool
	"hs", "dirs.http", "dirs.sc", "dirs.fs.ctrl", // none while asleep (AppendSleep)
	"hsp", "notes", "closes") // copied

// closePlan packs a close frame; its Reason is copied, and one with Problems stays awake.
// findingPlan packs a finding; its Code and Detail are copied.
var (
	closePlan   = statepack.New(reflect.TypeFor[CloseFrame](), "Reason", "Problems")
	findingPlan = statepack.New(reflect.TypeFor[Finding](), "Code", "Detail")
)

// maxSleepPings bounds the packed ping records (bytes) a sleeping Conn keeps: one with more
// stays awake.
const maxSleepPings = 512

// AppendSleep appends the state of c, a Conn of a Pool, to b, so that the Pool's Wake
// can rebuild it, and reports whether it could: not while c is making a handshake, holds
// bytes back, speaks HTTP, is inside a control frame with a payload, or has seen an invalid
// close frame (or any close frame, with Options.OnEvent: the Event holds it), a time a
// nanoTime cannot hold or (with Options.Payloads) a message, nor when it kept many pings.
// base is a time near the connection's (its start, UnixNano), which keeps the times short.
// c is not changed; once its state is kept, the caller gives c back to its Pool (Put) and
// uses it no more.
func (c *Conn) AppendSleep(b []byte, base int64) ([]byte, bool) {
	if c.pool == nil || c.hs != nil {
		return b, false
	}
	for i := range c.dirs {
		if d := &c.dirs[i]; d.http != nil || d.sc != nil || d.fs.ctrl != nil {
			return b, false
		}
	}
	var pings []byte
	if n := c.notes; n != nil {
		if n.pl != nil || n.far != nil || len(n.pings) > maxSleepPings {
			return b, false
		}
		pings = n.pings
	}
	b, ok := connPlan.Append(b, unsafe.Pointer(c), base)
	if !ok {
		return b, false
	}
	hsp := []byte(c.packed())
	b = binary.AppendUvarint(b, uint64(len(hsp)))
	b = append(b, hsp...)
	b = binary.AppendUvarint(b, uint64(len(pings)))
	b = append(b, pings...)
	for _, cf := range c.closes {
		if cf != nil && c.opts.OnEvent != nil {
			return b, false // an Event has it: woken, the Conn would update another
		}
		if b, ok = appendClose(b, cf, base); !ok {
			return b, false
		}
	}
	var findings []Finding
	if c.notes != nil {
		findings = c.notes.findings
	}
	b = binary.AppendUvarint(b, uint64(len(findings)))
	for i := range findings {
		f := &findings[i]
		if b, ok = findingPlan.Append(b, unsafe.Pointer(f), base); !ok {
			return b, false
		}
		for _, str := range [...]string{string(f.Code), f.Detail} {
			b = binary.AppendUvarint(b, uint64(len(str)))
			b = append(b, str...)
		}
	}
	return b, true
}

// readFindings reads the findings AppendSleep appended at the start of b.
func readFindings(b []byte, base int64) (fs []Finding, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, b, false
	}
	b = b[k:]
	if n > 0 {
		fs = make([]Finding, n)
	}
	for i := range fs {
		if b, ok = findingPlan.Read(b, unsafe.Pointer(&fs[i]), base); !ok {
			return nil, b, false
		}
		var code, detail []byte
		if code, b, ok = bytesAt(b); !ok {
			return nil, b, false
		}
		if detail, b, ok = bytesAt(b); !ok {
			return nil, b, false
		}
		fs[i].Code, fs[i].Detail = FindingCode(code), string(detail)
	}
	return fs, b, true
}

// appendClose appends close frame cf (or nil) for AppendSleep.
func appendClose(b []byte, cf *CloseFrame, base int64) (_ []byte, ok bool) {
	if cf == nil {
		return append(b, 0), true
	}
	if len(cf.Problems) > 0 {
		return b, false
	}
	b = append(b, 1)
	if b, ok = closePlan.Append(b, unsafe.Pointer(cf), base); !ok {
		return b, false
	}
	return appendOptBytes(b, cf.Reason), true
}

// readClose reads what appendClose appended at the start of b.
func readClose(b []byte, base int64) (cf *CloseFrame, rest []byte, ok bool) {
	switch {
	case len(b) == 0 || b[0] > 1:
		return nil, b, false
	case b[0] == 0:
		return nil, b[1:], true
	}
	cf = new(CloseFrame)
	if b, ok = closePlan.Read(b[1:], unsafe.Pointer(cf), base); !ok {
		return nil, b, false
	}
	cf.Reason, b, ok = optBytesAt(b)
	return cf, b, ok
}

// appendOptBytes appends v, which may be nil, for optBytesAt: nil and empty differ.
func appendOptBytes(b, v []byte) []byte {
	if v == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(v))+1)
	return append(b, v...)
}

// optBytesAt reads what appendOptBytes appended at the start of b, as a copy.
func optBytesAt(b []byte) (v, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	switch {
	case k <= 0 || n > uint64(len(b)-k)+1:
		return nil, b, false
	case n == 0:
		return nil, b[k:], true
	}
	end := k + int(n-1)
	return append([]byte{}, b[k:end]...), b[end:], true
}

// Wake returns a Conn of p rebuilt with opts from what AppendSleep appended at the start
// of b, and the rest of b; ok is false (and c nil) if b does not hold such a state.
func (p *Pool) Wake(opts Options, b []byte, base int64) (c *Conn, rest []byte, ok bool) {
	c = p.Get(opts)
	saved := c.opts
	if b, ok = connPlan.Read(b, unsafe.Pointer(c), base); !ok {
		p.Put(c)
		return nil, b, false
	}
	c.opts = saved
	var hsp, pings []byte
	if hsp, b, ok = bytesAt(b); !ok {
		p.Put(c)
		return nil, b, false
	}
	if pings, b, ok = bytesAt(b); !ok {
		p.Put(c)
		return nil, b, false
	}
	for i := range c.closes {
		if c.closes[i], b, ok = readClose(b, base); !ok {
			p.Put(c)
			return nil, b, false
		}
	}
	var findings []Finding
	if findings, b, ok = readFindings(b, base); !ok {
		p.Put(c)
		return nil, b, false
	}
	if len(hsp) > 0 {
		if len(hsp) < 4 || int(binary.LittleEndian.Uint32(hsp)) != len(hsp) {
			p.Put(c) // a packed handshake says its length
			return nil, b, false
		}
		c.hsp = unsafe.StringData(string(hsp))
	}
	if len(pings) > 0 || findings != nil {
		c.notes = &notes{findings: findings}
		if len(pings) > 0 {
			c.notes.pings = append([]byte(nil), pings...)
		}
	}
	return c, b, true
}

// bytesAt reads a length and that many bytes from the start of b.
func bytesAt(b []byte) (v, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, b, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}
