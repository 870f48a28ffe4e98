package alarm

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ComparisonOperator is PutMetricAlarm's ComparisonOperator. The statistic is the left operand.
type ComparisonOperator string

// The four static-threshold operators; the anomaly-detection ones are not supported.
const (
	GreaterThanOrEqualToThreshold ComparisonOperator = "GreaterThanOrEqualToThreshold"
	GreaterThanThreshold          ComparisonOperator = "GreaterThanThreshold"
	LessThanThreshold             ComparisonOperator = "LessThanThreshold"
	LessThanOrEqualToThreshold    ComparisonOperator = "LessThanOrEqualToThreshold"
)

// TreatMissingData is PutMetricAlarm's TreatMissingData.
type TreatMissingData string

// The four treatments. The empty string means Missing, as when the field is omitted.
const (
	Missing      TreatMissingData = "missing"
	NotBreaching TreatMissingData = "notBreaching"
	Breaching    TreatMissingData = "breaching"
	Ignore       TreatMissingData = "ignore"
)

// Statistics accepted in Settings.Statistic, as AWS spells them.
const (
	SampleCount = "SampleCount"
	Average     = "Average"
	Sum         = "Sum"
	Minimum     = "Minimum"
	Maximum     = "Maximum"
)

// DefaultExtraPeriods is how many periods the evaluation range holds beyond EvaluationPeriods
// when Settings.EvaluationRange is 0. AWS publishes only R(3, 300 s) = 5 (spec §6.1, U1).
const DefaultExtraPeriods = 2

// Limits of PutMetricAlarm (spec §12).
const (
	maxRangeSeconds     = 7 * 86400 // Period × EvaluationPeriods
	maxRangeShortPeriod = 86400     // the same, when Period < 3600
)

// Settings are the PutMetricAlarm fields that decide an alarm's state, with AWS's names. The zero
// values of the optional fields mean what omitting them means to AWS.
type Settings struct {
	Period             int                // seconds: 10, 20, 30 or a multiple of 60
	Statistic          string             // SampleCount, Average, Sum, Minimum or Maximum; or ""
	ExtendedStatistic  string             // a percentile such as "p99" or "p99.9"; or ""
	Threshold          float64            // compared with the statistic (the left operand)
	ComparisonOperator ComparisonOperator // one of the four static-threshold operators
	EvaluationPeriods  int                // N: how many periods are evaluated
	DatapointsToAlarm  int                // M of N; 0 means omitted, that is M = N
	TreatMissingData   TreatMissingData   // "" means Missing

	// EvaluateLowSampleCountPercentile is "", "evaluate" or "ignore"; only percentiles use it.
	EvaluateLowSampleCountPercentile string

	// EvaluationRange is not an AWS field: the number of periods R fetched at each evaluation.
	// AWS does not publish it; 0 means EvaluationPeriods + DefaultExtraPeriods.
	EvaluationRange int
}

// Validate reports what PutMetricAlarm would reject, and what this package cannot emulate, all
// at once. Each error says which field is wrong and what it accepts.
func (s Settings) Validate() error {
	_, err := New(s)
	return err
}

// statKind is a Statistic or a percentile, resolved once.
type statKind uint8

const (
	statSampleCount statKind = iota
	statAverage
	statSum
	statMinimum
	statMaximum
	statPercentile
)

// Alarm is a validated Settings in the form the evaluator uses. It holds no state: the same
// Alarm can evaluate any number of series. Create it with New.
type Alarm struct {
	s          Settings
	stat       statKind
	percentile float64 // 0–100, for statPercentile
	n, m, r    int     // EvaluationPeriods, DatapointsToAlarm, evaluation range
	period     int64   // seconds
	step       int64   // seconds between evaluations
	lowSamples float64 // with EvaluateLowSampleCountPercentile=ignore: fewer samples retain the state; 0 = off
	explicitM  bool    // DatapointsToAlarm was set: picks the reason wording (spec §10.1, U8)
	tmd        TreatMissingData
	op         opKind // ComparisonOperator, resolved once
	texts      reasonTexts
}

