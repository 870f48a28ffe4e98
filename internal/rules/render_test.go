package rules

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/trailalarm/trailalarm/filterpattern"
)

func TestDecimalRange(t *testing.T) {
	for bits := 1; bits <= 8; bits++ {
		size := 1 << (8 - bits)
		for lo := 0; lo < 256; lo += size {
			hi := lo + size - 1
			re := regexp.MustCompile("^(" + strings.Join(decimalRange(lo, hi), "|") + ")$")
			for v := 0; v < 256; v++ {
				if got := re.MatchString(fmt.Sprint(v)); got != (v >= lo && v <= hi) {
					t.Fatalf("%d..%d: %s on %d: %v", lo, hi, re, v, got)
				}
			}
		}
	}
}

func renderRule(t *testing.T, pattern, typ string) *Rule {
	t.Helper()
	rs, err := Parse("t.yaml", []byte("rules:\n  - id: t:r\n    title: t\n    pattern: '"+pattern+"'\n    params:\n      r: {type: "+typ+"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	return rs[0]
}

// ipEvents are records whose sourceIPAddress covers the ranges of the tests, their edges, other
// families, non-addresses and a missing field.
func ipEvents() []string {
	ips := []string{"10.0.0.1", "10.255.255.255", "11.0.0.1", "9.255.255.255", "192.168.1.1", "192.169.0.1", "203.0.113.0", "203.0.113.255", "203.0.114.1",
		"203.0.112.255", "198.51.100.7", "172.16.0.1", "172.31.255.255", "172.32.0.1", "172.15.255.255", "100.64.0.1", "100.127.255.254", "100.128.0.0",
		"192.0.2.1", "192.0.2.127", "192.0.2.128", "192.0.2.129", "192.0.2.255", "1.2.3.4",
		"2001:db8::1", "2001:db8:ffff::1", "2001:DB8::1", "2001:db8:f000::1", "2001:db9::1", "fd00::1", "::1",
		"AWS Internal", "signin.amazonaws.com", ""}
	var out []string
	for _, ip := range ips {
		out = append(out, `{"eventName":"ConsoleLogin","sourceIPAddress":"`+ip+`"}`)
	}
	return append(out, `{"eventName":"ConsoleLogin"}`, `{"eventName":"GetObject","sourceIPAddress":"1.2.3.4"}`)
}

func TestRender(t *testing.T) {
	pattern := `{ ($.eventName = "ConsoleLogin") && ($.sourceIPAddress != ${r}) }`
	tests := []struct {
		cidrs   string
		want    string // the rendered comparison(s) on sourceIPAddress
		exact   bool
		whyPart string
	}{
		{"203.0.113.0/24", `$.sourceIPAddress != "203.0.113.*"`, true, ""},
		{"10.0.0.0/8, 192.168.0.0/16", `($.sourceIPAddress != "10.*" && $.sourceIPAddress != "192.168.*")`, true, ""},
		{"198.51.100.7/32", `$.sourceIPAddress != "198.51.100.7"`, true, ""},
		{"198.51.100.7", `$.sourceIPAddress != "198.51.100.7"`, true, ""},
		{"2001:db8::1/128", `$.sourceIPAddress != "2001:db8::1"`, false, "canonical text"},
		{"172.16.0.0/12", `$.sourceIPAddress != %^172\.1[6-9]\.|^172\.2[0-9]\.|^172\.3[0-1]\.%`, true, ""},
		{"100.64.0.0/10, 192.0.2.128/25, 203.0.113.0/24", `($.sourceIPAddress != "203.0.113.*" && $.sourceIPAddress != %^100\.6[4-9]\.|^100\.[7-9][0-9]\.|^100\.1[0-1][0-9]\.|^100\.12[0-7]\.|^192\.0\.2\.12[8-9]$|^192\.0\.2\.1[3-9][0-9]$|^192\.0\.2\.2[0-4][0-9]$|^192\.0\.2\.25[0-5]$%)`, true, ""},
		{"2001:db8::/32", `$.sourceIPAddress != "2001:db8:*"`, false, "IPv6 range 2001:db8::/32"},
		{"2001:db8::/36", `$.sourceIPAddress != "2001:db8:*"`, false, "widened to /32"},
		{"0.0.0.0/0", `$.sourceIPAddress != "*"`, false, "0.0.0.0/0 is written as *"},
	}
	for _, tt := range tests {
		r := renderRule(t, pattern, "cidrs")
		got, exact, why, err := Render(r, map[string]string{"r": tt.cidrs})
		if err != nil {
			t.Errorf("%s: %v", tt.cidrs, err)
			continue
		}
		want := `{ ($.eventName = "ConsoleLogin") && (` + tt.want + `) }`
		if got != want || exact != tt.exact || !strings.Contains(why, tt.whyPart) || exact != (why == "") {
			t.Errorf("%s:\n got %s (exact %v, %q)\nwant %s (exact %v, %q)", tt.cidrs, got, exact, why, want, tt.exact, tt.whyPart)
			continue
		}
		// An inexact rendering is shown to differ on some event (IPv6 in upper case, an address
		// of the widened part, an IPv6 address against 0.0.0.0/0).
		if d := checkRendered(t, r, tt.cidrs, got, exact, ipEvents()); !exact && d == 0 {
			t.Errorf("%s: the inexact rendering agrees with the rule on every test event", tt.cidrs)
		}
	}
}

// checkRendered checks the rendered pattern with filterpattern, and where it is exact, that it
// and the bound rule agree on every event.
func checkRendered(t *testing.T, r *Rule, value, rendered string, exact bool, events []string) (differ int) {
	t.Helper()
	if n := len([]rune(rendered)); n > filterpattern.MaxLength {
		t.Errorf("%s: %d characters", value, n)
	}
	p, err := filterpattern.Parse(rendered)
	if err != nil {
		t.Errorf("%s: %v", value, err)
		return 0
	}
	bound, _, _, err := Bind([]*Rule{r}, map[string]string{"r": value})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if a, b := p.MatchString(ev), bound[0].Compiled.MatchString(ev); a != b {
			differ++
			if exact {
				t.Errorf("%s: rendered %v, rule %v on %s", value, a, b, ev)
			}
		}
	}
	return differ
}

func TestRenderEquality(t *testing.T) {
	r := renderRule(t, `{ $.sourceIPAddress = ${r} }`, "cidrs")
	for _, v := range []string{"10.0.0.0/8", "172.16.0.0/12,192.0.2.1", "100.64.0.0/10", "203.0.113.0/24,198.51.100.0/25"} {
		got, exact, _, err := Render(r, map[string]string{"r": v})
		if err != nil || !exact {
			t.Fatalf("%s: %s %v %v", v, got, exact, err)
		}
		checkRendered(t, r, v, got, exact, ipEvents())
	}
}

func TestRenderRegexQuota(t *testing.T) {
	// Two uses of a non-octet range plus one regex of its own: one regex is left for the ranges,
	// so the second use is widened and the rendering says so.
	rs, err := Parse("t.yaml", []byte(`rules:
  - id: t:q
    title: q
    pattern: '{ ($.userAgent = %curl%) && ($.sourceIPAddress != ${a}) && ($.requestParameters.ip != ${b}) }'
    params:
      a: {type: cidrs}
      b: {type: cidrs}
`))
	if err != nil {
		t.Fatal(err)
	}
	got, exact, why, err := Render(rs[0], map[string]string{"a": "172.16.0.0/12", "b": "100.64.0.0/10"})
	if err != nil {
		t.Fatal(err)
	}
	if exact || !strings.Contains(why, "100.64.0.0/10 is written as 100.*") || !strings.Contains(why, "CloudWatch allows 2") || strings.Count(got, "%") != 4 {
		t.Errorf("got %s (exact %v), why %q", got, exact, why)
	}
	if _, err := filterpattern.Parse(got); err != nil {
		t.Error(err)
	}
	// Too long for CloudWatch: an error, not a truncated pattern.
	var many []string
	for i := range 80 {
		many = append(many, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), 1, 0}), 24).String())
	}
	if _, _, _, err := Render(rs[0], map[string]string{"a": strings.Join(many, ","), "b": "10.0.0.0/8"}); err == nil || !strings.Contains(err.Error(), "1024") {
		t.Errorf("long: %v", err)
	}
}

