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
	alarms  []*alarm.Alarm              // per rule
	series  []map[string]*seriesSamples // per rule, by dimension key
	minutes map[int64]bool              // minutes with records, for defaultValue
	first   int64                       // earliest record minute, or 0
	last    int64                       // latest record minute
}

type seriesSamples struct {
	dims    []Dimension
	samples []alarm.Sample
}

// Dimension is one dimension of a metric series.
type Dimension struct {
	Name, Value string
}

// New prepares a backtest of rs (in the scan's rule order), checking every rule's alarm as
// PutMetricAlarm would; the error names the rule.
func New(rs []*rules.Rule, o Overrides) (*Backtest, error) {
	b := &Backtest{rules: rs, alarms: make([]*alarm.Alarm, len(rs)), series: make([]map[string]*seriesSamples, len(rs)), minutes: map[int64]bool{}}
	var errs []string
	for i, r := range rs {
		a, err := alarm.New(Settings(r.Alarm, o))
		if err != nil {
			errs = append(errs, fmt.Sprintf("rule %s: %v", r.ID, err))
			continue
		}
		b.alarms[i] = a
		b.series[i] = map[string]*seriesSamples{}
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
// not a number or a dimension's value is missing from the record.
func (b *Backtest) addMatch(m *detect.Match) {
	r := b.rules[m.Rule]
	if b.alarms[m.Rule] == nil || !m.HasValue {
		return
	}
	var dims []Dimension
	var key strings.Builder
	for _, d := range r.Metric.Dimensions {
		v, ok := d.Ref.Text(m.Record.Raw)
		if !ok {
			return
		}
		dims = append(dims, Dimension{Name: d.Name, Value: v})
		key.WriteString(d.Name)
		key.WriteByte(0)
		key.WriteString(v)
		key.WriteByte(0)
	}
	ss := b.series[m.Rule][key.String()]
	if ss == nil {
		ss = &seriesSamples{dims: dims}
		b.series[m.Rule][key.String()] = ss
	}
	ss.samples = append(ss.samples, alarm.Sample{Time: m.Record.EventTime, Value: m.Value, ID: string(m.Record.EventID)})
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
			b.series[i][""] = &seriesSamples{}
		}
		for _, k := range keys {
			ss := b.series[i][k]
			series := alarm.Series{DefaultValue: r.Metric.DefaultValue, Samples: ss.samples}
			if r.Metric.DefaultValue != nil && len(r.Metric.Dimensions) == 0 {
				// A minute with records but no match publishes the defaultValue.
				for m := range b.minutes {
					series.Samples = append(series.Samples, alarm.Sample{Time: time.Unix(m*60, 0), NoMatch: true})
				}
			}
			out = append(out, Result{Rule: r, Dimensions: ss.dims, Transitions: a.Evaluate(series, from, until)})
		}
	}
	return out
}
