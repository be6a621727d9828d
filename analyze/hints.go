package analyze

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wsclosescan/wsclosescan/reassembly"
	"github.com/wsclosescan/wsclosescan/report"
	"github.com/wsclosescan/wsclosescan/wsparse"
)

// MaybeUpgradeHint starts the hint of a connection that is not proven WebSocket because the
// capture cut its GET before the Upgrade header.
const MaybeUpgradeHint = "the capture cut this GET before its Upgrade header: it may have been a WebSocket upgrade"

// resetSoonAfterClose is how soon after its own close frame a RST counts as "right after".
const resetSoonAfterClose = time.Second

// maybeUpgrade reports whether a connection not proven WebSocket may have been one: the
// capture cut its GET before the Upgrade header (the hint MaybeUpgradeHint).
func maybeUpgrade(f *facts) bool {
	// A 2xx or 3xx answer is what plain HTTP gets: no reason to suspect an upgrade.
	hs := f.hs
	return !f.websocket && hs != nil && hs.RequestSeen && hs.HeadersTruncated && !(hs.Status >= 200 && hs.Status < 400)
}

// hints explains in plain language why the connection ended the way it did. Each rule looks
// at the facts only; the README lists them.
func hints(f *facts, opts Options) []string {
	idle := opts.IdleHint
	h := []string{}
	if !f.websocket {
		if hs := f.hs; maybeUpgrade(f) {
			answer := "no answer was captured"
			if hs.ResponseSeen {
				answer = "the server answered " + strconv.Itoa(hs.Status)
			}
			h = append(h, MaybeUpgradeHint+" ("+answer+"); capture with a larger snaplen (tcpdump -s 0) to tell")
		}
		return h
	}
	h = append(h, handshakeHints(f)...)
	if f.verdict == report.VerdictHandshakeFailed {
		return h
	}
	for _, s := range []wsparse.Side{wsparse.Client, wsparse.Server} {
		if x := resetAfterClose(f, s); x != "" {
			h = append(h, x)
		}
	}
	for _, s := range []wsparse.Side{wsparse.Client, wsparse.Server} {
		if x := closedBeforePeerClose(f, s); x != "" {
			h = append(h, x)
		}
	}
	if x := unansweredClose(f); x != "" {
		h = append(h, x)
	}
	for _, s := range []wsparse.Side{wsparse.Client, wsparse.Server} {
		if x := invalidCloseHint(f, s); x != "" {
			h = append(h, x)
		}
	}
	if f.verdict == report.VerdictAbnormal {
		h = append(h, abnormalHint(f, idle))
	}
	if x := unansweredPingHint(f); x != "" {
		h = append(h, x)
	}
	for _, s := range []wsparse.Side{wsparse.Client, wsparse.Server} {
		if x := missingCloseHint(f, s); x != "" {
			h = append(h, x)
		}
	}
	if f.verdict == report.VerdictOpenAtEnd {
		if f.damage != "" && f.released == reassembly.EndFlushed {
			return append([]string{openAtEndHint(f, opts)}, h...) // the damage first: it is why
		}
		h = append(h, openAtEndHint(f, opts))
	}
	return h
}

// openAtEndHint says why a connection is open at the end: the capture ended, or this tool
// let the connection go before it ended (its later packets were then dropped, not analysed).
func openAtEndHint(f *facts, opts Options) string {
	switch f.released {
	case reassembly.EndIdle:
		after := "the --idle-timeout"
		if opts.IdleTimeout > 0 {
			after = report.HintDuration(opts.IdleTimeout) + " (--idle-timeout)"
		}
		return fmt.Sprintf("released by wsclosescan after %s of silence, before it ended: its later packets "+
			"were not analysed; raise or drop --idle-timeout to see how it ends", after)
	case reassembly.EndEvicted:
		return "released by wsclosescan before it ended, as too many connections were open at once (--max-conns): " +
			"its later packets were not analysed; raise --max-conns to see how it ends"
	}
	if f.damage != "" {
		return damageHint(f.damageFile, f.damage)
	}
	return "the capture ended while the connection was still open: capture for longer to see how it ends"
}

