package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/wsclosescan/wsclosescan/reassembly"
)

// This file checks the reader against an oracle: gopacket's pcapgo frames the file and a
// DecodingLayerParser over Ethernet, 802.1Q, Linux cooked v1 and v2, loopback, IPv4, IPv6
// and TCP decodes each packet. Wherever that chain reaches TCP, the reader must return
// the same segment from the same packet. The reader also decodes what the chain does not
// (tunnels, fragments, IPv6 extension headers other than hop-by-hop, MPLS, ...): those
// packets are counted and logged, not compared.

// oracleSeg is the part of a TCP segment both decoders report.
type oracleSeg struct {
	time     time.Time
	src, dst netip.AddrPort
	seq, ack uint32
	flags    uint8
	window   uint16
	payload  string
}

func (s oracleSeg) String() string {
	return fmt.Sprintf("%s %v>%v seq=%d ack=%d flags=%#02x win=%d payload(%d)=%.40q",
		s.time.Format("15:04:05.000000000"), s.src, s.dst, s.seq, s.ack, s.flags, s.window, len(s.payload), s.payload)
}

// gpPacket is what gopacket made of one packet: a segment, or why not.
type gpPacket struct {
	seg    *oracleSeg
	why    string // when seg is nil: where the chain stopped
	diff   string // when seg is set: the documented difference that applies, if any
	linkTy layers.LinkType
}

// gpDecoder is the oracle's decoding loop, with its layers allocated once.
type gpDecoder struct {
	eth     layers.Ethernet
	dot1q   layers.Dot1Q
	sll     layers.LinuxSLL
	sll2    layers.LinuxSLL2
	loop    layers.Loopback
	ip4     layers.IPv4
	ip6     layers.IPv6
	tcp     layers.TCP
	parsers map[gopacket.LayerType]*gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

func newGPDecoder() *gpDecoder {
	d := &gpDecoder{parsers: map[gopacket.LayerType]*gopacket.DecodingLayerParser{}}
	for _, first := range []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeLinuxSLL,
		layers.LayerTypeLinuxSLL2, layers.LayerTypeLoopback, layers.LayerTypeIPv4, layers.LayerTypeIPv6} {
		d.parsers[first] = gopacket.NewDecodingLayerParser(first,
			&d.eth, &d.dot1q, &d.sll, &d.sll2, &d.loop, &d.ip4, &d.ip6, &d.tcp)
	}
	return d
}

// firstLayer is the layer gopacket decodes a frame of link type lt with (as its
// LinkTypeMetadata does), or LayerTypeZero when the chain has no decoder for it.
func firstLayer(lt layers.LinkType, frame []byte) gopacket.LayerType {
	switch lt {
	case layers.LinkTypeEthernet:
		return layers.LayerTypeEthernet
	case layers.LinkTypeLinuxSLL:
		return layers.LayerTypeLinuxSLL
	case layers.LinkTypeLinuxSLL2:
		return layers.LayerTypeLinuxSLL2
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return layers.LayerTypeLoopback
	case layers.LinkTypeIPv4:
		return layers.LayerTypeIPv4
	case layers.LinkTypeIPv6:
		return layers.LayerTypeIPv6
	case layers.LinkTypeRaw: // gopacket's decodeIPv4or6
		if len(frame) > 0 && frame[0]>>4 == 4 {
			return layers.LayerTypeIPv4
		}
		if len(frame) > 0 && frame[0]>>4 == 6 {
			return layers.LayerTypeIPv6
		}
	}
	return gopacket.LayerTypeZero
}

