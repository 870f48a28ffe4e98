package alarm

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// at is t0 plus a "15:04:05"-style offset such as "00:02:10".
func at(hms string) time.Time {
	var h, m, s int
	if _, err := fmt.Sscanf(hms, "%d:%d:%d", &h, &m, &s); err != nil {
		panic(err)
	}
	return t0.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
}

// summary renders transitions as "15:04:05 FROM->TO" for comparisons.
func summary(ts []Transition) string {
	var parts []string
	for _, tr := range ts {
		parts = append(parts, tr.Time.Format("02 15:04:05")+" "+tr.From.String()+"->"+tr.To.String())
	}
	return strings.Join(parts, ", ")
}

func TestEvaluateBehaviour(t *testing.T) {
	zero := 0.0
	tests := []struct {
		name         string
		s            Settings
		series       Series
		from, until  time.Time
		want         string
		wantEvidence int
	}{
		{
			name:   "high-resolution period sees only the minute stamp",
			s:      with(func(s *Settings) { s.Period, s.TreatMissingData = 10, NotBreaching }),
			series: Series{Samples: []Sample{{Time: at("00:02:30"), Value: 1}}},
			from:   t0, until: at("00:05:00"),
			want: "01 00:00:10 INSUFFICIENT_DATA->OK, 01 00:02:10 OK->ALARM, 01 00:02:40 ALARM->OK",
		},
		{
			name:   "multi-day alarm is evaluated hourly",
			s:      with(func(s *Settings) { s.Period, s.EvaluationPeriods = 86400, 2 }),
			series: Series{Samples: []Sample{{Time: at("10:02:00"), Value: 1}, {Time: at("10:40:00"), Value: 1}}},
			from:   t0, until: t0.Add(6 * 24 * time.Hour),
			// 2 of 2 with one fresh real point is OK (U5); a day later the breach is 2 periods
			// old and the premature rule gives ALARM; it leaves the 4-day range on day 5.
			want: "01 11:00:00 INSUFFICIENT_DATA->OK, 02 11:00:00 OK->ALARM, 05 11:00:00 ALARM->INSUFFICIENT_DATA",
		},
		{
			name: "negative value makes a percentile missing",
			s: with(func(s *Settings) {
				s.Period, s.Statistic, s.ExtendedStatistic, s.TreatMissingData = 60, "", "p50", NotBreaching
			}),
			series: Series{Samples: []Sample{{Time: at("00:02:00"), Value: 5}, {Time: at("00:02:01"), Value: -1}, {Time: at("00:04:00"), Value: 5}}},
			from:   t0, until: at("00:06:00"),
			want: "01 00:01:00 INSUFFICIENT_DATA->OK, 01 00:05:00 OK->ALARM",
		},
		{
			name: "low sample count percentile retains the state",
			s: with(func(s *Settings) {
				s.Period, s.Statistic, s.ExtendedStatistic, s.EvaluateLowSampleCountPercentile = 60, "", "p90", "ignore"
			}),
			series: Series{Samples: []Sample{{Time: at("00:02:00"), Value: 5}}},
			from:   t0, until: at("00:06:00"),
			want: "",
		},
		{
			name: "defaultValue counts once per quiet minute",
			s: with(func(s *Settings) {
				s.Statistic, s.ComparisonOperator, s.Threshold = SampleCount, GreaterThanThreshold, 5
			}),
			series: Series{DefaultValue: &zero, Samples: noMatches(at("00:00:00"), 6, 10)},
			from:   t0, until: at("00:06:00"),
			// 60 non-matching events in 6 minutes give 5 default samples in the 5-minute window, not 50.
			want: "01 00:01:00 INSUFFICIENT_DATA->OK",
		},
		{
			name: "evidence keeps the first 20 IDs and counts all",
			s:    with(func(s *Settings) { s.Period = 60 }),
			series: Series{Samples: func() []Sample {
				var out []Sample
				for i := range 30 {
					out = append(out, Sample{Time: at("00:02:00").Add(time.Duration(29-i) * time.Second), Value: 1, ID: fmt.Sprint("e", 29-i)})
				}
				return out
			}()},
			from: t0, until: at("00:03:00"),
			want:         "01 00:03:00 INSUFFICIENT_DATA->ALARM",
			wantEvidence: 30,
		},
		{
			name:   "data before from is used",
			s:      cis,
			series: Series{Samples: []Sample{{Time: at("00:00:10"), Value: 1}}},
			from:   at("00:02:30"), until: at("00:20:00"),
			want: "01 00:03:00 INSUFFICIENT_DATA->ALARM, 01 00:16:00 ALARM->INSUFFICIENT_DATA",
		},
		{
			name:   "from on a boundary is not evaluated",
			s:      with(func(s *Settings) { s.TreatMissingData = Breaching }),
			series: Series{},
			from:   at("00:01:00"), until: at("00:03:00"),
			want: "01 00:02:00 INSUFFICIENT_DATA->ALARM",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Evaluate(tc.s, tc.series, tc.from, tc.until)
			if err != nil {
				t.Fatal(err)
			}
			if s := summary(got); s != tc.want {
				t.Errorf("got  %s\nwant %s", s, tc.want)
			}
			if tc.wantEvidence > 0 {
				tr := got[len(got)-1]
				if tr.EvidenceCount != tc.wantEvidence || len(tr.Evidence) != MaxEvidence || tr.Evidence[0] != "e0" {
					t.Errorf("evidence %v count %d", tr.Evidence, tr.EvidenceCount)
				}
			}
		})
	}
}

