// Package wstest builds synthetic WebSocket conversations as captured packets, for tests of
// the whole pipeline: a Conv chains TCP and WebSocket steps on top of pcapgen and wsframe,
//
//	c := wstest.NewConv("10.0.0.1:50000", "10.0.0.2:80").Upgraded().
//		Text(reassembly.ClientToServer, "hi").Close(reassembly.ServerToClient, 1011, "oops").
//		RST(reassembly.ServerToClient)
//	data, err := pcapgen.Capture(pcapgen.Options{LinkType: pcapgen.LinkEthernet}, c.Packets)
//
// Client frames are masked (with a fixed key) and server frames are not, as RFC 6455
// requires; tests that need other frames use Send with wsframe bytes.
package wstest

import (
	"net/netip"
	"sort"
	"time"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/internal/wsframe"
	"github.com/wsclosescan/wsclosescan/reassembly"
)

// Key is the Sec-WebSocket-Key of the upgrades Conv builds (RFC 6455's example).
const Key = "dGhlIHNhbXBsZSBub25jZQ=="

// MaskKey masks every client frame built by Frame.
var MaskKey = [4]byte{0x11, 0x22, 0x33, 0x44}

// Conv is one synthetic TCP connection: Conn keeps its sequence numbers and clock, and
// Packets collects what each step sent, in order.
type Conv struct {
	Conn    *pcapgen.Conn
	Packets []pcapgen.Packet
}

// NewConv starts a connection between two "ip:port" endpoints with a 100 µs clock step.
func NewConv(client, server string) *Conv {
	c := pcapgen.NewConn(netip.MustParseAddrPort(client), netip.MustParseAddrPort(server))
	c.Step = 100 * time.Microsecond
	return &Conv{Conn: c}
}

// Add appends packets built directly with Conn.
func (w *Conv) Add(p []pcapgen.Packet) *Conv {
	w.Packets = append(w.Packets, p...)
	return w
}

// SYN opens TCP: SYN, SYN-ACK, ACK.
func (w *Conv) SYN() *Conv { return w.Add(w.Conn.Handshake()) }

// Upgraded opens TCP and completes a plain upgrade of /chat.
func (w *Conv) Upgraded() *Conv {
	return w.SYN().Send(reassembly.ClientToServer, wsframe.Request("/chat", Key)).
		Send(reassembly.ServerToClient, wsframe.Response101(Key))
}

// Send sends bytes from dir, in segments of the given sizes (the rest in one more).
func (w *Conv) Send(dir reassembly.Dir, b []byte, sizes ...int) *Conv {
	return w.Add(w.Conn.Send(dir, b, sizes...))
}

// Frame sends one final frame, masked when the client sends it.
func (w *Conv) Frame(dir reassembly.Dir, op byte, payload []byte) *Conv {
	return w.Send(dir, Frame(dir, op, payload))
}

// Text sends a text frame.
func (w *Conv) Text(dir reassembly.Dir, s string) *Conv {
	return w.Frame(dir, wsframe.OpText, []byte(s))
}

// Close sends a close frame with a code and reason.
func (w *Conv) Close(dir reassembly.Dir, code uint16, reason string) *Conv {
	return w.Frame(dir, wsframe.OpClose, wsframe.Close(code, reason))
}

// FIN sends a FIN from dir.
func (w *Conv) FIN(dir reassembly.Dir) *Conv { return w.Add(w.Conn.Close(dir)) }

// RST sends a RST+ACK from dir.
func (w *Conv) RST(dir reassembly.Dir) *Conv { return w.Add(w.Conn.RSTACK(dir)) }

// Wait advances the clock by d.
func (w *Conv) Wait(d time.Duration) *Conv {
	w.Conn.Time = w.Conn.Time.Add(d)
	return w
}

// Frame returns a final frame sent from dir, masked with MaskKey when the client sends it.
func Frame(dir reassembly.Dir, op byte, payload []byte) []byte {
	f := wsframe.Frame{Fin: true, Op: op, Payload: payload}
	if dir == reassembly.ClientToServer {
		f.Masked, f.Key = true, MaskKey
	}
	return f.Bytes()
}

// Merge returns the packets of the conversations in time order (stable for equal times).
func Merge(convs ...*Conv) []pcapgen.Packet {
	var all []pcapgen.Packet
	for _, c := range convs {
		all = append(all, c.Packets...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	return all
}
