package match

import (
	"net/netip"
	"testing"
)

func TestLastForwarder(t *testing.T) {
	tests := []struct {
		name, xff, fwd string
		want           string // Forwarder.String, "" for none
	}{
		{"nginx X-Forwarded-For", "127.0.0.1", "", "127.0.0.1"},
		{"last hop of several", "203.0.113.7, 10.0.0.1", "", "10.0.0.1"},
		{"blanks", " 203.0.113.7 ,  10.0.0.1  ", "", "10.0.0.1"},
		{"IPv6 bare", "2001:db8::1", "", "2001:db8::1"},
		{"IPv4-mapped IPv6", "::ffff:10.0.0.1", "", "10.0.0.1"},
		{"with a port", "10.0.0.1:4711", "", "10.0.0.1:4711"},
		{"unknown", "unknown", "", ""},
		{"junk", "not an address", "", ""},
		{"empty last item", "10.0.0.1,", "", ""},
		{"absent", "", "", ""},
		{"Forwarded wins", "10.0.0.9", "for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60"},
		{"Forwarded last element", "", "for=192.0.2.43, for=198.51.100.17", "198.51.100.17"},
		{"Forwarded quoted IPv6 and port", "", `for="[2001:db8:cafe::17]:4711"`, "[2001:db8:cafe::17]:4711"},
		{"Forwarded quoted IPv6", "", `For="[2001:db8:cafe::17]"`, "2001:db8:cafe::17"},
		{"Forwarded for not first", "", "proto=https;for=192.0.2.60", "192.0.2.60"},
		{"Forwarded comma in a quoted value", "", `for=192.0.2.1;x="a,b"`, "192.0.2.1"},
		{"Forwarded obfuscated", "", "for=_hidden", ""},
		{"Forwarded obfuscated port", "", `for="192.0.2.1:_port"`, ""},
		{"Forwarded unknown", "", "for=unknown", ""},
		{"Forwarded without for", "", "proto=https;by=10.0.0.1", ""},
		{"Forwarded zone", "", `for="[fe80::1%eth0]"`, ""},
		{"Forwarded unterminated quote", "", `for="10.0.0.1`, ""},
		{"Forwarded escapes", "", `for="10.0.0.\1"`, "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := LastForwarder(tt.xff, tt.fwd)
			got := ""
			if ok {
				got = f.String()
			}
			if got != tt.want {
				t.Errorf("LastForwarder(%q, %q) = %q, want %q", tt.xff, tt.fwd, got, tt.want)
			}
		})
	}
}

func TestForwarderNames(t *testing.T) {
	ap := netip.MustParseAddrPort("10.0.0.1:4711")
	for _, tt := range []struct {
		f    Forwarder
		want bool
	}{
		{Forwarder{Addr: netip.MustParseAddr("10.0.0.1")}, true},
		{Forwarder{Addr: netip.MustParseAddr("10.0.0.1"), Port: 4711}, true},
		{Forwarder{Addr: netip.MustParseAddr("10.0.0.1"), Port: 4712}, false},
		{Forwarder{Addr: netip.MustParseAddr("10.0.0.2")}, false},
	} {
		if got := tt.f.Names(ap); got != tt.want {
			t.Errorf("%v.Names(%v) = %v, want %v", tt.f, ap, got, tt.want)
		}
	}
}

// FuzzLastForwarder: any header values parse without a panic, and an address found is
// valid and written back as one.
func FuzzLastForwarder(f *testing.F) {
	f.Add("203.0.113.7, 10.0.0.1", "")
	f.Add("", `for="[2001:db8:cafe::17]:4711";proto=http, for=_x`)
	f.Add("", `for="\`)
	f.Add("[::1]", "for=;;,,")
	f.Fuzz(func(t *testing.T, xff, fwd string) {
		fw, ok := LastForwarder(xff, fwd)
		if !ok {
			return
		}
		if !fw.Addr.IsValid() || fw.Addr.Is4In6() || fw.Addr.Zone() != "" {
			t.Fatalf("LastForwarder(%q, %q) = %v: not a plain address", xff, fwd, fw)
		}
		if _, err := netip.ParseAddr(fw.Addr.String()); err != nil {
			t.Fatalf("%v does not parse back: %v", fw, err)
		}
	})
}
