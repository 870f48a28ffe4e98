package detect

import (
	"fmt"
	"strings"
	"testing"

	"github.com/trailalarm/trailalarm/internal/cloudtrail"
	"github.com/trailalarm/trailalarm/internal/rules"
)

func parseRules(t *testing.T, yaml string) []*rules.Rule {
	t.Helper()
	rs, err := rules.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// evalAll evaluates records (NDJSON) and returns "rule@eventID" per match.
func evalAll(t *testing.T, rs []*rules.Rule, ndjson string) []string {
	t.Helper()
	ev := ForRules(rs).NewEvaluator()
	var out []string
	_, err := cloudtrail.Read(strings.NewReader(ndjson), "test", cloudtrail.Options{}, func(rec *cloudtrail.Record) error {
		ev.Eval(rec, func(m Match) { out = append(out, fmt.Sprintf("%s@%s", rs[m.Rule].ID, m.Record.EventID)) })
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func rec(id, account, name, arn, ua, extra string) string {
	return fmt.Sprintf(`{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":%q,"awsRegion":"us-east-1","eventID":%q,"recipientAccountId":%q,"userIdentity":{"type":"IAMUser","arn":%q},"userAgent":%q%s}`+"\n",
		name, id, account, arn, ua, extra)
}

func TestAccountID(t *testing.T) {
	rs := parseRules(t, `rules:
  - id: foreign
    title: Trust policy names another account
    pattern: '{ $.eventName = "CreateRole" && $.requestParameters.doc != "*${account_id}*" }'
  - id: plain
    title: Any CreateRole
    pattern: '{ $.eventName = "CreateRole" }'
`)
	doc := func(acct string) string {
		return fmt.Sprintf(`,"requestParameters":{"doc":"arn:aws:iam::%s:root"}`, acct)
	}
	got := evalAll(t, rs,
		rec("own-a", "111111111111", "CreateRole", "u", "", doc("111111111111"))+
			rec("other-a", "111111111111", "CreateRole", "u", "", doc("222222222222"))+
			rec("own-b", "222222222222", "CreateRole", "u", "", doc("222222222222"))+
			rec("other-b", "222222222222", "CreateRole", "u", "", doc("111111111111"))+
			rec("own-a2", "111111111111", "CreateRole", "u", "", doc("111111111111"))+
			rec("odd", `1"}||{`, "CreateRole", "u", "", doc("333333333333")))
	want := "[plain@own-a foreign@other-a plain@other-a plain@own-b foreign@other-b plain@other-b plain@own-a2 foreign@odd plain@odd]"
	if fmt.Sprint(got) != want {
		t.Errorf("got  %v\nwant %s", got, want)
	}
	e := ForRules(rs)
	e.NewEvaluator()
	if e.bind == nil || len(e.bind) != 1 {
		t.Errorf("bind = %v, want the one rule with ${account_id}", e.bind)
	}
	if ForRules(rs[1:]).bind != nil {
		t.Error("a rule set without ${account_id} has per-account sets")
	}
}

// A rule set without ${account_id} and without allow-lists costs no allocation per event.
func TestAccountIDNoAllocs(t *testing.T) {
	rs := parseRules(t, `rules:
  - id: foreign
    title: t
    pattern: '{ $.eventName = "CreateRole" && $.requestParameters.doc != "*${account_id}*" }'
  - id: plain
    title: t
    pattern: '{ $.eventName = "CreateUser" }'
`)
	ev := ForRules(rs).NewEvaluator()
	var recs []*cloudtrail.Record
	_, _ = cloudtrail.Read(strings.NewReader(rec("a", "111111111111", "ListRoles", "u", "", "")+rec("b", "222222222222", "GetRole", "u", "", "")), "t", cloudtrail.Options{}, func(r *cloudtrail.Record) error {
		c := r.Clone()
		recs = append(recs, &c)
		return nil
	})
	for _, r := range recs {
		ev.Eval(r, func(Match) {}) // warm the per-account cache
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, r := range recs {
			ev.Eval(r, func(Match) {})
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per round of non-matching records", allocs)
	}
}

func TestAllowLists(t *testing.T) {
	rs := parseRules(t, `rules:
  - id: new-user
    title: IAM user created
    pattern: '{ $.eventName = "CreateUser" }'
    allow:
      - field: $.userIdentity.arn
        values: ["arn:aws:iam::111111111111:user/terraform", "arn:aws:iam::111111111111:user/ci-*"]
      - pattern: '{ $.userAgent = "*Terraform*" }'
  - id: new-user-2
    title: IAM user created, no allow-list
    pattern: '{ $.eventName = "CreateUser" }'
`)
	got := evalAll(t, rs,
		rec("human", "111111111111", "CreateUser", "arn:aws:iam::111111111111:user/alice", "aws-cli/2", "")+
			rec("tf-arn", "111111111111", "CreateUser", "arn:aws:iam::111111111111:user/terraform", "aws-cli/2", "")+
			rec("ci", "111111111111", "CreateUser", "arn:aws:iam::111111111111:user/ci-runner", "aws-cli/2", "")+
			rec("tf-ua", "111111111111", "CreateUser", "arn:aws:iam::111111111111:user/alice", "APN/1.0 HashiCorp/1.0 Terraform/1.5.2", ""))
	want := "[new-user@human new-user-2@human new-user-2@tf-arn new-user-2@ci new-user-2@tf-ua]"
	if fmt.Sprint(got) != want {
		t.Errorf("got  %v\nwant %s", got, want)
	}

	// From the command line: --allow RULE=PATTERN, with a glob over rule ids.
	rs = parseRules(t, `rules:
  - id: a:new-user
    title: t
    pattern: '{ $.eventName = "CreateUser" }'
  - id: a:new-key
    title: t
    pattern: '{ $.eventName = "CreateAccessKey" }'
`)
	id, a, err := rules.ParseAllowFlag(`a:*={ $.userIdentity.arn = "*:user/terraform" }`)
	if err != nil {
		t.Fatal(err)
	}
	if err := rules.AddAllow(rs, id, a); err != nil {
		t.Fatal(err)
	}
	got = evalAll(t, rs,
		rec("1", "111111111111", "CreateUser", "arn:aws:iam::111111111111:user/terraform", "", "")+
			rec("2", "111111111111", "CreateAccessKey", "arn:aws:iam::111111111111:user/terraform", "", "")+
			rec("3", "111111111111", "CreateAccessKey", "arn:aws:iam::111111111111:user/alice", "", ""))
	if fmt.Sprint(got) != "[a:new-key@3]" {
		t.Errorf("got %v", got)
	}
	if err := rules.AddAllow(rs, "a:new-usr", a); err == nil || !strings.Contains(err.Error(), `did you mean "a:new-user"`) {
		t.Errorf("unknown rule: %v", err)
	}
	for _, bad := range []string{"a:new-user", "a:new-user=", "={ $.x = 1 }", "a:new-user={ $.x = }"} {
		if _, _, err := rules.ParseAllowFlag(bad); err == nil {
			t.Errorf("ParseAllowFlag(%q): no error", bad)
		}
	}
	// Adding to a copy does not change the built-in pack.
	b, _ := rules.Pack("threat")
	if err := rules.AddAllow(b, "threat:iam-user-created", a); err != nil {
		t.Fatal(err)
	}
	if r, _ := rules.Builtin("threat:iam-user-created"); len(r.Allow) != 0 {
		t.Errorf("the built-in rule was changed: %v", r.Allow)
	}
}
