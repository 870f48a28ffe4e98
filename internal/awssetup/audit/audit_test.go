package audit

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/trailalarm/trailalarm/internal/rules"
)

const (
	topicARN = "arn:aws:sns:us-east-1:111122223333:alerts"
	group    = "CloudTrail/Main"
)

var now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// compliant is an account that passes every control of the default pack: what trailalarm apply
// would leave, written by hand.
func compliant(t *testing.T) (*Account, []*rules.Rule) {
	t.Helper()
	refs, err := Controls("")
	if err != nil {
		t.Fatal(err)
	}
	last := now.Add(-time.Hour)
	a := &Account{
		ID: "111122223333", Region: "us-east-1",
		Trails: []Trail{{Name: "main", ARN: "arn:aws:cloudtrail:us-east-1:111122223333:trail/main", HomeRegion: "us-east-1",
			MultiRegion: true, Logging: true, LogFileValidation: true, ManagementEvents: "All",
			LogGroupARN: "arn:aws:logs:us-east-1:111122223333:log-group:" + group + ":*", RoleARN: "arn:aws:iam::111122223333:role/ct", LastDelivery: &last}},
		LogGroups:   map[string]bool{group: true},
		Filters:     map[string][]Filter{},
		Topics:      map[string]*Topic{topicARN: {ARN: topicARN, Exists: true, Subscriptions: []Subscription{{ARN: topicARN + ":1", Protocol: "email", Endpoint: "a@example.com", Confirmed: true}}}},
		SecurityHub: SecurityHub{Enabled: true, HubARN: "arn:aws:securityhub:us-east-1:111122223333:hub/default"},
		Config: []Recorder{{Name: "default", RoleARN: "arn:aws:iam::111122223333:role/" + serviceLinkedRoleConfig,
			AllSupported: true, IncludeGlobal: true, Recording: true, LastStatus: "SUCCESS"}},
	}
	for _, r := range refs {
		a.Filters[group] = append(a.Filters[group], Filter{Name: "f-" + r.ID, LogGroup: group, Pattern: r.Pattern,
			Transformations: []Transformation{{Name: r.Metric.Name + "-" + r.ID, Namespace: "CIS", Value: "1"}}})
		a.Alarms = append(a.Alarms, Alarm{Name: "a-" + r.ID, Namespace: "CIS", MetricName: r.Metric.Name + "-" + r.ID, Statistic: "Sum",
			Period: 300, Threshold: 1, Comparison: "GreaterThanOrEqualToThreshold", EvaluationPeriods: 1, ActionsEnabled: true, Actions: []string{topicARN}})
	}
	return a, refs
}

var allMetric = []string{"CloudWatch.1", "CloudWatch.2", "CloudWatch.3", "CloudWatch.4", "CloudWatch.5", "CloudWatch.6", "CloudWatch.7",
	"CloudWatch.8", "CloudWatch.9", "CloudWatch.10", "CloudWatch.11", "CloudWatch.12", "CloudWatch.13", "CloudWatch.14", "cis-5.0:4.15"}

// alarmOf returns the alarm of the control with the given Security Hub id.
func alarmOf(a *Account, id string) *Alarm {
	for i := range a.Alarms {
		if strings.HasSuffix(a.Alarms[i].Name, ":"+id) {
			return &a.Alarms[i]
		}
	}
	panic("no alarm for " + id)
}

