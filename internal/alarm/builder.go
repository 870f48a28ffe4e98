package alarm

import (
	"slices"
	"time"
)

// Builder accumulates one metric series as its samples come, in any order, straight into
// minute buckets: it keeps each minute's aggregates and earliest evidence IDs, not the samples,
// so a backtest's memory grows with the minutes a series has data in, not with its matches,
// and the samples need no sort. Evaluate gives what the batch Evaluate gives on the same
// samples in the same order.
type Builder struct {
	keepVals bool
	buckets  []bucket
	sorted   bool            // buckets are in time order, each minute once
	at       map[int64]int32 // minute → bucket, once samples came out of order
	al       *Arena          // evidence IDs; nil: allocated one by one
}

// NewBuilder returns an empty series for the alarm, keeping its evidence IDs in ar (shared by
// the series of one backtest; may be nil).
func (a *Alarm) NewBuilder(ar *Arena) *Builder {
	return &Builder{keepVals: a.stat == statPercentile, sorted: true, al: ar}
}

// bucket returns the bucket of the minute of t.
func (b *Builder) bucket(t time.Time) *bucket {
	sec := minuteOf(t)
	n := len(b.buckets)
	if n > 0 && b.buckets[n-1].sec == sec {
		return &b.buckets[n-1] // the usual case: records of a file come in time order
	}
	if b.at == nil && n > 0 && b.buckets[n-1].sec > sec {
		// Out of order for the first time: index every minute from now on.
		b.sorted = false
		b.at = make(map[int64]int32, n+1)
		for i := range b.buckets {
			b.at[b.buckets[i].sec] = int32(i)
		}
	}
	if b.at != nil {
		if i, ok := b.at[sec]; ok {
			return &b.buckets[i]
		}
		b.at[sec] = int32(n)
	}
	b.buckets = append(b.buckets, bucket{sec: sec})
	return &b.buckets[n]
}

// Add publishes one matching event's value at time t; id (the event's ID, may be empty) is
// copied only when kept as evidence.
func (b *Builder) Add(t time.Time, value float64, id []byte) {
	k := b.bucket(t)
	k.add(Sample{Time: t, Value: value}, b.keepVals)
	if len(id) > 0 {
		k.addID(t.UnixNano(), "", id, b.al)
	}
}

// AddNoMatch records that the log group received an event at t that matched nothing, which
// matters only for a defaultValue.
func (b *Builder) AddNoMatch(t time.Time) {
	b.bucket(t).ingested = true
}

// EvaluateBuilt is Evaluate over the series b built, with the filter's defaultValue def.
// It sorts b's buckets in place; b can take more samples afterwards.
func (a *Alarm) EvaluateBuilt(b *Builder, def *float64, from, until time.Time) []Transition {
	if !b.sorted {
		slices.SortStableFunc(b.buckets, func(x, y bucket) int {
			switch {
			case x.sec < y.sec:
				return -1
			case x.sec > y.sec:
				return 1
			}
			return 0
		})
		for i := range b.buckets {
			b.at[b.buckets[i].sec] = int32(i)
		}
		b.sorted = true
	}
	buckets := b.buckets
	if def == nil && slices.ContainsFunc(buckets, func(k bucket) bool { return k.n == 0 }) {
		// Minutes with events but no match publish nothing without a defaultValue.
		buckets = make([]bucket, 0, len(b.buckets))
		for _, k := range b.buckets {
			if k.n > 0 {
				buckets = append(buckets, k)
			}
		}
	}
	return a.evaluateBuckets(buckets, def, from, until)
}
