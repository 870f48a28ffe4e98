package alarm

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"
)

// ErrLate is returned by Stream.Add for a sample whose minute has already been evaluated: it
// arrived later than the allowed lateness.
var ErrLate = errors.New("alarm: sample arrived after its minute was evaluated")

// SeriesTransition is a Transition of one series of a Stream.
type SeriesTransition struct {
	Key string // the series key given to Stream.Add or Stream.Track
	Transition
}

// Stream evaluates one alarm over many metric series (one per dimension set, say) as event time
// advances. Samples may arrive out of order by up to the allowed lateness behind the watermark,
// the latest event time seen. An evaluation time T is evaluated once no sample before T can
// still arrive. Fed the same samples, a Stream gives the same transitions as Evaluate with from =
// the time the series was created.
type Stream struct {
	mu        sync.Mutex                // guards everything below
	a         *Alarm                    // the alarm's settings
	def       *float64                  // the metric filter's defaultValue, for every series
	lateness  int64                     // seconds a sample may lag the watermark
	watermark int64                     // latest event time seen, Unix seconds
	done      int64                     // every evaluation time <= done has been evaluated
	series    map[string]*streamSeries  // by key
	due       map[int64][]*streamSeries // series to evaluate at a time; stale entries are skipped
	times     timeHeap                  // the keys of due, soonest first
	w         window                    // scratch for evaluations
}

// streamSeries is one series of a Stream.
type streamSeries struct {
	key     string
	state   State
	buckets []bucket // minutes that may still enter a range, by time
	next    int64    // next evaluation time; math.MaxInt64 when none is due
}

// NewStream starts evaluating alarm a at created: series tracked from the start are evaluated
// at every evaluation time after it. def is the filter's defaultValue (nil if unset); lateness is
// how far behind the watermark a sample may arrive.
func NewStream(a *Alarm, def *float64, created time.Time, lateness time.Duration) *Stream {
	s := &Stream{
		a:         a,
		def:       def,
		lateness:  int64(math.Ceil(lateness.Seconds())),
		watermark: created.Unix(),
		done:      floorTo(created.Unix(), a.step),
		series:    map[string]*streamSeries{},
		due:       map[int64][]*streamSeries{},
		w:         window{a: a, rng: make([]Datapoint, a.r), def: def},
	}
	return s
}

// Track creates series key if it does not exist, as if its alarm were created now: its first
// evaluation is the next evaluation time. A series first seen by Add is created the same way.
func (s *Stream) Track(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.track(key)
}

func (s *Stream) track(key string) *streamSeries {
	if ss, ok := s.series[key]; ok {
		return ss
	}
	ss := &streamSeries{key: key, next: s.done + s.a.step}
	s.series[key] = ss
	s.schedule(ss)
	return ss
}

// Add records a sample of series key and moves the watermark to its time if later. It returns
// ErrLate, and drops the sample, if the sample's minute has already been evaluated.
func (s *Stream) Add(key string, sm Sample) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := minuteOf(sm.Time)
	if sec < s.done {
		return fmt.Errorf("series %q, sample at %s: %w", key, sm.Time.UTC().Format(time.RFC3339), ErrLate)
	}
	ss := s.track(key)
	i := sort.Search(len(ss.buckets), func(i int) bool { return ss.buckets[i].sec >= sec })
	if i == len(ss.buckets) || ss.buckets[i].sec != sec {
		if sm.NoMatch && s.def == nil {
			s.bump(sm.Time)
			return nil // a minute with no match and no defaultValue publishes nothing
		}
		ss.buckets = append(ss.buckets, bucket{})
		copy(ss.buckets[i+1:], ss.buckets[i:])
		ss.buckets[i] = bucket{sec: sec}
	}
	ss.buckets[i].add(sm, s.a.stat == statPercentile)
	// The minute enters the range at the first evaluation after it.
	if due := boundaryAfter(sec, s.a.step); due < ss.next {
		ss.next = due
		s.schedule(ss)
	}
	s.bump(sm.Time)
	return nil
}

func (s *Stream) bump(t time.Time) {
	if u := t.Unix(); u > s.watermark {
		s.watermark = u
	}
}

// Advance moves the watermark to now if later (a live clock with no events) and evaluates every
// evaluation time that no sample can change any more: those up to the watermark minus the
// lateness, floored to the minute. It returns the transitions, oldest first.
func (s *Stream) Advance(now time.Time) []SeriesTransition {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bump(now)
	// A sample at time t lands in minute floor(t), so only minutes before floor(W − L) are final.
	return s.evaluateTo(floorTo(floorTo(s.watermark-s.lateness, 60), s.a.step))
}

// Flush evaluates every evaluation time up to until, whatever the watermark: the input has
// ended. Samples before until are then late.
func (s *Stream) Flush(until time.Time) []SeriesTransition {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.evaluateTo(floorTo(until.Unix(), s.a.step))
}

// schedule queues ss for evaluation at ss.next. An entry left at an older time is skipped
// when that time comes, as ss.next no longer matches it.
func (s *Stream) schedule(ss *streamSeries) {
	if ss.next == math.MaxInt64 {
		return
	}
	list, ok := s.due[ss.next]
	if !ok {
		heap.Push(&s.times, ss.next)
	}
	s.due[ss.next] = append(list, ss)
}

// evaluateTo evaluates every due series at every evaluation time <= limit. Transitions come out
// in time order, and by key at equal times.
func (s *Stream) evaluateTo(limit int64) []SeriesTransition {
	var out []SeriesTransition
	for len(s.times) > 0 && s.times[0] <= limit {
		t := heap.Pop(&s.times).(int64)
		list := s.due[t]
		delete(s.due, t)
		first := len(out)
		for _, ss := range list {
			if ss.next != t {
				continue // rescheduled earlier, and already evaluated
			}
			if tr, ok := s.evaluate(ss, t); ok {
				out = append(out, tr)
			}
			s.schedule(ss)
		}
		at := out[first:]
		sort.Slice(at, func(i, j int) bool { return at[i].Key < at[j].Key })
	}
	if limit > s.done {
		s.done = limit
	}
	return out
}

