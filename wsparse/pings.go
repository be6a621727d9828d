package wsparse

import (
	"encoding/binary"
	"time"
)

// The ping records.
//
// A connection keeps up to MaxPings ping and pong records, and a Ping is 64 bytes plus an
// allocation for its payload. The notes keep them instead as one byte string: their count
// (4 bytes), then per record its time (a nanoTime, 8 bytes), a flag byte (the side, pong, the time kept in full in
// the notes' far times) and the payload as a uvarint length and its bytes; 12 bytes for a
// ping with a 2-byte payload. Pings builds the records from it.

// Flags of a ping record.
const (
	pingServer = 1 << iota // sent by the server (else the client)
	pingPong               // a pong (else a ping)
	pingFar                // its time is in farTimes.pings
)

// farTimes are the times that a nanoTime cannot hold, kept in full.
type farTimes struct {
	last  [2]time.Time      // LastFrameTime by true side
	pings map[int]time.Time // by ping record index
}

// getFar returns the notes' far times, allocating them on first use.
func (n *notes) getFar() *farTimes {
	if n.far == nil {
		n.far = new(farTimes)
	}
	return n.far
}

// addPing records a ping or pong of side s at t with payload (nil when empty).
func (n *notes) addPing(s Side, t time.Time, pong bool, payload []byte) {
	flags := byte(s & 1)
	if pong {
		flags |= pingPong
	}
	nt := toNanoTime(t)
	if nt == farTime {
		flags |= pingFar
		f := n.getFar()
		if f.pings == nil {
			f.pings = make(map[int]time.Time)
		}
		f.pings[n.pingCount()] = t
	}
	if len(n.pings) == 0 {
		n.pings = make([]byte, pingsHead, pingsHead+12)
	}
	binary.LittleEndian.PutUint32(n.pings, uint32(n.pingCount()+1))
	n.pings = binary.LittleEndian.AppendUint64(n.pings, uint64(nt))
	n.pings = append(n.pings, flags)
	n.pings = binary.AppendUvarint(n.pings, uint64(len(payload)))
	n.pings = append(n.pings, payload...)
}

// pingsHead is the size of the count before the records.
const pingsHead = 4

// pingCount returns how many records the notes hold.
func (n *notes) pingCount() int {
	if len(n.pings) < pingsHead {
		return 0
	}
	return int(binary.LittleEndian.Uint32(n.pings))
}

// eachPing calls fn with the offset of the flag byte, the time and the payload of every
// record, in order.
func (n *notes) eachPing(fn func(flagAt int, t time.Time, payload []byte)) {
	b := n.pings
	for i, at := 0, pingsHead; at < len(b); i++ {
		nt := nanoTime(binary.LittleEndian.Uint64(b[at:]))
		flagAt := at + 8
		t := nt.time()
		if b[flagAt]&pingFar != 0 {
			t = n.far.pings[i]
		}
		length, k := binary.Uvarint(b[flagAt+1:])
		at = flagAt + 1 + k
		var payload []byte
		if length > 0 {
			payload = b[at : at+int(length) : at+int(length)]
		}
		at += int(length)
		fn(flagAt, t, payload)
	}
}

// Pings returns the ping and pong records, in stream order per side (at most MaxPings).
// Each call builds them; their payloads belong to the Conn.
func (c *Conn) Pings() []Ping {
	n := c.notes
	if n == nil || n.pingCount() == 0 {
		return nil
	}
	out := make([]Ping, 0, n.pingCount())
	n.eachPing(func(flagAt int, t time.Time, payload []byte) {
		f := n.pings[flagAt]
		out = append(out, Ping{Side: Side(f & pingServer), Time: t, Pong: f&pingPong != 0, Payload: payload})
	})
	return out
}

// swapPings turns the side of every ping record.
func (n *notes) swapPings() {
	n.eachPing(func(flagAt int, _ time.Time, _ []byte) { n.pings[flagAt] ^= pingServer })
	if n.far != nil {
		n.far.last[0], n.far.last[1] = n.far.last[1], n.far.last[0]
	}
}
