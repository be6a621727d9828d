package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// checkSame fails unless appendRecord, the jsonl writer and the json writer write r exactly
// as encoding/json does (json.Marshal, json.Encoder and json.MarshalIndent).
func checkSame(t *testing.T, r *Record) {
	t.Helper()
	want, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	if got := appendRecord(nil, r); !bytes.Equal(got, want) {
		t.Fatalf("appendRecord differs from json.Marshal:\n got %s\nwant %s", got, want)
	}

	var got, wantLine bytes.Buffer
	if err := json.NewEncoder(&wantLine).Encode(r); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSONLines(&got, []Record{*r}); err != nil {
		t.Fatal(err)
	}
	if got.String() != wantLine.String() {
		t.Fatalf("jsonl differs from json.Encoder:\n got %s\nwant %s", got.Bytes(), wantLine.Bytes())
	}

	indented, err := json.MarshalIndent(r, "    ", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got.Reset()
	j := &jsonWriter{w: &got}
	for range 2 {
		if err := j.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	wantDoc := "{\n  \"connections\": [\n    " + string(indented) + ",\n    " + string(indented)
	if got.String() != wantDoc {
		t.Fatalf("json writer differs from json.MarshalIndent:\n got %s\nwant %s", got.Bytes(), wantDoc)
	}
}

func at(s string) Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return Time{t}
}

func float(f float64) *float64 { return &f }

// allASCII holds every byte from 0x00 to 0x7f.
func allASCII() string {
	var b strings.Builder
	for c := range 0x80 {
		b.WriteByte(byte(c))
	}
	return b.String()
}

// hostileStrings need escaping or replacing, or look as if they did.
var hostileStrings = []string{
	"",
	"plain",
	allASCII(),
	"<script>alert('x')</script> & more",
	"\x7f\x00\x1f\b\f\n\r\t\\\"/",
	"\\", "a\\", "\\\\", "\\\"", "\"", "\"\\\"", "a\\\\\\", // backslashes and quotes at the end
	"\xff", "a\xffb", "\xfe\xff",
	"\xc3", "\xc3(", // truncated two-byte sequence
	"\xe2\x80", "\xe2\x80x", // truncated three-byte sequence
	"\xf0\x9f\x98", // truncated four-byte sequence
	"\xc0\xaf",     // overlong '/'
	"\xed\xa0\x80", // UTF-16 surrogate
	"\xf4\x90\x80\x80",
	"\u2028", "\u2029", "x\u2028y\u2029z", "\u2027\u202a",
	"\ufffd", "\xef\xbf\xbd\xff",
	"héllo wörld — 日本語 😀",
	strings.Repeat("a<\u2028\xff\x01é", 2000),
	strings.Repeat("x", 100000),
}

// floats covers both notations, their cut-offs and the exponent clean-up.
var floats = []float64{
	0, math.Copysign(0, -1), 1, -1.5, 123.456, 1.499999999, 0.0001, 60,
	1e-6, 9.99e-7, 1e-7, -1e-7, 1.5e-9, 1e-10, 1e-100, 5e-324,
	1e20, 999999999999999999999, 1e21, -1e21, 1.5e22, 1e100, math.MaxFloat64,
	0.25, 1.0 / 3, 2e-6, 123456789.123456789,
}

var times = []Time{
	{}, // the zero time
	at("2026-01-02T03:04:05Z"),
	at("2026-01-02T03:04:05.000000001Z"),
	at("2026-01-02T03:04:05.123456789Z"),
	at("2026-01-02T03:04:05.5+02:00"),
	{time.Date(2026, 6, 1, 12, 0, 0, 7, time.FixedZone("X", -7*3600-30*60))},
	{time.Unix(0, 0)},
	{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
	{time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
}

// fullRecord sets every field, so no pointer is nil and no slice is empty.
func fullRecord() Record {
	return Record{
		File: "capture.pcapng", Client: "192.168.1.10:51234", Server: "10.0.0.5:443",
		CommunityID: "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", DisplayFilter: "ip.addr==192.168.1.10 && ip.addr==10.0.0.5 && tcp.port==51234 && tcp.port==443",
		Start: at("2026-03-01T10:00:00.123456789Z"), End: at("2026-03-01T10:05:00Z"), DurationS: 299.876543211,
		WebSocket: true, TLS: &TLS{Version: "TLS 1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", SNI: "example.com<>",
			ALPNOffered: []string{"http/1.1"}, ALPN: String("http/1.1"), Resumed: true, Decryption: "full",
			CloseNotify: TLSCloseNotify{Client: &Time{at("2026-03-01T10:04:59.96Z").Time}},
			Alerts:      []TLSAlert{{From: SideClient, Time: at("2026-03-01T10:04:59.96Z"), Level: "warning", Description: "close_notify"}}},
		H2: &H2{StreamID: 5, ConnectEnabled: true, End: "rst_stream", ClientEndStream: &Time{at("2026-03-01T10:04:59.96Z").Time},
			RSTCode: String("CANCEL"), RSTBy: new(SideServer),
			GoAway: &H2GoAway{From: SideServer, Code: "NO_ERROR", LastStreamID: 7, Time: at("2026-03-01T10:05:00Z")}},
		Handshake: HandshakeCompleted, HTTPStatus: Int(101), HandshakeError: String("none <really>"),
		Request: &Request{
			Method: "GET", Path: "/ws?token=a&b=<c>", Host: "example.com", Origin: "https://example.com",
			UserAgent: "Mozilla/5.0", Protocols: []string{"chat", "superchat"}, Extensions: []string{"permessage-deflate; client_max_window_bits"},
			Key: "dGhlIHNhbXBsZSBub25jZQ==", XForwardedFor: "203.0.113.7, 10.0.0.1", Forwarded: `for="[2001:db8::1]:4711"`,
		},
		RequestTime: &Time{at("2026-03-01T10:00:00.2Z").Time}, ResponseTime: &Time{at("2026-03-01T10:00:00.21Z").Time},
		Subprotocol: String("chat"), Extensions: []string{"permessage-deflate"},
		ClientClose:    &Close{Code: Int(1000), Reason: "bye", Time: at("2026-03-01T10:04:59.9Z"), Valid: true, Problems: []string{"p1"}},
		ServerClose:    &Close{Code: Int(1001), Reason: "going away", Time: at("2026-03-01T10:04:59.95Z"), Valid: true, Problems: []string{"p2", "p3"}},
		FirstClose:     new(SideClient),
		FrameNumbers:   FrameNumbers{Request: Uint(4), Response: Uint(6), ClientClose: Uint(1 << 40), ServerClose: Uint(math.MaxUint64), TCPEnd: Uint(0)},
		TCPEnd:         TCPEnd{First: new(SideServer), How: String("fin"), Time: &Time{at("2026-03-01T10:05:00Z").Time}},
		ClientObserved: Int(1000), ServerObserved: Int(-1), Verdict: VerdictClean,
		MissingBytes: PerSide{1, -2}, Frames: PerSide{100, 200}, Messages: PerSide{math.MaxInt64, math.MinInt64},
		Bytes: PerSide{12345, 67890}, LastActivity: &Time{at("2026-03-01T10:04:00Z").Time}, IdleBeforeEndS: float(60.000001),
		Pings: []Ping{{From: SideClient, Time: at("2026-03-01T10:01:00Z"), RTTMs: float(12.5)}, {From: SideServer, Time: at("2026-03-01T10:02:00Z")}},
		Keepalive: Keepalive{Pings: PerSide{3, 1}, Unanswered: PerSide{1, 0}, IntervalS: SideFloats{Client: float(30.5)},
			RTTMs: &RTTStats{Min: 0.05, Median: 1e-7, Max: 1e21}},
		Problems: []string{"a problem"}, Hints: []string{"a hint", "another & hint"},
		Proxy: &Proxy{Leg: "client", MatchedBy: "key", Other: ProxyLeg{Client: "10.0.0.5:40000", Server: "10.0.0.9:8080",
			CommunityID: "1:abc", Start: at("2026-03-01T10:00:00.201Z")}, Story: "the backend sent close 1000 <ok>"},
		Timeline: []TimelineEntry{{0, SideClient, "SYN", 1}, {1e-7, SideServer, "SYN-ACK", 0}, {0.5, SideNone, "gap", math.MaxUint64}},
	}
}

func TestAppendRecordMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name   string
		modify func(r *Record)
	}{
		{"every field set", func(r *Record) {}},
		{"zero record", func(r *Record) { *r = Record{} }},
		{"nil pointers", func(r *Record) {
			r.HTTPStatus, r.HandshakeError, r.Request, r.Subprotocol = nil, nil, nil, nil
			r.RequestTime, r.ResponseTime, r.Proxy = nil, nil, nil
			r.ClientClose, r.ServerClose, r.FirstClose, r.TCPEnd = nil, nil, nil, TCPEnd{}
			r.ClientObserved, r.ServerObserved, r.LastActivity, r.IdleBeforeEndS = nil, nil, nil, nil
			r.Pings[0].RTTMs = nil
			r.FrameNumbers = FrameNumbers{}
		}},
		{"nil slices", func(r *Record) {
			r.Extensions, r.Pings, r.Problems, r.Hints, r.Timeline = nil, nil, nil, nil, nil
			r.Request.Protocols, r.Request.Extensions = nil, nil
			r.ClientClose.Problems = nil
		}},
		{"empty slices", func(r *Record) {
			r.Extensions, r.Pings, r.Problems, r.Hints, r.Timeline = []string{}, []Ping{}, []string{}, []string{}, []TimelineEntry{}
			r.Request.Protocols, r.Request.Extensions = []string{}, []string{}
			r.ClientClose.Problems = []string{}
		}},
		{"close without code", func(r *Record) { r.ClientClose.Code = nil; r.ServerClose.Valid = false }},
		{"not a websocket", func(r *Record) { r.WebSocket = false; r.Verdict = VerdictNotWebSocket }},
		{"one timeline entry", func(r *Record) { r.Timeline = r.Timeline[:1] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fullRecord()
			tt.modify(&r)
			checkSame(t, &r)
		})
	}
}

func TestAppendRecordStrings(t *testing.T) {
	strs := append([]string(nil), hostileStrings...)
	for i := range 0x80 {
		strs = append(strs, string(rune(i)), "a"+string(rune(i))+"b")
	}
	for _, s := range strs {
		r := fullRecord()
		r.File, r.Client, r.Server, r.Handshake, r.Verdict = s, s, s+s, s, Verdict(s)
		r.HandshakeError, r.Subprotocol = &s, &s
		r.Request.Path, r.Request.UserAgent, r.Request.Protocols = s, s, []string{s, s}
		r.ClientClose.Reason, r.ServerClose.Problems = s, []string{s}
		r.TCPEnd.How = &s
		r.Problems, r.Hints, r.Timeline[2].What = []string{s}, []string{"x", s}, s
		checkSame(t, &r)
	}
}

func TestAppendRecordFloats(t *testing.T) {
	for _, f := range floats {
		for _, f := range []float64{f, -f} {
			r := fullRecord()
			r.DurationS, r.IdleBeforeEndS, r.Pings[0].RTTMs, r.Timeline[1].OffsetS = f, &f, &f, f
			checkSame(t, &r)
		}
	}
}

func TestAppendRecordTimes(t *testing.T) {
	for _, tm := range times {
		r := fullRecord()
		r.Start, r.End, r.ClientClose.Time, r.Pings[1].Time = tm, tm, tm, tm
		r.LastActivity, r.TCPEnd.Time = &tm, &tm
		checkSame(t, &r)
		b, err := tm.MarshalJSON()
		if err != nil || string(b) != `"`+tm.UTC().Format(Layout)+`"` {
			t.Errorf("MarshalJSON = %s, %v", b, err)
		}
	}
}

// TestAppendTimeMatchesAppendFormat compares the hand-written timestamp with
// AppendFormat(Layout) over years -30000 to 30000, in several zones.
func TestAppendTimeMatchesAppendFormat(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	edges := []time.Time{
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Add(-1),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC).Add(1),
		time.Date(2024, 2, 29, 12, 0, 0, 100, time.UTC),
		time.Date(2026, 1, 1, 0, 30, 0, 0, time.FixedZone("", 3600)), // the previous year in UTC
	}
	for i := range 20000 {
		var tm time.Time
		if i < len(edges) {
			tm = edges[i]
		} else {
			tm = time.Unix(rng.Int64N(2e12)-1e12, rng.Int64N(1e9)).In(time.FixedZone("", (rng.IntN(56)-28)*900))
		}
		want := `"` + string(tm.UTC().AppendFormat(nil, Layout)) + `"`
		if got := appendTime([]byte("x"), Time{tm}); string(got) != "x"+want {
			t.Fatalf("%v: got %s, want %s", tm, got[1:], want)
		}
	}
}