// evaluate evaluates ss at t, prunes minutes that can no longer enter a range and sets ss.next.
func (s *Stream) evaluate(ss *streamSeries, t int64) (SeriesTransition, bool) {
	a := s.a
	var tr SeriesTransition
	changed := false
	nonEmpty, next := s.w.fill(ss.buckets, t)
	if ns := a.Decide(s.w.rng, ss.state); ns != ss.state {
		tr = SeriesTransition{Key: ss.key, Transition: s.w.transition(ss.buckets, t, ss.state, ns)}
		ss.state, changed = ns, true
	}
	// Minutes before the oldest period of the next range never matter again.
	oldest := t + a.step - int64(a.r)*a.period
	drop := 0
	for drop < len(ss.buckets) && ss.buckets[drop].sec < oldest {
		drop++
	}
	if drop > 0 {
		ss.buckets = append(ss.buckets[:0], ss.buckets[drop:]...)
		next -= drop
	}
	switch {
	case nonEmpty:
		ss.next = t + a.step
	case next < len(ss.buckets):
		// An empty range decides the same way until data enters it again.
		ss.next = max(t+a.step, boundaryAfter(ss.buckets[next].sec, a.step))
	default:
		ss.next = math.MaxInt64
	}
	return tr, changed
}

// State returns the current state of series key (INSUFFICIENT_DATA for an unknown one).
func (s *Stream) State(key string) State {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss, ok := s.series[key]; ok {
		return ss.state
	}
	return StateInsufficientData
}

// floorTo rounds sec down to a multiple of step.
func floorTo(sec, step int64) int64 {
	q := sec / step
	if sec%step != 0 && sec < 0 {
		q--
	}
	return q * step
}

// timeHeap is a min-heap of evaluation times.
type timeHeap []int64

func (h timeHeap) Len() int           { return len(h) }
func (h timeHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h timeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timeHeap) Push(x any)        { *h = append(*h, x.(int64)) }
func (h *timeHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

// StreamSnapshot is the whole state of a Stream as plain data, for a store to persist.
type StreamSnapshot struct {
	Watermark time.Time        // latest event time seen
	Evaluated time.Time        // every evaluation time up to this one is done
	Series    []SeriesSnapshot // by key
}

// SeriesSnapshot is the state of one series.
type SeriesSnapshot struct {
	Key     string
	State   State
	Minutes []MinuteSnapshot // minutes that may still enter a range, oldest first
}

// MinuteSnapshot is one minute of a series.
type MinuteSnapshot struct {
	Time     time.Time // start of the minute
	Count    int       // matching samples
	Sum      float64
	Min      float64
	Max      float64
	Values   []float64     // the samples, for percentile alarms only
	Evidence []EvidenceRef // the first MaxEvidence sample IDs, by event time
	IDCount  int           // samples with an ID
	Ingested bool          // a non-matching log event fell in this minute
}

// EvidenceRef is a sample ID with its event time.
type EvidenceRef struct {
	Time time.Time
	ID   string
}

// Snapshot returns the state of the stream; Restore brings it back.
func (s *Stream) Snapshot() StreamSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := StreamSnapshot{Watermark: time.Unix(s.watermark, 0).UTC(), Evaluated: time.Unix(s.done, 0).UTC()}
	for _, ss := range s.series {
		sn := SeriesSnapshot{Key: ss.key, State: ss.state}
		for _, b := range ss.buckets {
			m := MinuteSnapshot{
				Time: time.Unix(b.sec, 0).UTC(), Count: b.n, Sum: b.sum, Min: b.min, Max: b.max,
				Values: append([]float64(nil), b.vals...), IDCount: b.nids, Ingested: b.ingested,
			}
			for _, r := range b.ids {
				m.Evidence = append(m.Evidence, EvidenceRef{Time: time.Unix(0, r.ns).UTC(), ID: r.id})
			}
			sn.Minutes = append(sn.Minutes, m)
		}
		snap.Series = append(snap.Series, sn)
	}
	sort.Slice(snap.Series, func(i, j int) bool { return snap.Series[i].Key < snap.Series[j].Key })
	return snap
}

// Restore rebuilds a Stream from a snapshot taken with the same alarm settings, defaultValue and
// lateness.
func Restore(a *Alarm, def *float64, lateness time.Duration, snap StreamSnapshot) *Stream {
	s := NewStream(a, def, snap.Evaluated, lateness)
	s.done = snap.Evaluated.Unix()
	s.watermark = snap.Watermark.Unix()
	for _, sn := range snap.Series {
		// Every series is evaluated at the next time: one that was at rest decides the same
		// again, and one with a pending evaluation (data just aged out) gets it.
		ss := &streamSeries{key: sn.Key, state: sn.State, next: s.done + a.step}
		for _, m := range sn.Minutes {
			b := bucket{
				sec: m.Time.Unix(), n: m.Count, sum: m.Sum, min: m.Min, max: m.Max,
				vals: append([]float64(nil), m.Values...), nids: m.IDCount, ingested: m.Ingested,
			}
			for _, e := range m.Evidence {
				b.ids = append(b.ids, ref{ns: e.Time.UnixNano(), id: e.ID})
			}
			ss.buckets = append(ss.buckets, b)
		}
		s.series[sn.Key] = ss
		s.schedule(ss)
	}
	return s
}
