package report

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// proxiedPair returns the records of a client leg and its backend leg, 0.5 ms later.
func proxiedPair() (c, b Record) {
	t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	c = Record{Client: "10.0.0.1:50000", Server: "10.0.0.2:80", Start: Time{t0},
		Timeline: []TimelineEntry{{0, SideClient, "SYN", 1}, {0.001, SideClient, "GET /", 3},
			{0.004, SideServer, "HTTP 101 Switching Protocols", 7}, {0.0101, SideServer, `close 1001 "` + strings.Repeat("x", 60) + `"`, 9}}}
	b = Record{Client: "10.0.0.2:40000", Server: "10.0.0.3:9000", Start: Time{t0.Add(1500 * time.Microsecond)},
		Timeline: []TimelineEntry{{0, SideClient, "SYN", 4}, {0.001, SideServer, "HTTP 101 Switching Protocols", 6},
			{0.0085, SideServer, "close 1000", 8}, {0.009, SideNone, "gap", 0}}}
	c.Proxy = &Proxy{Leg: "client", MatchedBy: "key", Other: ProxyLeg{Client: b.Client, Server: b.Server}, Story: "the story"}
	b.Proxy = &Proxy{Leg: "backend", MatchedBy: "key", Other: ProxyLeg{Client: c.Client, Server: c.Server}, Story: "the story"}
	return c, b
}

// TestLanes: the legs' entries interleave by capture time, each on its own half, every
// ladder line as wide as the others; a long label is shortened and printed whole below.
func TestLanes(t *testing.T) {
	c, b := proxiedPair()
	var sb strings.Builder
	if err := WriteTimeline(&sb, []Record{c, b}); err != nil {
		t.Fatal(err)
	}
	out := sb.String()
	i := strings.Index(out, "#1+#2 through the proxy")
	if i < 0 {
		t.Fatalf("no three-lane ladder:\n%s", out)
	}
	lines := strings.Split(strings.TrimSuffix(out[i:], "\n"), "\n")
	var frames []string
	width := -1
	for _, l := range lines[3:] {
		if !strings.Contains(l, "|") && !strings.Contains(l, "~") {
			continue // a whole label under its shortened one
		}
		if w := utf8.RuneCountInString(l); width < 0 {
			width = w
		} else if w != width {
			t.Errorf("line %q is %d wide, want %d", l, w, width)
		}
		if f := strings.TrimSpace(l[26:33]); f != "" {
			frames = append(frames, f) // the frame column
		}
	}
	if got, want := strings.Join(frames, " "), "1 3 4 6 7 8 9"; got != want {
		t.Errorf("frames in order %q, want the legs interleaved by time: %q", got, want)
	}
	if !strings.Contains(out, "|                                            |---- SYN ") {
		t.Errorf("the backend leg's SYN is not on the right half:\n%s", out)
	}
	if !strings.Contains(out, "    "+`close 1001 "`+strings.Repeat("x", 60)+`"`) {
		t.Errorf("the long label is not printed whole:\n%s", out)
	}
}

// TestLanesMarkdown: the Markdown writer tells the pair among the hints and draws it with
// three participants.
func TestLanesMarkdown(t *testing.T) {
	c, b := proxiedPair()
	var sb strings.Builder
	w, _ := NewWriter("markdown", &sb, TableOptions{}, true)
	w.Write(&c)
	w.Write(&b)
	w.Finish(nil, NewSummary())
	out := sb.String()
	for _, want := range []string{"- **#1+#2** proxy legs (same key) the story", "participant P as proxy 10.0.0.2:80",
		"P->>S: +0.001500 SYN", "S->>P: +0.010000 close 1000", "P->>C: +0.010100 close 1001"} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
}
