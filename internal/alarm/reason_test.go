package alarm

import (
	"math"
	"testing"
	"time"
)

func TestJavaDouble(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{1, "1.0"},
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{-2.5, "-2.5"},
		{99.7027322404378, "99.7027322404378"},
		{3.4666088898518357, "3.4666088898518357"},
		{0.001, "0.001"},
		{0.0001, "1.0E-4"},
		{1.234e-5, "1.234E-5"},
		{9999999, "9999999.0"},
		{1e7, "1.0E7"},
		{12345678.9, "1.23456789E7"},
		{1e300, "1.0E300"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
	}
	for _, tc := range tests {
		if got := javaDouble(tc.v); got != tc.want {
			t.Errorf("javaDouble(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

// rangeOf builds an evaluation range of 1-minute periods ending at 00:10 on 2026-01-01; nil is a
// missing period.
func rangeOf(vals ...*float64) []Datapoint {
	end := time.Date(2026, 1, 1, 0, 10, 0, 0, time.UTC)
	rng := make([]Datapoint, len(vals))
	for i, v := range vals {
		rng[i].Time = end.Add(-time.Duration(len(vals)-i) * time.Minute)
		if v != nil {
			rng[i].Value, rng[i].SampleCount = *v, 1
		}
	}
	return rng
}

func f(v float64) *float64 { return &v }

func TestReasons(t *testing.T) {
	var x, o, m = f(3), f(0), (*float64)(nil)
	tests := []struct {
		name string
		s    Settings
		rng  []Datapoint
		want string
	}{
		{
			"R-MN alarm, 1 of 1",
			with(func(s *Settings) { s.Period, s.DatapointsToAlarm = 60, 1 }),
			rangeOf(m, m, x),
			"Threshold Crossed: 1 out of the last 1 datapoints [3.0 (01/01/26 00:09:00)] was greater than or equal to the threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition).",
		},
		{
			"R-SHORT alarm (DatapointsToAlarm omitted)",
			with(func(s *Settings) { s.Period = 60 }),
			rangeOf(m, m, x),
			"Threshold Crossed: 1 datapoint [3.0 (01/01/26 00:09:00)] was greater than or equal to the threshold (1.0).",
		},
		{
			"R-MN ok, 3 of 5: minimum N-M+1",
			with(func(s *Settings) {
				s.Period, s.EvaluationPeriods, s.DatapointsToAlarm, s.ComparisonOperator, s.Threshold = 60, 5, 3, GreaterThanThreshold, 0
			}),
			rangeOf(m, m, o, x, o, x, o),
			"Threshold Crossed: 3 out of the last 5 datapoints [0.0 (01/01/26 00:09:00), 0.0 (01/01/26 00:07:00), 0.0 (01/01/26 00:05:00)] were not greater than the threshold (0.0) (minimum 3 datapoints for ALARM -> OK transition).",
		},
		{
			"R-MN long form from 5 listed points",
			with(func(s *Settings) { s.Period, s.EvaluationPeriods, s.DatapointsToAlarm = 60, 6, 5 }),
			rangeOf(m, m, x, x, x, x, x, x),
			"Threshold Crossed: 6 out of the last 6 datapoints were greater than or equal to the threshold (1.0). The most recent datapoints which crossed the threshold: [3.0 (01/01/26 00:09:00), 3.0 (01/01/26 00:08:00), 3.0 (01/01/26 00:07:00), 3.0 (01/01/26 00:06:00), 3.0 (01/01/26 00:05:00)] (minimum 5 datapoints for OK -> ALARM transition).",
		},
		{
			"R-INSUF",
			with(func(s *Settings) { s.Period, s.EvaluationPeriods = 60, 3 }),
			rangeOf(m, m, m, m, m),
			"Insufficient Data: 3 datapoints were unknown.",
		},
		{
			"R-FILL-ALL breaching",
			with(func(s *Settings) { s.Period, s.TreatMissingData = 60, Breaching }),
			rangeOf(m, m, m),
			"Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as Breaching.",
		},
		{
			"R-FILL-PART breaching",
			with(func(s *Settings) {
				s.Period, s.EvaluationPeriods, s.DatapointsToAlarm, s.TreatMissingData = 60, 3, 2, Breaching
			}),
			rangeOf(m, m, m, m, o),
			"Threshold Crossed: 1 datapoint was received for 3 periods and 2 missing datapoints were treated as Breaching.",
		},
		{
			"premature ALARM lists the real breach",
			with(func(s *Settings) { s.Period, s.EvaluationPeriods, s.DatapointsToAlarm = 60, 3, 3 }),
			rangeOf(m, m, x, m, m),
			"Threshold Crossed: 1 out of the last 3 datapoints [3.0 (01/01/26 00:07:00)] was greater than or equal to the threshold (1.0) (minimum 3 datapoints for OK -> ALARM transition).",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := New(tc.s)
			if err != nil {
				t.Fatal(err)
			}
			to := a.Decide(tc.rng, StateInsufficientData)
			if to == StateInsufficientData && tc.want[0] != 'I' {
				t.Fatalf("decided %v", to)
			}
			if got := a.explain(tc.rng, to).reason; got != tc.want {
				t.Errorf("reason\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}