// damageHint says that a file's damage, not the end of the capture, cut the connection.
func damageHint(file, what string) string {
	return file + " ends in damage after this connection's last packet (" + what + "): how it ended " +
		"may be in the part that could not be read, so capturing for longer is not the answer; repair the file " +
		"or capture again"
}

func handshakeHints(f *facts) []string {
	hs := f.hs
	switch {
	case f.handshake == report.HandshakeIncomplete && f.tcpEnded:
		return []string{fmt.Sprintf("the upgrade request got no response before %s from the %s: the client reports 1006",
			strings.ToUpper(f.endHow), f.endSide)}
	case f.lenient:
		return []string{lenientHint(hs)}
	case f.handshake == report.HandshakeCompleted && hs != nil && hs.Failure != "":
		return []string{"a compliant client must refuse this 101 (" + hs.Failure + "); the capture ends before this " +
			"client showed what it did (a browser or Node ws closes TCP and reports 1006)"}
	case f.handshake != report.HandshakeRejected:
		return nil
	case strings.HasPrefix(hs.Failure, "server ignored the requested subprotocol"):
		return []string{"the browser fails the connection because the server ignored the requested subprotocol: " +
			"a browser's onclose reports 1006; make the server echo one of the offered subprotocols"}
	case strings.Contains(hs.Failure, "accept key"):
		return []string{"the client fails the connection because Sec-WebSocket-Accept is not derived from its " +
			"Sec-WebSocket-Key: it reports 1006; look for a proxy that rewrites the key or a broken server"}
	case hs.Status != 101 && hs.Status != 0:
		return []string{fmt.Sprintf("the server refused the upgrade (%s): the client's API reports 1006 and "+
			"browsers do not expose the HTTP status; %s", hs.Failure, refusalAdvice(hs))}
	}
	return []string{"the client fails the connection: " + hs.Failure + "; its API reports 1006"}
}

// refusalAdvice says what a refused upgrade's status most likely means and what to check.
func refusalAdvice(hs *wsparse.Handshake) string {
	switch st := hs.Status; {
	case st == 404:
		return "nothing serves WebSocket at " + quotePath(hs.Path) + ": check the URL's path and the route in the " +
			"server or the proxy (an nginx location, an ingress path, a trailing slash)"
	case st == 200 || st == 400:
		return "an answer of " + strconv.Itoa(st) + " to an upgrade usually means a proxy dropped the Upgrade and Connection headers " +
			"(they are hop-by-hop: nginx needs proxy_http_version 1.1 and proxy_set_header Upgrade $http_upgrade and " +
			"Connection \"upgrade\"), or that nothing speaks WebSocket on that path"
	case st == 301 || st == 302 || st == 303 || st == 307 || st == 308:
		return "browsers and most clients do not follow redirects on a WebSocket upgrade: connect to the URL the " +
			"redirect names (often https instead of http, or a trailing slash)"
	case st == 401 || st == 403:
		origin := ""
		if hs.Origin != "" {
			origin = " (the request's Origin is " + strconv.Quote(hs.Origin) + ")"
		}
		return "authentication or authorization failed, or the server's Origin check refused the " +
			"page" + origin + ": check the credentials (cookie, token) and the allowed origins"
	case st == 426:
		want := ""
		if hs.ServerVersions != "" {
			want = " (the server asks for Sec-WebSocket-Version " + hs.ServerVersions + ")"
		}
		return "the server does not accept this client's WebSocket version " +
			strconv.Quote(hs.Version) + want
	case st == 502 || st == 503 || st == 504:
		return "a " + strconv.Itoa(st) + " comes from a proxy or load balancer that could not get an answer from the " +
			"backend behind it: check that backend (is it running, healthy, reachable, fast enough?), not the client"
	}
	return "check the server's logs, its Origin check and authentication"
}

