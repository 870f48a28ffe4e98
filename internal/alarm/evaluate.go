package alarm

import (
	"fmt"
	"math"
	"time"
)

// Datapoint is the statistic of one period of the evaluation range.
type Datapoint struct {
	Time        time.Time // start of the period, UTC
	Value       float64   // the statistic; 0 when the datapoint is missing
	SampleCount int       // samples in the period; 0 means the datapoint is missing
}

// Missing reports whether the period had no datapoint.
func (d Datapoint) Missing() bool { return d.SampleCount == 0 }

// breaches compares a real datapoint with the threshold, the statistic on the left.
func (a *Alarm) breaches(v float64) bool {
	t := a.s.Threshold
	switch a.op {
	case opGE:
		return v >= t
	case opGT:
		return v > t
	case opLT:
		return v < t
	}
	return v <= t
}

// Decide evaluates the alarm once. rng is the whole evaluation range, oldest first, normally
// EvaluationRange() periods; current is the state before the evaluation. It implements the
// reference algorithm of spec §6.3, which reproduces both of AWS's missing-data tables:
//
//   - at least N real points: the N newest real points decide, TreatMissingData unused;
//   - no real point: TreatMissingData alone decides (missing gives INSUFFICIENT_DATA);
//   - some: every real point counts, and the shortfall is filled as TreatMissingData says;
//     with missing or ignore a breach at least M periods old, with nothing non-breaching in
//     range, goes to ALARM (the "premature transition" rule; ignore retains instead).
func (a *Alarm) Decide(rng []Datapoint, current State) State {
	r := len(rng)
	real, newestBreaching, allBreaching := 0, 0, 0
	oldest := -1 // index of the oldest real point
	low := false // a decisive percentile datapoint has too few samples
	for i := r - 1; i >= 0; i-- {
		d := rng[i]
		if d.SampleCount == 0 {
			continue
		}
		br := a.breaches(d.Value)
		if real < a.n {
			if br {
				newestBreaching++
			}
			if a.lowSamples > 0 && float64(d.SampleCount) < a.lowSamples {
				low = true
			}
		}
		if br {
			allBreaching++
		}
		real++
		oldest = i
	}
	if low {
		return current // EvaluateLowSampleCountPercentile=ignore (spec §12.1, U9)
	}

	switch {
	case real >= a.n:
		if newestBreaching >= a.m {
			return StateAlarm
		}
		return StateOK
	case real == 0:
		switch a.tmd {
		case Breaching:
			return StateAlarm
		case NotBreaching:
			return StateOK
		case Ignore:
			return current
		}
		return StateInsufficientData
	}

	fills := a.n - real
	switch a.tmd {
	case Breaching:
		if allBreaching+fills >= a.m {
			return StateAlarm
		}
		return StateOK
	case NotBreaching:
		if allBreaching >= a.m {
			return StateAlarm
		}
		return StateOK
	}
	// missing and ignore
	if allBreaching >= a.m {
		return StateAlarm
	}
	if allBreaching == real && r-oldest >= a.m {
		if a.tmd == Ignore {
			return current
		}
		return StateAlarm
	}
	return StateOK
}

// EvaluateRange evaluates settings s once over datapoints, the whole evaluation range oldest
// first with nil for a missing period, from state current. The range is len(datapoints)
// periods long, which must be at least EvaluationPeriods.
func EvaluateRange(s Settings, datapoints []*float64, current State) (State, error) {
	a, err := New(s)
	if err != nil {
		return current, err
	}
	if len(datapoints) < a.n {
		return current, fmt.Errorf("alarm: the evaluation range has %d datapoints, fewer than EvaluationPeriods (%d)", len(datapoints), a.n)
	}
	rng := make([]Datapoint, len(datapoints))
	for i, p := range datapoints {
		if p != nil {
			// Counts are unknown here: take them as enough for EvaluateLowSampleCountPercentile.
			rng[i] = Datapoint{Value: *p, SampleCount: math.MaxInt32}
		}
	}
	return a.Decide(rng, current), nil
}
