package alarm

import (
	"math"
	"strings"
	"testing"
	"time"
)

// cis is the CIS AWS Foundations alarm: Sum >= 1 over 300 s, 1 of 1.
var cis = Settings{
	Period:             300,
	Statistic:          Sum,
	Threshold:          1,
	ComparisonOperator: GreaterThanOrEqualToThreshold,
	EvaluationPeriods:  1,
}

func with(f func(*Settings)) Settings {
	s := cis
	f(&s)
	return s
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		s       Settings
		wantErr string // substring; "" means valid
	}{
		{"cis", cis, ""},
		{"period 10", with(func(s *Settings) { s.Period = 10 }), ""},
		{"period 20", with(func(s *Settings) { s.Period = 20 }), ""},
		{"period 30", with(func(s *Settings) { s.Period = 30 }), ""},
		{"period 120", with(func(s *Settings) { s.Period = 120 }), ""},
		{"period missing", with(func(s *Settings) { s.Period = 0 }), "Period is required"},
		{"period 45", with(func(s *Settings) { s.Period = 45 }), "alarm: Period (45) must be 10, 20, 30 or a multiple of 60 seconds"},
		{"period 90", with(func(s *Settings) { s.Period = 90 }), "Period (90) must be"},
		{"period negative", with(func(s *Settings) { s.Period = -60 }), "Period (-60) must be"},
		{"no statistic", with(func(s *Settings) { s.Statistic = "" }), "Statistic or ExtendedStatistic is required"},
		{"both statistics", with(func(s *Settings) { s.ExtendedStatistic = "p99" }), "set only one of Statistic"},
		{"bad statistic", with(func(s *Settings) { s.Statistic = "sum" }), `Statistic "sum" is not one of`},
		{"percentile as statistic", with(func(s *Settings) { s.Statistic = "p99" }), "put it in ExtendedStatistic"},
		{"p99", with(func(s *Settings) { s.Statistic, s.ExtendedStatistic = "", "p99" }), ""},
		{"p99.9", with(func(s *Settings) { s.Statistic, s.ExtendedStatistic = "", "p99.9" }), ""},
		{"p0", with(func(s *Settings) { s.Statistic, s.ExtendedStatistic = "", "p0" }), ""},
		{"p100", with(func(s *Settings) { s.Statistic, s.ExtendedStatistic = "", "p100" }), ""},
		{"p99.1234567890", with(func(s *Settings) { s.Statistic, s.ExtendedStatistic = "", "p99.1234567890" }), ""},
		{"p99.12345678901", with(func(s *Settings) { s.Statistic, s.ExtendedStatistic = "", "p99.12345678901" }), "is not valid"},
		{"p101", with(func(s *Settings) { s.Statistic, s.ExtendedStatistic = "", "p101" }), "is not valid"},
		{"p100.5", with(func(s *Settings) { s.Statistic, s.ExtendedStatistic = "", "p100.5" }), "is not valid"},
		{"tm90", with(func(s *Settings) { s.Statistic, s.ExtendedStatistic = "", "tm90" }), `ExtendedStatistic "tm90" is not supported`},
		{"IQM", with(func(s *Settings) { s.Statistic, s.ExtendedStatistic = "", "IQM" }), "is not supported"},
		{"NaN threshold", with(func(s *Settings) { s.Threshold = math.NaN() }), "Threshold (NaN) must be a finite number"},
		{"negative threshold", with(func(s *Settings) { s.Threshold = -1.5 }), ""},
		{"no operator", with(func(s *Settings) { s.ComparisonOperator = "" }), "ComparisonOperator is required"},
		{"anomaly operator", with(func(s *Settings) { s.ComparisonOperator = "LessThanLowerThreshold" }), "anomaly detection"},
		{"bad operator", with(func(s *Settings) { s.ComparisonOperator = ">=" }), `ComparisonOperator ">=" is not one of`},
		{"no evaluation periods", with(func(s *Settings) { s.EvaluationPeriods = 0 }), "EvaluationPeriods (0) must be at least 1"},
		{"M > N", with(func(s *Settings) { s.EvaluationPeriods, s.DatapointsToAlarm = 3, 5 }), "alarm: DatapointsToAlarm (5) must not exceed EvaluationPeriods (3)"},
		{"M negative", with(func(s *Settings) { s.DatapointsToAlarm = -1 }), "DatapointsToAlarm (-1) must be at least 1"},
		{"M = N", with(func(s *Settings) { s.EvaluationPeriods, s.DatapointsToAlarm = 3, 3 }), ""},
		{"1 day of 300 s", with(func(s *Settings) { s.EvaluationPeriods = 288 }), ""},
		{"over 1 day of 300 s", with(func(s *Settings) { s.EvaluationPeriods = 289 }), "must not exceed 86400 s (1 day) when Period is under 3600 s"},
		{"7 days of hours", with(func(s *Settings) { s.Period, s.EvaluationPeriods = 3600, 168 }), ""},
		{"over 7 days", with(func(s *Settings) { s.Period, s.EvaluationPeriods = 3600, 169 }), "must not exceed 604800 s (7 days)"},
		{"tmd notBreaching", with(func(s *Settings) { s.TreatMissingData = NotBreaching }), ""},
		{"tmd bad", with(func(s *Settings) { s.TreatMissingData = "NotBreaching" }), `TreatMissingData "NotBreaching" is not one of breaching, notBreaching, ignore, missing`},
		{"low sample bad", with(func(s *Settings) { s.EvaluateLowSampleCountPercentile = "skip" }), "EvaluateLowSampleCountPercentile"},
		{"range", with(func(s *Settings) { s.EvaluationRange = 5 }), ""},
		{"range < N", with(func(s *Settings) { s.EvaluationPeriods, s.EvaluationRange = 3, 2 }), "EvaluationRange (2) must be 0"},
		{"several errors", Settings{}, "Period is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("no error, want %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	err := Settings{}.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"Period", "Statistic", "ComparisonOperator", "EvaluationPeriods"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestAlarmDerived(t *testing.T) {
	tests := []struct {
		s          Settings
		wantRange  int
		wantStep   time.Duration
		wantM      int
		wantLowCnt float64
	}{
		{cis, 3, time.Minute, 1, 0},
		{with(func(s *Settings) { s.EvaluationPeriods, s.DatapointsToAlarm = 5, 3 }), 7, time.Minute, 3, 0},
		{with(func(s *Settings) { s.EvaluationRange = 9 }), 9, time.Minute, 1, 0},
		{with(func(s *Settings) { s.Period = 10 }), 3, 10 * time.Second, 1, 0},
		{with(func(s *Settings) { s.Period, s.EvaluationPeriods = 86400, 2 }), 4, time.Hour, 2, 0},
		{with(func(s *Settings) { s.Period, s.EvaluationPeriods = 3600, 24 }), 26, time.Minute, 24, 0},
		{with(func(s *Settings) {
			s.Statistic, s.ExtendedStatistic, s.EvaluateLowSampleCountPercentile = "", "p99", "ignore"
		}), 3, time.Minute, 1, 1000},
		{with(func(s *Settings) {
			s.Statistic, s.ExtendedStatistic, s.EvaluateLowSampleCountPercentile = "", "p10", "ignore"
		}), 3, time.Minute, 1, 100},
	}
	for _, tc := range tests {
		a, err := New(tc.s)
		if err != nil {
			t.Fatal(err)
		}
		if a.EvaluationRange() != tc.wantRange || a.Step() != tc.wantStep || a.m != tc.wantM || math.Abs(a.lowSamples-tc.wantLowCnt) > 1e-6 {
			t.Errorf("%+v: range %d step %v M %d low %v; want %d %v %d %v", tc.s, a.EvaluationRange(), a.Step(), a.m, a.lowSamples,
				tc.wantRange, tc.wantStep, tc.wantM, tc.wantLowCnt)
		}
	}
}

func TestState(t *testing.T) {
	for _, s := range []State{StateInsufficientData, StateOK, StateAlarm} {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back State
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Errorf("%v: round trip gave %v, %v", s, back, err)
		}
	}
	if State(0).String() != "INSUFFICIENT_DATA" {
		t.Error("the zero State must be INSUFFICIENT_DATA")
	}
	if got := State(7).String(); got != "State(7)" {
		t.Errorf("State(7).String() = %q", got)
	}
	if _, err := ParseState("alarm"); err == nil {
		t.Error("ParseState is case-sensitive, like AWS")
	}
	if _, err := State(7).MarshalText(); err == nil {
		t.Error("MarshalText accepted an invalid state")
	}
}
