package gencap

import (
	"encoding/json"
	"strings"
	"testing"
)

// stepsFor builds a plan: an accepted handshake, one data burst, then the ending.
func stepsFor(ending ...step) []step {
	return append([]step{{kind: stSYN}, {kind: stRequest}, {kind: stResponse, dir: server, status: 101},
		{kind: stData, dir: server, n: 1}}, ending...)
}

// ignoredProto builds a plan whose request offers offers[offer] and whose 101 ignores it,
// then the steps after the 101.
func ignoredProto(offer int, lenient bool, after ...step) []step {
	return append([]step{{kind: stSYN}, {kind: stRequest, offer: offer, lenient: lenient},
		{kind: stResponse, dir: server, status: 101, hs: hsIgnoredProto}}, after...)
}

func closeOf(d, code int, reason string) step {
	return step{kind: stClose, dir: d, code: code, hasCode: code != 0, reason: reason}
}

func TestDeriveTruth(t *testing.T) {
	fin := func(d int) step { return step{kind: stFIN, dir: d} }
	rst := func(d int) step { return step{kind: stRST, dir: d} }
	tests := []struct {
		name  string
		steps []step
		want  string // JSON of the fields after client and server
	}{
		{"clean-client-first", stepsFor(closeOf(client, 1001, "bye"), closeOf(server, 1001, ""), fin(server), fin(client)),
			`"handshake":"completed","handshake_error":null,"http_status":101,"subprotocol":null,"client_close_code":1001,"client_close_reason":"bye","server_close_code":1001,"server_close_reason":"","first_close":"client","tcp_end_first":"server","tcp_end_how":"fin","client_observed":1001,"server_observed":1001,"verdict":"clean"`},
		{"clean-empty-codes", stepsFor(closeOf(server, 0, ""), closeOf(client, 0, ""), fin(client)),
			`"handshake":"completed","handshake_error":null,"http_status":101,"subprotocol":null,"client_close_code":null,"client_close_reason":"","server_close_code":null,"server_close_reason":"","first_close":"server","tcp_end_first":"client","tcp_end_how":"fin","client_observed":1005,"server_observed":1005,"verdict":"clean"`},
		{"clean-then-rst", stepsFor(closeOf(server, 4001, "x"), closeOf(client, 1000, ""), rst(client)),
			`"handshake":"completed","handshake_error":null,"http_status":101,"subprotocol":null,"client_close_code":1000,"client_close_reason":"","server_close_code":4001,"server_close_reason":"x","first_close":"server","tcp_end_first":"client","tcp_end_how":"rst","client_observed":4001,"server_observed":1000,"verdict":"clean"`},
		{"clean-still-open", stepsFor(closeOf(client, 1000, ""), closeOf(server, 1000, "")),
			`"handshake":"completed","handshake_error":null,"http_status":101,"subprotocol":null,"client_close_code":1000,"client_close_reason":"","server_close_code":1000,"server_close_reason":"","first_close":"client","tcp_end_first":null,"tcp_end_how":null,"client_observed":1000,"server_observed":1000,"verdict":"clean"`},
		{"unanswered-client-close", stepsFor(closeOf(client, 1008, "policy violation"), step{kind: stAck, dir: server}, fin(client), fin(server)),
			`"handshake":"completed","handshake_error":null,"http_status":101,"subprotocol":null,"client_close_code":1008,"client_close_reason":"policy violation","server_close_code":null,"server_close_reason":null,"first_close":"client","tcp_end_first":"client","tcp_end_how":"fin","client_observed":1006,"server_observed":1008,"verdict":"half_closed"`},
		{"server-close-then-rst", stepsFor(closeOf(server, 1011, "internal error"), step{kind: stRSTAfterClose, dir: server}),
			`"handshake":"completed","handshake_error":null,"http_status":101,"subprotocol":null,"client_close_code":null,"client_close_reason":null,"server_close_code":1011,"server_close_reason":"internal error","first_close":"server","tcp_end_first":"server","tcp_end_how":"rst","client_observed":1011,"server_observed":1006,"verdict":"half_closed"`},
		{"close-after-peer-rst", stepsFor(rst(client), closeOf(server, 1001, "")),
			`"handshake":"completed","handshake_error":null,"http_status":101,"subprotocol":null,"client_close_code":null,"client_close_reason":null,"server_close_code":1001,"server_close_reason":"","first_close":"server","tcp_end_first":"client","tcp_end_how":"rst","client_observed":1006,"server_observed":1006,"verdict":"half_closed"`},
		{"abnormal-fin", stepsFor(fin(server), fin(client)),
			`"handshake":"completed","handshake_error":null,"http_status":101,"subprotocol":null,"client_close_code":null,"client_close_reason":null,"server_close_code":null,"server_close_reason":null,"first_close":null,"tcp_end_first":"server","tcp_end_how":"fin","client_observed":1006,"server_observed":1006,"verdict":"abnormal"`},
		{"open-with-close", stepsFor(closeOf(server, 4999, "kicked by admin")),
			`"handshake":"completed","handshake_error":null,"http_status":101,"subprotocol":null,"client_close_code":null,"client_close_reason":null,"server_close_code":4999,"server_close_reason":"kicked by admin","first_close":"server","tcp_end_first":null,"tcp_end_how":null,"client_observed":null,"server_observed":null,"verdict":"open_at_end"`},
		{"open", stepsFor(),
			`"handshake":"completed","handshake_error":null,"http_status":101,"subprotocol":null,"client_close_code":null,"client_close_reason":null,"server_close_code":null,"server_close_reason":null,"first_close":null,"tcp_end_first":null,"tcp_end_how":null,"client_observed":null,"server_observed":null,"verdict":"open_at_end"`},
		{"rejected-403", []step{{kind: stSYN}, {kind: stRequest}, {kind: stResponse, dir: server, status: 403, hs: hs403}, fin(server), fin(client)},
			`"handshake":"rejected","handshake_error":"server answered 403 Forbidden","http_status":403,"subprotocol":null,"client_close_code":null,"client_close_reason":null,"server_close_code":null,"server_close_reason":null,"first_close":null,"tcp_end_first":"server","tcp_end_how":"fin","client_observed":1006,"server_observed":1006,"verdict":"handshake_failed"`},
		{"bad-accept", []step{{kind: stSYN}, {kind: stRequest}, {kind: stResponse, dir: server, status: 101, hs: hsBadAccept}, rst(client)},
			`"handshake":"rejected","handshake_error":"accept key does not match the request key","http_status":101,"subprotocol":null,"client_close_code":null,"client_close_reason":null,"server_close_code":null,"server_close_reason":null,"first_close":null,"tcp_end_first":"client","tcp_end_how":"rst","client_observed":1006,"server_observed":1006,"verdict":"handshake_failed"`},
	}
	data := func(d int) step { return step{kind: stData, dir: d, n: 1} }
	const ignored1 = `"handshake_error":"server ignored the requested subprotocol \"chat\"","http_status":101,"subprotocol":null`
	const ignored2 = `"handshake_error":"server ignored the requested subprotocols \"graphql-transport-ws\", \"graphql-ws\"","http_status":101,"subprotocol":null`
	tests = append(tests, []struct {
		name  string
		steps []step
		want  string
	}{
		{"subprotocol-chosen", []step{{kind: stSYN}, {kind: stRequest, offer: 2}, {kind: stResponse, dir: server, status: 101}, rst(server)},
			`"handshake":"completed","handshake_error":null,"http_status":101,"subprotocol":"chat","client_close_code":null,"client_close_reason":null,"server_close_code":null,"server_close_reason":null,"first_close":null,"tcp_end_first":"server","tcp_end_how":"rst","client_observed":1006,"server_observed":1006,"verdict":"abnormal"`},
		{"unrequested-subprotocol", []step{{kind: stSYN}, {kind: stRequest}, {kind: stResponse, dir: server, status: 101, hs: hsUnrequestedProto}, fin(client), fin(server)},
			`"handshake":"rejected","handshake_error":"server chose subprotocol \"v2.stream\" that the client did not offer","http_status":101,"subprotocol":"v2.stream","client_close_code":null,"client_close_reason":null,"server_close_code":null,"server_close_reason":null,"first_close":null,"tcp_end_first":"client","tcp_end_how":"fin","client_observed":1006,"server_observed":1006,"verdict":"handshake_failed"`},
		{"rejected-426", []step{{kind: stSYN}, {kind: stRequest}, {kind: stResponse, dir: server, status: 426, hs: hs426}, fin(server), fin(client)},
			`"handshake":"rejected","handshake_error":"server does not support WebSocket version 13 (it supports 13)","http_status":426,"subprotocol":null,"client_close_code":null,"client_close_reason":null,"server_close_code":null,"server_close_reason":null,"first_close":null,"tcp_end_first":"server","tcp_end_how":"fin","client_observed":1006,"server_observed":1006,"verdict":"handshake_failed"`},
		// A strict client (a browser, Node's ws) fails the connection at once.
		{"ignored-subprotocol-strict-fin", ignoredProto(1, false, fin(client), fin(server)),
			`"handshake":"rejected",` + ignored2 + `,"client_close_code":null,"client_close_reason":null,"server_close_code":null,"server_close_reason":null,"first_close":null,"tcp_end_first":"client","tcp_end_how":"fin","client_observed":1006,"server_observed":1006,"verdict":"handshake_failed"`},
		{"ignored-subprotocol-strict-rst", ignoredProto(2, false, rst(client)),
			`"handshake":"rejected",` + ignored1 + `,"client_close_code":null,"client_close_reason":null,"server_close_code":null,"server_close_reason":null,"first_close":null,"tcp_end_first":"client","tcp_end_how":"rst","client_observed":1006,"server_observed":1006,"verdict":"handshake_failed"`},
		// A lenient client carries on: judged as if the 101 had been right.
		{"ignored-subprotocol-lenient-clean", ignoredProto(2, true, data(client), data(server), closeOf(server, 1000, "bye"), closeOf(client, 1000, ""), fin(server), fin(client)),
			`"handshake":"completed",` + ignored1 + `,"client_close_code":1000,"client_close_reason":"","server_close_code":1000,"server_close_reason":"bye","first_close":"server","tcp_end_first":"server","tcp_end_how":"fin","client_observed":1000,"server_observed":1000,"verdict":"clean"`},
		{"ignored-subprotocol-lenient-half-closed", ignoredProto(1, true, data(client), closeOf(client, 4001, "x"), step{kind: stAck, dir: server}, rst(client)),
			`"handshake":"completed",` + ignored2 + `,"client_close_code":4001,"client_close_reason":"x","server_close_code":null,"server_close_reason":null,"first_close":"client","tcp_end_first":"client","tcp_end_how":"rst","client_observed":1006,"server_observed":4001,"verdict":"half_closed"`},
		{"ignored-subprotocol-lenient-abnormal", ignoredProto(2, true, step{kind: stPing, dir: client}, step{kind: stPong, dir: server}, fin(server), fin(client)),
			`"handshake":"completed",` + ignored1 + `,"client_close_code":null,"client_close_reason":null,"server_close_code":null,"server_close_reason":null,"first_close":null,"tcp_end_first":"server","tcp_end_how":"fin","client_observed":1006,"server_observed":1006,"verdict":"abnormal"`},
		{"ignored-subprotocol-lenient-open", ignoredProto(2, true, data(client)),
			`"handshake":"completed",` + ignored1 + `,"client_close_code":null,"client_close_reason":null,"server_close_code":null,"server_close_reason":null,"first_close":null,"tcp_end_first":null,"tcp_end_how":null,"client_observed":null,"server_observed":null,"verdict":"open_at_end"`},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(deriveTruth("c", "s", tt.steps))
			if err != nil {
				t.Fatal(err)
			}
			want := `{"client":"c","server":"s",` + tt.want + `}`
			if got := string(b); got != want {
				t.Errorf("truth:\n got %v\nwant %v", got, want)
			}
		})
	}
}

