package audit

import (
	"slices"
	"strings"
	"testing"

	"github.com/trailalarm/trailalarm/internal/rules"
)

// weak is a weakened pattern and an event it must be reported to miss.
type weak struct {
	pattern string
	misses  string // eventName of a missed event
}

// TestBehaviouralCheckCIS12: for every CIS v1.2 control, the verbatim pattern passes, patterns
// written differently but equivalent pass, and weakened ones fail naming the event they miss.
func TestBehaviouralCheckCIS12(t *testing.T) {
	tests := []struct {
		id         string
		equivalent []string
		weakened   []weak
	}{
		{"cis-1.2:3.1",
			[]string{
				`{($.errorCode="AccessDenied*")||($.errorCode="*UnauthorizedOperation")}`,
				`{ $.errorCode = *UnauthorizedOperation || $.errorCode = AccessDenied* }`,
				`{ ( ( $.errorCode = "*UnauthorizedOperation" ) ) || ( $.errorCode = "AccessDenied*" ) }`,
			},
			[]weak{
				{`{ $.errorCode = "AccessDenied*" }`, "ModifyImageAttribute"},
				{`{ $.errorCode = "*UnauthorizedOperation" }`, "AssumeRole"},
				{`{ ($.errorCode = "UnauthorizedOperation") || ($.errorCode = "AccessDenied") }`, "GetPasswordData"},
			}},
		{"cis-1.2:3.2",
			[]string{
				`{($.additionalEventData.MFAUsed!="Yes")&&($.eventName="ConsoleLogin")}`,
				`{ $.eventName = ConsoleLogin && $.additionalEventData.MFAUsed != Yes }`,
			},
			[]weak{
				{`{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") }`, "ConsoleLogin"},
				{`{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed = "No") && ($.userIdentity.type != "Root") }`, "ConsoleLogin"},
			}},
		{"cis-1.2:3.3",
			[]string{
				`{$.eventType!="AwsServiceEvent"&&$.userIdentity.invokedBy NOT EXISTS&&$.userIdentity.type="Root"}`,
				`{ ( $.userIdentity.type = Root ) && ( $.userIdentity.invokedBy NOT EXISTS ) && ( $.eventType != AwsServiceEvent ) }`,
			},
			[]weak{
				{`{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType = "AwsApiCall" }`, "ConsoleLogin"},
				{`{ $.userIdentity.type = "Root" && $.eventName = "ConsoleLogin" }`, "EnableMFADevice"},
				{`{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventSource != "signin.amazonaws.com" }`, "PasswordUpdated"},
			}},
		{"cis-1.2:3.4", reorder("cis-1.2:3.4"), dropEvents("cis-1.2:3.4", "DetachGroupPolicy", "CreatePolicyVersion")},
		{"cis-1.2:3.5",
			append(reorder("cis-1.2:3.5"), `{ $.eventSource = "cloudtrail.amazonaws.com" && ($.eventName = "CreateTrail" || $.eventName = "UpdateTrail" || $.eventName = "DeleteTrail" || $.eventName = "StartLogging" || $.eventName = "StopLogging") }`),
			append(dropEvents("cis-1.2:3.5", "StopLogging", "UpdateTrail"), weak{`{ $.errorCode NOT EXISTS && ($.eventName = CreateTrail || $.eventName = UpdateTrail || $.eventName = DeleteTrail || $.eventName = StartLogging || $.eventName = StopLogging) }`, "StopLogging"})},
		{"cis-1.2:3.6",
			[]string{
				`{($.errorMessage="Failed authentication")&&($.eventName=ConsoleLogin)}`,
				`{ $.eventName = "ConsoleLogin" && $.errorMessage = "Failed authentication" }`,
			},
			[]weak{
				{`{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") && ($.userIdentity.type = "IAMUser") }`, "ConsoleLogin"},
				{`{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") && ($.userIdentity.type != "IAMUser") }`, "ConsoleLogin"},
			}},
		{"cis-1.2:3.7", reorder("cis-1.2:3.7"), dropEvents("cis-1.2:3.7", "DisableKey", "ScheduleKeyDeletion")},
		{"cis-1.2:3.8", reorder("cis-1.2:3.8"), dropEvents("cis-1.2:3.8", "PutBucketPolicy", "DeleteBucketCors")},
		{"cis-1.2:3.9", reorder("cis-1.2:3.9"), dropEvents("cis-1.2:3.9", "StopConfigurationRecorder", "PutConfigurationRecorder")},
		{"cis-1.2:3.10", reorder("cis-1.2:3.10"), dropEvents("cis-1.2:3.10", "AuthorizeSecurityGroupIngress", "RevokeSecurityGroupEgress")},
		{"cis-1.2:3.11", reorder("cis-1.2:3.11"), dropEvents("cis-1.2:3.11", "ReplaceNetworkAclAssociation", "DeleteNetworkAclEntry")},
		{"cis-1.2:3.12", reorder("cis-1.2:3.12"), dropEvents("cis-1.2:3.12", "CreateCustomerGateway", "AttachInternetGateway")},
		{"cis-1.2:3.13", reorder("cis-1.2:3.13"), dropEvents("cis-1.2:3.13", "ReplaceRoute", "DisassociateRouteTable")},
		{"cis-1.2:3.14", reorder("cis-1.2:3.14"), dropEvents("cis-1.2:3.14", "ModifyVpcAttribute", "AcceptVpcPeeringConnection")},
	}
	rs, err := rules.Pack("cis-1.2")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != len(tests) {
		t.Fatalf("cis-1.2 has %d rules, the table %d", len(rs), len(tests))
	}
	for i, tt := range tests {
		r := rs[i]
		if r.ID != tt.id {
			t.Fatalf("rule %d is %s, the table says %s", i, r.ID, tt.id)
		}
		b, err := NewBank(r)
		if err != nil {
			t.Fatal(err)
		}
		if v := b.Check(r.Pattern); !v.OK || len(v.Noisier) > 0 {
			t.Errorf("%s: the verbatim pattern: %s", r.ID, v.Summary())
		}
		if len(tt.equivalent) < 2 || len(tt.weakened) < 2 {
			t.Errorf("%s: the table needs 2+ equivalents and 2+ weakened patterns", r.ID)
		}
		for _, p := range tt.equivalent {
			if p == r.Pattern {
				t.Errorf("%s: %q is the verbatim pattern, not a rewrite", r.ID, p)
			}
			if v := b.Check(p); !v.OK {
				t.Errorf("%s: equivalent %s: %s", r.ID, p, v.Summary())
			}
		}
		for _, w := range tt.weakened {
			v := b.Check(w.pattern)
			if v.OK {
				t.Errorf("%s: weakened %s passes: %s", r.ID, w.pattern, v.Summary())
				continue
			}
			if !slices.ContainsFunc(v.Missed, func(e Event) bool { return e.EventName == w.misses }) {
				t.Errorf("%s: weakened %s: want %s among the missed events, got %v", r.ID, w.pattern, w.misses, v.Missed)
			}
			if s := v.Summary(); !strings.Contains(s, v.Missed[0].EventName) || !strings.Contains(s, v.Missed[0].EventSource) ||
				v.Missed[0].EventID != "" && !strings.Contains(s, v.Missed[0].EventID) {
				t.Errorf("%s: the summary does not name the missed record %v: %s", r.ID, v.Missed[0], s)
			}
		}
	}
}

