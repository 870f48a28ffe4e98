package config

import "testing"

func TestParams(t *testing.T) {
	src := []byte(`params:
  home_cidrs: [203.0.113.0/24, "${OFFICE_V6}"]
  allowed_regions: us-east-1,eu-west-1
  limit: 5
`)
	env := map[string]string{"OFFICE_V6": "2001:db8::/32"}
	c, err := Parse("t.yaml", src, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	got := c.ParamValues()
	want := map[string]string{"home_cidrs": "203.0.113.0/24,2001:db8::/32", "allowed_regions": "us-east-1,eu-west-1", "limit": "5"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %v", got)
	}
	if _, err := Parse("t.yaml", []byte("params:\n  x: {a: 1}\n"), func(string) (string, bool) { return "", false }); err == nil {
		t.Error("a mapping as a parameter value: no error")
	}
}
