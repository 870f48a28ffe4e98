package alarm

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
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
// the time the series was created; with AddEarly, once each early ALARM is taken at the
// evaluation it anticipates (see AddEarly and CompareWithBatch).
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
	free      [][]*streamSeries         // emptied lists of due, for reuse
	w         window                    // scratch for evaluations
}

// streamSeries is one series of a Stream.
type streamSeries struct {
	key     string
	state   State
	buckets []bucket    // minutes that may still enter a range, by time
	next    int64       // next evaluation time; math.MaxInt64 when none is due
	early   []earlyMark // early ALARMs raised for evaluations not run yet, by time
}

// earlyMark is an early ALARM raised for the evaluation at time at, as the transition from
// state from: what that evaluation would report on the samples received then.
type earlyMark struct {
	at   int64
	from State
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
		w:         newWindow(a, def),
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
	_, err := s.add(key, sm)
	return err
}

// AddEarly is Add followed by Advance(sm.Time), and raises ALARM at once for a coming
// evaluation that, on the samples received, goes from another state to ALARM, and certainly
// goes to ALARM whatever samples still arrive: the alarm's statistic can only grow with more
// samples (Sum, SampleCount, Maximum) and breaches by growing (GreaterThanThreshold,
// GreaterThanOrEqualToThreshold), and the N newest periods of that evaluation already hold
// DatapointsToAlarm breaching datapoints (whatever TreatMissingData says). A root login then
// pages someone when its event is seen, not at the end of its minute.
//
// It returns the transitions of the evaluations that became final, then the early ones: they
// have Early set, Time the sample's time, Anticipates the evaluation time and a reason that
// says it was raised before the period closed. The from-state is the state the evaluations
// still pending before it reach on the samples received (not the last evaluated state): fed in
// order, the early ALARM is the transition Evaluate reports at Anticipates, and that
// evaluation does not report it again. With lateness, the pending evaluations report their
// transitions (dated before the early one) when they run.
//
// A sample that arrives out of order (within the lateness) after an early ALARM may change
// those pending evaluations: one goes to ALARM before Anticipates, say. Those evaluations then
// report what Evaluate does, that ALARM included, and the early ALARM, already sent, stands
// for none of Evaluate's transitions; the series is in ALARM at Anticipates all the same (see
// CompareWithBatch).
//
// Sum is taken to only grow because metric filter values are normally counts: a negative
// sample in the periods prevents an early ALARM, and if one arrives after it and keeps the
// evaluation out of ALARM, that evaluation reports ALARM -> its state.
//
// Series fed only by Add never raise early: their transitions are exactly Evaluate's.
func (s *Stream) AddEarly(key string, sm Sample) ([]SeriesTransition, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, err := s.add(key, sm)
	if err != nil {
		return nil, err
	}
	out := s.advance()
	if ss == nil {
		return out, nil
	}
	if !sm.NoMatch {
		out = s.early(ss, sm, out)
	}
	return out, nil
}

