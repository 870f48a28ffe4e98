package alarm

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// feedEarly adds samples of series "x" with AddEarly, advancing the watermark after each, and
// returns every transition, early ones marked with a "*".
func feedEarly(t *testing.T, st *Stream, samples []Sample, until time.Time) (string, []SeriesTransition) {
	t.Helper()
	var all []SeriesTransition
	for _, sm := range samples {
		ts, err := st.AddEarly("x", sm)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ts...)
	}
	all = append(all, st.Flush(until)...)
	var parts []string
	for _, tr := range all {
		p := tr.Time.Format("15:04:05") + " " + tr.From.String() + "->" + tr.To.String()
		if tr.Early {
			p += "*"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", "), all
}

func TestEarlyCIS(t *testing.T) {
	a, err := New(cis) // Sum >= 1, 300 s, 1 of 1, missing
	if err != nil {
		t.Fatal(err)
	}
	st := NewStream(a, nil, at("00:00:30"), 0)
	ts, err := st.AddEarly("x", Sample{Time: at("00:02:10"), Value: 1, ID: "root-login"})
	if err != nil || len(ts) != 1 {
		t.Fatalf("no early ALARM on Add: %v %s", err, streamSummary(ts))
	}
	tr := ts[0]
	if !tr.Early || tr.To != StateAlarm || tr.From != StateInsufficientData || !tr.Time.Equal(at("00:02:10")) ||
		len(tr.Evidence) != 1 || tr.Evidence[0] != "root-login" || tr.EvidenceCount != 1 {
		t.Errorf("early transition %+v", tr)
	}
	want := "Threshold Crossed: 1 datapoint [1.0 (31/12/25 23:58:00)] was greater than or equal to the threshold (1.0). Raised early, before the period that ends at 01/01/26 00:03:00 closed: the datapoints received so far already cross the threshold."
	if tr.Reason != want {
		t.Errorf("reason\n got %s\nwant %s", tr.Reason, want)
	}
	// A second breaching sample raises nothing more; the regular evaluations do not repeat the
	// ALARM, and the rest is as without early: INSUFFICIENT_DATA at 00:18 (s-cis-single-missing).
	if ts, _ := st.AddEarly("x", Sample{Time: at("00:02:20"), Value: 1}); len(ts) != 0 {
		t.Errorf("a second early ALARM: %s", streamSummary(ts))
	}
	got := streamSummary(st.Flush(at("00:30:00")))
	if got != "x 00:18:00 ALARM->INSUFFICIENT_DATA; " {
		t.Errorf("got %s", got)
	}
	if st.State("x") != StateInsufficientData {
		t.Errorf("state %v", st.State("x"))
	}
}

// Early or not, the transitions are the same but for the early ALARM's time.
func TestEarlyMatchesRegular(t *testing.T) {
	a, err := New(with(func(s *Settings) { s.TreatMissingData = NotBreaching }))
	if err != nil {
		t.Fatal(err)
	}
	samples := []Sample{{Time: at("00:02:10"), Value: 1}, {Time: at("00:40:00"), Value: 1}, {Time: at("00:41:00"), Value: 1}}
	got, _ := feedEarly(t, NewStream(a, nil, t0, 0), samples, at("01:30:00"))
	want := "00:01:00 INSUFFICIENT_DATA->OK, 00:02:10 OK->ALARM*, 00:18:00 ALARM->OK, 00:40:00 OK->ALARM*, 00:57:00 ALARM->OK"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	batch, _ := Evaluate(a.Settings(), Series{Samples: samples}, t0, at("01:30:00"))
	if s := summary(batch); s != "01 00:01:00 INSUFFICIENT_DATA->OK, 01 00:03:00 OK->ALARM, 01 00:18:00 ALARM->OK, 01 00:41:00 OK->ALARM, 01 00:57:00 ALARM->OK" {
		t.Errorf("batch %s", s)
	}
}

func TestEarlyOnlyWhenCertain(t *testing.T) {
	breach := []Sample{{Time: at("00:02:10"), Value: 5}, {Time: at("00:02:20"), Value: 7}}
	for _, tc := range []struct {
		name  string
		s     Settings
		early bool
	}{
		{"Sum >=", cis, true},
		{"SampleCount >", with(func(s *Settings) { s.Statistic, s.ComparisonOperator = SampleCount, GreaterThanThreshold }), true},
		{"Maximum >=", with(func(s *Settings) { s.Statistic, s.Threshold = Maximum, 6 }), true},
		{"Minimum >=", with(func(s *Settings) { s.Statistic = Minimum }), false},
		{"Average >=", with(func(s *Settings) { s.Statistic = Average }), false},
		{"p99 >=", with(func(s *Settings) { s.Statistic, s.ExtendedStatistic = "", "p99" }), false},
		{"Sum <", with(func(s *Settings) { s.ComparisonOperator, s.Threshold = LessThanThreshold, 100 }), false},
		{"Sum <=", with(func(s *Settings) { s.ComparisonOperator, s.Threshold = LessThanOrEqualToThreshold, 100 }), false},
		{"Maximum <", with(func(s *Settings) { s.Statistic, s.ComparisonOperator, s.Threshold = Maximum, LessThanThreshold, 100 }), false},
		{"Sum not reached", with(func(s *Settings) { s.Threshold = 100 }), false},
	} {
		a, err := New(tc.s)
		if err != nil {
			t.Fatal(err)
		}
		got, all := feedEarly(t, NewStream(a, nil, t0, 0), breach, at("00:30:00"))
		early := strings.Contains(got, "*")
		if early != tc.early {
			t.Errorf("%s: early %v, want %v: %s", tc.name, early, tc.early, got)
		}
		for _, tr := range all {
			if tr.Early && tr.To != StateAlarm {
				t.Errorf("%s: early transition to %v", tc.name, tr.To)
			}
		}
	}
}

