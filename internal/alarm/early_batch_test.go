package alarm

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// earlyInput draws an alarm that can raise early most of the time (Sum, SampleCount or Maximum,
// >= or >, any M of N and TreatMissingData) and samples of three series, sparse over 6 hours or
// dense over 40 minutes, in time order.
func earlyInput(r *rand.Rand) (Settings, *float64, []keyed) {
	s, def, in := streamInput(r)
	if r.IntN(5) != 0 {
		s.Statistic, s.ExtendedStatistic = []string{Sum, SampleCount, Maximum}[r.IntN(3)], ""
		s.ComparisonOperator = []ComparisonOperator{GreaterThanOrEqualToThreshold, GreaterThanThreshold}[r.IntN(2)]
	}
	if r.IntN(2) == 0 {
		for i := range in {
			in[i].Time = t0.Add(in[i].Time.Sub(t0) / 9)
		}
	}
	return s, def, in
}

// earlyTally counts the kinds of differences between early streams and the batch.
type earlyTally struct {
	cases, early, anticipated, redundant, falseEarly, fromDiffers, missing, extra int
	// Early ALARMs that stand, wrongly, for a batch transition to ALARM of their series at the
	// time they anticipate with another from-state (earlyFrom), or at an earlier time, the
	// regular one being suppressed (earlyLate).
	earlyFrom, earlyLate int
}

func (t *earlyTally) add(c BatchComparison, early int) {
	t.cases++
	t.early += early
	t.anticipated += c.Anticipated
	t.falseEarly += len(c.False)
	missing := slices.Clone(c.Missing)
	for _, e := range c.Redundant {
		i := slices.IndexFunc(missing, func(m SeriesTransition) bool {
			return m.Key == e.Key && m.To == StateAlarm && m.Time.Equal(e.Anticipates)
		})
		if i >= 0 {
			t.earlyFrom++
			missing = slices.Delete(missing, i, i+1)
			continue
		}
		i = slices.IndexFunc(missing, func(m SeriesTransition) bool {
			return m.Key == e.Key && m.To == StateAlarm && m.Time.Before(e.Anticipates)
		})
		if i >= 0 {
			t.earlyLate++
			missing = slices.Delete(missing, i, i+1)
			continue
		}
		t.redundant++
	}
	c.Missing = missing
	// A missing and an extra transition of one series at one time to one state: the from-state
	// differs.
	type k struct {
		key string
		t   int64
		to  State
	}
	ex := map[k]int{}
	for _, tr := range c.Extra {
		ex[k{tr.Key, tr.Time.Unix(), tr.To}]++
	}
	for _, tr := range c.Missing {
		if kk := (k{tr.Key, tr.Time.Unix(), tr.To}); ex[kk] > 0 {
			ex[kk]--
			t.fromDiffers++
			t.extra--
			continue
		}
		t.missing++
	}
	t.extra += len(c.Extra)
}

func (t earlyTally) String() string {
	return fmt.Sprintf("%d cases, %d early ALARMs: %d anticipated, %d redundant, %d false, %d with another from-state, %d for a later evaluation than the batch's ALARM (regular one suppressed); other: %d from-state differs, %d missing, %d extra",
		t.cases, t.early, t.anticipated, t.redundant, t.falseEarly, t.earlyFrom, t.earlyLate, t.fromDiffers, t.missing, t.extra)
}

