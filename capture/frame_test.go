package capture

import (
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/reassembly"
)

// TestFrameNumbers: every packet record counts, as Wireshark numbers frames: non-TCP
// packets, malformed ones and IP fragments too; a reassembled datagram has the number of
// the fragment that completed it.
func TestFrameNumbers(t *testing.T) {
	udp := pcapgen.Link{Type: pcapgen.LinkEthernet}.Frame(pcapgen.IP{Src: client4.Addr(), Dst: server4.Addr(),
		Proto: pcapgen.ProtoUDP}.Packet(pcapgen.UDP(client4, server4, []byte("dns?"))))
	short := []byte{1, 2, 3} // a truncated Ethernet header: skipped, but still a frame
	c := pcapgen.NewConn(client4, server4)
	var pkts []pcapgen.Packet
	other := func(b []byte) { pkts = append(pkts, pcapgen.Packet{Time: c.Time, Data: b}) }
	other(udp)                            // frame 1
	pkts = append(pkts, c.Handshake()...) // frames 2, 3, 4
	other(short)                          // frame 5
	c.Encap = pcapgen.Fragmenter4(24)
	pkts = append(pkts, c.Send(reassembly.ClientToServer, []byte("0123456789abcdef0123456789abcdef"))...)
	n := len(pkts) // the last fragment completes the datagram
	c.Encap = nil
	other(udp)
	pkts = append(pkts, c.Close(reassembly.ServerToClient)...)
	want := []uint64{2, 3, 4, uint64(n), uint64(len(pkts))}

	for _, f := range []pcapgen.Format{pcapgen.FormatPcap, pcapgen.FormatPcapNG} {
		segs, st, err := readAll(t, mustCapture(t, pcapgen.Options{Format: f, LinkType: pcapgen.LinkEthernet}, pkts), Options{})
		wantEOF(t, err)
		if st.Packets != int64(len(pkts)) {
			t.Errorf("format %v: got %d packets, want %d", f, st.Packets, len(pkts))
		}
		var got []uint64
		for _, s := range segs {
			got = append(got, s.Frame)
		}
		if len(got) != len(want) {
			t.Fatalf("format %v: got frames %v, want %v", f, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("format %v: got frames %v, want %v", f, got, want)
				break
			}
		}
	}
}
