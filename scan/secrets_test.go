package scan

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
)

// TestSecrets: the TLS key logs of a capture's decryption secrets blocks (one before the
// packets, one after) reach Options.Secrets with the file's name, exactly and in order;
// other secrets types do not; the records are those of the capture without the blocks. A
// damaged block is a warning.
func TestSecrets(t *testing.T) {
	pkts := cleanConv("10.0.0.1:50000").Packets
	first := []byte("CLIENT_RANDOM 00 11\n")
	last := []byte("# odd length\r\nSERVER_TRAFFIC_SECRET_0 22 33") // 43 bytes, padded
	var buf bytes.Buffer
	w, err := pcapgen.NewWriter(&buf, pcapgen.Options{Format: pcapgen.FormatPcapNG, LinkType: pcapgen.LinkEthernet})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.Secrets(pcapgen.SecretsTLSKeyLog, first))
	must(w.WriteAll(pkts[:4]))
	must(w.Secrets(0x57474b4c, []byte("wireguard keys")))
	must(w.WriteAll(pkts[4:]))
	must(w.Secrets(pcapgen.SecretsTLSKeyLog, last))
	must(w.Block(10, []byte{'K', 'S', 'L', 'T', 0xff, 0, 0, 0})) // secrets past the block

	type call struct{ file, data string }
	var got []call
	var kinds []uint32
	opts := DefaultOptions()
	opts.Secrets = func(file string, data []byte) { got = append(got, call{file, string(data)}) }
	opts.Capture.Secrets = func(kind uint32, _ []byte) { kinds = append(kinds, kind) }
	res := scanBytes("keys.pcapng", buf.Bytes(), opts)
	if res.err != nil {
		t.Fatal(res.err)
	}
	want := []call{{"keys.pcapng", string(first)}, {"keys.pcapng", string(last)}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got secrets %q, want %q", got, want)
	}
	if wantKinds := []uint32{pcapgen.SecretsTLSKeyLog, 0x57474b4c, pcapgen.SecretsTLSKeyLog}; !reflect.DeepEqual(kinds, wantKinds) {
		t.Errorf("Capture.Secrets got kinds %#x, want %#x", kinds, wantKinds)
	}
	wantWarn := []string{"keys.pcapng: 1 pcapng decryption secrets block(s) are damaged; their keys were not read"}
	if !reflect.DeepEqual(res.info.Warnings, wantWarn) {
		t.Errorf("got warnings %q, want %q", res.info.Warnings, wantWarn)
	}
	plain := scanBytes("keys.pcapng", mkCapture(t, pcapgen.Options{Format: pcapgen.FormatPcapNG}, pkts), DefaultOptions())
	if len(res.recs) != 1 || !reflect.DeepEqual(res.recs, plain.recs) {
		t.Errorf("got records %+v,\nwant %+v", res.recs, plain.recs)
	}
	if v := viewOf(&res.recs[0]); v != cleanView {
		t.Errorf("got %+v, want %+v", v, cleanView)
	}
}