func quotePath(p string) string {
	if p == "" {
		return "this path"
	}
	return strconv.Quote(p)
}

// lenientHint: the client carried on after a 101 that a strict client refuses.
func lenientHint(hs *wsparse.Handshake) string {
	if strings.HasPrefix(hs.Failure, "server ignored the requested subprotocol") {
		return hs.Failure + ": this client carried on (it sent frames after the 101), but a browser or " +
			"Node ws fails such a connection and reports 1006; make the server echo one of the offered subprotocols"
	}
	return "a compliant client would have refused this 101 (" + hs.Failure + ") and reported 1006; " +
		"this client carried on (it sent frames after the 101)"
}

// resetAfterClose: s sent a close frame, then reset the connection shortly after, before
// the peer answered, or after the answer but without a FIN (the answer sat unread).
func resetAfterClose(f *facts, s wsparse.Side) string {
	cl, rst := f.close[s], f.ends[s].RST
	if cl == nil || rst.IsZero() || rst.Before(cl.Time) || rst.Sub(cl.Time) > resetSoonAfterClose {
		return ""
	}
	if peer := f.close[s.Other()]; peer != nil && peer.Time.Before(rst) {
		if fin := f.ends[s].FIN; !peer.Time.After(cl.Time) || f.received[s.Other()] || (!fin.IsZero() && fin.Before(rst)) || f.stream {
			return ""
		}
		return fmt.Sprintf("%s sent %s, the %s answered, and the %s reset the connection %s after its close "+
			"without a FIN: a socket closed with unread data answers with RST, so the %s most likely never read "+
			"the answer and its API reports 1006", s, describeClose(cl), s.Other(), s, report.HintDuration(rst.Sub(cl.Time)), s)
	}
	sent, would := "close without a code", "1005"
	if cl.HasCode {
		sent, would = fmt.Sprintf("close %d", cl.Code), fmt.Sprint(int(cl.Code))
	}
	what := "connection"
	if f.stream {
		what = "HTTP/2 stream (RST_STREAM)"
	}
	return fmt.Sprintf("%s sent %s then reset the %s %s later: the %s reports 1006, not %s, "+
		"if the reset arrives before it reads the close frame", s, sent, what, report.HintDuration(rst.Sub(cl.Time)), s.Other(), would)
}

// closedBeforePeerClose: s ended TCP before the peer's close frame was on the wire.
func closedBeforePeerClose(f *facts, s wsparse.Side) string {
	t, how := endOf(&f.ends[s])
	peer := f.close[s.Other()]
	if how == "" || peer == nil || !t.Before(peer.Time) {
		return ""
	}
	if f.received[s.Other()] && f.stream {
		return "" // END_STREAM with the close frame is what browsers do on HTTP/2: the stream stays readable
	}
	if f.received[s.Other()] {
		return fmt.Sprintf("%s sent its FIN before the %s's close arrived; no RST followed, so it may still have "+
			"read it (a TCP half-close)", s, s.Other())
	}
	return fmt.Sprintf("%s closed TCP before the %s's close arrived: its application never saw the %s's code",
		s, s.Other(), s.Other())
}

// unansweredClose: one side sent a close frame, the other never answered, and TCP ended.
func unansweredClose(f *facts) string {
	if !f.tcpEnded {
		return ""
	}
	for _, s := range []wsparse.Side{wsparse.Client, wsparse.Server} {
		cl, peer := f.close[s], f.close[s.Other()]
		if cl == nil || peer != nil || f.closeUnknown(s.Other()) || resetAfterClose(f, s) != "" {
			continue
		}
		who := fmt.Sprintf("%s by %s", strings.ToUpper(f.endHow), f.endSide)
		return fmt.Sprintf("the %s sent %s but the %s never answered with a close frame before TCP ended (%s): "+
			"the %s reports 1006, the %s %s", s, describeClose(cl), s.Other(), who, s, s.Other(), observedText(f.observed[s.Other()]))
	}
	return ""
}

