package gencap

import (
	"math/rand/v2"
)

// Sides, as step directions: the sender.
const (
	client = 0
	server = 1
)

// stepKind is one action of a connection's plan.
type stepKind uint8

const (
	stSYN           stepKind = iota // SYN, SYN-ACK, ACK
	stRequest                       // the upgrade request (client)
	stResponse                      // the server's answer to it
	stData                          // a burst of n data messages from dir
	stPing                          // a ping from dir
	stPong                          // the pong answering the last ping, from dir
	stClose                         // a close frame from dir
	stAck                           // a pure ACK from dir
	stFIN                           // FIN from dir
	stRST                           // RST+ACK from dir
	stRSTAfterClose                 // RST+ACK from dir right after its close frame, no ACK first
)

// hsKind is how the server answers the upgrade.
type hsKind uint8

const (
	hsOK               hsKind = iota // 101 with the right accept key
	hs403                            // 403 Forbidden with a body
	hs426                            // 426 Upgrade Required
	hsBadAccept                      // 101 with a wrong Sec-WebSocket-Accept
	hsIgnoredProto                   // 101 without the subprotocol the client asked for (see step.lenient)
	hsUnrequestedProto               // 101 choosing a subprotocol the client did not offer
)

// offers are the subprotocol lists an upgrade request can offer, by step.offer; 0 offers
// none. A server accepting the offer picks its first entry.
var offers = [...][]string{nil, {"graphql-transport-ws", "graphql-ws"}, {"chat"}}

// step is one action of a plan.
type step struct {
	kind    stepKind
	dir     int  // sender: client or server
	n       int  // stData: messages in the burst
	offer   int  // stRequest: index in offers
	lenient bool // stRequest: a client that carries on after a 101 ignoring its subprotocol
	status  int  // stResponse
	hs      hsKind
	code    int // stClose
	hasCode bool
	reason  string
}

// isFrame reports whether s sends WebSocket frames.
func (s step) isFrame() bool {
	return s.kind == stData || s.kind == stPing || s.kind == stPong || s.kind == stClose
}

// fate is how a connection ends; fates are drawn with the weights in fates.
type fate uint8

const (
	fateCleanClient    fate = iota // client closes, server answers, TCP closes with FINs
	fateCleanServer                // server closes, client answers, FINs
	fateCleanRST                   // either side closes, the other answers, then an RST
	fateCleanOpen                  // closing handshake done, TCP still open at the end
	fateHalfClient                 // client's close unanswered, then FIN or RST
	fateHalfServer                 // server's close unanswered, then FIN or RST
	fateServerCloseRST             // server sends a close and resets at once
	fateRSTRace                    // client resets, then the server's close arrives
	fateAbnormalFIN                // FIN without any close frame
	fateAbnormalRST                // RST without any close frame
	fateRejected                   // upgrade rejected or unacceptable
	fateOpen                       // still open at the end, maybe with one close unanswered
)

// fateWeight is the weight (per 1000) of a fate.
type fateWeight struct {
	f      fate
	weight int
}

// fates are the weights of each fate in ShapeMixed.
var fates = []fateWeight{
	{fateCleanClient, 330}, {fateCleanServer, 250}, {fateCleanRST, 50}, {fateCleanOpen, 10},
	{fateHalfClient, 55}, {fateHalfServer, 55}, {fateServerCloseRST, 40}, {fateRSTRace, 10},
	{fateAbnormalFIN, 60}, {fateAbnormalRST, 60}, {fateRejected, 50}, {fateOpen, 30},
}

// busyFates are the weights of ShapeBusy: 3% rejected upgrades and 1.5% of connections
// still open at the end (they stay open from their start on, and would otherwise make up
// half of those open at once), the difference going to clean closes started by the client.
var busyFates = []fateWeight{
	{fateCleanClient, 375}, {fateCleanServer, 250}, {fateCleanRST, 50}, {fateCleanOpen, 5},
	{fateHalfClient, 55}, {fateHalfServer, 55}, {fateServerCloseRST, 40}, {fateRSTRace, 10},
	{fateAbnormalFIN, 60}, {fateAbnormalRST, 60}, {fateRejected, 30}, {fateOpen, 10},
}

