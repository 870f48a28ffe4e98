package alarm

import (
	"sort"
	"time"
)

// Transition is a change of an alarm's state, as CloudWatch records it in the alarm history.
type Transition struct {
	Time   time.Time // the evaluation that changed the state: a minute boundary, UTC
	From   State     // the state before
	To     State     // the state after
	Reason string    // worded like CloudWatch's StateReason

	// Evaluated are the datapoints the decision used, newest first, like evaluatedDatapoints in
	// StateReasonData; missing ones have SampleCount 0.
	Evaluated []Datapoint
	// Evidence holds the IDs of the first MaxEvidence samples, oldest first, in the datapoints
	// the reason lists (the breaching ones for ALARM, the others for OK).
	Evidence []string
	// EvidenceCount is how many samples with an ID those datapoints hold.
	EvidenceCount int
}

// Evaluate backtests settings s over a metric series: it evaluates the alarm at every
// evaluation time T with from < T <= until (every minute boundary, see Alarm.Step), starting
// from INSUFFICIENT_DATA as a new alarm does, and returns the state changes. Samples from before
// from are used, as CloudWatch uses data from before an alarm's creation.
func Evaluate(s Settings, series Series, from, until time.Time) ([]Transition, error) {
	a, err := New(s)
	if err != nil {
		return nil, err
	}
	return a.Evaluate(series, from, until), nil
}

// Evaluate is the batch evaluator for an already validated alarm; see the function Evaluate.
func (a *Alarm) Evaluate(series Series, from, until time.Time) []Transition {
	def := series.DefaultValue
	buckets := buildBuckets(series.Samples, def, a.stat == statPercentile)
	w := window{a: a, rng: make([]Datapoint, a.r), def: def}
	state := StateInsufficientData
	var out []Transition
	end := until.Unix()
	for t := boundaryAfter(from.Unix(), a.step); t <= end; {
		nonEmpty, next := w.fill(buckets, t)
		if ns := a.Decide(w.rng, state); ns != state {
			out = append(out, w.transition(buckets, t, state, ns))
			state = ns
		}
		if nonEmpty {
			t += a.step
			continue
		}
		// An empty range decides the same way until data enters it again: skip to then.
		if next == len(buckets) {
			break
		}
		t = max(t+a.step, boundaryAfter(buckets[next].sec, a.step))
	}
	return out
}

// boundaryAfter is the first multiple of step strictly after the Unix time sec.
func boundaryAfter(sec, step int64) int64 {
	q := sec / step
	if sec%step != 0 && sec < 0 {
		q-- // floor division
	}
	return (q + 1) * step
}

// window computes evaluation ranges. It reuses its buffers, so filling one does not allocate
// except for percentiles' first use.
type window struct {
	a   *Alarm
	rng []Datapoint // the last range filled, oldest first
	def *float64    // the series' defaultValue
	g   agg
}

// fill computes the range of R periods ending at t from buckets (sorted by time). It reports
// whether any bucket fell in the range, and the index of the first bucket at or after t.
func (w *window) fill(buckets []bucket, t int64) (nonEmpty bool, next int) {
	a := w.a
	start := t - int64(a.r)*a.period
	// Ranges are short: a few buckets at most before start in a stream (pruned), so scan; a long
	// batch series is searched.
	i := 0
	if len(buckets) > 8 {
		i = sort.Search(len(buckets), func(i int) bool { return buckets[i].sec >= start })
	}
	for i < len(buckets) && buckets[i].sec < start {
		i++
	}
	first := i
	keep := a.stat == statPercentile
	for j := range w.rng {
		we := start + int64(j+1)*a.period
		w.g.reset()
		for ; i < len(buckets) && buckets[i].sec < we; i++ {
			w.g.addBucket(&buckets[i], w.def, keep)
		}
		v, n := a.statistic(&w.g)
		w.rng[j] = Datapoint{Value: v, SampleCount: n} // Time is set only if a transition needs it
	}
	return i > first, i
}

// stamp sets the period start times of the range filled for t.
func (w *window) stamp(t int64) {
	start := t - int64(len(w.rng))*w.a.period
	for j := range w.rng {
		w.rng[j].Time = time.Unix(start+int64(j)*w.a.period, 0).UTC()
	}
}

// transition explains the change just decided from w.rng at t and gathers its evidence.
func (w *window) transition(buckets []bucket, t int64, from, to State) Transition {
	w.stamp(t)
	ex := w.a.explain(w.rng, to)
	tr := Transition{Time: time.Unix(t, 0).UTC(), From: from, To: to, Reason: ex.reason}
	tr.Evaluated = make([]Datapoint, len(ex.evaluated))
	for k, j := range ex.evaluated {
		tr.Evaluated[k] = w.rng[j]
	}
	// Oldest first, so the first MaxEvidence are the earliest records.
	listed := append([]int(nil), ex.listed...)
	sort.Ints(listed)
	for _, j := range listed {
		ws := w.rng[j].Time.Unix()
		we := ws + w.a.period
		i := sort.Search(len(buckets), func(i int) bool { return buckets[i].sec >= ws })
		for ; i < len(buckets) && buckets[i].sec < we; i++ {
			b := &buckets[i]
			tr.EvidenceCount += b.nids
			for _, r := range b.ids {
				if len(tr.Evidence) < MaxEvidence {
					tr.Evidence = append(tr.Evidence, r.id)
				}
			}
		}
	}
	return tr
}
