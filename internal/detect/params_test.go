package detect

import (
	"fmt"
	"testing"

	"github.com/trailalarm/trailalarm/internal/rules"
)

// TestParams: rules with parameters are evaluated only once bound; a cidrs parameter together
// with ${account_id} keeps its address ranges in the per-account patterns.
func TestParams(t *testing.T) {
	rs := parseRules(t, `rules:
  - id: outside
    title: CreateRole from outside the office, naming another account
    pattern: '{ $.eventName = "CreateRole" && $.sourceIPAddress != ${home} && $.requestParameters.doc != "*${account_id}*" }'
    params:
      home: {type: cidrs}
`)
	in := func(id, acct, ip, docAcct string) string {
		return rec(id, acct, "CreateRole", "u", "", fmt.Sprintf(`,"sourceIPAddress":%q,"requestParameters":{"doc":"arn:aws:iam::%s:root"}`, ip, docAcct))
	}
	data := in("office", "111111111111", "10.1.2.3", "222222222222") +
		in("away", "111111111111", "198.51.100.1", "222222222222") +
		in("away-own", "111111111111", "198.51.100.1", "111111111111") +
		in("away-v6", "222222222222", "2001:db9::1", "111111111111") +
		in("office-v6", "222222222222", "2001:db8::1", "111111111111")
	// Not bound: never evaluated.
	if got := evalAll(t, rs, data); len(got) != 0 {
		t.Errorf("unbound rule matched: %v", got)
	}
	bound, _, _, err := rules.Bind(rs, map[string]string{"home": "10.0.0.0/8,2001:db8::/32"})
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(evalAll(t, bound, data))
	if want := "[outside@away outside@away-v6]"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