// TestNonFiniteFloats checks that the writers refuse NaN and infinities with the error
// encoding/json gives, writing nothing.
func TestNonFiniteFloats(t *testing.T) {
	tests := []struct {
		name string
		set  func(r *Record, f float64)
	}{
		{"duration", func(r *Record, f float64) { r.DurationS = f }},
		{"idle", func(r *Record, f float64) { r.IdleBeforeEndS = &f }},
		{"rtt", func(r *Record, f float64) { r.Pings[1].RTTMs = &f }},
		{"keepalive interval", func(r *Record, f float64) { r.Keepalive.IntervalS.Server = &f }},
		{"keepalive rtt", func(r *Record, f float64) { r.Keepalive.RTTMs.Max = f }},
		{"timeline", func(r *Record, f float64) { r.Timeline[2].OffsetS = f }},
		{"first in field order", func(r *Record, f float64) {
			r.IdleBeforeEndS, r.Timeline[0].OffsetS = float(math.Inf(-1)), math.NaN()
			r.Pings[0].RTTMs = &f
		}},
	}
	for _, tt := range tests {
		for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
			r := fullRecord()
			tt.set(&r, f)
			_, want := json.Marshal(&r)
			if want == nil {
				t.Fatalf("%s: json.Marshal accepted %v", tt.name, f)
			}
			var b bytes.Buffer
			for _, format := range []string{"json", "jsonl"} {
				w, _ := NewWriter(format, &b, TableOptions{}, false)
				if err := w.Write(&r); err == nil || err.Error() != want.Error() {
					t.Errorf("%s, %s, %v: got error %v, want %v", tt.name, format, f, err, want)
				}
			}
			if b.Len() != 0 {
				t.Errorf("%s: wrote %q", tt.name, b.String())
			}
		}
	}
}