// reorder rewrites an event-list pattern two ways: the eventName clauses in reverse order
// without spaces, and with spaces, quotes and doubled parentheses.
func reorder(id string) []string {
	r, _ := rules.Builtin(id)
	prefix, clauses, suffix := splitList(r.Pattern)
	rev := slices.Clone(clauses)
	slices.Reverse(rev)
	var compact, spaced []string
	for _, c := range rev {
		compact = append(compact, "($.eventName="+c+")")
	}
	for _, c := range clauses {
		spaced = append(spaced, `( ( $.eventName = "`+c+`" ) )`)
	}
	return []string{
		prefix + strings.Join(compact, "||") + suffix,
		prefix + strings.Join(spaced, "  ||  ") + suffix,
	}
}

// dropEvents weakens an event-list pattern by leaving out one event name at a time.
func dropEvents(id string, names ...string) []weak {
	r, _ := rules.Builtin(id)
	prefix, clauses, suffix := splitList(r.Pattern)
	var out []weak
	for _, n := range names {
		kept := slices.DeleteFunc(slices.Clone(clauses), func(c string) bool { return c == n })
		var parts []string
		for _, c := range kept {
			parts = append(parts, "($.eventName = "+c+")")
		}
		out = append(out, weak{prefix + strings.Join(parts, " || ") + suffix, n})
	}
	return out
}

// splitList splits a CIS event-list pattern into what comes before the list of eventName
// clauses, the event names, and what comes after.
func splitList(p string) (prefix string, names []string, suffix string) {
	i := strings.Index(p, "($.eventName")
	last := strings.LastIndex(p, "($.eventName")
	j := last + strings.Index(p[last:], ")") + 1 // the last clause's closing parenthesis
	for _, c := range strings.Split(p[i:j], "||") {
		c = strings.Trim(strings.TrimSpace(c), "()")
		_, v, _ := strings.Cut(c, "=")
		names = append(names, strings.Trim(strings.TrimSpace(v), `"`))
	}
	return p[:i], names, p[j:]
}
