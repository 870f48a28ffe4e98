package alarm

import (
	"math"
	"slices"
	"sort"
	"time"
	"unsafe"
)

// MaxEvidence is how many sample IDs a Transition keeps; EvidenceCount has the full count.
const MaxEvidence = 20

// Sample is one value a metric filter published for a matching log event, or (NoMatch) a log
// event of the group that matched nothing, which only matters for the filter's defaultValue.
type Sample struct {
	Time    time.Time // the log event's time; the sample is placed at the start of its minute
	Value   float64   // the metric value; unused when NoMatch
	NoMatch bool      // the event reached the log group but did not match the filter
	ID      string    // opaque reference to the record (a CloudTrail eventID, say), kept as evidence
}

// Series is one metric series as a metric filter writes it: its samples, in any order, and the
// filter's defaultValue. One NoMatch sample per minute is enough for defaultValue.
type Series struct {
	DefaultValue *float64 // published once for a minute with log events but no match; nil if unset
	Samples      []Sample
}

// bucket is one minute of a metric series: the aggregates of its samples.
type bucket struct {
	sec      int64     // start of the minute, Unix seconds
	n        int       // matching samples
	sum      float64   // their sum
	min, max float64   // their extremes
	vals     []float64 // the samples themselves, kept only for percentiles
	ids      []ref     // the first MaxEvidence sample IDs, by event time
	nids     int       // how many samples had an ID
	ingested bool      // a log event of the group fell in this minute (for defaultValue)
}

func (b *bucket) add(s Sample, keepVals bool) {
	if s.NoMatch {
		b.ingested = true
		return
	}
	v := s.Value
	if b.n == 0 || v < b.min {
		b.min = v
	}
	if b.n == 0 || v > b.max {
		b.max = v
	}
	b.n++
	b.sum += v
	if keepVals {
		b.vals = append(b.vals, v)
	}
	if s.ID != "" {
		b.addID(s.Time.UnixNano(), s.ID, nil, nil)
	}
}

// addID counts a sample ID and keeps it if it is among the MaxEvidence earliest by event time,
// whatever the arrival order; ties keep arrival order. The ID is id, or else idb, copied only
// when kept — into the arena al when it is not nil.
func (b *bucket) addID(ns int64, id string, idb []byte, al *Arena) {
	b.nids++
	i := len(b.ids)
	for i > 0 && b.ids[i-1].ns > ns {
		i--
	}
	if i >= MaxEvidence {
		return
	}
	if id == "" {
		id = al.str(idb)
	}
	if len(b.ids) < MaxEvidence {
		if b.ids == nil && al != nil {
			b.ids = al.refs()
		}
		b.ids = append(b.ids, ref{})
	}
	copy(b.ids[i+1:], b.ids[i:])
	b.ids[i] = ref{ns: ns, id: id}
}

// Arena hands out evidence IDs and the first few slots of buckets' ID lists from slabs shared
// by the Builders of a backtest, so that a million sparse minutes cost a few hundred
// allocations, not millions. Strings point into append-only chunks that are never written
// again. The zero Arena is ready; it is not safe for concurrent use.
type Arena struct {
	arena []byte
	slots []ref
}

// firstRefs is how many ID slots a bucket gets from the slab; more grow the usual way.
const firstRefs = 2

func (al *Arena) str(b []byte) string {
	if al == nil || len(b) > 256 {
		return string(b)
	}
	if len(al.arena)+len(b) > cap(al.arena) {
		al.arena = make([]byte, 0, 64<<10)
	}
	n := len(al.arena)
	al.arena = append(al.arena, b...)
	return unsafe.String(&al.arena[n], len(b))
}

func (al *Arena) refs() []ref {
	if len(al.slots)+firstRefs > cap(al.slots) {
		al.slots = make([]ref, 0, 1024*firstRefs)
	}
	n := len(al.slots)
	al.slots = al.slots[:n+firstRefs]
	return al.slots[n : n : n+firstRefs]
}

