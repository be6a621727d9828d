package scan

import (
	"bytes"
	"github.com/wsclosescan/wsclosescan/internal/wstest"
	"testing"

	"github.com/wsclosescan/wsclosescan/internal/pcapgen"
	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
)

const (
	c2s = reassembly.ClientToServer
	s2c = reassembly.ServerToClient
)

// cleanConv is a WebSocket connection closed cleanly by the client with 1000 "bye".
func cleanConv(client string) *wstest.Conv {
	return wstest.NewConv(client, "10.0.0.2:80").Upgraded().Text(c2s, "hi").Text(s2c, "ho").
		Close(c2s, 1000, "bye").Close(s2c, 1000, "bye").FIN(s2c).FIN(c2s)
}

// mkCapture writes packets as a capture file with opts (Ethernet pcap for the zero value).
func mkCapture(t testing.TB, opts pcapgen.Options, pkts []pcapgen.Packet) []byte {
	t.Helper()
	if opts.LinkType == 0 && len(opts.Interfaces) == 0 {
		opts.LinkType = pcapgen.LinkEthernet
	}
	data, err := pcapgen.Capture(opts, pkts)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// result is what one scan produced.
type result struct {
	recs []report.Record
	info report.FileInfo
	err  error
}

// scanBytes runs the pipeline over one capture held in memory.
func scanBytes(name string, data []byte, opts Options) result {
	var res result
	s := New(opts, func(r *report.Record) { res.recs = append(res.recs, *r) })
	res.info, res.err = s.Read(name, bytes.NewReader(data))
	s.Flush()
	return res
}

// byClient returns the record whose client is addr, or nil.
func byClient(recs []report.Record, addr string) *report.Record {
	for i := range recs {
		if recs[i].Client == addr {
			return &recs[i]
		}
	}
	return nil
}

// closeView summarises a record for comparisons: verdict, close codes, TCP end.
type closeView struct {
	Verdict                          report.Verdict
	ClientClose, ServerClose, TCPEnd string
}

func viewOf(r *report.Record) closeView {
	sent := func(c *report.Close) string {
		if c == nil {
			return "-"
		}
		return report.CodeText(c.Code)
	}
	v := closeView{Verdict: r.Verdict, ClientClose: sent(r.ClientClose), ServerClose: sent(r.ServerClose), TCPEnd: "open"}
	if r.TCPEnd.How != nil && r.TCPEnd.First != nil {
		v.TCPEnd = *r.TCPEnd.How + " " + r.TCPEnd.First.String()
	}
	return v
}

var cleanView = closeView{Verdict: report.VerdictClean, ClientClose: "1000", ServerClose: "1000", TCPEnd: "fin server"}