// add is Add; it returns the series, or nil if the sample published nothing.
func (s *Stream) add(key string, sm Sample) (*streamSeries, error) {
	sec := minuteOf(sm.Time)
	if sec < s.done {
		return nil, fmt.Errorf("series %q, sample at %s: %w", key, sm.Time.UTC().Format(time.RFC3339), ErrLate)
	}
	ss := s.track(key)
	i := sort.Search(len(ss.buckets), func(i int) bool { return ss.buckets[i].sec >= sec })
	if i == len(ss.buckets) || ss.buckets[i].sec != sec {
		if sm.NoMatch && s.def == nil {
			s.bump(sm.Time)
			return nil, nil // a minute with no match and no defaultValue publishes nothing
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
	return ss, nil
}

// canEarly reports whether the alarm's statistic only grows with more samples and breaches by
// growing, so that a breach seen before the period ends is certain.
func (a *Alarm) canEarly() bool {
	return (a.op == opGE || a.op == opGT) &&
		(a.stat == statSum || a.stat == statSampleCount || a.stat == statMaximum)
}

// early appends to out an early ALARM for each pending evaluation of ss that goes to ALARM
// from another state on the samples received and certainly goes to ALARM, unless already
// raised. It runs the pending evaluations as evaluate would, without changing ss.
func (s *Stream) early(ss *streamSeries, sm Sample, out []SeriesTransition) []SeriesTransition {
	a := s.a
	if !a.canEarly() || len(ss.buckets) == 0 {
		return out
	}
	last := boundaryAfter(ss.buckets[len(ss.buckets)-1].sec, a.step)
	prev := ss.state
	for t := ss.next; t <= last; {
		first := s.w.fill(ss.buckets, t)
		ns := a.Decide(s.w.rng, prev)
		if ns == StateAlarm && prev != StateAlarm && !ss.raised(t) && s.certain(ss, t) {
			tr := s.w.transition(ss.buckets, t, prev, StateAlarm)
			tr.Time, tr.Early, tr.Anticipates = sm.Time.UTC(), true, time.Unix(t, 0).UTC()
			b := append(s.w.x.buf[:0], tr.Reason...)
			b = append(b, " Raised early, before the period that ends at "...)
			b = time.Unix(t, 0).UTC().AppendFormat(b, reasonTimeLayout)
			b = append(b, " closed: the datapoints received so far already cross the threshold."...)
			s.w.x.buf = b
			tr.Reason = string(b)
			ss.mark(earlyMark{at: t, from: prev})
			out = append(out, SeriesTransition{Key: ss.key, Transition: tr})
		}
		prev = ns
		next, ok := a.nextChange(ss.buckets[first:], t)
		if !ok {
			break
		}
		t = next
	}
	return out
}

// raised reports whether an early ALARM is pending for the evaluation at t.
func (ss *streamSeries) raised(t int64) bool {
	for _, m := range ss.early {
		if m.at == t {
			return true
		}
	}
	return false
}

// mark records a pending early ALARM, keeping them by time.
func (ss *streamSeries) mark(m earlyMark) {
	i := sort.Search(len(ss.early), func(i int) bool { return ss.early[i].at >= m.at })
	ss.early = slices.Insert(ss.early, i, m)
}

// certain reports whether the evaluation of ss at tb goes to ALARM whatever samples still
// arrive; it leaves that range in s.w.rng.
func (s *Stream) certain(ss *streamSeries, tb int64) bool {
	a := s.a
	// Lower bounds of the N newest datapoints at tb, from matching samples only: a defaultValue
	// is dropped when a match arrives in its minute.
	breaching := 0
	start := tb - int64(a.n)*a.period
	i := sort.Search(len(ss.buckets), func(i int) bool { return ss.buckets[i].sec >= start })
	for j := 0; j < a.n; j++ {
		we := start + int64(j+1)*a.period
		var g agg
		negative := false
		for ; i < len(ss.buckets) && ss.buckets[i].sec < we; i++ {
			b := &ss.buckets[i]
			if b.n == 0 {
				continue
			}
			negative = negative || b.min < 0
			g.addBucket(b, nil, false)
		}
		if g.n == 0 || (a.stat == statSum && negative) {
			continue
		}
		if v, _ := a.statistic(&g); a.breaches(v) {
			breaching++
		}
	}
	if breaching < a.m {
		return false
	}
	s.w.fill(ss.buckets, tb)
	return a.Decide(s.w.rng, ss.state) == StateAlarm // not with a negative defaultValue, say
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
	return s.advance()
}

// advance evaluates what the watermark makes final.
func (s *Stream) advance() []SeriesTransition {
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
		s.times.push(ss.next)
		if n := len(s.free); n > 0 {
			list, s.free = s.free[n-1], s.free[:n-1]
		}
	}
	s.due[ss.next] = append(list, ss)
}

// evaluateTo evaluates every due series at every evaluation time <= limit. Transitions come out
// in time order, and by key at equal times.
func (s *Stream) evaluateTo(limit int64) []SeriesTransition {
	var out []SeriesTransition
	for len(s.times) > 0 && s.times[0] <= limit {
		t := s.times.pop()
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
		clear(list)
		s.free = append(s.free, list[:0])
		if at := out[first:]; len(at) > 1 {
			slices.SortFunc(at, func(x, y SeriesTransition) int { return strings.Compare(x.Key, y.Key) })
		}
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
	first := s.w.fill(ss.buckets, t)
	ns := a.Decide(s.w.rng, ss.state)
	// Early ALARMs for this evaluation, or for skipped ones (at which nothing changed).
	var m earlyMark
	raised := false
	for len(ss.early) > 0 && ss.early[0].at <= t {
		if ss.early[0].at == t {
			m, raised = ss.early[0], true
		}
		ss.early = ss.early[1:]
	}
	if len(ss.early) == 0 {
		ss.early = nil
	}
	switch {
	case raised && ns == StateAlarm && ss.state == m.from:
		// Raised early already, as this very transition: not again.
		ss.state = ns
	case raised && ns != StateAlarm:
		// The early ALARM did not hold (a negative value came): leave it.
		tr = SeriesTransition{Key: ss.key, Transition: s.w.transition(ss.buckets, t, StateAlarm, ns)}
		ss.state, changed = ns, true
	case ns != ss.state:
		// Also when an early ALARM was raised for t from another state: a sample that came
		// after it, out of order, changed the evaluations before t. This is Evaluate's.
		tr = SeriesTransition{Key: ss.key, Transition: s.w.transition(ss.buckets, t, ss.state, ns)}
		ss.state, changed = ns, true
	}
	// Before pruning: a minute leaving the range is a change too.
	ss.next = math.MaxInt64
	if next, ok := a.nextChange(ss.buckets[first:], t); ok {
		ss.next = next
	}
	// Minutes before the oldest period of the next range never matter again.
	oldest := t + a.step - int64(a.r)*a.period
	drop := 0
	for drop < len(ss.buckets) && ss.buckets[drop].sec < oldest {
		drop++
	}
	if drop > 0 {
		n := copy(ss.buckets, ss.buckets[drop:])
		clear(ss.buckets[n:]) // let the evidence IDs go
		ss.buckets = ss.buckets[:n]
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

func (h *timeHeap) push(t int64) {
	*h = append(*h, t)
	q := *h
	for i := len(q) - 1; i > 0; {
		p := (i - 1) / 2
		if q[p] <= q[i] {
			break
		}
		q[p], q[i] = q[i], q[p]
		i = p
	}
}

func (h *timeHeap) pop() int64 {
	q := *h
	t := q[0]
	n := len(q) - 1
	q[0] = q[n]
	q = q[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && q[l] < q[m] {
			m = l
		}
		if r := l + 1; r < n && q[r] < q[m] {
			m = r
		}
		if m == i {
			break
		}
		q[i], q[m] = q[m], q[i]
		i = m
	}
	*h = q
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
	// EarlyAlarm is the first evaluation time for which AddEarly raised ALARM before it ran;
	// zero when none is pending.
	EarlyAlarm time.Time `json:",omitzero"`
	// Early lists every pending early ALARM (EarlyAlarm is the first one's Time).
	Early []EarlySnapshot `json:",omitempty"`
}

// EarlySnapshot is an early ALARM raised for an evaluation not run yet.
type EarlySnapshot struct {
	Time time.Time // the evaluation time it anticipates
	From State     // the state it was raised from
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
		for i, m := range ss.early {
			if i == 0 {
				sn.EarlyAlarm = time.Unix(m.at, 0).UTC()
			}
			sn.Early = append(sn.Early, EarlySnapshot{Time: time.Unix(m.at, 0).UTC(), From: m.from})
		}
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
		for _, e := range sn.Early {
			ss.mark(earlyMark{at: e.Time.Unix(), from: e.From})
		}
		if len(sn.Early) == 0 && !sn.EarlyAlarm.IsZero() {
			// Written before Early: raised from the evaluated state.
			ss.mark(earlyMark{at: sn.EarlyAlarm.Unix(), from: sn.State})
		}
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
