package rules

import (
	"strings"
	"testing"
)

func TestParseAllowAndStratus(t *testing.T) {
	rs, err := Parse("ok.yaml", []byte(`rules:
  - id: a
    title: t
    pattern: '{ $.eventName = "CreateRole" && $.requestParameters.doc != "*${account_id}*" }'
    falsePositives: Terraform creates roles too.
    allowFields: [$.userIdentity.arn, "$.requestParameters.items[0].name"]
    allow:
      - field: $.userIdentity.arn
        values: [arn:aws:iam::1:user/terraform, "arn:aws:iam::1:role/ci-*"]
      - pattern: '{ $.userAgent = "*Terraform*" }'
    references:
      stratus: [aws.persistence.iam-create-backdoor-role]
`))
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if !r.UsesAccountID() || r.FalsePositives == "" || len(r.AllowFields) != 2 || len(r.Allow) != 2 ||
		len(r.Allow[0].Compiled) != 2 || r.Allow[1].Pattern == "" || r.References.Stratus[0] != "aws.persistence.iam-create-backdoor-role" {
		t.Errorf("parsed %+v", r)
	}
	if !r.Allow[0].Exempts([]byte(`{"userIdentity":{"arn":"arn:aws:iam::1:role/ci-runner"}}`)) || r.Allow[0].Exempts([]byte(`{"userIdentity":{"arn":"arn:aws:iam::1:user/alice"}}`)) {
		t.Error("field/values entry")
	}
	if got := BindAccountID(r.Pattern, "123456789012"); !strings.Contains(got, `"*123456789012*"`) {
		t.Errorf("BindAccountID: %s", got)
	}

	_, err = Parse("bad.yaml", []byte(`rules:
  - id: a
    title: t
    pattern: '{ $.eventName = ${account_id} }'
    allowFields: [userIdentity.arn]
    allow:
      - field: $.userIdentity.arn
      - pattern: '{ $.x = }'
      - {pattern: '{ $.x = 1 }', field: $.y, values: [z]}
      - fild: $.x
    references:
      stratus: [cloudtrail-stop]
`))
	for _, want := range []string{
		"bad.yaml:4:",
		`bad.yaml:5:19: allowFields: "userIdentity.arn" is not a JSON selector`,
		"bad.yaml:7:9: an allow entry needs field and values, or pattern",
		"bad.yaml:8:",
		"bad.yaml:9:9: an allow entry has either a pattern or a field with values, not both",
		`unknown key "fild" in an allow entry; did you mean "field"?`,
		`references.stratus: "cloudtrail-stop" is not a Stratus Red Team technique id`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}
