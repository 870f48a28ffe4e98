package alarm

import (
	"strings"
	"testing"
)

// describeOutput is shaped like `aws cloudwatch describe-alarms` output.
const describeOutput = `{
    "MetricAlarms": [
        {
            "AlarmName": "CIS-3.3-RootAccountUsage",
            "AlarmArn": "arn:aws:cloudwatch:eu-central-1:123456789012:alarm:CIS-3.3-RootAccountUsage",
            "AlarmConfigurationUpdatedTimestamp": "2024-11-19T23:16:17.097000+00:00",
            "ActionsEnabled": true,
            "OKActions": [],
            "AlarmActions": ["arn:aws:sns:eu-central-1:123456789012:cis"],
            "InsufficientDataActions": [],
            "StateValue": "INSUFFICIENT_DATA",
            "StateReason": "Unchecked: Initial alarm creation",
            "StateUpdatedTimestamp": "2024-11-19T23:16:17.097000+00:00",
            "MetricName": "RootAccountUsageCount",
            "Namespace": "CISBenchmark",
            "Statistic": "Sum",
            "Dimensions": [],
            "Period": 300,
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "Threshold": 1.0,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "StateTransitionedTimestamp": "2024-11-19T23:16:17.097000+00:00"
        },
        {
            "AlarmName": "api-latency",
            "StateValue": "ALARM",
            "MetricName": "Latency",
            "Namespace": "App",
            "ExtendedStatistic": "p99.9",
            "Dimensions": [{"Name": "Service", "Value": "api"}],
            "Period": 60,
            "EvaluationPeriods": 5,
            "Threshold": 250.5,
            "ComparisonOperator": "GreaterThanThreshold",
            "EvaluateLowSampleCountPercentile": "ignore",
            "Unit": "Milliseconds"
        },
        {
            "AlarmName": "bad-m",
            "MetricName": "X", "Namespace": "Y", "Statistic": "Sum",
            "Period": 300, "EvaluationPeriods": 3, "DatapointsToAlarm": 5,
            "Threshold": 1, "ComparisonOperator": "GreaterThanThreshold"
        },
        {
            "AlarmName": "math",
            "Metrics": [{"Id": "m1", "Expression": "SUM(METRICS())"}],
            "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanThreshold"
        }
    ],
    "CompositeAlarms": [{"AlarmName": "composite", "AlarmRule": "ALARM(a)"}]
}`

func TestSettingsFromDescribeAlarms(t *testing.T) {
	got, err := SettingsFromDescribeAlarms([]byte(describeOutput))
	if err == nil {
		t.Fatal("no error for the invalid and the metric math alarm")
	}
	for _, want := range []string{
		`MetricAlarms[2] ("bad-m"): alarm: DatapointsToAlarm (5) must not exceed EvaluationPeriods (3)`,
		`MetricAlarms[3] ("math"): alarm: metric math alarms (Metrics) are not supported`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if len(got) != 2 {
		t.Fatalf("got %d alarms, want 2: %+v", len(got), got)
	}
	root := got[0]
	if root.Name != "CIS-3.3-RootAccountUsage" || root.Namespace != "CISBenchmark" || root.MetricName != "RootAccountUsageCount" ||
		root.StateValue != StateInsufficientData || !strings.HasPrefix(root.ARN, "arn:aws:cloudwatch:") {
		t.Errorf("identity: %+v", root)
	}
	want := Settings{Period: 300, Statistic: Sum, Threshold: 1, ComparisonOperator: GreaterThanOrEqualToThreshold,
		EvaluationPeriods: 1, DatapointsToAlarm: 1, TreatMissingData: NotBreaching}
	if root.Settings != want {
		t.Errorf("settings: got %+v, want %+v", root.Settings, want)
	}
	lat := got[1]
	if lat.StateValue != StateAlarm || lat.Unit != "Milliseconds" || len(lat.Dimensions) != 1 ||
		lat.Dimensions[0] != (Dimension{Name: "Service", Value: "api"}) {
		t.Errorf("identity: %+v", lat)
	}
	if lat.ExtendedStatistic != "p99.9" || lat.DatapointsToAlarm != 0 || lat.Threshold != 250.5 || lat.EvaluateLowSampleCountPercentile != "ignore" {
		t.Errorf("settings: %+v", lat.Settings)
	}
}

func TestSettingsFromDescribeAlarmsShapes(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		n       int
		wantErr string
	}{
		{"bare array", `[{"AlarmName":"a","Statistic":"Sum","Period":60,"EvaluationPeriods":1,"Threshold":0,"ComparisonOperator":"GreaterThanThreshold"}]`, 1, ""},
		{"empty", `{"MetricAlarms":[]}`, 0, ""},
		{"not json", `MetricAlarms`, 0, "read describe-alarms output"},
		{"wrong type", `{"MetricAlarms":[{"AlarmName":"a","Period":"60"}]}`, 0, "MetricAlarms[0]"},
		{"no threshold", `{"MetricAlarms":[{"AlarmName":"a","Statistic":"Sum","Period":60,"EvaluationPeriods":1,"ComparisonOperator":"GreaterThanThreshold"}]}`, 0, "Threshold is required"},
		{"anomaly", `{"MetricAlarms":[{"AlarmName":"a","ThresholdMetricId":"ad1","EvaluationPeriods":1,"ComparisonOperator":"LessThanLowerOrGreaterThanUpperThreshold"}]}`, 0, "anomaly detection"},
		{"explicit zero M", `[{"AlarmName":"a","Statistic":"Sum","Period":60,"EvaluationPeriods":1,"DatapointsToAlarm":0,"Threshold":0,"ComparisonOperator":"GreaterThanThreshold"}]`, 0, "DatapointsToAlarm (0) must be at least 1"},
		{"bad state", `[{"AlarmName":"a","StateValue":"FIRING","Statistic":"Sum","Period":60,"EvaluationPeriods":1,"Threshold":0,"ComparisonOperator":"GreaterThanThreshold"}]`, 0, "StateValue"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SettingsFromDescribeAlarms([]byte(tc.in))
			if len(got) != tc.n {
				t.Errorf("got %d alarms, want %d", len(got), tc.n)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func FuzzSettingsFromDescribeAlarms(f *testing.F) {
	f.Add([]byte(describeOutput))
	f.Add([]byte(`[{"Period":60,"Statistic":"Sum","EvaluationPeriods":1,"Threshold":1e308,"ComparisonOperator":"LessThanThreshold"}]`))
	f.Add([]byte(`{"MetricAlarms":[{"ExtendedStatistic":"p99.","Period":10,"EvaluationPeriods":8640,"Threshold":-0}]}`))
	f.Add([]byte(`[null, 1, "x", {}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, _ := SettingsFromDescribeAlarms(data)
		for _, ns := range got {
			// Whatever the parser accepts must be valid and evaluable.
			a, err := New(ns.Settings)
			if err != nil {
				t.Fatalf("accepted invalid settings %+v: %v", ns.Settings, err)
			}
			a.Decide(make([]Datapoint, a.EvaluationRange()), StateOK)
		}
	})
}
