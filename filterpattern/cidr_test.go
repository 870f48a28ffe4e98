package filterpattern

import (
	"net/netip"
	"testing"
)

func TestBindCIDRs(t *testing.T) {
	ranges := []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("10.16.0.0/12"), netip.MustParsePrefix("2001:db8::/32")}
	eq, err := MustParse(`{ $.eventName = "ConsoleLogin" && $.sourceIPAddress = "${r}" }`).BindCIDRs("${r}", ranges)
	if err != nil {
		t.Fatal(err)
	}
	ne, err := MustParse(`{ $.sourceIPAddress != "${r}" }`).BindCIDRs("${r}", ranges)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ip     string // JSON value of sourceIPAddress; "" for none
		eq, ne bool
	}{
		{`"203.0.113.10"`, true, false},
		{`"203.0.114.10"`, false, true},
		{`"10.16.0.1"`, true, false},
		{`"10.31.255.255"`, true, false},
		{`"10.32.0.0"`, false, true},
		{`"10.15.255.255"`, false, true},
		{`"2001:db8:1::5"`, true, false},
		{`"2001:db9::5"`, false, true},
		{`"::ffff:203.0.113.7"`, true, false}, // IPv4-mapped counts as IPv4
		{`"signin.amazonaws.com"`, false, true},
		{`"AWS Internal"`, false, true},
		{`"203.0.113.10 "`, false, true},
		{`""`, false, true},
		{`5`, false, true},
		{`null`, false, false},
		{`{"a":1}`, false, false},
		{``, false, false}, // != on a missing field is false
	}
	for _, tt := range tests {
		ev := `{"eventName":"ConsoleLogin"}`
		if tt.ip != "" {
			ev = `{"eventName":"ConsoleLogin","sourceIPAddress":` + tt.ip + `}`
		}
		if got := eq.MatchString(ev); got != tt.eq {
			t.Errorf("= on %s: %v, want %v", ev, got, tt.eq)
		}
		if got := ne.MatchString(ev); got != tt.ne {
			t.Errorf("!= on %s: %v, want %v", ev, got, tt.ne)
		}
		// The same through a Set and a Matcher, as detect evaluates it.
		m := NewSet(eq, ne).NewMatcher()
		got := m.Match([]byte(ev))
		want := 0
		if tt.eq {
			want++
		}
		if tt.ne {
			want++
		}
		if len(got) != want {
			t.Errorf("Set on %s: %v", ev, got)
		}
	}
	// The text shows the placeholder and parses back to the unbound pattern.
	if s := ne.String(); MustParse(s).String() != s {
		t.Errorf("String %q does not round-trip", s)
	}
}

func TestBindCIDRsErrors(t *testing.T) {
	r := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, src := range []string{
		`{ $.a = "other" }`, // not used
		`{ $.a = "${r}*" }`, // a wildcard is not the placeholder
		`[a = "${r}", b]`,   // not JSON
		`"${r}"`,            // a term
	} {
		if _, err := MustParse(src).BindCIDRs("${r}", r); err == nil {
			t.Errorf("%s: no error", src)
		}
	}
	if _, err := MustParse(`{ $.a = "${r}" }`).BindCIDRs("${r}", nil); err == nil {
		t.Error("no ranges: no error")
	}
	// The CIDR kind cannot be reached from pattern text: a quoted range is a string literal.
	if !MustParse(`{ $.a = "10.0.0.0/8" }`).MatchString(`{"a":"10.0.0.0/8"}`) || MustParse(`{ $.a = "10.0.0.0/8" }`).MatchString(`{"a":"10.1.2.3"}`) {
		t.Error("a range in pattern text is not plain text")
	}
}

func TestBindCIDRsNoAlloc(t *testing.T) {
	p, err := MustParse(`{ $.sourceIPAddress != "${r}" }`).BindCIDRs("${r}", []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::/32")})
	if err != nil {
		t.Fatal(err)
	}
	m := NewSet(p).NewMatcher()
	evs := [][]byte{[]byte(`{"sourceIPAddress":"198.51.100.7"}`), []byte(`{"sourceIPAddress":"2001:db8::1"}`), []byte(`{"sourceIPAddress":"AWS Internal"}`)}
	for _, ev := range evs {
		m.Match(ev)
	}
	if n := testing.AllocsPerRun(100, func() {
		for _, ev := range evs {
			m.Match(ev)
		}
	}); n != 0 {
		t.Errorf("%v allocations per run", n)
	}
}

func TestParseIPAgreesWithNetip(t *testing.T) {
	for _, s := range []string{"1.2.3.4", "01.2.3.4", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "1.2.3.", ".1.2.3", "0.0.0.0", "255.255.255.255",
		"abc", "1.2.3.4a", "", "::", "::1", "2001:DB8::1", "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8:9", "deadbeef", "12345"} {
		want, err := netip.ParseAddr(s)
		got, ok := parseIP([]byte(s))
		if ok != (err == nil) || ok && got != want.Unmap() {
			t.Errorf("parseIP(%q) = %v, %v; netip: %v, %v", s, got, ok, want, err)
		}
	}
	// An address with a zone is not an address CloudTrail writes; it is not taken as one.
	if _, ok := parseIP([]byte("fe80::1%eth0")); ok {
		t.Error("a zone was accepted")
	}
}