func filterOf(a *Account, id string) *Filter {
	fs := a.Filters[group]
	for i := range fs {
		if strings.HasSuffix(fs[i].Name, ":"+id) {
			return &fs[i]
		}
	}
	panic("no filter for " + id)
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name   string
		mod    func(a *Account)
		opts   Options
		failed []string
		na     []string
		reason map[string]string // control → a part of its reason
		note   map[string]string // control → a part of one of its notes
	}{
		{name: "compliant", mod: func(a *Account) {}},
		{name: "SampleCount > 0", mod: func(a *Account) {
			al := alarmOf(a, "CloudWatch.1")
			al.Statistic, al.Comparison, al.Threshold = "SampleCount", "GreaterThanThreshold", 0
		}},
		{name: "Maximum >= 1 of metric value 5", mod: func(a *Account) {
			filterOf(a, "CloudWatch.1").Transformations[0].Value = "5"
			alarmOf(a, "CloudWatch.1").Statistic = "Maximum"
		}},
		{name: "Sum > 1", mod: func(a *Account) { alarmOf(a, "CloudWatch.2").Comparison = "GreaterThanThreshold" },
			failed: []string{"CloudWatch.2"}, reason: map[string]string{"CloudWatch.2": "needs Sum > 1, and one event gives 1"}},
		{name: "2 of 3 datapoints", mod: func(a *Account) {
			al := alarmOf(a, "CloudWatch.3")
			al.EvaluationPeriods, al.DatapointsToAlarm = 3, 2
		}, failed: []string{"CloudWatch.3"}, reason: map[string]string{"CloudWatch.3": "needs 2 breaching periods"}},
		{name: "3 evaluation periods, M not set", mod: func(a *Account) { alarmOf(a, "CloudWatch.3").EvaluationPeriods = 3 },
			failed: []string{"CloudWatch.3"}, reason: map[string]string{"CloudWatch.3": "needs 3 breaching periods"}},
		{name: "Average with defaultValue 0", mod: func(a *Account) {
			filterOf(a, "CloudWatch.4").Transformations[0].DefaultValue = aws.Float64(0)
			alarmOf(a, "CloudWatch.4").Statistic = "Average"
		}, failed: []string{"CloudWatch.4"}, reason: map[string]string{"CloudWatch.4": "needs Average >= 1, and one event gives 0"}},
		{name: "less than", mod: func(a *Account) { alarmOf(a, "CloudWatch.5").Comparison = "LessThanThreshold" },
			failed: []string{"CloudWatch.5"}, reason: map[string]string{"CloudWatch.5": "which does not fire when an event happens"}},
		{name: "percentile", mod: func(a *Account) { alarmOf(a, "CloudWatch.5").Statistic = "p99" },
			failed: []string{"CloudWatch.5"}, reason: map[string]string{"CloudWatch.5": "uses the statistic p99"}},
		{name: "actions disabled", mod: func(a *Account) { alarmOf(a, "CloudWatch.6").ActionsEnabled = false },
			failed: []string{"CloudWatch.6"}, reason: map[string]string{"CloudWatch.6": "has its actions disabled"}},
		{name: "metric value from the event, Sum", mod: func(a *Account) { filterOf(a, "CloudWatch.7").Transformations[0].Value = "$.requestParameters.n" },
			failed: []string{"CloudWatch.7"}, reason: map[string]string{"CloudWatch.7": "which comes from the event"}},
		{name: "metric value from the event, SampleCount", mod: func(a *Account) {
			filterOf(a, "CloudWatch.7").Transformations[0].Value = "$.requestParameters.n"
			alarmOf(a, "CloudWatch.7").Statistic = "SampleCount"
		}},
		{name: "alarm on another dimension set", mod: func(a *Account) {
			filterOf(a, "CloudWatch.8").Transformations[0].Dimensions = map[string]string{"Account": "$.recipientAccountId"}
		}, failed: []string{"CloudWatch.8"}, reason: map[string]string{"CloudWatch.8": "no alarm watches its metric CIS/"}},
		{name: "pending subscription", mod: func(a *Account) {
			a.Topics[topicARN].Subscriptions = []Subscription{{ARN: "PendingConfirmation", Protocol: "email", Endpoint: "a@example.com"}}
		}, failed: allMetric, reason: map[string]string{"CloudWatch.9": "has only unconfirmed subscriptions"}},
		{name: "topic deleted", mod: func(a *Account) { a.Topics[topicARN] = &Topic{ARN: topicARN} },
			failed: allMetric, reason: map[string]string{"CloudWatch.9": "topic " + topicARN + " does not exist"}},
		{name: "topic of another account", mod: func(a *Account) {
			a.Topics[topicARN] = &Topic{ARN: topicARN, Error: "AWS denied access (AuthorizationError)"}
		}, failed: allMetric, reason: map[string]string{"CloudWatch.9": "could not be read: AWS denied access"}},
		{name: "an alarm whose action is not SNS", mod: func(a *Account) {
			alarmOf(a, "CloudWatch.10").Actions = []string{"arn:aws:automate:us-east-1:ec2:stop"}
		}, failed: []string{"CloudWatch.10"}, reason: map[string]string{"CloudWatch.10": "has no SNS topic among its alarm actions"}},
		{name: "a noisier pattern passes with a note", mod: func(a *Account) {
			filterOf(a, "CloudWatch.11").Pattern = `{ $.eventSource = ec2.amazonaws.com }`
		}, note: map[string]string{"CloudWatch.11": "noisier than the CIS pattern"}},
		{name: "a broader pattern passes with a note", mod: func(a *Account) {
			// CIS v5.0's security-group pattern adds ModifySecurityGroupRules, which CloudWatch.10 lacks.
			r, _ := rules.Builtin("cis-5.0:4.10")
			filterOf(a, "CloudWatch.10").Pattern = r.Pattern
		}, note: map[string]string{"CloudWatch.10": "also catches 1 event(s) the CIS pattern misses, e.g. ModifySecurityGroupRules"}},
		{name: "a pattern that does not parse", mod: func(a *Account) { filterOf(a, "CloudWatch.12").Pattern = `{ $.eventName = ` },
			failed: []string{"CloudWatch.12"}, reason: map[string]string{"CloudWatch.12": "no metric filter on CloudTrail/Main catches every CIS event"}},
		{name: "log group in another region", mod: func(a *Account) {
			a.Trails[0].LogGroupARN = "arn:aws:logs:eu-west-1:111122223333:log-group:" + group + ":*"
		}, na: allMetric, reason: map[string]string{"CloudWatch.1": "is in another region"}},
		{name: "--log-group of no trail", opts: Options{LogGroups: []string{"Other"}}, mod: func(a *Account) {},
			failed: allMetric, reason: map[string]string{"CloudWatch.1": "no multi-region logging trail sends to log group Other"}},
		{name: "--log-group of the trail", opts: Options{LogGroups: []string{group}}, mod: func(a *Account) {}},
		{name: "read-only management events", mod: func(a *Account) { a.Trails[0].ManagementEvents = "ReadOnly" },
			failed: append([]string{"CloudTrail.1"}, allMetric...), reason: map[string]string{"CloudTrail.1": "records ReadOnly management events only"}},
		{name: "single-region trail", mod: func(a *Account) { a.Trails[0].MultiRegion = false },
			failed: append([]string{"CloudTrail.1"}, allMetric...), reason: map[string]string{"CloudTrail.1": "trail main is not multi-region"}},
		{name: "no trail", mod: func(a *Account) { a.Trails = nil },
			failed: append([]string{"CloudTrail.1"}, allMetric...), na: []string{"CloudTrail.4", "CloudTrail.5"},
			reason: map[string]string{"CloudTrail.1": "the region has no trail"}},
		{name: "no log file validation", mod: func(a *Account) { a.Trails[0].LogFileValidation = false },
			failed: []string{"CloudTrail.4"}, reason: map[string]string{"CloudTrail.4": "trail main does not validate its log files"}},
		{name: "delivery error", mod: func(a *Account) { a.Trails[0].DeliveryError = "AccessDenied" },
			failed: []string{"CloudTrail.5"}, reason: map[string]string{"CloudTrail.5": "error delivering trail main"}},
		{name: "last delivery two days ago", mod: func(a *Account) { old := now.Add(-48 * time.Hour); a.Trails[0].LastDelivery = &old },
			failed: []string{"CloudTrail.5"}, reason: map[string]string{"CloudTrail.5": "more than a day ago"}},
		{name: "log group deleted", mod: func(a *Account) { a.LogGroups[group] = false; a.Filters = map[string][]Filter{} },
			failed: append([]string{"CloudTrail.5"}, allMetric...), reason: map[string]string{"CloudTrail.5": "which does not exist", "CloudWatch.1": "log group CloudTrail/Main, which trail main sends to, does not exist"}},
		{name: "Security Hub off", mod: func(a *Account) { a.SecurityHub = SecurityHub{} },
			failed: []string{"SecurityHub"}, reason: map[string]string{"SecurityHub": "Security Hub is not enabled in us-east-1"}},
		{name: "Config stopped", mod: func(a *Account) { a.Config[0].Recording = false },
			failed: []string{"Config.1"}, reason: map[string]string{"Config.1": "recorder default is not recording"}},
		{name: "Config with its own role", mod: func(a *Account) { a.Config[0].RoleARN = "arn:aws:iam::111122223333:role/config" },
			failed: []string{"Config.1"}, reason: map[string]string{"Config.1": "service-linked role"}},
		{name: "no Config", mod: func(a *Account) { a.Config = nil },
			failed: []string{"Config.1"}, reason: map[string]string{"Config.1": "no configuration recorder"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, refs := compliant(t)
			tt.mod(a)
			tt.opts.Now = now
			rs, err := Evaluate(a, refs, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 20 {
				t.Fatalf("%d results, want 20", len(rs))
			}
			failed := Failed(rs)
			if failed == nil {
				failed = []string{}
			}
			var na []string
			for _, r := range rs {
				if r.Status == NotApplicable {
					na = append(na, r.Control)
				}
				if r.Status == Fail && (r.Fix == nil || r.Fix.Apply == "" && len(r.Fix.AWSCLI) == 0) {
					t.Errorf("%s fails without a fix", r.Control)
				}
				if r.Reason == "" || strings.Contains(r.Reason, "\n") {
					t.Errorf("%s: reason %q is not one line", r.Control, r.Reason)
				}
			}
			if tt.failed == nil {
				tt.failed = []string{}
			}
			if !slices.Equal(failed, tt.failed) {
				for _, r := range rs {
					if r.Status == Fail {
						t.Logf("%s: %s", r.Control, r.Reason)
					}
				}
				t.Errorf("failed %v, want %v", failed, tt.failed)
			}
			if !slices.Equal(na, tt.na) {
				t.Errorf("not applicable %v, want %v", na, tt.na)
			}
			for _, r := range rs {
				if want, ok := tt.reason[r.Control]; ok && !strings.Contains(r.Reason, want) {
					t.Errorf("%s: reason %q, want it to contain %q", r.Control, r.Reason, want)
				}
				if want, ok := tt.note[r.Control]; ok && !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, want) }) {
					t.Errorf("%s: notes %q, want one containing %q", r.Control, r.Notes, want)
				}
			}
		})
	}
}

