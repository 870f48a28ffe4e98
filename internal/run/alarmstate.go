package run

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/trailalarm/trailalarm/internal/alarm"
	"github.com/trailalarm/trailalarm/internal/detect"
	"github.com/trailalarm/trailalarm/internal/store"
)

// Alarm state is shared: several workers may commit to one store. A unit's datapoints are
// therefore not added to this process's streams and written over the stored state (the last
// writer would win, and two workers would both see a breach and both alert); they go into the
// commit as store.AlarmUpdates, applied by the store to the latest stored state of each rule
// with it locked. The streams kept here are a cache of the stored state: when the stored
// bytes are the ones this runner wrote last (one worker, or no other worker touched the rule
// since), the cached stream is used as it is instead of decoding the state again.

// ruleInput is what one unit brings to one rule's alarm.
type ruleInput struct {
	samples []sampleIn
	noMatch []int64 // minutes with records (a defaultValue rule publishes it for those)
}

// sampleIn is one datapoint and the record it came from, evidence an alert may cite.
type sampleIn struct {
	key    string
	sample alarm.Sample
	raw    []byte
}

// ruleResult is what applying an update produced, kept until the commit is known to succeed.
type ruleResult struct {
	stream   *alarm.Stream
	evidence *evidence
	blob     []byte // nil: the stored state was left as it was
	stored   []byte // the state the store holds once the commit is done
	newest   time.Time
	trans    []alarm.SeriesTransition
	alerts   int
	late     int
}

// inputs sorts a unit's matches by rule as the metric filters publish them: no datapoint
// without a value or with a dimension missing from the record.
func (r *Runner) inputs(res *detect.FileResult) map[int]*ruleInput {
	in := map[int]*ruleInput{}
	get := func(i int) *ruleInput {
		if in[i] == nil {
			in[i] = &ruleInput{}
		}
		return in[i]
	}
	for i := range res.Matches {
		m := &res.Matches[i]
		ru := r.o.Rules[m.Rule]
		r.m.matches.WithLabelValues(ru.ID).Inc()
		if !m.HasValue {
			continue
		}
		var dims [][2]string
		ok := true
		for _, d := range ru.Metric.Dimensions {
			v, found := d.Ref.TextMatched(m.Record.Raw) // the record matched: read the value only
			if !found {
				ok = false
				break
			}
			dims = append(dims, [2]string{d.Name, v})
		}
		if !ok {
			continue
		}
		get(m.Rule).samples = append(get(m.Rule).samples, sampleIn{key: alarm.SeriesKey(dims),
			sample: alarm.Sample{Time: m.Record.EventTime, Value: m.Value, ID: string(m.Record.EventID)}, raw: m.Record.Raw})
		if m.Record.EventTime.After(r.newest) {
			r.newest = m.Record.EventTime
		}
	}
	for _, mi := range res.Minutes {
		if t := time.Unix(mi*60+59, 0).UTC(); t.After(r.newest) {
			r.newest = t
		}
	}
	if len(res.Minutes) > 0 {
		for i, ru := range r.o.Rules {
			if ru.Metric.DefaultValue != nil && len(ru.Metric.Dimensions) == 0 {
				get(i).noMatch = res.Minutes
			}
		}
	}
	return in
}

// firstMinute is the earliest minute of a unit's records, where a rule's stream starts when the
// unit is the first one it sees.
func firstMinute(res *detect.FileResult) time.Time {
	if len(res.Minutes) == 0 {
		return time.Time{}
	}
	first := res.Minutes[0]
	for _, m := range res.Minutes {
		first = min(first, m)
	}
	return time.Unix(first*60, 0).UTC()
}