// M of N: early only once M breaching datapoints are in the N newest periods of the evaluation.
func TestEarlyMOfN(t *testing.T) {
	a, err := New(with(func(s *Settings) { s.Period, s.EvaluationPeriods, s.DatapointsToAlarm = 60, 3, 2 }))
	if err != nil {
		t.Fatal(err)
	}
	st := NewStream(a, nil, t0, time.Minute)
	if ts, _ := st.AddEarly("x", Sample{Time: at("00:01:10"), Value: 1}); len(ts) != 0 {
		t.Fatalf("early after 1 of 2: %s", streamSummary(ts))
	}
	if ts, _ := st.AddEarly("x", Sample{Time: at("00:01:50"), Value: 1}); len(ts) != 0 {
		t.Fatalf("early with 2 samples in 1 datapoint: %s", streamSummary(ts))
	}
	ts, _ := st.AddEarly("x", Sample{Time: at("00:02:30"), Value: 1})
	if len(ts) != 1 || !ts[0].Early || !ts[0].Time.Equal(at("00:02:30")) || len(ts[0].Evaluated) != 3 {
		t.Fatalf("no early ALARM with 2 of 3: %+v", ts)
	}
	// The evaluation at 00:02, still pending with the lateness, comes after; the one at 00:03
	// does not repeat the ALARM.
	if got := streamSummary(st.Flush(at("00:10:00"))); got != "x 00:02:00 INSUFFICIENT_DATA->OK; x 00:08:00 ALARM->INSUFFICIENT_DATA; " {
		t.Errorf("got %s", got)
	}

	// The N newest periods only: a breach that will have left them does not count.
	st = NewStream(a, nil, t0, time.Hour)
	st.Add("x", Sample{Time: at("00:01:10"), Value: 1})
	if ts, _ := st.AddEarly("x", Sample{Time: at("00:04:10"), Value: 1}); len(ts) != 0 {
		t.Errorf("early with breaches 3 periods apart: %s", streamSummary(ts))
	}
}

// Samples out of order, within the lateness: the early ALARM comes with the sample that makes
// the breach certain, and the late evaluations before it still report their transitions. A
// later sample that breaches an earlier evaluation raises its own early ALARM, which is the
// batch's; the first one is then redundant.
func TestEarlyLateness(t *testing.T) {
	a, err := New(with(func(s *Settings) { s.Threshold, s.TreatMissingData = 2, NotBreaching }))
	if err != nil {
		t.Fatal(err)
	}
	samples := []Sample{
		{Time: at("00:04:10"), Value: 1},
		{Time: at("00:03:50"), Value: 1}, // late, and makes 2 in the period ending at 00:05
		{Time: at("00:02:00"), Value: 5}, // later still: its own minute's evaluation breaches
	}
	st := NewStream(a, nil, t0, 5*time.Minute)
	got, all := feedEarly(t, st, samples, at("00:40:00"))
	// The second sample makes 2 certain in the period ending at 00:05, the first evaluation
	// the 00:04 minute enters.
	if len(all) < 2 || !all[0].Early || !all[0].Time.Equal(at("00:03:50")) || !strings.Contains(all[0].Reason, "ends at 01/01/26 00:05:00") ||
		!all[0].Anticipates.Equal(at("00:05:00")) {
		t.Fatalf("got %s", got)
	}
	// The third makes the evaluation at 00:03 breach, from OK: the batch's ALARM.
	if tr := all[1]; !tr.Early || !tr.Time.Equal(at("00:02:00")) || !tr.Anticipates.Equal(at("00:03:00")) || tr.From != StateOK {
		t.Fatalf("got %s", got)
	}
	batch, _ := Evaluate(a.Settings(), Series{Samples: samples}, t0, at("00:40:00"))
	var bt []SeriesTransition
	for _, tr := range batch {
		bt = append(bt, SeriesTransition{Key: "x", Transition: tr})
	}
	if c := CompareWithBatch(all, bt); !c.Equal() || c.Anticipated != 1 || len(c.Redundant) != 1 || c.Redundant[0].Time != all[0].Time {
		t.Errorf("compared with the batch: %+v", c)
	}
	// The rest is the regular stream's, without its first ALARM.
	reg := NewStream(a, nil, t0, 5*time.Minute)
	var want []SeriesTransition
	for _, sm := range samples {
		if err := reg.Add("x", sm); err != nil {
			t.Fatal(err)
		}
		want = append(want, reg.Advance(sm.Time)...)
	}
	want = append(want, reg.Flush(at("00:40:00"))...)
	for i, tr := range want {
		if tr.To == StateAlarm {
			want = append(want[:i:i], want[i+1:]...)
			break
		}
	}
	if x, y := streamSummary(all[2:]), streamSummary(want); x != y {
		t.Errorf("after the early ALARM\n got %s\nwant %s", x, y)
	}
	// Too late for its minute: ErrLate, and no early ALARM.
	if ts, err := st.AddEarly("x", Sample{Time: at("00:10:00"), Value: 9}); len(ts) != 0 || err == nil {
		t.Errorf("late sample: %s, err %v", streamSummary(ts), err)
	}
}

