package run

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailalarm/trailalarm/internal/store"
)

// HeartbeatInterval is how often a runner records in the store that it is alive; a worker not
// seen for three intervals is reported down.
const HeartbeatInterval = 10 * time.Second

// DefaultWorkerID names this process among the workers sharing a store: host and process id.
func DefaultWorkerID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

// heartbeat records the runner's heartbeat now and every HeartbeatInterval until ctx ends.
func (r *Runner) heartbeat(ctx context.Context) {
	t := time.NewTicker(HeartbeatInterval)
	defer t.Stop()
	for {
		if err := r.o.Store.Heartbeat(ctx, r.o.WorkerID, r.o.Now()); err != nil && ctx.Err() == nil {
			r.log.Warn("heartbeat", "worker", r.o.WorkerID, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// workerCollector exposes, at each scrape, every worker that shares the store: when it started,
// when it was last seen, and whether it is up (seen within three heartbeat intervals).
type workerCollector struct {
	st               store.Store
	now              func() time.Time
	up, seen, starts *prometheus.Desc
}

func newWorkerCollector(st store.Store, now func() time.Time) *workerCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("trailalarm_worker_"+name, help, []string{"worker"}, nil)
	}
	return &workerCollector{st: st, now: now,
		up:     d("up", "1 if the worker sent a heartbeat within the last three intervals, else 0."),
		seen:   d("last_seen_timestamp_seconds", "When the worker last sent a heartbeat (Unix time)."),
		starts: d("start_timestamp_seconds", "When the worker sent its first heartbeat (Unix time)."),
	}
}

func (c *workerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.up
	ch <- c.seen
	ch <- c.starts
}

func (c *workerCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, err := c.st.Workers(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.up, err)
		return
	}
	now := c.now()
	for _, w := range ws {
		up := 0.0
		if now.Sub(w.Seen) <= 3*HeartbeatInterval {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up, w.ID)
		ch <- prometheus.MustNewConstMetric(c.seen, prometheus.GaugeValue, float64(w.Seen.UnixNano())/1e9, w.ID)
		ch <- prometheus.MustNewConstMetric(c.starts, prometheus.GaugeValue, float64(w.Started.UnixNano())/1e9, w.ID)
	}
}
