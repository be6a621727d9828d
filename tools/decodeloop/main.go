// Command decodeloop is the speed baseline for wsclosescan: the least work a Go tool built
// on gopacket does to see every TCP segment of a capture. It reads the file with pcapgo
// (pcap or pcapng, chosen by the magic number) through a 1 MiB bufio.Reader with
// ZeroCopyReadPacketData, decodes Ethernet, IPv4, IPv6 and TCP with a DecodingLayerParser
// into preallocated layers, and prints the packets and TCP segments counted. gzip input
// is inflated with the library wsclosescan uses (klauspost/compress), so that both pay the
// same for decompression.
//
// Usage:
//
//	decodeloop FILE
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/klauspost/compress/gzip"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "decodeloop: error: %v\n", err)
		os.Exit(1)
	}
}

// packetReader is what pcapgo's pcap and pcapng readers have in common.
type packetReader interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

func run(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: decodeloop FILE")
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return err
		}
		br = bufio.NewReaderSize(gz, 1<<20)
	}
	pr, err := open(br)
	if err != nil {
		return err
	}
	packets, segments, err := count(pr)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "packets %d tcp_segments %d\n", packets, segments)
	return err
}

// open picks the pcap or pcapng reader by the file's magic number.
func open(br *bufio.Reader) (packetReader, error) {
	magic, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("reading magic: %w", err)
	}
	if bytes.Equal(magic, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		return pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
	}
	return pcapgo.NewReader(br)
}

// count decodes every packet and counts those and the TCP segments among them.
func count(pr packetReader) (packets, segments int64, err error) {
	var (
		eth     layers.Ethernet
		ip4     layers.IPv4
		ip6     layers.IPv6
		tcp     layers.TCP
		payload gopacket.Payload
	)
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &tcp, &payload)
	parser.IgnoreUnsupported = true
	decoded := make([]gopacket.LayerType, 0, 8)
	for {
		data, _, err := pr.ZeroCopyReadPacketData()
		if err == io.EOF {
			return packets, segments, nil
		}
		if err != nil {
			return packets, segments, err
		}
		packets++
		_ = parser.DecodeLayers(data, &decoded) // unsupported layers are expected
		for _, lt := range decoded {
			if lt == layers.LayerTypeTCP {
				segments++
				break
			}
		}
	}
}