// planner draws plans; it holds only the shape parameters.
type planner struct {
	meanBursts int
	// lenient is the share, per 1000 connections, of lenient clients: the server's 101
	// ignores the subprotocol they asked for and they carry on regardless, as Python
	// websockets or gorilla do (a browser or Node's ws fails the connection: the strict
	// clients among the rejected upgrades). 0 or less: none, and the plans are drawn
	// exactly as without the option.
	lenient int
	// pingEvery: a burst is followed by a ping and its pong with probability
	// 1/pingEvery (0 means 40, ShapeMixed's).
	pingEvery int
	// fates are the weights of the endings (nil means fates, ShapeMixed's).
	fates []fateWeight
	// busyMsgs: a burst has 1 to 3 messages, uniformly (ShapeBusy), instead of ShapeMixed's
	// one, 1 to 4 one time in five.
	busyMsgs bool
}

// plan draws the steps of one connection.
func (p planner) plan(r *rand.Rand) []step {
	lenient := p.lenient > 0 && r.IntN(1000) < p.lenient
	table := p.fates
	if table == nil {
		table = fates
	}
	pingEvery := p.pingEvery
	if pingEvery <= 0 {
		pingEvery = 40
	}
	f := pickFate(r, table)
	for lenient && f == fateRejected {
		f = pickFate(r, table)
	}
	hs := hsOK
	if f == fateRejected {
		hs = []hsKind{hs403, hs403, hs403, hs426, hs426, hsBadAccept, hsBadAccept,
			hsIgnoredProto, hsIgnoredProto, hsUnrequestedProto}[r.IntN(10)]
	}
	offer := 0
	switch {
	case lenient:
		hs, offer = hsIgnoredProto, 1+r.IntN(2)
	case hs == hsIgnoredProto || (hs != hsUnrequestedProto && r.IntN(5) == 0):
		offer = 1
	}
	status := 101
	switch hs {
	case hs403:
		status = 403
	case hs426:
		status = 426
	}
	steps := []step{{kind: stSYN}, {kind: stRequest, dir: client, offer: offer, lenient: lenient},
		{kind: stResponse, dir: server, status: status, hs: hs}}
	if hs != hsOK && !lenient {
		if status != 101 {
			return append(steps, step{kind: stFIN, dir: server}, step{kind: stFIN, dir: client},
				step{kind: stAck, dir: server})
		}
		// A strict client fails the connection at once, without a frame.
		if r.IntN(3) == 0 {
			return append(steps, step{kind: stRST, dir: client})
		}
		return append(steps, step{kind: stFIN, dir: client}, step{kind: stFIN, dir: server},
			step{kind: stAck, dir: client})
	}
	n := 1 + geometric(r, p.meanBursts)
	for i := range n {
		d := server
		if r.IntN(5) < 2 || (lenient && i == 0) {
			// A lenient client speaks first, so that its frames show it accepted the 101.
			d = client
		}
		m := 1
		switch {
		case p.busyMsgs:
			m += r.IntN(3)
		case r.IntN(5) == 0:
			m += r.IntN(4)
		}
		steps = append(steps, step{kind: stData, dir: d, n: m})
		if r.IntN(pingEvery) == 0 {
			pd := r.IntN(2)
			steps = append(steps, step{kind: stPing, dir: pd}, step{kind: stPong, dir: 1 - pd})
		}
	}
	return appendEnding(steps, f, r)
}

// geometric draws a geometric variable with the given mean (integer arithmetic only, so
// that every platform draws the same plans).
func geometric(r *rand.Rand, mean int) int {
	n := 0
	for r.IntN(mean+1) != 0 {
		n++
	}
	return n
}

