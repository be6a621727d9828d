package report

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestCauseOf(t *testing.T) {
	recs := sampleRecords()
	idle := 60.02
	abnormal := Record{Verdict: VerdictAbnormal, TCPEnd: TCPEnd{First: new(SideServer), How: String("rst")}, IdleBeforeEndS: &idle}
	quick := abnormal
	quick.IdleBeforeEndS = new(0.2)
	tests := []struct {
		name string
		r    Record
		want string
	}{
		{"clean", recs[0], "the client sent close 1000, answered"},
		{"half closed", recs[1], "the server sent close 1011, never answered, then RST from the server"},
		{"refused", recs[2], "the server answered HTTP 403"},
		{"open", recs[3], "the client sent close with no code, then the capture ended"},
		{"idle", abnormal, "no close frame, RST from the server after 60 s idle"},
		{"not idle", quick, "no close frame, RST from the server"},
	}
	for _, tt := range tests {
		if got := CauseOf(&tt.r, time.Second); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestSummaryGroups: thousands of connections fold into a few lines, with counts written
// with thousands separators, the largest group first; --limit keeps the first groups.
func TestSummaryGroups(t *testing.T) {
	g := NewGroups(time.Second)
	sum := NewSummary()
	add := func(r Record, n int) {
		for i := range n {
			r.Client = fmt.Sprintf("10.0.0.1:%d", 1000+i)
			r.Server = "10.0.0.2:443"
			g.Add(&r)
			sum.Add(&r)
		}
	}
	for _, idle := range []float64{59.98, 60.01} {
		add(Record{Verdict: VerdictAbnormal, TCPEnd: TCPEnd{First: new(SideServer), How: String("rst")},
			IdleBeforeEndS: new(idle), ClientObserved: Int(1006), ServerObserved: Int(1006)}, 150)
	}
	add(sampleRecords()[0], 1200)
	sum.Causes, sum.Observed = g.Causes(), g.Observed()
	var b strings.Builder
	if err := WriteSummary(&b, "table", sum, 0); err != nil {
		t.Fatal(err)
	}
	want := `1500 connections: 1200 clean, 300 abnormal; close frames: 1000 ×2400

By verdict and cause:
  1,200 clean: the client sent close 1000, answered (e.g. 10.0.0.1:1000 -> 10.0.0.2:443)
  300 abnormal: no close frame, RST from the server after 60 s idle (e.g. 10.0.0.1:1000 -> 10.0.0.2:443)

What the WebSocket APIs reported:
  1,200 clients saw 1000
  300 clients saw 1006
  1,200 servers saw 1000
  300 servers saw 1006
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	WriteSummary(&b, "markdown", sum, 1)
	for _, s := range []string{"| 1,200 | clean | the client sent close 1000, answered |", "… and 1 more causes (300 connections) left out by --limit", "- 300 clients saw 1006"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("markdown lacks %q:\n%s", s, b.String())
		}
	}
}

// TestMarkdownFoldsToFitAComment: thousands of rows fold into <details>, the output stays
// within a GitHub comment, and a line says what was left out. A small table is unchanged.
func TestMarkdownFoldsToFitAComment(t *testing.T) {
	rec := sampleRecords()[1]
	for _, n := range []int{3, 5000} {
		var b strings.Builder
		w, _ := NewWriter("markdown", &b, TableOptions{}, true)
		sum := NewSummary()
		for range n {
			r := rec
			r.Timeline = []TimelineEntry{{OffsetS: 0, From: SideClient, What: "SYN"}, {OffsetS: 0.1, From: SideServer, What: "SYN-ACK"}}
			w.Write(&r)
			sum.Add(&r)
		}
		w.Finish(nil, sum)
		out := b.String()
		folded := strings.Contains(out, "<details>")
		if n == 3 && (folded || strings.Contains(out, "Left out")) {
			t.Errorf("%d rows: folded:\n%s", n, out)
		}
		if n == 5000 {
			if !folded || len(out) > MaxComment || !strings.Contains(out, "_Left out to fit in a GitHub comment (65,536 characters): ") ||
				!strings.Contains(out, " of the 5000 connections") || !strings.HasSuffix(strings.TrimSpace(strings.Split(out, "<details>")[0]), "| half_closed | - |") {
				t.Errorf("%d rows: %d bytes, folded %v:\n%.3000s", n, len(out), folded, out)
			}
		}
	}
}