// decode decodes one frame. cut says whether the record was cut by the snapshot length.
func (d *gpDecoder) decode(lt layers.LinkType, frame []byte, ts time.Time, cut bool) gpPacket {
	p := gpPacket{linkTy: lt}
	first := firstLayer(lt, frame)
	if first == gopacket.LayerTypeZero {
		p.why = fmt.Sprintf("link type %v", lt)
		return p
	}
	parser := d.parsers[first]
	err := parser.DecodeLayers(frame, &d.decoded)
	var unsupported gopacket.UnsupportedLayerType
	tcpLast := len(d.decoded) > 0 && d.decoded[len(d.decoded)-1] == layers.LayerTypeTCP
	switch {
	case errors.As(err, &unsupported) && !tcpLast:
		p.why = fmt.Sprintf("no decoder for %v", gopacket.LayerType(unsupported))
		return p
	case err != nil && !errors.As(err, &unsupported):
		p.why = "gopacket: " + err.Error()
		return p
	case !tcpLast:
		p.why = "chain ends before TCP (an unknown EtherType or protocol)"
		return p
	}
	s := &oracleSeg{time: ts, seq: d.tcp.Seq, ack: d.tcp.Ack, flags: d.tcp.Contents[13],
		window: d.tcp.Window, payload: string(d.tcp.Payload)}
	var src, dst netip.Addr
	for _, l := range d.decoded { // the last IP header is the innermost
		switch l {
		case layers.LayerTypeIPv4:
			src, dst = netip.AddrFrom4([4]byte(d.ip4.SrcIP)), netip.AddrFrom4([4]byte(d.ip4.DstIP))
		case layers.LayerTypeIPv6:
			src, dst = netip.AddrFrom16([16]byte(d.ip6.SrcIP)), netip.AddrFrom16([16]byte(d.ip6.DstIP))
		}
	}
	s.src = netip.AddrPortFrom(src, uint16(d.tcp.SrcPort))
	s.dst = netip.AddrPortFrom(dst, uint16(d.tcp.DstPort))
	p.seg = s
	p.diff = d.knownDifference(lt, frame, parser.Truncated, cut)
	return p
}

// knownDifference returns why the reader, by design, does not return a segment that
// gopacket's chain decoded, or "" when it must.
func (d *gpDecoder) knownDifference(lt layers.LinkType, frame []byte, truncated, cut bool) string {
	vlans := 0
	for _, l := range d.decoded {
		switch {
		case l == layers.LayerTypeIPv4 && d.ip4.Version != 4, l == layers.LayerTypeIPv6 && d.ip6.Version != 6:
			// gopacket never checks the version field.
			return "IP version field disagrees with the EtherType: malformed (SkipBadIPv4/6)"
		case l == layers.LayerTypeDot1Q:
			vlans++
		}
	}
	switch {
	case truncated && !cut:
		// gopacket decodes the captured bytes and sets DecodingLayerParser.Truncated;
		// only a record the snapshot length cut may be shorter than its headers say.
		return "IP length past a record that was not cut: malformed (SkipBadIPv4/6)"
	case vlans > 8:
		return "more than 8 VLAN tags: SkipBadLinkHeader"
	case lt == layers.LinkTypeLoop && len(frame) >= 2 && frame[0] != 0:
		// LINKTYPE_LOOP is always big-endian; gopacket guesses the order as for NULL.
		return "LINKTYPE_LOOP family in little-endian order: SkipUnsupportedEncap"
	}
	return ""
}

// gopacketRead frames and decodes data (pcap or pcapng, gunzipped first) with gopacket.
// It returns one entry per packet record, and the error that stopped pcapgo, if any.
func gopacketRead(data []byte) ([]gpPacket, error) {
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		if data, err = io.ReadAll(zr); err != nil {
			return nil, err
		}
	}
	type source interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var src source
	var pcapLink layers.LinkType
	if len(data) >= 4 && isNGMagic(data) {
		ng, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return nil, err
		}
		src = ng
	} else {
		r, err := pcapgo.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		src, pcapLink = r, r.LinkType()
	}
	d := newGPDecoder()
	var pkts []gpPacket
	for {
		frame, ci, err := src.ReadPacketData()
		if err == io.EOF {
			return pkts, nil
		}
		if err != nil {
			return pkts, err
		}
		lt := pcapLink
		if len(ci.AncillaryData) > 0 {
			lt = ci.AncillaryData[0].(layers.LinkType)
		}
		pkts = append(pkts, d.decode(lt, frame, ci.Timestamp, ci.CaptureLength < ci.Length))
	}
}

