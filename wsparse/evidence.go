package wsparse

// Evidence.
//
// Nothing becomes a WebSocket connection without proof. The proofs, strongest first:
//
//   - the HTTP upgrade names websocket: a request with Upgrade: websocket, or a 101 with it;
//   - a 101 answered an upgrade request whose headers the capture cut (snaplen), and frames
//     followed it;
//   - mid-stream (no handshake captured), both directions show a chain of frame headers and
//     their mask bits differ, as a client's and a server's must (two matching close frames,
//     masked one way and not the other, are enough), or both show a full chain;
//   - mid-stream, one direction shows a full chain (chainUnknown headers) and the other
//     shows no chain at all (it sent nothing, or nothing decodable).
//
// Evidence against always wins over a chain: a stream that starts, at its first byte, with
// something other than HTTP (the SYN was captured), or with a TLS record; plain HTTP on
// either side; or frames after a mid-stream chain that break rules no peer breaks (a
// reserved opcode, RSV bits, a fragmented or oversized control frame, a non-minimal length,
// a mask bit that differs from the chain's): the chain was found by chance.

// proven reports whether the capture proves that the connection carries WebSocket.
func (c *Conn) proven() bool {
	switch {
	case c.ws:
		return true
	case c.foreign || (c.httpSeen && !c.wsWanted):
		return false
	case c.server101 && c.stats[Client].Frames+c.stats[Server].Frames > 0:
		return true
	}
	a, b := &c.dirs[Client], &c.dirs[Server]
	switch {
	case a.falseSync || b.falseSync:
		return false
	case a.chainLen > 0 && b.chainLen > 0:
		// Equal mask bits: one endpoint breaks the masking rule; full chains both ways
		// still prove the framing.
		return a.chainMasked != b.chainMasked || (a.chainLen >= chainUnknown && b.chainLen >= chainUnknown)
	}
	return a.chainLen >= chainUnknown || b.chainLen >= chainUnknown
}

// implausibleRules are the header rules that real peers keep: one broken after a mid-stream
// chain means the chain was found by chance.
const implausibleRules = vMask | vReservedOpcode | vRSV23 | vRSV1NotFirst | vControlFragmented |
	vControlTooLong | vNonMinimalLength

// implausible reports whether header h, decoded on a side that is in sync only because of a
// mid-stream chain, breaks a rule that real peers keep, so that the chain was most likely
// found by chance in another protocol's bytes. The mask bit must be the chain's.
func (c *Conn) implausible(d *direction, h *header) bool {
	r := headerRules{wantMask: d.chainMasked, maskKnown: true, rsv1OK: true, frag: fragUnknown}
	return headerViolations(h, r)&implausibleRules != 0
}

// withdrawSync gives up a mid-stream chain that the following frames disproved.
func (c *Conn) withdrawSync(d *direction) {
	d.falseSync = true
	d.byChain = false
	d.fs.inPayload, d.fs.hn = false, 0
	d.mode = modeDead
}
