// Package backtest answers "what would the CloudWatch alarms of these rules have done over these
// records?": it turns a scan's matches into metric samples exactly as a CloudWatch Logs metric
// filter publishes them (the rule's metric value, its dimensions, its defaultValue) and evaluates
// each series with package alarm, from the first record to the last.
package backtest

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/trailalarm/trailalarm/internal/alarm"
	"github.com/trailalarm/trailalarm/internal/detect"
	"github.com/trailalarm/trailalarm/internal/rules"
)

// Overrides replace alarm settings of every rule, for trying other values; zero fields keep the
// rule's own.
type Overrides struct {
	Period            int
	Statistic         string
	Threshold         *float64
	EvaluationPeriods int
	DatapointsToAlarm int
	TreatMissingData  string
}

// Settings converts a rule's alarm into CloudWatch alarm settings, with overrides applied.
func Settings(a rules.AlarmSettings, o Overrides) alarm.Settings {
	if o.Period != 0 {
		a.Period = o.Period
	}
	if o.Statistic != "" {
		a.Statistic = o.Statistic
	}
	if o.Threshold != nil {
		a.Threshold = *o.Threshold
	}
	if o.EvaluationPeriods != 0 {
		a.EvaluationPeriods = o.EvaluationPeriods
		if o.DatapointsToAlarm == 0 && a.DatapointsToAlarm > a.EvaluationPeriods {
			a.DatapointsToAlarm = a.EvaluationPeriods
		}
	}
	if o.DatapointsToAlarm != 0 {
		a.DatapointsToAlarm = o.DatapointsToAlarm
	}
	if o.TreatMissingData != "" {
		a.TreatMissingData = o.TreatMissingData
	}
	s := alarm.Settings{
		Period:             a.Period,
		Threshold:          a.Threshold,
		ComparisonOperator: alarm.ComparisonOperator(a.ComparisonOperator),
		EvaluationPeriods:  a.EvaluationPeriods,
		DatapointsToAlarm:  a.DatapointsToAlarm,
		TreatMissingData:   alarm.TreatMissingData(a.TreatMissingData),
	}
	if strings.HasPrefix(a.Statistic, "p") {
		s.ExtendedStatistic = a.Statistic
	} else {
		s.Statistic = a.Statistic
	}
	return s
}

// Backtest collects the samples of one scan.
type Backtest struct {
	rules   []*rules.Rule
	alarms  []*alarm.Alarm         // per rule
	series  []map[string]*seriesOf // per rule, by dimension key
	key     []byte                 // scratch: the dimension key of the match at hand
	arena   alarm.Arena            // every series' evidence IDs
	minutes map[int64]bool         // minutes with records, for defaultValue
	first   int64                  // earliest record minute, or 0
	last    int64                  // latest record minute
}

// seriesOf is one metric series: its dimensions and its minutes as they fill.
type seriesOf struct {
	dims []Dimension
	b    *alarm.Builder
}

// Dimension is one dimension of a metric series.
type Dimension struct {
	Name, Value string
}

// New prepares a backtest of rs (in the scan's rule order), checking every rule's alarm as
// PutMetricAlarm would; the error names the rule.
func New(rs []*rules.Rule, o Overrides) (*Backtest, error) {
	b := &Backtest{rules: rs, alarms: make([]*alarm.Alarm, len(rs)), series: make([]map[string]*seriesOf, len(rs)), minutes: map[int64]bool{}}
	var errs []string
	for i, r := range rs {
		a, err := alarm.New(Settings(r.Alarm, o))
		if err != nil {
			errs = append(errs, fmt.Sprintf("rule %s: %v", r.ID, err))
			continue
		}
		b.alarms[i] = a
		b.series[i] = map[string]*seriesOf{}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid alarm settings:\n  %s", strings.Join(errs, "\n  "))
	}
	return b, nil
}

// Add takes one input's results.
func (b *Backtest) Add(res *detect.FileResult) {
	for _, m := range res.Minutes {
		b.minutes[m] = true
		if b.first == 0 || m < b.first {
			b.first = m
		}
		if m > b.last {
			b.last = m
		}
	}
	for i := range res.Matches {
		b.addMatch(&res.Matches[i])
	}
}

// addMatch publishes one match as its metric filter would: no sample when the metric value is
// not a number or a dimension's value is missing from the record. The record matched, so the
// dimensions are read with TextMatched (the value only, not a second scan of the record), and
// a series that exists costs no allocation.
func (b *Backtest) addMatch(m *detect.Match) {
	r := b.rules[m.Rule]
	if b.alarms[m.Rule] == nil || !m.HasValue {
		return
	}
	b.key = b.key[:0]
	var bounds [3][2]int // where each dimension's value lies in the key; rules have at most 3
	for i, d := range r.Metric.Dimensions {
		b.key = append(b.key, d.Name...)
		b.key = append(b.key, 0)
		start := len(b.key)
		var ok bool
		if b.key, ok = d.Ref.AppendMatched(b.key, m.Record.Raw); !ok {
			return
		}
		if i < len(bounds) {
			bounds[i] = [2]int{start, len(b.key)}
		}
		b.key = append(b.key, 0)
	}
	ss := b.series[m.Rule][string(b.key)] // no allocation: the compiler looks up the bytes
	if ss == nil {
		ss = &seriesOf{b: b.alarms[m.Rule].NewBuilder(&b.arena)}
		for i, d := range r.Metric.Dimensions {
			bd := bounds[min(i, len(bounds)-1)]
			ss.dims = append(ss.dims, Dimension{Name: d.Name, Value: string(b.key[bd[0]:bd[1]])})
		}
		b.series[m.Rule][string(b.key)] = ss
	}
	ss.b.Add(m.Record.EventTime, m.Value, m.Record.EventID)
}

// Result is the transitions of one metric series of one rule.
type Result struct {
	Rule        *rules.Rule
	Dimensions  []Dimension
	Transitions []alarm.Transition
}

// Range is the span a backtest evaluates by default: from the first record's minute to the
// evaluation just after the last record's minute. ok is false when no record was seen.
func (b *Backtest) Range() (from, until time.Time, ok bool) {
	if b.first == 0 {
		return time.Time{}, time.Time{}, false
	}
	return time.Unix(b.first*60, 0).UTC(), time.Unix((b.last+1)*60, 0).UTC(), true
}

// Run evaluates every series over (from, until] — see alarm.Evaluate — and returns the results
// in rule order, then by dimension values.
func (b *Backtest) Run(from, until time.Time) []Result {
	var out []Result
	for i, r := range b.rules {
		a := b.alarms[i]
		if a == nil {
			continue
		}
		keys := make([]string, 0, len(b.series[i]))
		for k := range b.series[i] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) == 0 {
			keys = append(keys, "") // a rule that never matched still has its one series
			b.series[i][""] = &seriesOf{b: a.NewBuilder(&b.arena)}
		}
		for _, k := range keys {
			ss := b.series[i][k]
			if r.Metric.DefaultValue != nil && len(r.Metric.Dimensions) == 0 {
				// A minute with records but no match publishes the defaultValue.
				for m := range b.minutes {
					ss.b.AddNoMatch(time.Unix(m*60, 0))
				}
			}
			out = append(out, Result{Rule: r, Dimensions: ss.dims, Transitions: a.EvaluateBuilt(ss.b, r.Metric.DefaultValue, from, until)})
		}
	}
	return out
}
