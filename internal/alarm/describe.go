package alarm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Dimension is a metric dimension, as AWS spells it.
type Dimension struct {
	Name  string
	Value string
}

// NamedSettings is one metric alarm read from AWS: its identity, the metric it watches and its
// Settings.
type NamedSettings struct {
	Name       string      // AlarmName
	ARN        string      // AlarmArn
	Namespace  string      // the metric's namespace
	MetricName string      // the metric's name
	Dimensions []Dimension // the exact dimension set the alarm watches
	Unit       string      // "" means any unit
	StateValue State       // the state AWS reported; INSUFFICIENT_DATA if absent
	Settings
}

// alarmJSON is a MetricAlarms entry of describe-alarms, or a PutMetricAlarm input. Pointers tell
// an omitted field from a zero one.
type alarmJSON struct {
	AlarmName                        string
	AlarmArn                         string
	Namespace                        string
	MetricName                       string
	Dimensions                       []Dimension
	Unit                             string
	StateValue                       string
	Period                           *int
	Statistic                        string
	ExtendedStatistic                string
	Threshold                        *float64
	ComparisonOperator               string
	EvaluationPeriods                *int
	DatapointsToAlarm                *int
	TreatMissingData                 string
	EvaluateLowSampleCountPercentile string
	Metrics                          []json.RawMessage // metric math: not supported
	ThresholdMetricId                string            // anomaly detection: not supported
}

func (j *alarmJSON) named() (NamedSettings, error) {
	ns := NamedSettings{
		Name:       j.AlarmName,
		ARN:        j.AlarmArn,
		Namespace:  j.Namespace,
		MetricName: j.MetricName,
		Dimensions: j.Dimensions,
		Unit:       j.Unit,
	}
	if j.StateValue != "" {
		st, err := ParseState(j.StateValue)
		if err != nil {
			return ns, fmt.Errorf("StateValue: %w", err)
		}
		ns.StateValue = st
	}
	if len(j.Metrics) > 0 {
		return ns, errors.New("alarm: metric math alarms (Metrics) are not supported; only alarms on a single metric are")
	}
	if j.ThresholdMetricId != "" {
		return ns, errors.New("alarm: anomaly detection alarms (ThresholdMetricId) are not supported")
	}
	if j.Threshold == nil {
		return ns, errors.New("alarm: Threshold is required")
	}
	s := Settings{
		Statistic:                        j.Statistic,
		ExtendedStatistic:                j.ExtendedStatistic,
		Threshold:                        *j.Threshold,
		ComparisonOperator:               ComparisonOperator(j.ComparisonOperator),
		TreatMissingData:                 TreatMissingData(j.TreatMissingData),
		EvaluateLowSampleCountPercentile: j.EvaluateLowSampleCountPercentile,
	}
	if j.Period != nil {
		s.Period = *j.Period
	}
	if j.EvaluationPeriods != nil {
		s.EvaluationPeriods = *j.EvaluationPeriods
	}
	if j.DatapointsToAlarm != nil {
		if *j.DatapointsToAlarm < 1 {
			// 0 means "omitted" in Settings; an explicit 0 is an error at AWS.
			return ns, fmt.Errorf("alarm: DatapointsToAlarm (%d) must be at least 1", *j.DatapointsToAlarm)
		}
		s.DatapointsToAlarm = *j.DatapointsToAlarm
	}
	if err := s.Validate(); err != nil {
		return ns, err
	}
	ns.Settings = s
	return ns, nil
}

// ParseSettings reads one alarm in PutMetricAlarm's JSON shape (as in `aws cloudwatch
// put-metric-alarm --cli-input-json`, or one MetricAlarms entry of describe-alarms) and
// validates it.
func ParseSettings(data []byte) (NamedSettings, error) {
	var j alarmJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return NamedSettings{}, fmt.Errorf("alarm: read settings: %w", err)
	}
	return j.named()
}

// SettingsFromDescribeAlarms reads the output of `aws cloudwatch describe-alarms`: an object with
// MetricAlarms (CompositeAlarms are skipped, as they have no metric), or a bare array of
// MetricAlarms entries. It returns every alarm it could read; the error, if any, joins one error
// per alarm it could not read or does not support, each naming the alarm, so a caller may go on
// with the rest.
func SettingsFromDescribeAlarms(data []byte) ([]NamedSettings, error) {
	var entries []json.RawMessage
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &entries); err != nil {
			return nil, fmt.Errorf("alarm: read describe-alarms output: %w", err)
		}
	} else {
		var out struct{ MetricAlarms []json.RawMessage }
		if err := json.Unmarshal(trimmed, &out); err != nil {
			return nil, fmt.Errorf("alarm: read describe-alarms output: %w", err)
		}
		entries = out.MetricAlarms
	}
	var (
		alarms []NamedSettings
		errs   []error
	)
	for i, raw := range entries {
		var j alarmJSON
		if err := json.Unmarshal(raw, &j); err != nil {
			errs = append(errs, fmt.Errorf("MetricAlarms[%d]: %w", i, err))
			continue
		}
		ns, err := j.named()
		if err != nil {
			errs = append(errs, fmt.Errorf("MetricAlarms[%d] (%q): %w", i, j.AlarmName, err))
			continue
		}
		alarms = append(alarms, ns)
	}
	return alarms, errors.Join(errs...)
}