// ref is a sample ID with its event time, in Unix nanoseconds.
type ref struct {
	ns int64
	id string
}

// minuteOf floors t to its minute, in Unix seconds; times before 1970 floor correctly too.
func minuteOf(t time.Time) int64 {
	s := t.Unix()
	m := s % 60
	if m < 0 {
		m += 60
	}
	return s - m
}

// buildBuckets turns samples into minute buckets sorted by time. Minutes that produce no sample
// (events but no match, and no defaultValue) are dropped.
func buildBuckets(samples []Sample, def *float64, keepVals bool) []bucket {
	order := make([]int, len(samples))
	for i := range order {
		order[i] = i
	}
	// Stable, so that evidence within a minute keeps input order for equal times.
	sort.SliceStable(order, func(x, y int) bool { return samples[order[x]].Time.Before(samples[order[y]].Time) })
	var out []bucket
	for _, i := range order {
		s := samples[i]
		sec := minuteOf(s.Time)
		if len(out) == 0 || out[len(out)-1].sec != sec {
			out = append(out, bucket{sec: sec})
		}
		out[len(out)-1].add(s, keepVals)
	}
	if def == nil {
		out = slices.DeleteFunc(out, func(b bucket) bool { return b.n == 0 })
	}
	return out
}

// agg accumulates the samples of one period.
type agg struct {
	n        int
	sum      float64
	min, max float64
	vals     []float64 // for percentiles; reused between periods
}

func (g *agg) reset() {
	g.n, g.sum, g.min, g.max, g.vals = 0, 0, 0, 0, g.vals[:0]
}

func (g *agg) addValue(v float64, keepVals bool) {
	if g.n == 0 || v < g.min {
		g.min = v
	}
	if g.n == 0 || v > g.max {
		g.max = v
	}
	g.n++
	g.sum += v
	if keepVals {
		g.vals = append(g.vals, v)
	}
}

// addBucket adds a minute. A minute with events but no match adds the defaultValue once
// (spec §2.4); a minute with a match adds no default.
func (g *agg) addBucket(b *bucket, def *float64, keepVals bool) {
	if b.n == 0 {
		if b.ingested && def != nil {
			g.addValue(*def, keepVals)
		}
		return
	}
	if g.n == 0 || b.min < g.min {
		g.min = b.min
	}
	if g.n == 0 || b.max > g.max {
		g.max = b.max
	}
	g.n += b.n
	g.sum += b.sum
	if keepVals {
		g.vals = append(g.vals, b.vals...)
	}
}

// statistic is the alarm's statistic over the period, and the period's sample count; a count of
// 0 means the datapoint is missing.
func (a *Alarm) statistic(g *agg) (float64, int) {
	if g.n == 0 {
		return 0, 0
	}
	switch a.stat {
	case statSampleCount:
		return float64(g.n), g.n
	case statAverage:
		return g.sum / float64(g.n), g.n
	case statSum:
		return g.sum, g.n
	case statMinimum:
		return g.min, g.n
	case statMaximum:
		return g.max, g.n
	}
	return percentile(g.vals, a.percentile)
}

// percentile is the nearest-rank percentile (spec §3.2, U9): the value at rank ⌈p/100·n⌉ of the
// sorted samples. Percentiles are undefined with negative values; the datapoint is then missing
// (spec §3.4, U9). It sorts vals in place.
func percentile(vals []float64, p float64) (float64, int) {
	n := len(vals)
	for _, v := range vals {
		if v < 0 || math.IsNaN(v) {
			return 0, 0
		}
	}
	slices.Sort(vals)
	// The epsilon keeps p·n/100 = 9.000000000000002 at rank 9.
	rank := int(math.Ceil(p*float64(n)/100 - 1e-9))
	rank = max(1, min(rank, n))
	return vals[rank-1], n
}
