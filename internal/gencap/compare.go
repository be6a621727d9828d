package gencap

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
)

// maxMismatches bounds the list CompareTruth returns; a last line counts the rest.
const maxMismatches = 200

// CompareTruth checks wsclosescan records (JSON objects as in report.Record, decoded into
// maps) against a truth file written by Generate and returns one line per difference, in
// truth order, then records that are not in the truth: a missing or extra connection, or a
// field whose value differs ("100.64.0.1:32768 -> 203.0.113.10:80: verdict: got
// half_closed, want clean"). An empty result means every connection matches. Numbers may be
// float64 (encoding/json's default), json.Number or int.
//
// Records that are not in the truth and whose verdict is not_websocket (wsclosescan lists
// them with --all: the SYN flood's half-open connections) are not differences;
// CompareTruthAll counts them.
func CompareTruth(truth io.Reader, records []map[string]any) []string {
	out, _ := CompareTruthAll(truth, records)
	return out
}

// CompareTruthAll is CompareTruth, also returning the number of not_websocket records
// that are not in the truth and were not compared.
func CompareTruthAll(truth io.Reader, records []map[string]any) (out []string, ignored int) {
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	byConn := make(map[string]map[string]any, len(records))
	for i, r := range records {
		k := key(str(r["client"]), str(r["server"]))
		if _, dup := byConn[k]; dup {
			add("%s: record %d repeats a connection", k, i)
			continue
		}
		byConn[k] = r
	}
	seen := make(map[string]bool, len(records))
	sc := bufio.NewScanner(truth)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var t Truth
		if err := json.Unmarshal(sc.Bytes(), &t); err != nil {
			add("truth line %d: %v", line, err)
			continue
		}
		k := key(t.Client, t.Server)
		seen[k] = true
		r, ok := byConn[k]
		if !ok {
			add("%s: missing from the records (want verdict %s)", k, t.Verdict)
			continue
		}
		for _, d := range diffRecord(&t, r) {
			add("%s: %s", k, d)
		}
	}
	if err := sc.Err(); err != nil {
		add("truth line %d: %v", line+1, err)
	}
	for _, r := range records {
		k := key(str(r["client"]), str(r["server"]))
		switch {
		case seen[k]:
		case r["verdict"] == "not_websocket":
			ignored++
		default:
			add("%s: record not in the truth (verdict %v)", k, r["verdict"])
		}
		seen[k] = true
	}
	if len(out) > maxMismatches {
		n := len(out) - maxMismatches
		out = append(out[:maxMismatches], fmt.Sprintf("... and %d more", n))
	}
	return out, ignored
}

func key(client, server string) string { return client + " -> " + server }

// diffRecord lists the fields of r that differ from t.
func diffRecord(t *Truth, r map[string]any) []string {
	var out []string
	check := func(field string, got any, want any) {
		if !sameValue(got, want) {
			out = append(out, fmt.Sprintf("%s: got %s, want %s", field, show(got), show(want)))
		}
	}
	check("handshake", r["handshake"], t.Handshake)
	check("handshake_error", r["handshake_error"], t.HandshakeError)
	check("http_status", r["http_status"], t.HTTPStatus)
	check("subprotocol", r["subprotocol"], t.Subprotocol)
	for _, c := range []struct {
		name   string
		code   *int
		reason *string
	}{{"client_close", t.ClientCloseCode, t.ClientCloseReason}, {"server_close", t.ServerCloseCode, t.ServerCloseReason}} {
		m, isMap := r[c.name].(map[string]any)
		switch {
		case c.reason == nil && r[c.name] != nil:
			out = append(out, fmt.Sprintf("%s: got a close frame, want none", c.name))
		case c.reason != nil && !isMap:
			out = append(out, fmt.Sprintf("%s: got %s, want a close frame", c.name, show(r[c.name])))
		case c.reason != nil:
			check(c.name+".code", m["code"], c.code)
			check(c.name+".reason", m["reason"], *c.reason)
		}
	}
	check("first_close", r["first_close"], t.FirstClose)
	end, _ := r["tcp_end"].(map[string]any)
	check("tcp_end.first", end["first"], t.TCPEndFirst)
	check("tcp_end.how", end["how"], t.TCPEndHow)
	check("client_observed", r["client_observed"], t.ClientObserved)
	check("server_observed", r["server_observed"], t.ServerObserved)
	check("verdict", r["verdict"], string(t.Verdict))
	return out
}

// sameValue compares a decoded JSON value with a truth value (string, *string, *int).
func sameValue(got, want any) bool {
	switch w := want.(type) {
	case string:
		g, ok := got.(string)
		return ok && g == w
	case *string:
		if w == nil {
			return got == nil
		}
		g, ok := got.(string)
		return ok && g == *w
	case *int:
		if w == nil {
			return got == nil
		}
		g, ok := number(got)
		return ok && g == float64(*w)
	}
	return false
}

// number converts a decoded JSON number to float64.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, !math.IsNaN(n)
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

// show formats a value for a mismatch line: null, a number, or a quoted string.
func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case *int:
		if x == nil {
			return "null"
		}
		return strconv.Itoa(*x)
	case *string:
		if x == nil {
			return "null"
		}
		return strconv.Quote(*x)
	case string:
		return strconv.Quote(x)
	case map[string]any, []any:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
