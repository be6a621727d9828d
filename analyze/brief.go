package analyze

import (
	"github.com/wsclosescan/wsclosescan/layers"
	"github.com/wsclosescan/wsclosescan/report"
)

// brief returns the record of c cut to what places and counts it (Options.Brief), or nil
// when c is WebSocket or may be: TLS (what it hides may be), HTTP/2 (its streams have
// records of their own), a GET cut before its Upgrade header, or "websocket" unknown.
func brief(c *layers.Conn) *report.Record {
	ws := c.WS()
	if ws.IsWebSocket() || len(c.Streams()) > 0 {
		return nil
	}
	if _, ok := c.TLS(); ok {
		return nil
	}
	if _, ok := c.H2(); ok {
		return nil
	}
	var f facts
	factsOf(c, &f)
	if f.websocket || maybeUpgrade(&f) {
		return nil
	}
	// "websocket" is unknown only for TLS connections (addTLS), ruled out above.
	client, server := c.Endpoints()
	cs, ss := addrStrings(client, server)
	return &report.Record{
		File:       c.File(),
		Client:     cs,
		Server:     ss,
		ClientAddr: client,
		ServerAddr: server,
		Start:      report.Time{Time: c.Info.Start},
		End:        report.Time{Time: c.Last()},
		Handshake:  f.handshake,
		Verdict:    f.verdict,
	}
}