func pickFate(r *rand.Rand, table []fateWeight) fate {
	x := r.IntN(1000)
	for _, f := range table {
		if x < f.weight {
			return f.f
		}
		x -= f.weight
	}
	return fateCleanClient
}

// appendEnding adds the steps that end a connection with fate f.
func appendEnding(s []step, f fate, r *rand.Rand) []step {
	closeStep := func(d int) step {
		c := pickClose(r)
		c.dir = d
		return c
	}
	// tcpClose: the server closes TCP first (RFC 6455 7.1.1), sometimes the client does.
	tcpClose := func(s []step) []step {
		first := server
		if r.IntN(5) == 0 {
			first = client
		}
		return append(s, step{kind: stFIN, dir: first}, step{kind: stFIN, dir: 1 - first},
			step{kind: stAck, dir: first})
	}
	switch f {
	case fateCleanClient, fateCleanServer, fateCleanRST, fateCleanOpen:
		first := client
		if f == fateCleanServer || (f != fateCleanClient && r.IntN(2) == 0) {
			first = server
		}
		c := closeStep(first)
		s = append(s, c, echo(c, r))
		switch f {
		case fateCleanRST:
			return append(s, step{kind: stRST, dir: r.IntN(2)})
		case fateCleanOpen:
			return s
		}
		return tcpClose(s)
	case fateHalfClient, fateHalfServer:
		d := client
		if f == fateHalfServer {
			d = server
		}
		s = append(s, closeStep(d), step{kind: stAck, dir: 1 - d})
		if r.IntN(10) < 3 {
			return append(s, step{kind: stRST, dir: d})
		}
		return append(s, step{kind: stFIN, dir: d}, step{kind: stFIN, dir: 1 - d}, step{kind: stAck, dir: d})
	case fateServerCloseRST:
		return append(s, closeStep(server), step{kind: stRSTAfterClose, dir: server})
	case fateRSTRace:
		return append(s, step{kind: stRST, dir: client}, closeStep(server))
	case fateAbnormalFIN:
		d := r.IntN(2)
		return append(s, step{kind: stFIN, dir: d}, step{kind: stFIN, dir: 1 - d}, step{kind: stAck, dir: d})
	case fateAbnormalRST:
		return append(s, step{kind: stRST, dir: r.IntN(2)})
	case fateOpen:
		if r.IntN(3) == 0 {
			d := r.IntN(2)
			s = append(s, closeStep(d), step{kind: stAck, dir: 1 - d})
		}
		return s
	}
	return s
}

// closeReasons are reasons for private-use (4000-4999) codes.
var closeReasons = []string{"session expired", "token revoked", "duplicate session", "rate limited",
	"room closed", "client too slow", "protocol error: unknown message type", "kicked by admin"}

// pickClose draws the close frame that starts a closing handshake.
func pickClose(r *rand.Rand) step {
	st := step{kind: stClose, hasCode: true}
	x := r.IntN(100)
	switch {
	case x < 45:
		st.code = 1000
		st.reason = []string{"", "", "bye", "normal closure", "done"}[r.IntN(5)]
	case x < 65:
		st.code = 1001
		st.reason = []string{"", "going away", "page unload", "server shutting down"}[r.IntN(4)]
	case x < 72:
		st.code = 1008
		st.reason = []string{"policy violation", "invalid token", "origin not allowed"}[r.IntN(3)]
	case x < 80:
		st.code = 1011
		st.reason = []string{"", "internal error", "upstream unavailable"}[r.IntN(3)]
	case x < 95:
		st.code = 4000 + r.IntN(1000)
		st.reason = closeReasons[r.IntN(len(closeReasons))]
	default:
		st.hasCode = false
	}
	return st
}

// echo draws the close frame answering c: usually the same code without the reason.
func echo(c step, r *rand.Rand) step {
	e := step{kind: stClose, dir: 1 - c.dir, code: c.code, hasCode: c.hasCode}
	switch x := r.IntN(10); {
	case !c.hasCode:
	case x < 2:
		e.code = 1000
	case x < 3:
		e.reason = c.reason
	}
	return e
}
