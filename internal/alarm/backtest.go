package alarm

import (
	"math"
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
	// Early marks an ALARM raised by Stream.AddEarly when a sample made the breach certain,
	// before the period closed: Time is the sample's time, Evaluated and Evidence are the data
	// received so far. The evaluation at the period's end does not raise it again.
	Early bool
	// Anticipates is, for an Early ALARM, the evaluation time whose ALARM it raises ahead:
	// the time Evaluate gives that transition. Zero otherwise.
	Anticipates time.Time
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
	return a.evaluateBuckets(buildBuckets(series.Samples, def, a.stat == statPercentile), def, from, until)
}

// evaluateBuckets is Evaluate over a series' minute buckets, sorted by time.
func (a *Alarm) evaluateBuckets(buckets []bucket, def *float64, from, until time.Time) []Transition {
	w := newWindow(a, def)
	state := StateInsufficientData
	var out []Transition
	end := until.Unix()
	for t := boundaryAfter(from.Unix(), a.step); t <= end; {
		first := w.fill(buckets, t)
		if ns := a.Decide(w.rng, state); ns != state {
			out = append(out, w.transition(buckets, t, state, ns))
			state = ns
		}
		// The range holds the same datapoints, so decides the same, until a minute enters it,
		// moves to another period or leaves it.
		next, ok := a.nextChange(buckets[first:], t)
		if !ok {
			break
		}
		t = next
	}
	return out
}

// nextChange is the first evaluation time after t at which the range differs from the range at
// t: when a minute of buckets (sorted by time) enters the range, moves from one period to the
// next or leaves the range. Between two such times every evaluation decides as the first one
// did, so they need not run. ok is false when no minute will ever change the range.
func (a *Alarm) nextChange(buckets []bucket, t int64) (next int64, ok bool) {
	next = math.MaxInt64
	oldest := t - int64(a.r)*a.period // minutes before this have left the range for good
	for i := range buckets {
		sec := buckets[i].sec
		if sec < oldest {
			continue
		}
		// The minute is in period k (0 = newest) while T-(k+1)·P <= sec < T-k·P; the first
		// T after t at which that changes is the first boundary after sec+k·P >= t.
		k := int64(0)
		if sec < t {
			k = (t - sec + a.period - 1) / a.period // the smallest k with sec+k·P >= t
		}
		if k > int64(a.r) {
			continue
		}
		if c := boundaryAfter(sec+k*a.period, a.step); c < next {
			next = c
		}
		if sec >= t {
			break // later minutes enter later
		}
	}
	return next, next != math.MaxInt64
}

// boundaryAfter is the first multiple of step strictly after the Unix time sec.
func boundaryAfter(sec, step int64) int64 {
	q := sec / step
	if sec%step != 0 && sec < 0 {
		q-- // floor division
	}
	return (q + 1) * step
}

// window computes evaluation ranges and explains transitions. It reuses its buffers, so filling
// one does not allocate except for percentiles' first use, and a transition allocates little.
type window struct {
	a   *Alarm
	rng []Datapoint // the last range filled, oldest first
	def *float64    // the series' defaultValue
	g   agg
	x   explainer

	// Transitions' Evaluated and Evidence are cut from these, a chunk at a time.
	dps []Datapoint
	ids []string
}

func newWindow(a *Alarm, def *float64) window {
	return window{a: a, rng: make([]Datapoint, a.r), def: def}
}

// chunk is the most elements a slab of Evaluated or Evidence is allocated with.
const chunk = 256

// slab is the size of the next slab after one of size prev: small first, since most series of a
// backtest change state once or twice, then doubling up to chunk.
func slab(prev int) int {
	return min(chunk, max(16, 2*prev))
}

// takeDatapoints returns n fresh datapoints with capacity n.
func (w *window) takeDatapoints(n int) []Datapoint {
	if n == 0 {
		return nil
	}
	if len(w.dps)+n > cap(w.dps) {
		w.dps = make([]Datapoint, 0, max(slab(cap(w.dps)), n))
	}
	l := len(w.dps)
	w.dps = w.dps[:l+n]
	return w.dps[l : l+n : l+n]
}

// takeIDs returns room for n evidence IDs, with length 0 and capacity n.
func (w *window) takeIDs(n int) []string {
	if n == 0 {
		return nil
	}
	if len(w.ids)+n > cap(w.ids) {
		w.ids = make([]string, 0, max(slab(cap(w.ids)), n))
	}
	l := len(w.ids)
	w.ids = w.ids[:l+n]
	return w.ids[l : l : l+n]
}

// fill computes the range of R periods ending at t from buckets (sorted by time). It returns the
// index of the first bucket in the range or after it.
func (w *window) fill(buckets []bucket, t int64) (first int) {
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
	first = i
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
	return first
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
	w.a.explainInto(&w.x, w.rng, to)
	ex := &w.x.explanation
	tr := Transition{Time: time.Unix(t, 0).UTC(), From: from, To: to, Reason: ex.reason}
	tr.Evaluated = w.takeDatapoints(len(ex.evaluated))
	for k, j := range ex.evaluated {
		tr.Evaluated[k] = w.rng[j]
	}
	// Oldest first, so the first MaxEvidence are the earliest records. listed is newest first.
	start := t - int64(len(w.rng))*w.a.period
	lo, n := 0, 0
	for pass := 0; pass < 2; pass++ {
		for k := len(ex.listed) - 1; k >= 0; k-- {
			ws := start + int64(ex.listed[k])*w.a.period
			we := ws + w.a.period
			for lo < len(buckets) && buckets[lo].sec < ws {
				lo++
			}
			for i := lo; i < len(buckets) && buckets[i].sec < we; i++ {
				b := &buckets[i]
				if pass == 0 {
					tr.EvidenceCount += b.nids
					n += len(b.ids)
					continue
				}
				for _, r := range b.ids {
					if len(tr.Evidence) < MaxEvidence {
						tr.Evidence = append(tr.Evidence, r.id)
					}
				}
			}
		}
		if pass == 0 {
			tr.Evidence = w.takeIDs(min(n, MaxEvidence))
			lo = 0
		}
	}
	return tr
}