// update is the store.AlarmUpdate of rule i: the unit's datapoints (in), then evaluation up to
// the watermark (and wall, when not zero). Its results land in results[i].
func (r *Runner) update(i int, in *ruleInput, first, wall time.Time, results map[int]*ruleResult) store.AlarmUpdate {
	ru := r.o.Rules[i]
	memory := r.router.ruleMemory(ru.ID)
	return store.AlarmUpdate{RuleID: ru.ID, Apply: func(state []byte, ok bool) ([]byte, []store.NewAlert, error) {
		// Run again (a retried transaction), it must route as the first time did.
		r.router.setRuleMemory(ru.ID, memory)
		delete(results, i)
		st, ev, err := r.load(i, state, ok)
		if err != nil {
			return nil, nil, err
		}
		res := &ruleResult{}
		if st == nil {
			if in == nil || (len(in.samples) == 0 && len(in.noMatch) == 0) {
				return nil, nil, nil // nothing to evaluate yet
			}
			if first.IsZero() {
				first = r.newest
			}
			st = alarm.NewStream(r.alarms[i], ru.Metric.DefaultValue, first.Add(-time.Minute), r.lateness)
			ev = newEvidence()
		}
		var alerts []store.NewAlert
		raise := func(ts []alarm.SeriesTransition) {
			for _, t := range ts {
				a := newAlert(ru, t, ev)
				alerts = append(alerts, store.NewAlert{Alert: a, Notifiers: r.router.targets(&a, ru)})
				res.trans = append(res.trans, t)
			}
		}
		if in != nil {
			for _, s := range in.samples {
				// The record is evidence before the sample is added: an early ALARM cites it.
				ev.add(s.sample.ID, s.key, s.sample.Time, s.raw)
				// A breach no later record can undo raises ALARM now, not at the period's end.
				early, err := st.AddEarly(s.key, s.sample)
				if err != nil {
					res.late++
					continue
				}
				raise(early)
			}
			for _, mi := range in.noMatch {
				st.Add("", alarm.Sample{Time: time.Unix(mi*60, 0), NoMatch: true})
			}
		}
		raise(st.Advance(wall))
		snap := st.Snapshot()
		ev.prune(snap.Watermark.Add(-r.spans[i]))
		blob, err := json.Marshal(ruleState{Stream: snap, Evidence: ev.list()})
		if err != nil {
			return nil, nil, fmt.Errorf("encode alarm state: %w", err)
		}
		res.stream, res.evidence, res.alerts, res.newest = st, ev, len(alerts), snap.Watermark
		res.stored = state
		if !bytes.Equal(blob, state) {
			res.blob, res.stored = blob, blob
		}
		results[i] = res
		return res.blob, alerts, nil
	}}
}

// load returns rule i's stream and evidence as the store holds them (state, ok): the cached
// ones when the stored bytes are those this runner last wrote or read, decoded otherwise; nil
// when there is no state. The cache is invalid from here on: the caller changes what it gets.
func (r *Runner) load(i int, state []byte, ok bool) (*alarm.Stream, *evidence, error) {
	cached := r.cached[i]
	r.cached[i] = false
	if !ok || len(state) == 0 {
		return nil, nil, nil
	}
	if cached && r.streams[i] != nil && bytes.Equal(state, r.blobs[i]) {
		return r.streams[i], r.evidence[i], nil
	}
	var st ruleState
	if err := json.Unmarshal(state, &st); err != nil {
		return nil, nil, fmt.Errorf("alarm state of rule %s is unreadable (delete it to start afresh): %w", r.o.Rules[i].ID, err)
	}
	ev := newEvidence()
	ev.restore(st.Evidence)
	return alarm.Restore(r.alarms[i], r.o.Rules[i].Metric.DefaultValue, r.lateness, st.Stream), ev, nil
}

// settle takes the results of a committed batch into the cache and the metrics.
func (r *Runner) settle(results map[int]*ruleResult) {
	for i, res := range results {
		ru := r.o.Rules[i]
		// The stream and evidence are now exactly what the store holds.
		r.streams[i], r.evidence[i], r.blobs[i], r.cached[i] = res.stream, res.evidence, res.stored, true
		if res.newest.After(r.newest) {
			r.newest = res.newest
		}
		if res.late > 0 {
			r.m.late.WithLabelValues(ru.ID).Add(float64(res.late))
		}
		for _, t := range res.trans {
			r.m.alerts.WithLabelValues(ru.ID, t.To.String()).Inc()
			r.setState(ru.ID, t.Key, t.To.String())
		}
	}
}

// abandon forgets what a failed commit computed: the cache is invalid for those rules (load
// has marked them) and suppression memory goes back to what it was.
func (r *Runner) abandon(results map[int]*ruleResult, memory map[string]time.Time) {
	r.router.last = memory
	for i := range results {
		r.streams[i], r.evidence[i], r.blobs[i], r.cached[i] = nil, nil, nil, false
	}
}

// ruleMemory returns the suppression memory of one rule (its keys begin with the rule id).
func (r *router) ruleMemory(rule string) map[string]time.Time {
	m := map[string]time.Time{}
	for k, t := range r.last {
		if k == rule || strings.HasPrefix(k, rule+"\x00") {
			m[k] = t
		}
	}
	return m
}

// setRuleMemory puts back what ruleMemory returned.
func (r *router) setRuleMemory(rule string, m map[string]time.Time) {
	for k := range r.last {
		if k == rule || strings.HasPrefix(k, rule+"\x00") {
			delete(r.last, k)
		}
	}
	for k, t := range m {
		r.last[k] = t
	}
}
