package main

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/wsclosescan/wsclosescan/report"
)

// Flag values are case-insensitive (-f JSON, --verdict Abnormal), and list flags may be
// repeated: every value is kept (--port 9151 --port 9152 is --port 9151,9152).

// listItems splits the values of a repeatable list flag at commas, trimmed and
// lowercased, dropping empty items.
func listItems(values []string) []string {
	var out []string
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// choice checks a flag value against the allowed ones, ignoring case.
func choice(flag, value string, allowed ...string) (string, error) {
	v := strings.ToLower(strings.TrimSpace(value))
	if slices.Contains(allowed, v) {
		return v, nil
	}
	last := len(allowed) - 1
	return "", fmt.Errorf("unknown %s %q (want %s or %s)", flag, value, strings.Join(allowed[:last], ", "), allowed[last])
}

func verdictSet(flag string, values []string) (map[report.Verdict]bool, error) {
	items := listItems(values)
	if len(items) == 0 {
		return nil, nil
	}
	set := map[report.Verdict]bool{}
	for _, s := range items {
		v := report.Verdict(s)
		if !slices.Contains(report.Verdicts, v) {
			names := make([]string, len(report.Verdicts))
			for i, k := range report.Verdicts {
				names[i] = string(k)
			}
			return nil, fmt.Errorf("unknown verdict %q in %s (want %s)", s, flag, strings.Join(names, ", "))
		}
		set[v] = true
	}
	return set, nil
}

// numRange is an inclusive range of numbers (a close code or a port); a single number is
// a range of one.
type numRange struct{ lo, hi int }

// rangeSet parses items such as 1006, 4000-4999.
func rangeSet(flag, what, example string, values []string) ([]numRange, error) {
	var out []numRange
	for _, s := range listItems(values) {
		lo, hi, isRange := strings.Cut(s, "-")
		a, errA := strconv.ParseUint(strings.TrimSpace(lo), 10, 16)
		b, errB := a, error(nil)
		if isRange {
			b, errB = strconv.ParseUint(strings.TrimSpace(hi), 10, 16)
		}
		if errA != nil || errB != nil || b < a {
			return nil, fmt.Errorf("invalid %s %q in %s (want numbers from 0 to 65535 or ranges, e.g. %s)", what, s, flag, example)
		}
		out = append(out, numRange{int(a), int(b)})
	}
	return out, nil
}

func inRanges(rs []numRange, n int) bool {
	for _, r := range rs {
		if n >= r.lo && n <= r.hi {
			return true
		}
	}
	return false
}

// hostSet parses IP addresses and CIDR prefixes (10.0.0.1, 10.0.0.0/8, ::1).
func hostSet(values []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range listItems(values) {
		if p, err := netip.ParsePrefix(s); err == nil {
			if p.Addr().Is4In6() {
				p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("invalid --host %q (want IP addresses or prefixes such as 10.0.0.1, ::1 or 10.0.0.0/8)", s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
