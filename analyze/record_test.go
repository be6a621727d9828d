package analyze

import (
	"net/netip"
	"testing"
)

// TestAddrStrings: both endpoints come out as AddrPort.String writes them, "" when invalid.
func TestAddrStrings(t *testing.T) {
	addrs := []netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:80"), netip.MustParseAddrPort("[2001:db8::1]:443"),
		netip.MustParseAddrPort("[fe80::1%eth0]:9000"), netip.MustParseAddrPort("[::ffff:10.1.2.3]:1"),
		netip.MustParseAddrPort("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%a-very-long-zone-name]:65535"), {},
	}
	str := func(a netip.AddrPort) string {
		if !a.IsValid() {
			return ""
		}
		return a.String()
	}
	for _, a := range addrs {
		for _, b := range addrs {
			ga, gb := addrStrings(a, b)
			if ga != str(a) || gb != str(b) {
				t.Errorf("addrStrings(%v, %v) = %q, %q; want %q, %q", a, b, ga, gb, str(a), str(b))
			}
		}
	}
}
