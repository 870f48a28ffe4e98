package alarm

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"
)

// keyed is a sample of one series.
type keyed struct {
	key string
	Sample
}

// streamInput draws settings and samples of a few series over 6 hours.
func streamInput(r *rand.Rand) (Settings, *float64, []keyed) {
	s, series := randomCase(r)
	var in []keyed
	keys := []string{"a", "b", "c"}
	for i, sm := range series.Samples {
		// Distinct times keep evidence order independent of delivery order.
		sm.Time = sm.Time.Add(time.Duration(i) * time.Millisecond)
		in = append(in, keyed{keys[r.IntN(len(keys))], sm})
	}
	slices.SortFunc(in, func(x, y keyed) int { return x.Time.Compare(y.Time) })
	return s, series.DefaultValue, in
}

// batchByKey is what Evaluate gives for each series of in, in Stream's output order.
func batchByKey(t *testing.T, s Settings, def *float64, in []keyed, from, until time.Time) []SeriesTransition {
	t.Helper()
	bykey := map[string]*Series{}
	for _, k := range []string{"a", "b", "c"} {
		bykey[k] = &Series{DefaultValue: def}
	}
	for _, k := range in {
		bykey[k.key].Samples = append(bykey[k.key].Samples, k.Sample)
	}
	var out []SeriesTransition
	for key, series := range bykey {
		ts, err := Evaluate(s, *series, from, until)
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range ts {
			out = append(out, SeriesTransition{Key: key, Transition: tr})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Time.Equal(out[j].Time) {
			return out[i].Time.Before(out[j].Time)
		}
		return out[i].Key < out[j].Key
	})
	return out
}

func streamSummary(ts []SeriesTransition) string {
	var b []byte
	for _, tr := range ts {
		b = fmt.Appendf(b, "%s %s %v->%v; ", tr.Key, tr.Time.Format("15:04:05"), tr.From, tr.To)
	}
	return string(b)
}

// TestStreamEqualsBatch feeds random streams in order, and shuffled within the lateness, with
// a snapshot and restore through JSON half-way, and expects exactly the batch transitions.
func TestStreamEqualsBatch(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	from, until := t0.Add(-30*time.Minute), t0.Add(7*time.Hour)
	for i := range 400 {
		s, def, in := streamInput(r)
		a, err := New(s)
		if err != nil {
			t.Fatal(err)
		}
		want := batchByKey(t, s, def, in, from, until)

		lateness := time.Duration(r.IntN(3)) * time.Duration(r.IntN(600)) * time.Second
		delivery := slices.Clone(in)
		if lateness > 0 {
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
			if err := st.Add(k.key, k.Sample); err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
			if r.IntN(3) == 0 {
				got = append(got, st.Advance(k.Time)...)
			}
		}
		got = append(got, st.Flush(until)...)
		if !reflect.DeepEqual(got, want) {
			for j := range got {
				if j < len(want) && !reflect.DeepEqual(got[j], want[j]) {
					t.Logf("first difference:\n got %+v\nwant %+v", got[j], want[j])
					break
				}
			}
			t.Fatalf("case %d %+v lateness %v:\n got %s\nwant %s", i, s, lateness, streamSummary(got), streamSummary(want))
		}
	}
}

// roundTrip snapshots st, passes the snapshot through JSON and restores it.
func roundTrip(t *testing.T, a *Alarm, def *float64, lateness time.Duration, st *Stream) *Stream {
	t.Helper()
	b, err := json.Marshal(st.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	var snap StreamSnapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		t.Fatal(err)
	}
	return Restore(a, def, lateness, snap)
}

func TestStreamLate(t *testing.T) {
	a, err := New(cis)
	if err != nil {
		t.Fatal(err)
	}
	st := NewStream(a, nil, t0, 0)
	if err := st.Add("x", Sample{Time: at("00:05:30"), Value: 1}); err != nil {
		t.Fatal(err)
	}
	ts := st.Advance(at("00:06:10"))
	if len(ts) != 1 || ts[0].To != StateAlarm || !ts[0].Time.Equal(at("00:06:00")) {
		t.Fatalf("got %s", streamSummary(ts))
	}
	err = st.Add("x", Sample{Time: at("00:05:59"), Value: 1})
	if !errors.Is(err, ErrLate) {
		t.Fatalf("got %v, want ErrLate", err)
	}
	if st.State("x") != StateAlarm || st.State("unknown") != StateInsufficientData {
		t.Error("State")
	}
}

func TestStreamNewSeriesStartsWhenSeen(t *testing.T) {
	a, err := New(with(func(s *Settings) { s.TreatMissingData = NotBreaching }))
	if err != nil {
		t.Fatal(err)
	}
	st := NewStream(a, nil, t0, 0)
	st.Advance(at("00:10:00"))
	if err := st.Add("late-comer", Sample{Time: at("00:10:20"), Value: 1}); err != nil {
		t.Fatal(err)
	}
	got := streamSummary(st.Flush(at("00:12:00")))
	// Created at 00:10 (the evaluated frontier): OK at its first evaluation, then the breach.
	if want := "late-comer 00:11:00 INSUFFICIENT_DATA->ALARM; "; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// delayWithin reorders samples (in time order) as a delivery that delays each by less than
// lateness: a sample arrives before any sample more than lateness after it.
func delayWithin(r *rand.Rand, delivery []keyed, lateness time.Duration) {
	delay := make(map[time.Time]time.Duration, len(delivery))
	for _, k := range delivery {
		delay[k.Time] = time.Duration(r.Int64N(int64(lateness)))
	}
	slices.SortStableFunc(delivery, func(x, y keyed) int {
		return x.Time.Add(delay[x.Time]).Compare(y.Time.Add(delay[y.Time]))
	})
}
