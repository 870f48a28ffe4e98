package rules

import (
	"errors"
	"strings"
	"testing"
)

const paramRules = `pack: t
rules:
  - id: t:home
    title: console sign-in from outside home
    pattern: '{ ($.eventName = "ConsoleLogin") && ($.sourceIPAddress != ${home_cidrs}) }'
    params:
      home_cidrs:
        type: cidr list
        description: the office ranges
  - id: t:regions
    title: calls outside the allowed regions
    pattern: '{ $.awsRegion != ${allowed_regions} && $.eventName = "RunInstances" }'
    params:
      allowed_regions:
        type: list of strings
        description: regions in use
        default: [us-east-1, eu-west-1]
  - id: t:user
    title: one user, many bytes
    pattern: '{ $.userIdentity.userName = "${user}*" && $.bytes > ${limit} && $.name = ${user} }'
    params:
      user: {type: string, description: a user}
      limit: {type: number, description: bytes, default: 1000}
`

func loadParamRules(t *testing.T) []*Rule {
	t.Helper()
	rs, err := Parse("t.yaml", []byte(paramRules))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestParamsParse(t *testing.T) {
	rs := loadParamRules(t)
	if len(rs) != 3 {
		t.Fatalf("%d rules", len(rs))
	}
	p := rs[0].Params
	if len(p) != 1 || p[0].Name != "home_cidrs" || p[0].Type != ParamCIDRs || p[0].Description != "the office ranges" || p[0].HasDefault {
		t.Errorf("home_cidrs: %+v", p)
	}
	if d := rs[1].Params[0]; d.Type != ParamStrings || d.Default != "us-east-1,eu-west-1" || !d.HasDefault {
		t.Errorf("allowed_regions: %+v", d)
	}
	if rs[0].Bound() || !rs[0].HasParams() {
		t.Error("a rule with parameters is bound before Bind")
	}
}

func TestParamsBindAndSubstitute(t *testing.T) {
	rs := loadParamRules(t)
	bound, skipped, unused, err := Bind(rs, map[string]string{"user": `a"b`, "home_cidrs": "203.0.113.0/24, 2001:db8::/32", "nope": "1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(bound) != 3 || len(skipped) != 0 || len(unused) != 1 || unused[0] != "nope" {
		t.Fatalf("bound %d, skipped %v, unused %v", len(bound), skipped, unused)
	}
	if rs[0].Bound() || !bound[0].Bound() {
		t.Error("Bind changed its input or did not bind")
	}
	if got, want := bound[1].binding.text, `{ ($.awsRegion != "us-east-1" && $.awsRegion != "eu-west-1") && $.eventName = "RunInstances" }`; got != want {
		t.Errorf("strings:\n got %s\nwant %s", got, want)
	}
	if got, want := bound[2].binding.text, `{ $.userIdentity.userName = "a\"b*" && $.bytes > 1000 && $.name = "a\"b" }`; got != want {
		t.Errorf("string, number:\n got %s\nwant %s", got, want)
	}
	if bound[0].Values["home_cidrs"] != "203.0.113.0/24, 2001:db8::/32" || bound[1].Values["allowed_regions"] != "us-east-1,eu-west-1" {
		t.Errorf("values %v %v", bound[0].Values, bound[1].Values)
	}
	home := bound[0].Compiled
	for ev, want := range map[string]bool{
		`{"eventName":"ConsoleLogin","sourceIPAddress":"198.51.100.4"}`:  true,
		`{"eventName":"ConsoleLogin","sourceIPAddress":"203.0.113.200"}`: false,
		`{"eventName":"ConsoleLogin","sourceIPAddress":"2001:db8:5::1"}`: false,
		`{"eventName":"ConsoleLogin","sourceIPAddress":"2001:db9::1"}`:   true,
		`{"eventName":"ConsoleLogin"}`:                                   false,
		`{"eventName":"GetObject","sourceIPAddress":"198.51.100.4"}`:     false,
	} {
		if home.MatchString(ev) != want {
			t.Errorf("home on %s: want %v", ev, want)
		}
	}
	regions := bound[1].Compiled
	if !regions.MatchString(`{"awsRegion":"ap-south-1","eventName":"RunInstances"}`) || regions.MatchString(`{"awsRegion":"eu-west-1","eventName":"RunInstances"}`) {
		t.Error("allowed_regions")
	}
	// A value overrides the default.
	bound, _, _, err = Bind(rs[1:2], map[string]string{"allowed_regions": "ap-south-1"})
	if err != nil || !bound[0].Compiled.MatchString(`{"awsRegion":"eu-west-1","eventName":"RunInstances"}`) {
		t.Errorf("override: %v", err)
	}
}

func TestParamsMissingValue(t *testing.T) {
	rs := loadParamRules(t)
	bound, skipped, _, err := Bind(rs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(bound) != 1 || bound[0].ID != "t:regions" {
		t.Errorf("bound %v", bound)
	}
	if len(skipped) != 2 || skipped[0] != (Skipped{"t:home", "home_cidrs"}) || skipped[1] != (Skipped{"t:user", "user"}) {
		t.Fatalf("skipped %v", skipped)
	}
	msg := skipped[0].String()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "t:home") || !strings.Contains(msg, "home_cidrs") {
		t.Errorf("message %q", msg)
	}
}

func TestParamsWrongTypes(t *testing.T) {
	rs := loadParamRules(t)
	for values, want := range map[string]map[string]string{
		`home_cidrs: "10.0.0.300/8"`: {"home_cidrs": "10.0.0.300/8", "user": "u"},
		`home_cidrs: "office"`:       {"home_cidrs": "10.0.0.0/8,office", "user": "u"},
		`home_cidrs: the list`:       {"home_cidrs": " , ", "user": "u"},
		`limit: "lots"`:              {"home_cidrs": "10.0.0.0/8", "user": "u", "limit": "lots"},
		`limit: "0x10"`:              {"home_cidrs": "10.0.0.0/8", "user": "u", "limit": "0x10"},
	} {
		_, _, _, err := Bind(rs, want)
		var pe *ParamError
		if err == nil || !errors.As(err, &pe) {
			t.Errorf("%s: err %v", values, err)
			continue
		}
		name := strings.SplitN(values, ":", 2)[0]
		if pe.Param != name || !strings.Contains(err.Error(), "parameter "+name) || !strings.Contains(err.Error(), pe.Rule) {
			t.Errorf("%s: %v", values, err)
		}
	}
}

func TestParamsFileErrors(t *testing.T) {
	rule := func(pattern, params string) string {
		return "rules:\n  - id: x\n    title: x\n    pattern: '" + pattern + "'\n    params:\n" + params
	}
	tests := []struct{ file, want string }{
		{rule(`{ $.a = ${b} }`, "      c: {type: string}\n"), "does not declare"},
		{rule(`{ $.a = ${c} }`, "      c: {type: text}\n"), `type "text" is not one of`},
		{rule(`{ $.a = ${c} }`, "      c: {description: x}\n"), "has no type"},
		{rule(`{ $.a = ${c} }`, "      c: {type: cidrs, default: 10.0.0.0/33}\n"), "is not a CIDR range"},
		{rule(`{ $.a = ${c} }`, "      c: {type: number, default: many}\n"), "is not a number"},
		{rule(`{ $.a = 1 }`, "      c: {type: string}\n"), "does not use ${c}"},
		{rule(`{ $.a = "x${c}" }`, "      c: {type: cidrs}\n"), "inside a quoted value"},
		{rule(`{ $.a > ${c} }`, "      c: {type: strings}\n"), "use it as the value of a comparison"},
		{rule(`{ $.a = ${account_id} }`, "      account_id: {type: string}\n"), "built in"},
		{"rules:\n  - id: x\n    title: x\n    pattern: '{ $.a = ${c} }'\n", "does not declare"},
	}
	for _, tt := range tests {
		_, err := Parse("t.yaml", []byte(tt.file))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s\nerr %v, want %q", tt.file, err, tt.want)
		}
	}
}

func TestParseParamFlags(t *testing.T) {
	got, err := ParseParamFlags([]string{"home_cidrs=203.0.113.0/24,10.0.0.0/8", "x="})
	if err != nil || got["home_cidrs"] != "203.0.113.0/24,10.0.0.0/8" || got["x"] != "" {
		t.Errorf("%v %v", got, err)
	}
	for _, bad := range [][]string{{"noequals"}, {"=v"}, {"a=1", "a=2"}, {"bad name=1"}} {
		if _, err := ParseParamFlags(bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
