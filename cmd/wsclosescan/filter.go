package main

import (
	"fmt"
	"net/netip"

	"github.com/wsclosescan/wsclosescan/report"
)

// filter selects the records to print.
type filter struct {
	verdicts map[report.Verdict]bool
	codes    map[int]bool
	host     string
	addr     netip.Addr
	port     int
	hasPort  bool
	all      bool
}

func (f *filter) parseHost() error {
	if f.host == "" {
		return nil
	}
	a, err := netip.ParseAddr(f.host)
	if err != nil {
		return fmt.Errorf("invalid --host %q (want an IP address such as 10.0.0.1 or ::1)", f.host)
	}
	f.addr = a.Unmap()
	return nil
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
	if f.host == "" && !f.hasPort {
		return true
	}
	for _, ap := range []netip.AddrPort{r.ClientAddr, r.ServerAddr} {
		if !ap.IsValid() {
			continue
		}
		if (f.host == "" || ap.Addr().Unmap() == f.addr) && (!f.hasPort || int(ap.Port()) == f.port) {
			return true
		}
	}
	return false
}

// matchCode: a close code sent by either side, or reported by either side's API.
func (f *filter) matchCode(r *report.Record) bool {
	for _, c := range []*int{closeCode(r.ClientClose), closeCode(r.ServerClose), r.ClientObserved, r.ServerObserved} {
		if c != nil && f.codes[*c] {
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