// ngFacts walks the blocks of an uncompressed pcapng file as the reader frames them and
// returns, per packet block, why the two readers differ on it by design: "skip" when the
// reader skips it, "time" when only its timestamp differs, "" when neither.
func ngFacts(data []byte) ngFactList {
	type iface struct{ damaged, oddTime bool }
	var facts ngFactList
	var ifaces []iface
	var order binary.ByteOrder = binary.LittleEndian
	for off := 0; off+12 <= len(data); {
		typ := order.Uint32(data[off:])
		if binary.LittleEndian.Uint32(data[off:]) == ngSHB {
			typ = ngSHB
			switch binary.LittleEndian.Uint32(data[off+8:]) {
			case ngByteOrderMagic:
				order = binary.LittleEndian
			case 0x4d3c2b1a:
				order = binary.BigEndian
			default:
				return facts
			}
		}
		blen := int(order.Uint32(data[off+4:]))
		if blen < 12 || blen%4 != 0 || blen > len(data)-off {
			return facts
		}
		b := data[off : off+blen]
		off += blen
		damaged := blen > bufSize || int(order.Uint32(b[blen-4:])) != blen
		switch typ {
		case ngSHB:
			ifaces = ifaces[:0]
		case ngIDB:
			ifaces = append(ifaces, iface{damaged: damaged, oddTime: oddResolution(order, b[8:blen-4])})
		case ngEPB, ngOPB, ngSPB:
			var id uint32
			switch {
			case typ == ngEPB && blen >= 16:
				id = order.Uint32(b[8:])
			case typ == ngOPB && blen >= 16:
				id = uint32(order.Uint16(b[8:]))
			}
			switch {
			case damaged:
				facts = append(facts, "skip") // pcapgo never reads the trailing length
			case int(id) < len(ifaces) && ifaces[id].damaged:
				facts = append(facts, "skip") // on the stand-in for a damaged interface block
			case typ == ngSPB || int(id) < len(ifaces) && ifaces[id].oddTime:
				facts = append(facts, "time")
			default:
				facts = append(facts, "")
			}
		}
	}
	return facts
}

type ngFactList []string

func (l ngFactList) at(i int) string {
	if i < len(l) {
		return l[i]
	}
	return ""
}

// oddResolution reports whether the timestamps of an interface are computed differently
// by the two readers: pcapgo takes an if_tsresol of 0 for the default 6 (the reader for
// 10^0, as the pcapng specification says), wraps 10^-20 and finer (the reader stops at
// 10^-19), and rounds 2^-10 and finer to whole nanoseconds per unit (the reader's
// conversion is exact). Simple packet blocks have no timestamp: pcapgo gives the zero
// time, the reader the interface's offset from 1970.
func oddResolution(order binary.ByteOrder, body []byte) bool {
	if len(body) < 8 {
		return false
	}
	for opts := body[8:]; len(opts) >= 4; {
		code, n := order.Uint16(opts), int(order.Uint16(opts[2:]))
		if code == 0 || 4+n > len(opts) {
			break
		}
		if code == 9 && n >= 1 {
			v := opts[4]
			return v == 0 || v&0x80 == 0 && v > 19 || v&0x80 != 0 && v&0x7f > 9
		}
		opts = opts[4+(n+3)/4*4:]
	}
	return false
}

// ourSeg is a segment the reader returned, with the index of the packet it came from.
type ourSeg struct {
	index     int
	seg       oracleSeg
	defragged bool
}

// ourRead decodes data with the reader. It returns the segments and the error that ended
// the reading (io.EOF at a clean end).
func ourRead(t *testing.T, name string, data []byte) ([]ourSeg, error) {
	t.Helper()
	r, err := NewReader(name, bytes.NewReader(data), Options{})
	if err != nil {
		return nil, err
	}
	var segs []ourSeg
	for {
		var s reassembly.Segment
		if err := r.Next(&s); err != nil {
			return segs, err
		}
		segs = append(segs, ourSeg{index: int(r.stats.Packets) - 1, defragged: r.defragged, seg: oracleSeg{
			time: s.Time, src: s.Src, dst: s.Dst, seq: s.Seq, ack: s.Ack, flags: uint8(s.Flags),
			window: s.Window, payload: string(s.Payload)}})
	}
}