type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	f.n++
	return 0, errors.New("disk full")
}

// TestJSONLinesWriteErrorSticks checks that, as with json.Encoder, a write error is
// returned again for every later record without writing.
func TestJSONLinesWriteErrorSticks(t *testing.T) {
	f := &failingWriter{}
	w, _ := NewWriter("jsonl", f, TableOptions{}, false)
	r := fullRecord()
	for range 3 {
		if err := w.Write(&r); err == nil || err.Error() != "disk full" {
			t.Fatalf("got %v", err)
		}
	}
	if f.n != 1 {
		t.Errorf("wrote %d times after an error, want 1", f.n)
	}
}

// randomSide is any Side, including values no constant names.
func randomSide(rng *rand.Rand) Side { return Side(rng.IntN(4)) }

func randomString(rng *rand.Rand) string {
	pieces := []string{"a", "Z", "0", " ", "<", ">", "&", "\"", "\\", "/", "\n", "\t", "\x00", "\x1f", "\x7f",
		"é", "日", "😀", "\u2028", "\u2029", "\ufffd", "\xff", "\xc3", "\xe2\x80", "\xed\xa0\x80"}
	var b strings.Builder
	for range rng.IntN(12) {
		if rng.IntN(4) == 0 {
			b.WriteByte(byte(rng.IntN(256)))
		} else {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
	}
	return b.String()
}

func randomStrings(rng *rand.Rand) []string {
	switch rng.IntN(3) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	ss := make([]string, 1+rng.IntN(3))
	for i := range ss {
		ss[i] = randomString(rng)
	}
	return ss
}

// randomFloat returns any finite float64: random bits, or a value near a cut-off.
func randomFloat(rng *rand.Rand) float64 {
	for {
		var f float64
		switch rng.IntN(4) {
		case 0:
			f = math.Float64frombits(rng.Uint64())
		case 1:
			f = rng.Float64() * math.Pow(10, float64(rng.IntN(60)-30))
		case 2:
			f = []float64{1e-6, 1e21}[rng.IntN(2)] * (1 + (rng.Float64()-0.5)*1e-9)
		default:
			f = float64(rng.IntN(100000)) / 1000
		}
		if rng.IntN(2) == 0 {
			f = -f
		}
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
	}
}

func randomRecord(rng *rand.Rand) Record {
	maybe := func() bool { return rng.IntN(2) == 0 }
	str := func() *string {
		if maybe() {
			return nil
		}
		return String(randomString(rng))
	}
	sidePtr := func() *Side {
		if maybe() {
			return nil
		}
		return new(randomSide(rng))
	}
	num := func() *int {
		if maybe() {
			return nil
		}
		return Int(int(rng.Int64()) >> rng.IntN(64))
	}
	frame := func() *uint64 {
		if maybe() {
			return nil
		}
		return Uint(rng.Uint64() >> rng.IntN(64))
	}
	flt := func() *float64 {
		if maybe() {
			return nil
		}
		return float(randomFloat(rng))
	}
	tm := func() Time {
		if rng.IntN(8) == 0 {
			return Time{}
		}
		zone := time.FixedZone("", (rng.IntN(48)-24)*1800)
		return Time{time.Unix(rng.Int64N(1<<36)-1<<35, rng.Int64N(1e9)).In(zone)}
	}
	timePtr := func() *Time {
		if maybe() {
			return nil
		}
		t := tm()
		return &t
	}
	cl := func() *Close {
		if maybe() {
			return nil
		}
		return &Close{Code: num(), Reason: randomString(rng), Time: tm(), Valid: maybe(), Problems: randomStrings(rng)}
	}
	side := func() PerSide { return PerSide{rng.Int64() >> rng.IntN(64), -rng.Int64N(1000)} }
	tlsInfo := func() *TLS {
		if maybe() {
			return nil
		}
		t := &TLS{Version: randomString(rng), CipherSuite: randomString(rng), SNI: randomString(rng),
			ALPNOffered: randomStrings(rng), ALPN: str(), Resumed: maybe(), Decryption: randomString(rng),
			CloseNotify: TLSCloseNotify{Client: timePtr(), Server: timePtr()}}
		for range rng.IntN(3) {
			t.Alerts = append(t.Alerts, TLSAlert{From: randomSide(rng), Time: tm(), Level: randomString(rng), Description: randomString(rng)})
		}
		return t
	}
	h2Info := func() *H2 {
		if maybe() {
			return nil
		}
		h := &H2{StreamID: rng.Uint32(), ConnectEnabled: maybe(), End: randomString(rng), ClientEndStream: timePtr(),
			ServerEndStream: timePtr(), RSTCode: str(), RSTBy: sidePtr()}
		if maybe() {
			h.GoAway = &H2GoAway{From: randomSide(rng), Code: randomString(rng), LastStreamID: rng.Uint32(), Time: tm()}
		}
		return h
	}
	r := Record{
		TLS: tlsInfo(), H2: h2Info(),
		File: randomString(rng), Client: randomString(rng), Server: randomString(rng),
		Start: tm(), End: tm(), DurationS: randomFloat(rng), WebSocket: maybe(),
		Handshake: randomString(rng), HTTPStatus: num(), HandshakeError: str(), Subprotocol: str(),
		Extensions:  randomStrings(rng),
		ClientClose: cl(), ServerClose: cl(), FirstClose: sidePtr(),
		TCPEnd:       TCPEnd{First: sidePtr(), How: str(), Time: timePtr()},
		FrameNumbers: FrameNumbers{Request: frame(), Response: frame(), ClientClose: frame(), ServerClose: frame(), TCPEnd: frame()},
		CommunityID:  randomString(rng), DisplayFilter: randomString(rng),
		ClientObserved: num(), ServerObserved: num(), Verdict: Verdict(randomString(rng)),
		MissingBytes: side(), Frames: side(), Messages: side(), Bytes: side(),
		LastActivity: timePtr(), IdleBeforeEndS: flt(),
		Keepalive: Keepalive{Pings: side(), Unanswered: side(), IntervalS: SideFloats{flt(), flt()}},
		Problems:  randomStrings(rng), Hints: randomStrings(rng),
	}
	if maybe() {
		r.Request = &Request{
			Method: randomString(rng), Path: randomString(rng), Host: randomString(rng), Origin: randomString(rng),
			UserAgent: randomString(rng), Protocols: randomStrings(rng), Extensions: randomStrings(rng),
		}
	}
	if maybe() {
		msg := func() *Message {
			if maybe() {
				return nil
			}
			m := &Message{Type: randomString(rng), Size: rng.Int64(), Time: tm(), Compressed: maybe(), Preview: str(),
				PreviewCut: maybe(), NoPreview: str(), LaterBytesMissing: maybe()}
			if maybe() {
				n := rng.Int64()
				m.InflatedSize = &n
			}
			return m
		}
		r.LastMessages = &LastMessages{Client: msg(), Server: msg()}
	}
	if n := rng.IntN(4); n > 0 {
		r.Pings = make([]Ping, n-1) // nil or empty or filled
		for i := range r.Pings {
			r.Pings[i] = Ping{From: randomSide(rng), Time: tm(), RTTMs: flt()}
		}
	}
	if maybe() {
		r.Keepalive.RTTMs = &RTTStats{randomFloat(rng), randomFloat(rng), randomFloat(rng)}
	}
	if n := rng.IntN(4); n > 0 {
		r.Timeline = make([]TimelineEntry, n-1)
		for i := range r.Timeline {
			r.Timeline[i] = TimelineEntry{OffsetS: randomFloat(rng), From: randomSide(rng), What: randomString(rng),
				Frame: rng.Uint64() >> rng.IntN(65)}
		}
	}
	return r
}

func TestAppendRecordRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 5000
	if testing.Short() {
		n = 500
	}
	var buf []byte
	for i := range n {
		r := randomRecord(rng)
		want, err := json.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		// Append after earlier output, as the writers do with their reused buffer.
		buf = appendRecord(buf[:i%2], &r)
		if got := buf[i%2:]; !bytes.Equal(got, want) {
			t.Fatalf("record %d:\n got %s\nwant %s", i, got, want)
		}
		if i%10 == 0 {
			checkSame(t, &r)
		}
	}
}

