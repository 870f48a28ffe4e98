// Package alarm emulates CloudWatch metric alarms fed by CloudWatch Logs metric-filter
// datapoints, as ../shared/reference/alarm-semantics.md of the trailalarm project describes them.
//
// It is pure and clock-free: every time is passed in, so a backtest over last month's logs and a
// live evaluation of the same samples give the same transitions.
//
// The pipeline, as in AWS:
//
//	Sample (event time, value) ── floored to its minute ──▶ 1-minute buckets
//	every minute boundary T ──▶ R periods ending at T, Statistic of each (or missing)
//	                         ──▶ M-of-N with TreatMissingData ──▶ State; a Transition when it changes
//
// Settings holds the PutMetricAlarm fields; New validates them into an Alarm. EvaluateRange is one
// evaluation; Evaluate is the batch (backtest) evaluator.
package alarm