func TestRenderOtherTypes(t *testing.T) {
	rs := loadParamRules(t)
	got, exact, why, err := Render(rs[1], nil)
	if err != nil || !exact || why != "" || got != `{ ($.awsRegion != "us-east-1" && $.awsRegion != "eu-west-1") && $.eventName = "RunInstances" }` {
		t.Errorf("strings: %s %v %q %v", got, exact, why, err)
	}
	if _, _, _, err := Render(rs[2], nil); err == nil || !strings.Contains(err.Error(), "user") {
		t.Errorf("missing value: %v", err)
	}
	if _, _, _, err := Render(rs[0], map[string]string{"home_cidrs": "nope"}); err == nil || !strings.Contains(err.Error(), "home_cidrs") {
		t.Errorf("bad CIDR: %v", err)
	}
	// Without parameters: as written.
	plain, err := Parse("t.yaml", []byte("rules:\n  - id: t:p\n    title: p\n    pattern: '{ $.a = \"${account_id}\" }'\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, exact, _, err := Render(plain[0], nil); got != plain[0].Pattern || !exact || err != nil {
		t.Errorf("plain: %s %v %v", got, exact, err)
	}
}

// TestRenderRunbook renders the runbook pack with the values of its cases and checks the
// rendered patterns against the same real records: where exact, they must agree with the rule.
func TestRenderRunbook(t *testing.T) {
	rs, err := Pack("runbook")
	if err != nil {
		t.Fatal(err)
	}
	byID := boundRunbook(t, runbookValues)
	cases := readRunbookCases(t)
	for _, r := range rs {
		got, exact, why, err := Render(r, runbookValues)
		if err != nil || !exact {
			t.Errorf("%s: %s %v %q %v", r.ID, got, exact, why, err)
			continue
		}
		p, err := filterpattern.Parse(got)
		if err != nil {
			t.Fatalf("%s: %v", r.ID, err)
		}
		for i, c := range cases {
			if a, b := p.Match(c.Record), byID[r.ID].Compiled.Match(c.Record); a != b {
				t.Errorf("%s, case %d (%s): rendered %v, rule %v", r.ID, i+1, c.Note, a, b)
			}
		}
	}
	got, _, _, _ := Render(rs[0], runbookValues)
	if want := `{ ($.eventName = "ConsoleLogin") && ($.sourceIPAddress != "203.0.113.*") }`; got != want {
		t.Errorf("console: %s", got)
	}
}