func FuzzAppendRecord(f *testing.F) {
	f.Add("capture.pcap", "bye", "/chat?x=<1>&y=2", 1.5, int64(1767323045000000001))
	f.Add("", "\xff\xfe", "\u2028\u2029\ufffd", 1e-7, int64(0))
	f.Add(allASCII(), "\xed\xa0\x80\xc3", "日本語 😀", 1e21, int64(-62135596800000000))
	f.Fuzz(func(t *testing.T, a, b, c string, x float64, ns int64) {
		r := fullRecord()
		r.File, r.Client, r.Server = a, b, c
		r.HandshakeError, r.Subprotocol, r.TCPEnd.How = &a, &b, &c
		r.Request.Path, r.Request.Protocols = a, []string{b, c}
		r.ClientClose.Reason, r.ServerClose.Problems = b, []string{a}
		r.Hints, r.Timeline[0].What = []string{a, b, c}, a
		r.DurationS, r.IdleBeforeEndS, r.Timeline[1].OffsetS = x, &x, -x
		tm := Time{time.Unix(0, ns)}
		r.Start, r.LastActivity, r.Pings[1].Time = tm, &tm, tm

		if _, err := json.Marshal(&r); err != nil {
			if got := floatError(&r); got == nil || got.Error() != err.Error() {
				t.Fatalf("floatError = %v, json.Marshal error %v", got, err)
			}
			return
		}
		if err := floatError(&r); err != nil {
			t.Fatalf("floatError = %v, json.Marshal accepted the record", err)
		}
		checkSame(t, &r)
	})
}

// benchRecord is a typical WebSocket record: a request, both closes, pings and hints.
func benchRecord() Record {
	r := fullRecord()
	r.HandshakeError, r.Timeline = nil, nil
	r.Pings = append(r.Pings, Ping{From: SideClient, Time: at("2026-03-01T10:03:00.25Z"), RTTMs: float(0.731)})
	r.Hints = []string{"server sent close 1001 then reset the connection 0.2 ms later"}
	return r
}

func BenchmarkAppendRecord(b *testing.B) {
	r := benchRecord()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = appendRecord(buf[:0], &r)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkMarshalRecord(b *testing.B) {
	r := benchRecord()
	var n int
	b.ReportAllocs()
	for b.Loop() {
		buf, err := json.Marshal(&r)
		if err != nil {
			b.Fatal(err)
		}
		n = len(buf)
	}
	b.SetBytes(int64(n))
}
