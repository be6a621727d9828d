package main

import (
	"net/netip"

	"github.com/wsclosescan/wsclosescan/report"
)

// filter selects the records to print.
type filter struct {
	verdicts map[report.Verdict]bool
	codes    []numRange
	hosts    []netip.Prefix
	ports    []numRange
	all      bool
}

// match reports whether r passes every selection flag.
func (f *filter) match(r *report.Record) bool {
	if !r.WebSocket && !f.all && !r.IsUnknown("websocket") {
		return false
	}
	if f.verdicts != nil && !f.verdicts[r.Verdict] {
		return false
	}
	if f.codes != nil && !f.matchCode(r) {
		return false
	}
	if f.hosts == nil && f.ports == nil {
		return true
	}
	// --host and --port must hold for the same end of the connection.
	for _, ap := range []netip.AddrPort{r.ClientAddr, r.ServerAddr} {
		if !ap.IsValid() {
			continue
		}
		if f.matchHost(ap.Addr().Unmap()) && (f.ports == nil || inRanges(f.ports, int(ap.Port()))) {
			return true
		}
	}
	return false
}

func (f *filter) matchHost(a netip.Addr) bool {
	if f.hosts == nil {
		return true
	}
	for _, p := range f.hosts {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// matchCode: a close code sent by either side, or reported by either side's API.
func (f *filter) matchCode(r *report.Record) bool {
	for _, c := range []*int{closeCode(r.ClientClose), closeCode(r.ServerClose), r.ClientObserved, r.ServerObserved} {
		if c != nil && inRanges(f.codes, *c) {
			return true
		}
	}
	return false
}

func closeCode(c *report.Close) *int {
	if c == nil {
		return nil
	}
	return c.Code
}