func abnormalHint(f *facts, idle time.Duration) string {
	how, ended := strings.ToUpper(f.endHow), "TCP ended"
	if f.stream {
		how, ended = report.StreamEndName(f.endHow), "the HTTP/2 stream ended"
	}
	la := lastActivity(f)
	if !la.IsZero() && f.endTime.Sub(la) >= idle {
		quiet := fmt.Sprintf("no frames for %.1f s", seconds(f.endTime.Sub(la)))
		if f.lastFrame.IsZero() {
			quiet = fmt.Sprintf("no frames at all for %.1f s after the handshake", seconds(f.endTime.Sub(la)))
		}
		return fmt.Sprintf("%s, then %s from the %s: looks like an idle timeout in the %s or a proxy%s",
			quiet, how, f.endSide, f.endSide, idleLimitAdvice(f, f.endTime.Sub(la)))
	}
	return fmt.Sprintf("%s (%s from the %s) without a close frame from either side: both APIs report 1006; "+
		"look for a crashed or killed process, or a proxy or load balancer that cut the connection", ended, how, f.endSide)
}

// missingCloseHint: bytes are missing from s's stream and no close frame of s was seen, so
// the capture cannot tell whether s sent one.
func missingCloseHint(f *facts, s wsparse.Side) string {
	if !f.closeUnknown(s) {
		return ""
	}
	advice := "capture closer to the " + s.String()
	switch f.lastGap[s].Cause {
	case reassembly.GapSnaplen:
		advice = "capture with a larger snaplen (tcpdump -s 0)"
	case reassembly.GapLost:
		advice = "the capture lost packets: check tcpdump's \"dropped by kernel\" count, give it a larger buffer (-B), " +
			"or capture closer to the " + s.String()
	case reassembly.GapBufferLimit:
		advice = "raise --max-conn-buffer or --max-buffer"
	}
	return fmt.Sprintf("bytes are missing from the %s's stream near its end: a close frame may have been lost "+
		"from the capture, not from the connection; %s", s, advice)
}

func describeClose(c *wsparse.CloseFrame) string {
	if !c.HasCode {
		return "a close frame without a code"
	}
	return fmt.Sprintf("close %d", c.Code)
}

func observedText(c apiCode) string {
	if !c.ok {
		return "nothing yet"
	}
	return strconv.Itoa(c.code)
}

// invalidCloseHint: s sent a malformed close frame, which strict and lenient peers treat
// differently.
func invalidCloseHint(f *facts, s wsparse.Side) string {
	cl := f.close[s]
	if cl == nil || cl.Valid() || !f.received[s] {
		return ""
	}
	peer, what := s.Other(), strings.Join(cl.Problems, "; ")
	lenient := "1005"
	if cl.HasCode {
		lenient = fmt.Sprint(int(cl.Code))
	}
	answer := f.close[peer]
	switch {
	case f.failed[peer]:
		return fmt.Sprintf("the %s's close frame is invalid (%s): the %s failed the connection, answering with close %d, "+
			"so its API reports 1006", s, what, peer, answer.Code)
	case answer != nil && answer.Time.After(cl.Time):
		return fmt.Sprintf("the %s's close frame is invalid (%s): the %s answered it as if valid; a strict peer "+
			"(browsers, Node ws, Python websockets) fails the connection with close 1002 and reports 1006", s, what, peer)
	}
	if lenient == "1006" {
		lenient = "1006 too, the code it was sent, which looks like a dropped connection"
	}
	return fmt.Sprintf("the %s's close frame is invalid (%s): a strict %s fails the connection (sending 1002) and "+
		"reports 1006; a lenient one reports %s", s, what, peer, lenient)
}