// TestEarlyStreamEqualsBatch feeds random streams with AddEarly, in order and shuffled within the
// lateness, with a snapshot and restore half-way, and expects the batch's transitions once each
// early ALARM is taken at the evaluation it anticipates (CompareWithBatch): in order, every
// early ALARM anticipates a batch transition; shuffled, it may be redundant, never false.
func TestEarlyStreamEqualsBatch(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	from, until := t0.Add(-30*time.Minute), t0.Add(7*time.Hour)
	var inOrder, shuffled earlyTally
	covered := map[string]int{} // cases with an early ALARM, by setting
	failures := 0
	for i := range 1500 {
		s, def, in := earlyInput(r)
		a, err := New(s)
		if err != nil {
			t.Fatal(err)
		}
		want := batchByKey(t, s, def, in, from, until)
		lateness := []time.Duration{0, time.Minute, 5 * time.Minute, 15 * time.Minute}[r.IntN(4)]
		delivery := slices.Clone(in)
		shuffle := lateness > 0 && r.IntN(2) == 0
		if shuffle {
			delayWithin(r, delivery, lateness)
		}
		st := NewStream(a, def, from, lateness)
		for _, k := range []string{"a", "b", "c"} {
			st.Track(k)
		}
		var got []SeriesTransition
		cut := r.IntN(len(delivery) + 1)
		for j, k := range delivery {
			if j == cut {
				st = roundTrip(t, a, def, lateness, st)
			}
			ts, err := st.AddEarly(k.key, k.Sample)
			if err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
			got = append(got, ts...)
			if r.IntN(3) == 0 {
				got = append(got, st.Advance(k.Time)...)
			}
		}
		got = append(got, st.Flush(until)...)
		early := 0
		for _, tr := range got {
			if tr.Early {
				early++
				if tr.To != StateAlarm || tr.Anticipates.IsZero() {
					t.Fatalf("case %d: early %+v", i, tr)
				}
			}
		}
		c := CompareWithBatch(got, want)
		if c.Anticipated > 0 {
			covered[s.Statistic]++
			covered[string(s.TreatMissingData)]++
			if m := s.DatapointsToAlarm; m > 0 && m < s.EvaluationPeriods {
				covered["M of N"]++
			}
			if shuffle {
				covered["shuffled"]++
			} else if lateness > 0 {
				covered["in order with lateness"]++
			}
		}
		tally := &inOrder
		if shuffle {
			tally = &shuffled
		}
		tally.add(c, early)
		if !c.Equal() || (!shuffle && len(c.Redundant) > 0) {
			if failures++; failures <= 3 {
				t.Errorf("case %d %+v lateness %v shuffled %v:\n got %s\nwant %s\nfalse %s\nredundant %s\nmissing %s\nextra %s",
					i, s, lateness, shuffle, earlySummary(got), streamSummary(want),
					earlySummary(c.False), earlySummary(c.Redundant), streamSummary(c.Missing), earlySummary(c.Extra))
			}
		}
	}
	t.Logf("in order: %v", inOrder)
	t.Logf("shuffled: %v", shuffled)
	if failures > 0 {
		t.Errorf("%d cases differ", failures)
	}
	if inOrder.anticipated < 200 || shuffled.anticipated < 200 {
		t.Errorf("too few early ALARMs to say anything")
	}
	for _, k := range []string{Sum, SampleCount, Maximum, string(Missing), string(NotBreaching), string(Breaching), string(Ignore),
		"M of N", "shuffled", "in order with lateness"} {
		if covered[k] < 10 {
			t.Errorf("only %d cases with an early ALARM for %s", covered[k], k)
		}
	}
	t.Logf("cases with an early ALARM: %v", covered)
}

// earlySummary is streamSummary with early ALARMs marked "*" and the time they anticipate.
func earlySummary(ts []SeriesTransition) string {
	var b []byte
	for _, tr := range ts {
		b = fmt.Appendf(b, "%s %s %v->%v", tr.Key, tr.Time.Format("15:04:05"), tr.From, tr.To)
		if tr.Early {
			b = fmt.Appendf(b, "*(%s)", tr.Anticipates.Format("15:04"))
		}
		b = append(b, "; "...)
	}
	return string(b)
}

// CompareWithBatch tells an anticipated early ALARM from a redundant and a false one, and finds
// what is missing and extra.
func TestCompareWithBatch(t *testing.T) {
	tr := func(key, hms string, from, to State) SeriesTransition {
		return SeriesTransition{Key: key, Transition: Transition{Time: at(hms), From: from, To: to}}
	}
	early := func(key, hms, ant string, from State) SeriesTransition {
		e := tr(key, hms, from, StateAlarm)
		e.Early, e.Anticipates = true, at(ant)
		return e
	}
	batch := []SeriesTransition{
		tr("a", "00:01:00", StateInsufficientData, StateOK),
		tr("a", "00:03:00", StateOK, StateAlarm),
		tr("a", "00:08:00", StateAlarm, StateOK),
		tr("b", "00:02:00", StateInsufficientData, StateAlarm),
		tr("b", "00:09:00", StateAlarm, StateOK),
	}
	c := CompareWithBatch([]SeriesTransition{
		tr("a", "00:01:00", StateInsufficientData, StateOK),
		early("a", "00:02:10", "00:03:00", StateOK), // anticipates a's ALARM
		tr("a", "00:08:00", StateAlarm, StateOK),
		tr("b", "00:02:00", StateInsufficientData, StateAlarm),
		early("b", "00:04:10", "00:05:00", StateOK), // b is in ALARM at 00:05: redundant
		early("a", "00:08:30", "00:09:00", StateOK), // a is OK at 00:09: false
		tr("b", "00:10:00", StateAlarm, StateOK),    // extra, and b's 00:09 is missing
	}, batch)
	if c.Anticipated != 1 || len(c.Redundant) != 1 || c.Redundant[0].Key != "b" || len(c.False) != 1 || !c.False[0].Anticipates.Equal(at("00:09:00")) ||
		len(c.Missing) != 1 || !c.Missing[0].Time.Equal(at("00:09:00")) || len(c.Extra) != 1 || !c.Extra[0].Time.Equal(at("00:10:00")) || c.Equal() {
		t.Errorf("got %+v", c)
	}
	// The early ALARM with another from-state stands for nothing; the regular one is needed.
	c = CompareWithBatch([]SeriesTransition{early("a", "00:02:10", "00:03:00", StateInsufficientData)}, batch[1:2])
	if c.Anticipated != 0 || len(c.Missing) != 1 || c.Equal() {
		t.Errorf("another from-state: %+v", c)
	}
	if c := CompareWithBatch(batch, batch); !c.Equal() || c.Anticipated != 0 {
		t.Errorf("batch with itself: %+v", c)
	}
}
