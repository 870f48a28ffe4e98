package alarm

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

func build(a *Alarm, samples []Sample) *Builder {
	var ar Arena
	b := a.NewBuilder(&ar)
	for _, s := range samples {
		if s.NoMatch {
			b.AddNoMatch(s.Time)
		} else {
			b.Add(s.Time, s.Value, []byte(s.ID))
		}
	}
	return b
}

// A series built sample by sample, in order or shuffled, evaluates as the batch evaluator
// evaluates its samples: the same transitions, reasons, datapoints and evidence.
func TestBuilderAgreesWithEvaluate(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 1000 {
		s, series := randomCase(r)
		a, err := New(s)
		if err != nil {
			t.Fatal(err)
		}
		from, until := t0.Add(-time.Hour), t0.Add(8*time.Hour)
		want := a.Evaluate(series, from, until)
		if got := a.EvaluateBuilt(build(a, series.Samples), series.DefaultValue, from, until); !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d %+v in order:\n got %s\nwant %s", i, s, summary(got), summary(want))
		}
		shuffled := append([]Sample(nil), series.Samples...)
		r.Shuffle(len(shuffled), func(x, y int) { shuffled[x], shuffled[y] = shuffled[y], shuffled[x] })
		// Evaluate on the shuffled input too: ties in time keep arrival order in both.
		want = a.Evaluate(Series{DefaultValue: series.DefaultValue, Samples: shuffled}, from, until)
		b := build(a, shuffled)
		if got := a.EvaluateBuilt(b, series.DefaultValue, from, until); !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d %+v shuffled:\n got %s\nwant %s", i, s, summary(got), summary(want))
		}
		n := 0
		for _, sm := range series.Samples {
			if !sm.NoMatch {
				n++
			}
		}
		got := 0
		for _, k := range b.buckets {
			got += k.n
		}
		if got != n {
			t.Fatalf("case %d: the buckets hold %d samples, want %d", i, got, n)
		}
	}
}

// Only the evidence kept is copied: a million samples in one minute keep MaxEvidence IDs.
func TestBuilderKeepsBoundedEvidence(t *testing.T) {
	a, err := New(cis)
	if err != nil {
		t.Fatal(err)
	}
	b := a.NewBuilder(nil)
	id := []byte("event-0000")
	allocs := testing.AllocsPerRun(1000, func() {
		b.Add(t0.Add(30*time.Second), 1, id) // later than the kept ones: not copied
	})
	if allocs != 0 {
		t.Errorf("Add allocates %.1f times per sample", allocs)
	}
	if len(b.buckets) != 1 || len(b.buckets[0].ids) != MaxEvidence || b.buckets[0].nids != b.buckets[0].n {
		t.Errorf("buckets %d, ids %d, nids %d, n %d", len(b.buckets), len(b.buckets[0].ids), b.buckets[0].nids, b.buckets[0].n)
	}
}