func TestManagementEvents(t *testing.T) {
	sel := func(rw cttypes.ReadWriteType, mgmt bool) cttypes.EventSelector {
		return cttypes.EventSelector{ReadWriteType: rw, IncludeManagementEvents: aws.Bool(mgmt)}
	}
	adv := func(fields ...cttypes.AdvancedFieldSelector) cttypes.AdvancedEventSelector {
		return cttypes.AdvancedEventSelector{FieldSelectors: fields}
	}
	f := func(field string, eq ...string) cttypes.AdvancedFieldSelector {
		return cttypes.AdvancedFieldSelector{Field: aws.String(field), Equals: eq}
	}
	tests := []struct {
		basic []cttypes.EventSelector
		adv   []cttypes.AdvancedEventSelector
		want  string
	}{
		{nil, nil, "None"},
		{[]cttypes.EventSelector{sel(cttypes.ReadWriteTypeAll, true)}, nil, "All"},
		{[]cttypes.EventSelector{sel(cttypes.ReadWriteTypeAll, false)}, nil, "None"},
		{[]cttypes.EventSelector{sel(cttypes.ReadWriteTypeReadOnly, true)}, nil, "ReadOnly"},
		{[]cttypes.EventSelector{sel(cttypes.ReadWriteTypeReadOnly, true), sel(cttypes.ReadWriteTypeWriteOnly, true)}, nil, "All"},
		{nil, []cttypes.AdvancedEventSelector{adv(f("eventCategory", "Management"))}, "All"},
		{nil, []cttypes.AdvancedEventSelector{adv(f("eventCategory", "Management"), f("readOnly", "false"))}, "WriteOnly"},
		{nil, []cttypes.AdvancedEventSelector{adv(f("eventCategory", "Data"), f("resources.type", "AWS::S3::Object"))}, "None"},
	}
	for i, tt := range tests {
		if got := managementEvents(tt.basic, tt.adv); got != tt.want {
			t.Errorf("%d: %s, want %s", i, got, tt.want)
		}
	}
}

