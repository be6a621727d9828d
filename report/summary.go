package report

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Summary counts connections by verdict and close frames by code.
type Summary struct {
	Connections int             `json:"connections"`
	ByVerdict   map[Verdict]int `json:"by_verdict"`
	// ByCode counts the close frames sent on the wire by code ("none" for an empty payload).
	ByCode map[string]int `json:"by_close_code"`
	// NotListed counts the connections counted here but left out of the listing by
	// --limit.
	NotListed int `json:"not_listed,omitempty"`
	// Causes and Observed group the connections (with --summary only; see Groups).
	Causes   []Cause    `json:"causes,omitempty"`
	Observed []Observed `json:"observed,omitempty"`
}

// Summarize counts the records.
func Summarize(recs []Record) Summary {
	s := NewSummary()
	for i := range recs {
		s.Add(&recs[i])
	}
	return s
}

// NewSummary returns an empty summary, ready for Add.
func NewSummary() Summary {
	return Summary{ByVerdict: map[Verdict]int{}, ByCode: map[string]int{}}
}

// Add counts one more record.
func (s *Summary) Add(r *Record) {
	s.Connections++
	s.ByVerdict[r.Verdict]++
	for _, c := range []*Close{r.ClientClose, r.ServerClose} {
		if c != nil {
			s.ByCode[CodeText(c.Code)]++
		}
	}
}

// String renders the summary as one line, e.g.
// "3 connections: 2 clean, 1 abnormal; close frames: 1000 ×3, 1011 ×1".
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d connection%s", s.Connections, plural(s.Connections))
	var parts []string
	for _, v := range Verdicts {
		if n := s.ByVerdict[v]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, v))
		}
	}
	if len(parts) > 0 {
		b.WriteString(": " + strings.Join(parts, ", "))
	}
	if len(s.ByCode) > 0 {
		codes := make([]string, 0, len(s.ByCode))
		for c := range s.ByCode {
			codes = append(codes, c)
		}
		// Past maxSummaryCodes distinct codes (a capture full of application codes), the
		// most frequent are listed and the rest counted together.
		var others, otherFrames int
		if len(codes) > maxSummaryCodes {
			sort.Slice(codes, func(i, j int) bool {
				if a, b := s.ByCode[codes[i]], s.ByCode[codes[j]]; a != b {
					return a > b
				}
				return codeLess(codes[i], codes[j])
			})
			for _, c := range codes[maxSummaryCodes:] {
				others++
				otherFrames += s.ByCode[c]
			}
			codes = codes[:maxSummaryCodes]
		}
		sort.Slice(codes, func(i, j int) bool { return codeLess(codes[i], codes[j]) })
		parts = parts[:0]
		for _, c := range codes {
			name := c
			if c == "none" {
				name = "no code" // as the table's close columns say
			}
			parts = append(parts, fmt.Sprintf("%s ×%d", name, s.ByCode[c]))
		}
		if others > 0 {
			parts = append(parts, fmt.Sprintf("%d other codes ×%d", others, otherFrames))
		}
		b.WriteString("; close frames: " + strings.Join(parts, ", "))
	}
	if s.NotListed > 0 {
		fmt.Fprintf(&b, "; %d not listed (--limit)", s.NotListed)
	}
	return b.String()
}

// maxSummaryCodes is how many close codes the one-line summary lists by name.
const maxSummaryCodes = 12

// codeLess orders numeric codes numerically and "none" last.
func codeLess(a, b string) bool {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	switch {
	case errA == nil && errB == nil:
		return x < y
	case errA == nil:
		return true
	case errB == nil:
		return false
	}
	return a < b
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
