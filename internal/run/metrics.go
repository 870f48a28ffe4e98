package run

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are what /metrics exposes about a runner.
type metrics struct {
	reg        *prometheus.Registry
	records    *prometheus.CounterVec // by source
	bytes      *prometheus.CounterVec // by source
	units      *prometheus.CounterVec // by source and outcome
	badInput   *prometheus.CounterVec // by source and kind
	matches    *prometheus.CounterVec // by rule
	late       *prometheus.CounterVec // by rule: samples later than the allowed lateness
	alarmState *prometheus.GaugeVec   // by rule and state: series in that state
	alerts     *prometheus.CounterVec // by rule and state
	deliveries *prometheus.CounterVec // by notifier and outcome
	outbox     *prometheus.GaugeVec   // by notifier and state
	lag        prometheus.Gauge       // now minus the newest event time seen, seconds
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "trailalarm", Name: name, Help: help}, labels)
		m.reg.MustRegister(c)
		return c
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "trailalarm", Name: name, Help: help}, labels)
		m.reg.MustRegister(g)
		return g
	}
	m.records = counter("records_total", "CloudTrail records processed.", "source")
	m.bytes = counter("bytes_total", "Bytes of CloudTrail read (as stored).", "source")
	m.units = counter("units_total", "Files, objects or batches processed, by outcome.", "source", "outcome")
	m.badInput = counter("source_errors_total", "Bad input and failed calls a source reported and went on from.", "source", "kind")
	m.matches = counter("matches_total", "Records matched, by rule.", "rule")
	m.late = counter("late_samples_total", "Matches that arrived after their minute was evaluated (beyond the allowed lateness).", "rule")
	m.alarmState = gauge("alarm_series", "Metric series of a rule's alarm in each state.", "rule", "state")
	m.alerts = counter("alerts_total", "Alarm state changes raised, by rule and new state.", "rule", "state")
	m.deliveries = counter("deliveries_total", "Delivery attempts, by notifier and outcome (delivered, retry, failed).", "notifier", "outcome")
	m.outbox = gauge("outbox", "Outbox deliveries by notifier and state.", "notifier", "state")
	m.lag = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "trailalarm", Name: "lag_seconds", Help: "Now minus the newest event time seen."})
	m.reg.MustRegister(m.lag, prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}