func TestControls(t *testing.T) {
	for _, pack := range []string{"default", "securityhub", "cis-1.2", "cis-7.0"} {
		rs, err := Controls(pack)
		if err != nil {
			t.Fatal(err)
		}
		want := 15
		if pack == "securityhub" || pack == "cis-1.2" {
			want = 14
		}
		if len(rs) != want {
			t.Errorf("%s: %d controls, want %d", pack, len(rs), want)
		}
	}
	if _, err := Controls("threat"); err == nil || !strings.Contains(err.Error(), "no CIS monitoring controls") {
		t.Errorf("threat: %v", err)
	}
	if _, err := Controls("cis-9.9"); err == nil {
		t.Error("an unknown pack was accepted")
	}
}

// TestEveryPackReferencePasses: every built-in CIS and Security Hub rule passes its own bank,
// without noise, so an account set up from any pack passes its audit.
func TestEveryPackReferencePasses(t *testing.T) {
	for _, r := range rules.AllBuiltin() {
		if _, ok := rules.TopicOf(r.ID); !ok {
			continue
		}
		b, err := NewBank(r)
		if err != nil {
			t.Fatal(err)
		}
		if v := b.Check(r.Pattern); !v.OK || len(v.Noisier) > 0 || len(v.Broader) > 0 {
			t.Errorf("%s: %s", r.ID, v.Summary())
		}
	}
}

func FuzzCheck(f *testing.F) {
	r, _ := rules.Builtin("cis-1.2:3.3")
	b, err := NewBank(r)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{r.Pattern, `{ $.userIdentity.type = Root }`, `ConsoleLogin`, `[a, b]`, `{ $.x = `, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		v := b.Check(p)
		if v.Error != "" {
			return
		}
		if v.Matched+len(v.Missed) != v.Required || v.OK != (len(v.Missed) == 0) {
			t.Errorf("inconsistent verdict for %q: %+v", p, v)
		}
		if !v.OK && !strings.Contains(v.Summary(), v.Missed[0].EventName) {
			t.Errorf("the summary does not name the first missed event: %s", v.Summary())
		}
	})
}

func TestCut(t *testing.T) {
	for _, tt := range []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdefghij", 8, "abcde..."},
		{"ééééé", 8, "éé..."}, // 10 bytes: cut before a rune's second byte
	} {
		if got := cut(tt.s, tt.n); got != tt.want || len(got) > tt.n && len(tt.s) > tt.n {
			t.Errorf("cut(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}