// oracleCounts sums up one capture's comparison.
type oracleCounts struct {
	packets, theirs, same int
	timeDiffs             int            // of the same segments, with a documented timestamp difference
	oursOnly, skipped     map[string]int // reason: packets
	stops                 []string       // why either stopped before the end of the file
}

// compareWithGopacket decodes data both ways and reports every disagreement.
func compareWithGopacket(t *testing.T, name string, data []byte) oracleCounts {
	t.Helper()
	c := oracleCounts{oursOnly: map[string]int{}, skipped: map[string]int{}}
	theirs, gpErr := gopacketRead(data)
	var facts ngFactList
	if len(data) >= 4 && isNGMagic(data) {
		facts = ngFacts(data)
	}
	ours, err := ourRead(t, name, data)
	if err != io.EOF {
		c.stops = append(c.stops, fmt.Sprintf("the reader stopped: %v", err))
	}
	if gpErr != nil {
		c.stops = append(c.stops, fmt.Sprintf("pcapgo stopped after %d packets: %v", len(theirs), gpErr))
	}
	c.packets = len(theirs)
	byIndex := map[int]ourSeg{}
	for _, s := range ours {
		if _, dup := byIndex[s.index]; dup {
			t.Errorf("%s: packet %d: two segments", name, s.index)
		}
		byIndex[s.index] = s
		switch {
		case s.index >= len(theirs):
			c.oursOnly["after pcapgo stopped"]++
		case s.defragged:
			c.oursOnly["reassembled from IP fragments"]++
		case theirs[s.index].seg == nil:
			c.oursOnly[theirs[s.index].why]++
		}
	}
	for i, p := range theirs {
		if p.seg == nil {
			continue
		}
		c.theirs++
		o, ok := byIndex[i]
		switch {
		case !ok && p.diff != "":
			c.skipped[p.diff]++
		case !ok && facts.at(i) == "skip":
			c.skipped["pcapng block with two lengths, or on an interface whose block has: SkipBadRecord, SkipUnknownLinkType"]++
		case !ok:
			t.Errorf("%s: packet %d (link type %v): gopacket decodes %s; the reader returns nothing", name, i, p.linkTy, p.seg)
		case o.defragged:
			t.Errorf("%s: packet %d: gopacket decodes an unfragmented %s; the reader a reassembled %s", name, i, p.seg, o.seg)
		case !sameSeg(o.seg, *p.seg, facts.at(i) != "time" && !outOfRange(p.seg.time)):
			t.Errorf("%s: packet %d:\ngopacket %s\nours     %s", name, i, p.seg, o.seg)
		default:
			c.same++
			if !o.seg.time.Equal(p.seg.time) {
				c.timeDiffs++
			}
		}
	}
	return c
}

// outOfRange reports whether gopacket's time t is one the reader clamps (Stats.Clamped).
func outOfRange(t time.Time) bool { return t.Before(MinTime) || t.After(MaxTime) }

// sameSeg reports whether the reader's segment a is gopacket's b, comparing the times
// when withTime is set (see oddResolution for when it is not). They may differ in one
// documented way: pcapgo multiplies a pcap record's microseconds field by 1000 in a
// uint32 (read.go, readPacketHeader), which wraps for a field of 4294968 or more (an
// invalid value: a second or more); the reader computes it in an int64.
func sameSeg(a, b oracleSeg, withTime bool) bool {
	d := a.time.Sub(b.time)
	wrapped := d > 0 && d%(1<<32) == 0
	a.time, b.time = time.Time{}, time.Time{}
	return a == b && (d == 0 || wrapped || !withTime)
}