const truthLine = `{"client":"10.0.0.1:40000","server":"10.0.0.2:80","handshake":"completed","handshake_error":null,"http_status":101,"subprotocol":null,"client_close_code":1000,"client_close_reason":"bye","server_close_code":null,"server_close_reason":"","first_close":"client","tcp_end_first":"server","tcp_end_how":"fin","client_observed":1005,"server_observed":1000,"verdict":"clean"}`

// record returns the record matching truthLine, changed by edit.
func record(edit func(map[string]any)) map[string]any {
	r := map[string]any{
		"client": "10.0.0.1:40000", "server": "10.0.0.2:80", "handshake": "completed", "handshake_error": nil,
		"http_status": 101.0, "subprotocol": nil,
		"client_close": map[string]any{"code": 1000.0, "reason": "bye", "valid": true},
		"server_close": map[string]any{"code": nil, "reason": ""},
		"first_close":  "client", "tcp_end": map[string]any{"first": "server", "how": "fin", "time": "x"},
		"client_observed": 1005.0, "server_observed": json.Number("1000"), "verdict": "clean",
		"websocket": true, "bytes": map[string]any{"client": 1.0},
	}
	if edit != nil {
		edit(r)
	}
	return r
}

func TestCompareTruth(t *testing.T) {
	other := func(r map[string]any) { r["client"] = "10.0.0.9:1" }
	tests := []struct {
		name    string
		truth   string
		records []map[string]any
		want    []string
	}{
		{"match", truthLine, []map[string]any{record(nil)}, nil},
		{"match-int-numbers", truthLine, []map[string]any{record(func(r map[string]any) {
			r["http_status"], r["client_observed"] = 101, int64(1005)
		})}, nil},
		{"verdict-and-observed", truthLine, []map[string]any{record(func(r map[string]any) {
			r["verdict"], r["server_observed"] = "half_closed", nil
		})}, []string{
			`10.0.0.1:40000 -> 10.0.0.2:80: server_observed: got null, want 1000`,
			`10.0.0.1:40000 -> 10.0.0.2:80: verdict: got "half_closed", want "clean"`,
		}},
		{"handshake-judged-strictly", truthLine, []map[string]any{record(func(r map[string]any) {
			r["handshake"], r["handshake_error"] = "rejected", `server ignored the requested subprotocol "chat"`
		})}, []string{
			`10.0.0.1:40000 -> 10.0.0.2:80: handshake: got "rejected", want "completed"`,
			`10.0.0.1:40000 -> 10.0.0.2:80: handshake_error: got "server ignored the requested subprotocol \"chat\"", want null`,
		}},
		{"subprotocol-differs", truthLine, []map[string]any{record(func(r map[string]any) { r["subprotocol"] = "chat" })},
			[]string{`10.0.0.1:40000 -> 10.0.0.2:80: subprotocol: got "chat", want null`}},
		{"close-missing", truthLine, []map[string]any{record(func(r map[string]any) { r["server_close"] = nil })},
			[]string{`10.0.0.1:40000 -> 10.0.0.2:80: server_close: got null, want a close frame`}},
		{"close-code-differs", truthLine, []map[string]any{record(func(r map[string]any) {
			r["client_close"] = map[string]any{"code": nil, "reason": "bye"}
		})}, []string{`10.0.0.1:40000 -> 10.0.0.2:80: client_close.code: got null, want 1000`}},
		{"tcp-end-null", truthLine, []map[string]any{record(func(r map[string]any) {
			r["tcp_end"] = map[string]any{"first": nil, "how": nil, "time": nil}
		})}, []string{
			`10.0.0.1:40000 -> 10.0.0.2:80: tcp_end.first: got null, want "server"`,
			`10.0.0.1:40000 -> 10.0.0.2:80: tcp_end.how: got null, want "fin"`,
		}},
		{"missing-and-extra", truthLine, []map[string]any{record(other)}, []string{
			`10.0.0.1:40000 -> 10.0.0.2:80: missing from the records (want verdict clean)`,
			`10.0.0.9:1 -> 10.0.0.2:80: record not in the truth (verdict clean)`,
		}},
		{"not-websocket-extra-ignored", truthLine, []map[string]any{record(nil), record(func(r map[string]any) {
			r["client"], r["verdict"] = "10.0.0.9:1", "not_websocket"
		})}, nil},
		{"not-websocket-in-truth-compared", truthLine, []map[string]any{record(func(r map[string]any) {
			r["verdict"] = "not_websocket"
		})}, []string{`10.0.0.1:40000 -> 10.0.0.2:80: verdict: got "not_websocket", want "clean"`}},
		{"duplicate-record", truthLine, []map[string]any{record(nil), record(nil)},
			[]string{`10.0.0.1:40000 -> 10.0.0.2:80: record 1 repeats a connection`}},
		{"bad-truth-line", "{not json}\n" + truthLine, []map[string]any{record(nil)},
			[]string{`truth line 1: invalid character 'n' looking for beginning of object key string`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CompareTruth(strings.NewReader(tt.truth), tt.records)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("mismatches:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestCompareTruthGenerated compares a generated truth file with records built from it.
func TestCompareTruthGenerated(t *testing.T) {
	g := generate(t, Options{Seed: 4, Connections: 300, LenientProto: 100})
	var recs []map[string]any
	for _, tr := range truths(t, g.truth) {
		recs = append(recs, recordFromTruth(t, tr))
	}
	if got := CompareTruth(strings.NewReader(string(g.truth)), recs); len(got) != 0 {
		t.Errorf("mismatches: got %q, want none", got)
	}
	recs[3]["verdict"] = "nope"
	if got := CompareTruth(strings.NewReader(string(g.truth)), recs); len(got) != 1 {
		t.Errorf("mismatches after changing one verdict: got %q, want 1", got)
	}
}

// recordFromTruth builds the report-shaped record a perfect wsclosescan would write, going
// through JSON like a real record.
func recordFromTruth(t *testing.T, tr Truth) map[string]any {
	closeOf := func(code *int, reason *string) any {
		if reason == nil {
			return nil
		}
		return map[string]any{"code": code, "reason": *reason}
	}
	b, err := json.Marshal(map[string]any{
		"client": tr.Client, "server": tr.Server, "handshake": tr.Handshake, "handshake_error": tr.HandshakeError,
		"http_status": tr.HTTPStatus, "subprotocol": tr.Subprotocol,
		"client_close": closeOf(tr.ClientCloseCode, tr.ClientCloseReason),
		"server_close": closeOf(tr.ServerCloseCode, tr.ServerCloseReason),
		"first_close":  tr.FirstClose, "tcp_end": map[string]any{"first": tr.TCPEndFirst, "how": tr.TCPEndHow},
		"client_observed": tr.ClientObserved, "server_observed": tr.ServerObserved, "verdict": tr.Verdict,
	})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
