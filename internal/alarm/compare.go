package alarm

import (
	"sort"
	"time"
)

// BatchComparison is how a Stream's transitions, early ALARMs included, relate to the batch
// evaluation (Evaluate) of the same samples; see CompareWithBatch.
type BatchComparison struct {
	// Anticipated counts the early ALARMs that are a batch transition but for the time: same
	// series, from-state and to-state, Anticipates equal to the batch's Time.
	Anticipated int
	// Redundant are early ALARMs that anticipate no batch transition, although the batch is in
	// ALARM at the time they anticipate: a sample that arrived after them, out of order within
	// the lateness, moved the batch's way into that ALARM earlier or changed its from-state.
	// The stream reports that batch transition as well, when it evaluates it. Never when the
	// samples arrive in order.
	Redundant []SeriesTransition
	// False are early ALARMs whose anticipated evaluation is not in ALARM in the batch: a bug
	// (or a negative Sum sample after the early ALARM, which the batch never sees coming).
	False []SeriesTransition
	// Missing are batch transitions the stream did not report; Extra are stream transitions
	// (regular ones, and early ones at the time they anticipate) the batch does not have.
	Missing, Extra []SeriesTransition
}

// Equal reports whether the stream gave the batch's transitions: each early ALARM anticipates a
// batch transition or is redundant, and nothing is missing or extra.
func (c BatchComparison) Equal() bool {
	return len(c.False) == 0 && len(c.Missing) == 0 && len(c.Extra) == 0
}

// CompareWithBatch compares a Stream's transitions (stream) with the batch's (batch, each
// series evaluated from INSUFFICIENT_DATA) by this rule: an early ALARM stands for the batch
// transition at the evaluation time it anticipates, with the same series and from-state; one
// that stands for none must anticipate an evaluation the batch has in ALARM (Redundant); every
// other transition must be the batch's, once.
func CompareWithBatch(stream, batch []SeriesTransition) BatchComparison {
	type tkey struct {
		key      string
		t        int64
		from, to State
	}
	kof := func(tr SeriesTransition, t time.Time) tkey { return tkey{tr.Key, t.Unix(), tr.From, tr.To} }
	want := map[tkey][]SeriesTransition{}
	bySeries := map[string][]SeriesTransition{}
	for _, tr := range batch {
		want[kof(tr, tr.Time)] = append(want[kof(tr, tr.Time)], tr)
		bySeries[tr.Key] = append(bySeries[tr.Key], tr)
	}
	for _, ts := range bySeries {
		sort.SliceStable(ts, func(i, j int) bool { return ts[i].Time.Before(ts[j].Time) })
	}
	// stateAt is the batch's state of a series after its evaluation at t.
	stateAt := func(key string, t time.Time) State {
		ts := bySeries[key]
		i := sort.Search(len(ts), func(i int) bool { return ts[i].Time.After(t) })
		if i == 0 {
			return StateInsufficientData
		}
		return ts[i-1].To
	}
	have := map[tkey][]SeriesTransition{}
	for _, tr := range stream {
		if !tr.Early {
			have[kof(tr, tr.Time)] = append(have[kof(tr, tr.Time)], tr)
		}
	}
	var c BatchComparison
	for _, tr := range stream {
		if !tr.Early {
			continue
		}
		k := kof(tr, tr.Anticipates)
		switch {
		case len(want[k]) > len(have[k]):
			have[k] = append(have[k], tr)
			c.Anticipated++
		case stateAt(tr.Key, tr.Anticipates) == StateAlarm:
			c.Redundant = append(c.Redundant, tr)
		default:
			c.False = append(c.False, tr)
		}
	}
	for k, ws := range want {
		if n := len(have[k]); n < len(ws) {
			c.Missing = append(c.Missing, ws[n:]...)
		}
	}
	for k, hs := range have {
		if n := len(want[k]); n < len(hs) {
			c.Extra = append(c.Extra, hs[n:]...)
		}
	}
	byTime := func(ts []SeriesTransition) {
		sort.SliceStable(ts, func(i, j int) bool {
			if !ts[i].Time.Equal(ts[j].Time) {
				return ts[i].Time.Before(ts[j].Time)
			}
			return ts[i].Key < ts[j].Key
		})
	}
	byTime(c.Missing)
	byTime(c.Extra)
	return c
}