func (c oracleCounts) String() string {
	s := fmt.Sprintf("%d packets, %d TCP in gopacket's chain, %d identical", c.packets, c.theirs, c.same)
	if c.timeDiffs > 0 {
		s += fmt.Sprintf(" (%d at another time, as documented)", c.timeDiffs)
	}
	for _, stop := range c.stops {
		s += "; " + stop
	}
	for _, m := range []struct {
		what string
		n    map[string]int
	}{{"ours only", c.oursOnly}, {"gopacket only, documented", c.skipped}} {
		for _, k := range slices.Sorted(mapKeys(m.n)) {
			s += fmt.Sprintf("; %s: %d (%s)", m.what, m.n[k], k)
		}
	}
	return s
}

func mapKeys(m map[string]int) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// readSeed returns the []byte value of a Go fuzz corpus file.
func readSeed(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rest, ok := strings.CutPrefix(string(b), "go test fuzz v1\n[]byte(")
	if !ok {
		return nil, fmt.Errorf("%s: not a []byte fuzz seed", path)
	}
	rest, ok = strings.CutSuffix(strings.TrimRight(rest, "\n"), ")")
	if !ok {
		return nil, fmt.Errorf("%s: not a []byte fuzz seed", path)
	}
	s, err := strconv.Unquote(rest)
	return []byte(s), err
}

// TestAgreesWithGopacket compares the reader with gopacket on every recording in
// testdata/pcaps and every committed fuzz seed of this package.
func TestAgreesWithGopacket(t *testing.T) {
	recordings, _ := filepath.Glob(filepath.Join("..", "testdata", "pcaps", "*.pcap*"))
	seeds, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "*", "*"))
	if len(recordings) == 0 || len(seeds) == 0 {
		t.Fatalf("found %d recordings and %d fuzz seeds", len(recordings), len(seeds))
	}
	total := 0
	for _, path := range append(recordings, seeds...) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			var data []byte
			var err error
			if strings.Contains(path, "fuzz") {
				data, err = readSeed(path)
			} else {
				data, err = os.ReadFile(path)
			}
			if err != nil {
				t.Fatal(err)
			}
			c := compareWithGopacket(t, path, data)
			t.Log(c)
			if !strings.Contains(path, "fuzz") && (c.theirs == 0 || c.same != c.packets) {
				// The recordings are plain Ethernet or Linux cooked v2 TCP.
				t.Errorf("%s: %v; want every packet decoded by both", path, c)
			}
			total += c.same
		})
	}
	if total < 500 {
		t.Errorf("only %d segments compared", total)
	}
}

// TestMutatedAgreeWithGopacket compares the reader with gopacket on every fuzz seed with
// each byte changed in turn: its low bit flipped (lengths, flags, counts), its high bit
// flipped (versions, offsets, byte orders) and zeroed. Single-byte changes of the seeds
// found the pcapng interface renumbering after a damaged block, and the differences
// knownDifference, ngFacts and sameSeg document.
func TestMutatedAgreeWithGopacket(t *testing.T) {
	if testing.Short() {
		t.Skip("about 60,000 captures")
	}
	seeds, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "*", "*"))
	total := oracleCounts{oursOnly: map[string]int{}, skipped: map[string]int{}}
	for _, path := range seeds {
		seed, err := readSeed(path)
		if err != nil {
			t.Fatal(err)
		}
		if seed[0] == 0x1f { // gzip: a change breaks the checksum
			continue
		}
		for i := range seed {
			for _, v := range []byte{seed[i] ^ 0x01, seed[i] ^ 0x80, 0} {
				data := bytes.Clone(seed)
				data[i] = v
				c := compareWithGopacket(t, fmt.Sprintf("%s with byte %d = %#02x", filepath.Base(path), i, v), data)
				total.add(c)
			}
			if t.Failed() {
				t.FailNow()
			}
		}
	}
	t.Log(total)
}

func (c *oracleCounts) add(d oracleCounts) {
	c.packets += d.packets
	c.theirs += d.theirs
	c.same += d.same
	c.timeDiffs += d.timeDiffs
	for k, n := range d.oursOnly {
		c.oursOnly[k] += n
	}
	for k, n := range d.skipped {
		c.skipped[k] += n
	}
}
