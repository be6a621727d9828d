package analyze

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wsclosescan/wsclosescan/report"
	"github.com/wsclosescan/wsclosescan/wsparse"
)

// Keepalive health: pings each side sent, those never answered, how often a side pinged,
// the round-trip times, and what they say about a connection dropped after a silence.

// keepalive is what the pings of a connection show, by wsparse.Side.
type keepalive struct {
	pings        [2]int64
	unanswered   [2]int64
	lastUnanswer [2]time.Time // the last unanswered ping of the side
	interval     [2]time.Duration
	rtts         []float64 // ms, sorted
}

// idleLimits are idle timeouts that cut WebSocket connections, by the silence they leave.
var idleLimits = []struct {
	d    time.Duration
	name string
}{
	{60 * time.Second, "nginx's proxy_read_timeout (60 s by default) or an AWS ALB's idle timeout (60 s by default)"},
	{100 * time.Second, "Cloudflare's idle limit (100 s)"},
}

// idleLimitTolerance is how close a silence must be to a limit to be named after it.
const idleLimitTolerance = 0.02

// unansweredMargin: a ping sent less than this long before the end of the connection may
// have been answered too late to be captured; it does not count for the hint.
const unansweredMargin = time.Second

// matchIdleLimit names the usual idle limit that a silence matches, or "".
func matchIdleLimit(silence time.Duration) string {
	for _, l := range idleLimits {
		if diff := silence - l.d; diff <= time.Duration(float64(l.d)*idleLimitTolerance) &&
			-diff <= time.Duration(float64(l.d)*idleLimitTolerance) {
			return l.name
		}
	}
	return ""
}

// keepaliveOf matches each ping with the first later pong from the other side carrying the
// same payload.
func keepaliveOf(all []wsparse.Ping, st [2]wsparse.DirStats) (k keepalive, out []report.Ping) {
	k.pings = [2]int64{st[0].Pings, st[1].Pings}
	// Everything sized up front: a busy capture's records have a few pings each, and
	// growing the slices (and a pointer per round trip) was most of this function's cost.
	var perSide [2]int
	for _, p := range all {
		if !p.Pong {
			perSide[p.Side&1]++
		}
	}
	n := perSide[0] + perSide[1]
	out = make([]report.Ping, 0, n)
	var answeredBuf [64]bool
	answered := answeredBuf[:0]
	if len(all) <= len(answeredBuf) {
		answered = answeredBuf[:len(all)]
	} else {
		answered = make([]bool, len(all))
	}
	var times [2][]time.Time
	if n > 0 {
		both := make([]time.Time, n)
		times[0], times[1] = both[:0:perSide[0]], both[perSide[0]:perSide[0]]
		k.rtts = make([]float64, 0, n)
	}
	var rttBuf []float64 // the records' RTTMs point into it
	for i, p := range all {
		if p.Pong {
			continue
		}
		times[p.Side] = append(times[p.Side], p.Time)
		rec := report.Ping{From: recordSide(p.Side), Time: report.Time{Time: p.Time}}
		for j := i + 1; j < len(all); j++ {
			q := all[j]
			if q.Pong && !answered[j] && q.Side != p.Side && bytes.Equal(q.Payload, p.Payload) {
				answered[j] = true
				ms := float64(q.Time.Sub(p.Time)) / 1e6
				if rttBuf == nil {
					rttBuf = make([]float64, 0, n)
				}
				rttBuf = append(rttBuf, ms)
				rec.RTTMs = &rttBuf[len(rttBuf)-1]
				k.rtts = append(k.rtts, ms)
				break
			}
		}
		if rec.RTTMs == nil {
			k.unanswered[p.Side]++
			k.lastUnanswer[p.Side] = p.Time
		}
		out = append(out, rec)
	}
	slices.Sort(k.rtts)
	for s := range times {
		if n := len(times[s]); n >= 2 {
			gaps := make([]time.Duration, n-1)
			for i := range gaps {
				gaps[i] = times[s][i+1].Sub(times[s][i])
			}
			slices.Sort(gaps)
			k.interval[s] = gaps[len(gaps)/2]
		}
	}
	return k, out
}

// record fills the record's keepalive object, its numbers in st.
func (k *keepalive) record(st *recordStore) {
	r := &st.rec.Keepalive
	*r = report.Keepalive{Pings: report.PerSide{Client: k.pings[0], Server: k.pings[1]},
		Unanswered: report.PerSide{Client: k.unanswered[0], Server: k.unanswered[1]}}
	if d := k.interval[0]; d > 0 {
		r.IntervalS.Client = set(&st.interval[0], seconds(d))
	}
	if d := k.interval[1]; d > 0 {
		r.IntervalS.Server = set(&st.interval[1], seconds(d))
	}
	if n := len(k.rtts); n > 0 {
		med := k.rtts[n/2]
		if n%2 == 0 {
			med = (k.rtts[n/2-1] + k.rtts[n/2]) / 2
		}
		r.RTTMs = set(&st.rtt, report.RTTStats{Min: k.rtts[0], Median: med, Max: k.rtts[n-1]})
	}
}

// unansweredPingHint: a side's pings went unanswered well before the connection ended.
func unansweredPingHint(f *facts) string {
	end := f.last
	if f.tcpEnded {
		end = f.endTime
	}
	for _, s := range []wsparse.Side{wsparse.Client, wsparse.Server} {
		n, last := f.keep.unanswered[s], f.keep.lastUnanswer[s]
		if n == 0 || end.Sub(last) < unansweredMargin {
			continue
		}
		pings := "a ping"
		if n > 1 {
			pings = fmt.Sprintf("%d pings", n)
		}
		return fmt.Sprintf("the %s sent %s that the %s never answered with a pong (the last %s before the end): "+
			"the %s was stalled or gone, or something between them stopped forwarding; a keepalive that gets no pong "+
			"usually closes the connection", s, pings, s.Other(), report.HintDuration(end.Sub(last)), s.Other())
	}
	return ""
}

// idleLimitAdvice adds to an idle-timeout hint the limit the silence matches and what the
// pings did about it.
func idleLimitAdvice(f *facts, silence time.Duration) string {
	limit := matchIdleLimit(silence)
	if limit == "" {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "; %s matches %s", report.HintDuration(silence), limit)
	pinger, interval := wsparse.Client, f.keep.interval[wsparse.Client]
	if iv := f.keep.interval[wsparse.Server]; iv > 0 && (interval == 0 || iv < interval) {
		pinger, interval = wsparse.Server, iv
	}
	switch {
	case f.keep.pings[0]+f.keep.pings[1] == 0:
		b.WriteString(": no pings kept it busy; send pings (or data) more often than the limit, or raise it")
	case interval > silence:
		fmt.Fprintf(&b, ": the %s pinged every %s, less often than the limit; ping more often than it", pinger, report.HintDuration(interval))
	default:
		b.WriteString(": the pings stopped before it; send them more often than the limit, or raise it")
	}
	return b.String()
}