// opKind is a ComparisonOperator resolved, so that comparing is not a string switch.
type opKind uint8

const (
	opGE opKind = iota
	opGT
	opLT
	opLE
)

// New validates s and prepares it for evaluation.
func New(s Settings) (*Alarm, error) {
	c := &Alarm{s: s, n: s.EvaluationPeriods, m: s.DatapointsToAlarm, period: int64(s.Period)}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("alarm: "+format, args...))
	}

	switch {
	case s.Period == 0:
		bad("Period is required: give it in seconds (10, 20, 30 or a multiple of 60)")
	case s.Period < 0 || (s.Period != 10 && s.Period != 20 && s.Period != 30 && s.Period%60 != 0):
		bad("Period (%d) must be 10, 20, 30 or a multiple of 60 seconds", s.Period)
	}

	switch {
	case s.Statistic != "" && s.ExtendedStatistic != "":
		bad("set only one of Statistic (%q) and ExtendedStatistic (%q)", s.Statistic, s.ExtendedStatistic)
	case s.Statistic == "" && s.ExtendedStatistic == "":
		bad("Statistic or ExtendedStatistic is required: one of SampleCount, Average, Sum, Minimum, Maximum, or a percentile such as p99")
	case s.Statistic != "":
		switch s.Statistic {
		case SampleCount:
			c.stat = statSampleCount
		case Average:
			c.stat = statAverage
		case Sum:
			c.stat = statSum
		case Minimum:
			c.stat = statMinimum
		case Maximum:
			c.stat = statMaximum
		default:
			if _, ok := parsePercentile(s.Statistic); ok {
				bad("Statistic %q is a percentile: put it in ExtendedStatistic", s.Statistic)
			} else {
				bad("Statistic %q is not one of SampleCount, Average, Sum, Minimum, Maximum", s.Statistic)
			}
		}
	default:
		p, ok := parsePercentile(s.ExtendedStatistic)
		switch {
		case ok:
			c.stat, c.percentile = statPercentile, p
		case isOtherExtendedStatistic(s.ExtendedStatistic):
			bad("ExtendedStatistic %q is not supported: only percentiles (p0 to p100, such as p99 or p99.9) are", s.ExtendedStatistic)
		default:
			bad("ExtendedStatistic %q is not valid: use a percentile from p0 to p100 with up to 10 decimals, such as p99 or p99.9", s.ExtendedStatistic)
		}
	}

	if math.IsNaN(s.Threshold) || math.IsInf(s.Threshold, 0) {
		bad("Threshold (%v) must be a finite number", s.Threshold)
	}

	switch s.ComparisonOperator {
	case GreaterThanOrEqualToThreshold:
		c.op = opGE
	case GreaterThanThreshold:
		c.op = opGT
	case LessThanThreshold:
		c.op = opLT
	case LessThanOrEqualToThreshold:
		c.op = opLE
	case "":
		bad("ComparisonOperator is required: one of GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold")
	case "LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold":
		bad("ComparisonOperator %q is for anomaly detection alarms, which are not supported", s.ComparisonOperator)
	default:
		bad("ComparisonOperator %q is not one of GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold", s.ComparisonOperator)
	}

	if s.EvaluationPeriods < 1 {
		bad("EvaluationPeriods (%d) must be at least 1", s.EvaluationPeriods)
	}
	switch {
	case s.DatapointsToAlarm < 0:
		bad("DatapointsToAlarm (%d) must be at least 1", s.DatapointsToAlarm)
	case s.DatapointsToAlarm == 0:
		c.m = s.EvaluationPeriods
	case s.DatapointsToAlarm > s.EvaluationPeriods && s.EvaluationPeriods >= 1:
		bad("DatapointsToAlarm (%d) must not exceed EvaluationPeriods (%d)", s.DatapointsToAlarm, s.EvaluationPeriods)
	default:
		c.explicitM = true
	}

	if s.Period > 0 && s.EvaluationPeriods > 0 {
		total := int64(s.Period) * int64(s.EvaluationPeriods)
		switch {
		case s.Period < 3600 && total > maxRangeShortPeriod:
			bad("Period × EvaluationPeriods (%d × %d = %d s) must not exceed 86400 s (1 day) when Period is under 3600 s", s.Period, s.EvaluationPeriods, total)
		case total > maxRangeSeconds:
			bad("Period × EvaluationPeriods (%d × %d = %d s) must not exceed 604800 s (7 days)", s.Period, s.EvaluationPeriods, total)
		}
	}

	switch s.TreatMissingData {
	case "", Missing:
		c.tmd = Missing
	case NotBreaching, Breaching, Ignore:
		c.tmd = s.TreatMissingData
	default:
		bad("TreatMissingData %q is not one of breaching, notBreaching, ignore, missing", s.TreatMissingData)
	}

	switch s.EvaluateLowSampleCountPercentile {
	case "", "evaluate":
	case "ignore":
		if c.stat == statPercentile {
			c.lowSamples = lowSampleBound(c.percentile)
		}
	default:
		bad("EvaluateLowSampleCountPercentile %q is not one of evaluate, ignore", s.EvaluateLowSampleCountPercentile)
	}

	switch {
	case s.EvaluationRange == 0:
		c.r = s.EvaluationPeriods + DefaultExtraPeriods
	case s.EvaluationRange < s.EvaluationPeriods:
		bad("EvaluationRange (%d) must be 0 (the default) or at least EvaluationPeriods (%d)", s.EvaluationRange, s.EvaluationPeriods)
	default:
		c.r = s.EvaluationRange
	}

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c.step = evaluationStep(c.period, c.n)
	c.makeTexts()
	return c, nil
}