// A negative value after an early ALARM on Sum: the evaluation reports ALARM -> its state.
func TestEarlyNotHeld(t *testing.T) {
	a, err := New(with(func(s *Settings) { s.TreatMissingData = NotBreaching }))
	if err != nil {
		t.Fatal(err)
	}
	st := NewStream(a, nil, t0, time.Minute)
	got, _ := feedEarly(t, st, []Sample{{Time: at("00:02:10"), Value: 1}, {Time: at("00:02:40"), Value: -1}}, at("00:10:00"))
	if want := "00:01:00 INSUFFICIENT_DATA->OK, 00:02:10 OK->ALARM*, 00:03:00 ALARM->OK"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// A negative value already in the period: no early ALARM.
	st = NewStream(a, nil, t0, time.Minute)
	st.Add("x", Sample{Time: at("00:02:05"), Value: -1})
	if ts, _ := st.AddEarly("x", Sample{Time: at("00:02:10"), Value: 2}); len(ts) != 1 || ts[0].Early {
		t.Errorf("early with a negative value in the period: %s", streamSummary(ts))
	}
}

// The pending early ALARM survives a snapshot.
func TestEarlySnapshot(t *testing.T) {
	a, err := New(cis)
	if err != nil {
		t.Fatal(err)
	}
	st := NewStream(a, nil, t0, time.Minute)
	if ts, _ := st.AddEarly("x", Sample{Time: at("00:02:10"), Value: 1}); len(ts) != 1 {
		t.Fatal("no early ALARM")
	}
	b, err := json.Marshal(st.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"EarlyAlarm":"2026-01-01T00:03:00Z"`) {
		t.Errorf("snapshot %s", b)
	}
	var snap StreamSnapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		t.Fatal(err)
	}
	if len(snap.Series) != 1 || len(snap.Series[0].Early) != 1 || snap.Series[0].Early[0].From != StateInsufficientData {
		t.Fatalf("snapshot %+v", snap)
	}
	st = Restore(a, nil, time.Minute, snap)
	if got := streamSummary(st.Flush(at("00:30:00"))); got != "x 00:18:00 ALARM->INSUFFICIENT_DATA; " {
		t.Errorf("got %s", got)
	}
	// A snapshot written before Early: the early ALARM was raised from the evaluated state.
	snap.Series[0].Early = nil
	st = Restore(a, nil, time.Minute, snap)
	if got := streamSummary(st.Flush(at("00:30:00"))); got != "x 00:18:00 ALARM->INSUFFICIENT_DATA; " {
		t.Errorf("from an old snapshot: got %s", got)
	}
}

// With lateness, the evaluations before a sample are still pending when it arrives, in order:
// the early ALARM is raised from the state they reach (OK here: the first ALARM ended at 00:04),
// not from the last evaluated state, and a second breach pages at once too.
func TestEarlyWithPendingEvaluations(t *testing.T) {
	a, err := New(with(func(s *Settings) { s.Period, s.TreatMissingData = 60, NotBreaching }))
	if err != nil {
		t.Fatal(err)
	}
	samples := []Sample{{Time: at("00:00:30"), Value: 1}, {Time: at("00:10:30"), Value: 1}}
	got, all := feedEarly(t, NewStream(a, nil, t0, 15*time.Minute), samples, at("00:30:00"))
	want := "00:00:30 INSUFFICIENT_DATA->ALARM*, 00:10:30 OK->ALARM*, 00:04:00 ALARM->OK, 00:14:00 ALARM->OK"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	batch, _ := Evaluate(a.Settings(), Series{Samples: samples}, t0, at("00:30:00"))
	if s := summary(batch); s != "01 00:01:00 INSUFFICIENT_DATA->ALARM, 01 00:04:00 ALARM->OK, 01 00:11:00 OK->ALARM, 01 00:14:00 ALARM->OK" {
		t.Errorf("batch %s", s)
	}
	var bt []SeriesTransition
	for _, tr := range batch {
		bt = append(bt, SeriesTransition{Key: "x", Transition: tr})
	}
	if c := CompareWithBatch(all, bt); !c.Equal() || c.Anticipated != 2 || len(c.Redundant) != 0 {
		t.Errorf("compared with the batch: %+v", c)
	}
}
