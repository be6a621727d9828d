package wsparse

import (
	"bytes"
	"reflect"
	"testing"
	"time"
)

// TestPingRecords checks that the packed ping records come back as they were recorded:
// sides, pongs, payloads (nil when empty, 4 KiB ones) and times a nanoTime cannot hold;
// and that turning the sides turns every record and nothing else.
func TestPingRecords(t *testing.T) {
	want := []Ping{
		{Side: Client, Time: t0, Payload: []byte("hb")},
		{Side: Server, Time: t0.Add(1), Pong: true, Payload: []byte("hb")},
		{Side: Client, Time: time.Unix(0, 0).UTC()},
		{Side: Server, Time: time.Date(3000, 1, 1, 0, 0, 0, 1, time.UTC), Pong: true, Payload: bytes.Repeat([]byte{0xff}, 4096)},
		{Side: Client, Time: t0.Add(time.Hour), Payload: []byte{0}},
	}
	var n notes
	for _, p := range want {
		n.addPing(p.Side, p.Time, p.Pong, p.Payload)
	}
	c := &Conn{notes: &n}
	if got := c.Pings(); !reflect.DeepEqual(got, want) {
		t.Errorf("Pings:\n got %+v\nwant %+v", got, want)
	}
	n.swapPings()
	got := c.Pings()
	for i := range want {
		want[i].Side = want[i].Side.Other()
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Pings after the swap:\n got %+v\nwant %+v", got, want)
	}
	// A payload must not reach into the next record's bytes.
	if p := got[0].Payload; cap(p) != len(p) {
		t.Errorf("payload has capacity %d beyond its length %d", cap(p), len(p))
	}
	if (&Conn{}).Pings() != nil || (&Conn{notes: &notes{}}).Pings() != nil {
		t.Error("Pings of a connection without pings is not nil")
	}
}