// evaluationStep is the cadence of evaluations (spec §4.1): every 10 s for high-resolution
// periods, hourly for alarms spanning more than a day, every minute otherwise.
func evaluationStep(period int64, n int) int64 {
	switch {
	case period < 60:
		return 10
	case period*int64(n) > 86400:
		return 3600
	}
	return 60
}

// parsePercentile accepts AWS's percentile form p(\d{1,2}(\.\d{0,10})?|100) and returns 0–100.
func parsePercentile(s string) (float64, bool) {
	if len(s) < 2 || s[0] != 'p' {
		return 0, false
	}
	num := s[1:]
	if num == "100" {
		return 100, true
	}
	whole, frac, hasDot := strings.Cut(num, ".")
	if len(whole) < 1 || len(whole) > 2 || !allDigits(whole) {
		return 0, false
	}
	if hasDot && (len(frac) > 10 || !allDigits(frac)) {
		return 0, false
	}
	p, err := strconv.ParseFloat(strings.TrimSuffix(num, "."), 64)
	if err != nil {
		return 0, false
	}
	return p, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isOtherExtendedStatistic recognises the extended statistics AWS accepts but this package does
// not compute (spec §3.3), so that the error can say "not supported" rather than "invalid".
func isOtherExtendedStatistic(s string) bool {
	if s == "IQM" {
		return true
	}
	for _, prefix := range []string{"tm", "tc", "ts", "wm", "TM(", "TC(", "TS(", "WM(", "PR("} {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// lowSampleBound is the sample count below which a percentile counts as "low sample" (spec
// §12.1): 10/(1−p) for p in [0.5, 1), 10/p for p in (0, 0.5). p0 and p100 have no bound.
func lowSampleBound(percentile float64) float64 {
	p := percentile / 100
	switch {
	case p >= 0.5 && p < 1:
		return 10 / (1 - p)
	case p > 0 && p < 0.5:
		return 10 / p
	}
	return 0
}

// Settings returns the settings the alarm was created from.
func (c *Alarm) Settings() Settings { return c.s }

// EvaluationRange returns R, the number of periods fetched at each evaluation.
func (c *Alarm) EvaluationRange() int { return c.r }

// Step returns the time between two evaluations: a minute, 10 s for high-resolution periods, an
// hour when Period × EvaluationPeriods exceeds a day.
func (c *Alarm) Step() time.Duration { return time.Duration(c.step) * time.Second }