// noMatches is perMinute non-matching events in each of minutes minutes from start.
func noMatches(start time.Time, minutes, perMinute int) []Sample {
	var out []Sample
	for m := range minutes {
		for i := range perMinute {
			out = append(out, Sample{Time: start.Add(time.Duration(m)*time.Minute + time.Duration(i)*time.Second), NoMatch: true})
		}
	}
	return out
}

func TestEvaluateInvalidSettings(t *testing.T) {
	if _, err := Evaluate(Settings{}, Series{}, t0, t0.Add(time.Hour)); err == nil {
		t.Fatal("no error for empty settings")
	}
}

func TestEvaluatedDatapoints(t *testing.T) {
	s := with(func(s *Settings) { s.Period, s.EvaluationPeriods, s.DatapointsToAlarm = 60, 3, 2 })
	got, err := Evaluate(s, Series{Samples: []Sample{{Time: at("00:02:00"), Value: 1}, {Time: at("00:03:00"), Value: 1}}}, t0, at("00:04:00"))
	if err != nil {
		t.Fatal(err)
	}
	// At 00:03 one fresh breach (OK, U5); at 00:04 two breaches: ALARM.
	if summary(got) != "01 00:03:00 INSUFFICIENT_DATA->OK, 01 00:04:00 OK->ALARM" {
		t.Fatalf("got %s", summary(got))
	}
	want := []Datapoint{
		{Time: at("00:03:00"), Value: 1, SampleCount: 1},
		{Time: at("00:02:00"), Value: 1, SampleCount: 1},
		{Time: at("00:01:00")},
	}
	if !reflect.DeepEqual(got[1].Evaluated, want) {
		t.Errorf("evaluated %+v, want %+v", got[1].Evaluated, want)
	}
}

// naiveEvaluate evaluates at every boundary, without Evaluate's skipping of empty ranges.
func naiveEvaluate(a *Alarm, series Series, from, until time.Time) []Transition {
	buckets := buildBuckets(series.Samples, series.DefaultValue, a.stat == statPercentile)
	w := window{a: a, rng: make([]Datapoint, a.r), def: series.DefaultValue}
	state := StateInsufficientData
	var out []Transition
	for t := boundaryAfter(from.Unix(), a.step); t <= until.Unix(); t += a.step {
		w.fill(buckets, t)
		if ns := a.Decide(w.rng, state); ns != state {
			out = append(out, w.transition(buckets, t, state, ns))
			state = ns
		}
	}
	return out
}

// randomCase draws settings and a sparse or bursty series.
func randomCase(r *rand.Rand) (Settings, Series) {
	periods := []int{60, 120, 300, 600, 3600}
	stats := []string{Sum, SampleCount, Average, Minimum, Maximum, "p90"}
	ops := []ComparisonOperator{GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold}
	tmds := []TreatMissingData{Missing, NotBreaching, Breaching, Ignore}
	n := 1 + r.IntN(5)
	s := Settings{
		Period:             periods[r.IntN(len(periods))],
		Threshold:          float64(r.IntN(4)),
		ComparisonOperator: ops[r.IntN(len(ops))],
		EvaluationPeriods:  n,
		DatapointsToAlarm:  r.IntN(n + 1),
		TreatMissingData:   tmds[r.IntN(len(tmds))],
	}
	if st := stats[r.IntN(len(stats))]; st[0] == 'p' {
		s.ExtendedStatistic = st
	} else {
		s.Statistic = st
	}
	var series Series
	if r.IntN(3) == 0 {
		series.DefaultValue = new(float64)
	}
	for range r.IntN(40) {
		sm := Sample{Time: t0.Add(time.Duration(r.IntN(6*3600)) * time.Second), Value: float64(r.IntN(4)), ID: fmt.Sprint(r.Uint32())}
		if r.IntN(4) == 0 {
			sm.NoMatch = true
		}
		series.Samples = append(series.Samples, sm)
	}
	return s, series
}

func TestEvaluateSkipsOnlyWhatCannotChange(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		s, series := randomCase(r)
		a, err := New(s)
		if err != nil {
			t.Fatal(err)
		}
		from, until := t0.Add(-time.Hour), t0.Add(8*time.Hour)
		got, want := a.Evaluate(series, from, until), naiveEvaluate(a, series, from, until)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d %+v:\n got %s\nwant %s", i, s, summary(got), summary(want))
		}
	}
}

func TestEvaluateSampleOrderDoesNotMatter(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 200 {
		s, series := randomCase(r)
		// Distinct times, so that evidence order is the same too.
		for j := range series.Samples {
			series.Samples[j].Time = series.Samples[j].Time.Add(time.Duration(j) * time.Millisecond)
		}
		want, err := Evaluate(s, series, t0, t0.Add(8*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		shuffled := Series{DefaultValue: series.DefaultValue, Samples: append([]Sample(nil), series.Samples...)}
		r.Shuffle(len(shuffled.Samples), func(a, b int) { shuffled.Samples[a], shuffled.Samples[b] = shuffled.Samples[b], shuffled.Samples[a] })
		got, _ := Evaluate(s, shuffled, t0, t0.Add(8*time.Hour))
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d: order changed the result:\n got %s\nwant %s", i, summary(got), summary(want))
		}
	}
}
