// Package run is trailalarm as a service: it reads CloudTrail from live sources, evaluates the
// rules and their CloudWatch alarms as event time advances, commits each unit's checkpoint,
// alarm state and alerts in one store transaction, and delivers alerts from the store's outbox
// with retries. Killing it at any moment loses nothing: what was not committed is read again,
// and what was committed is not delivered twice to a receiver that acknowledged it.
package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/trailalarm/trailalarm/internal/alarm"
	"github.com/trailalarm/trailalarm/internal/backtest"
	"github.com/trailalarm/trailalarm/internal/config"
	"github.com/trailalarm/trailalarm/internal/detect"
	"github.com/trailalarm/trailalarm/internal/notify"
	"github.com/trailalarm/trailalarm/internal/rules"
	"github.com/trailalarm/trailalarm/internal/source"
	"github.com/trailalarm/trailalarm/internal/store"
)

// Options are what a Runner is made of; the command builds them from the configuration.
type Options struct {
	Config    *config.Config
	Rules     []*rules.Rule
	Store     store.Store
	Sources   []source.Live
	Notifiers []notify.Notifier
	Log       *slog.Logger
	// Now is the wall clock, used only for what is about the present: delivery retries, the
	// lag metric, and moving alarms on when no events arrive. Event time drives evaluation.
	Now func() time.Time
	// DeliveryPoll is how often an idle delivery loop looks at the outbox (default 1s).
	DeliveryPoll time.Duration
	// Filter leaves records out as scan's --since, --until, --account and --region do.
	Filter detect.Filter
	// WorkerID names this process among the workers sharing the store, in its heartbeats
	// (default: DefaultWorkerID, host:pid).
	WorkerID string
}

// Runner is a running `trailalarm run`.
type Runner struct {
	o       Options
	log     *slog.Logger
	engine  *detect.Engine
	alarms  []*alarm.Alarm
	m       *metrics
	router  *router
	wake    []chan struct{} // per notifier: a commit added deliveries
	healthy atomicTime      // the last time a unit was processed or a source was idle

	mu       sync.Mutex        // guards the evaluation state below: one unit at a time
	streams  []*alarm.Stream   // per rule; nil until the first record (a cache of the stored state)
	evidence []*evidence       // per rule
	blobs    [][]byte          // per rule: the stored state streams and evidence were made from
	cached   []bool            // per rule: streams and evidence are blobs, unchanged since
	newest   time.Time         // the newest event time seen
	lateness time.Duration     // allowed lateness
	spans    []time.Duration   // per rule: how long a record can matter (range × period + lateness)
	states   map[string]string // rule + series → state, for the alarm_series gauge
}

// New prepares a runner: it compiles the rules, validates their alarms and restores the alarm
// state the store holds.
func New(ctx context.Context, o Options) (*Runner, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DeliveryPoll == 0 {
		o.DeliveryPoll = time.Second
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.WorkerID == "" {
		o.WorkerID = DefaultWorkerID()
	}
	r := &Runner{
		o: o, log: o.Log, engine: detect.ForRules(o.Rules), m: newMetrics(),
		alarms: make([]*alarm.Alarm, len(o.Rules)), streams: make([]*alarm.Stream, len(o.Rules)),
		evidence: make([]*evidence, len(o.Rules)), spans: make([]time.Duration, len(o.Rules)),
		blobs: make([][]byte, len(o.Rules)), cached: make([]bool, len(o.Rules)),
		lateness: o.Config.Alarm.AllowedLateness.D(), states: map[string]string{},
	}
	r.m.reg.MustRegister(newWorkerCollector(o.Store, o.Now))
	var err error
	if r.router, err = newRouter(o.Config); err != nil {
		return nil, err
	}
	for i, ru := range o.Rules {
		a, err := alarm.New(backtest.Settings(ru.Alarm, backtest.Overrides{}))
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", ru.ID, err)
		}
		r.alarms[i] = a
		r.evidence[i] = newEvidence()
		r.spans[i] = time.Duration(a.EvaluationRange()*ru.Alarm.Period)*time.Second + r.lateness + time.Minute
	}
	saved, err := o.Store.AlarmStates(ctx)
	if err != nil {
		return nil, fmt.Errorf("read alarm state: %w", err)
	}
	byID := map[string][]byte{}
	for _, s := range saved {
		byID[s.RuleID] = s.State
	}
	for i, ru := range o.Rules {
		blob, ok := byID[ru.ID]
		if !ok {
			continue
		}
		if len(blob) == 0 {
			continue
		}
		var st ruleState
		if err := json.Unmarshal(blob, &st); err != nil {
			return nil, fmt.Errorf("alarm state of rule %s is unreadable (delete it to start afresh): %w", ru.ID, err)
		}
		r.streams[i] = alarm.Restore(r.alarms[i], ru.Metric.DefaultValue, r.lateness, st.Stream)
		r.evidence[i].restore(st.Evidence)
		r.blobs[i], r.cached[i] = blob, true
		if st.Stream.Watermark.After(r.newest) {
			r.newest = st.Stream.Watermark
		}
		for _, s := range st.Stream.Series {
			r.setState(ru.ID, s.Key, s.State.String())
		}
	}
	return r, nil
}

// Problem counts and logs bad input or a failed call that a source reported and went on from;
// sources are given it as their OnError.
func (r *Runner) Problem(p *source.Problem) {
	r.m.badInput.WithLabelValues(p.Source, p.Kind).Inc()
	r.log.Warn("source problem", "source", p.Source, "kind", p.Kind, "input", p.Input, "err", p.Err)
}

// Handler serves /healthz and /metrics.
func (r *Runner) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"ok","lastActivity":%q}`+"\n", r.healthy.load().UTC().Format(time.RFC3339))
	})
	mux.Handle("/metrics", promhttp.HandlerFor(r.m.reg, promhttp.HandlerOpts{}))
	return mux
}

// Run reads every source and delivers alerts until ctx ends, or until every source is a
// finite one read to its end (source.ErrExhausted); the unit in hand is finished
// (committed or not started) before it returns. It returns the first fatal error: a store that
// cannot commit, a source that cannot work at all.
func (r *Runner) Run(ctx context.Context) error {
	// Sources stop when ctx ends; a unit being processed is finished with a context that does
	// not end, so that a SIGTERM never leaves half a batch.
	var wg sync.WaitGroup
	errc := make(chan error, len(r.o.Sources)+len(r.o.Notifiers))
	deliverCtx, stopDelivery := context.WithCancel(context.Background())
	r.wake = make([]chan struct{}, len(r.o.Notifiers))
	for i, n := range r.o.Notifiers {
		r.wake[i] = make(chan struct{}, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.deliver(deliverCtx, n, r.wake[i])
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.heartbeat(deliverCtx)
	}()
	// The clock moves live alarms on when no events arrive, and retention runs hourly.
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		var pruned time.Time
		for {
			select {
			case <-deliverCtx.Done():
				return
			case <-t.C:
				r.tick()
				if now := r.o.Now(); now.Sub(pruned) >= time.Hour {
					pruned = now
					r.prune(deliverCtx, now)
				}
			}
		}
	}()
	var srcWG sync.WaitGroup
	for _, s := range r.o.Sources {
		srcWG.Add(1)
		go func() {
			defer srcWG.Done()
			if err := r.runSource(ctx, s); err != nil {
				errc <- fmt.Errorf("source %s: %w", s.Name(), err)
			}
		}()
	}
	var err error
	done := make(chan struct{})
	go func() { srcWG.Wait(); close(done) }()
	select {
	case <-done:
	case err = <-errc:
	}
	<-done
	// Give the delivery loops a moment to send what the last commits produced.
	r.poke()
	time.Sleep(100 * time.Millisecond)
	stopDelivery()
	wg.Wait()
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	return err
}

func (r *Runner) runSource(ctx context.Context, s source.Live) error {
	cps, err := r.o.Store.Checkpoints(ctx)
	if err != nil {
		return err
	}
	resume := map[string]string{}
	prefix := s.Name() + "\x00"
	for _, c := range cps {
		if len(c.Source) >= len(prefix) && c.Source[:len(prefix)] == prefix {
			resume[c.Source[len(prefix):]] = c.Position
		}
	}
	if err := s.Resume(resume); err != nil {
		return err
	}
	for {
		units, err := s.Next(ctx)
		if ctx.Err() != nil || errors.Is(err, source.ErrExhausted) {
			return nil // stopped, or a finite source read to its end
		}
		if err != nil {
			return err
		}
		r.healthy.store(r.o.Now())
		if err := r.processAll(context.WithoutCancel(ctx), ctx, s, units); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// processAll reads and evaluates units on all cores, and commits their results one at a time
// in the order the source gave them (their checkpoints assume it). When stop ends, the unit in
// hand is finished and the rest are left for the next start.
func (r *Runner) processAll(ctx, stop context.Context, s source.Live, units []source.Unit) error {
	var todo []source.Unit
	for _, u := range units {
		done, err := r.o.Store.IsProcessed(ctx, store.Object{Source: s.Name(), Key: u.Key})
		if err != nil {
			return err
		}
		if done {
			r.m.units.WithLabelValues(s.Name(), "duplicate").Inc()
			if err := s.Done(ctx, u); err != nil {
				return err
			}
			continue
		}
		todo = append(todo, u)
	}
	inputs := make([]detect.Input, len(todo))
	for i, u := range todo {
		inputs[i] = u.Input
	}
	errStop := errors.New("stopped")
	err := r.engine.Scan(ctx, inputs, detect.Options{Filter: r.o.Filter}, nil, func(res *detect.FileResult) error {
		if err := r.commitUnit(ctx, s, todo[res.Index], res); err != nil {
			return err
		}
		if stop.Err() != nil {
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

// prune deletes what the retention period no longer keeps: delivered alerts older than it.
func (r *Runner) prune(ctx context.Context, now time.Time) {
	res, err := r.o.Store.Prune(ctx, now.Add(-r.o.Config.Retention.D()))
	if err != nil {
		r.log.Error("retention", "err", err)
		return
	}
	if res.Alerts > 0 || res.Objects > 0 {
		r.log.Info("retention", "alerts_deleted", res.Alerts, "objects_forgotten", res.Objects)
	}
}

// tick moves alarms on by the wall clock while a source is idle, so that an alarm returns to OK
// when events stop; only when the data is live (the newest event within an hour of now), so
// that replaying an old archive is evaluated by its own time.
func (r *Runner) tick() {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.o.Now()
	if r.newest.IsZero() || now.Sub(r.newest) > time.Hour {
		return
	}
	if err := r.advance(context.Background(), now, now); err != nil {
		r.log.Error("commit alarm evaluation", "err", err)
	}
}

// advance evaluates every rule's alarm up to t without new data and commits it at time now;
// the caller holds r.mu.
func (r *Runner) advance(ctx context.Context, now, t time.Time) error {
	// Every rule, not only those this worker has seen: another worker may have started them.
	batch := store.Batch{Time: now}
	results := map[int]*ruleResult{}
	memory := maps.Clone(r.router.last)
	for i := range r.o.Rules {
		batch.AlarmUpdates = append(batch.AlarmUpdates, r.update(i, nil, time.Time{}, t, results))
	}
	res, err := r.o.Store.Commit(ctx, batch)
	if err != nil {
		r.abandon(results, memory)
		return err
	}
	r.settle(results)
	if res.Deliveries > 0 {
		r.poke()
	}
	return nil
}

// commitUnit evaluates one unit's detection results and commits them with its checkpoint.
func (r *Runner) commitUnit(ctx context.Context, s source.Live, u source.Unit, res *detect.FileResult) error {
	obj := store.Object{Source: s.Name(), Key: u.Key}
	name := s.Name()
	r.m.records.WithLabelValues(name).Add(float64(res.Stats.Records))
	if n := u.Input.Size(); n > 0 {
		r.m.bytes.WithLabelValues(name).Add(float64(n))
	}
	if len(res.Errors) > 0 {
		r.m.badInput.WithLabelValues(name, "bad_record").Add(float64(len(res.Errors)))
		r.log.Warn("bad records skipped", "source", name, "input", u.Input.Name(), "count", len(res.Errors), "first", res.Errors[0].Error())
	}
	outcome := "ok"
	if res.Err != nil {
		// Unreadable (a missing object, a corrupt file): report it and move past it.
		outcome = "unreadable"
		r.m.badInput.WithLabelValues(name, "unreadable").Inc()
		r.log.Warn("input skipped", "source", name, "input", u.Input.Name(), "err", res.Err)
	}

	r.mu.Lock()
	now := r.o.Now()
	batch := store.Batch{Time: now, Objects: []store.Object{obj}, Matches: matchCounts(r.o.Rules, res.Matches)}
	if u.Position != "" {
		batch.Checkpoints = []store.Checkpoint{{Source: name + "\x00" + u.Cursor, Position: u.Position}}
	}
	in := r.inputs(res)
	r.m.lag.Set(now.Sub(r.newest).Seconds())
	wall := time.Time{}
	if now.Sub(r.newest) <= time.Hour {
		wall = now // live data: the clock also moves alarms on
	}
	// Datapoints merge into the latest shared state inside the commit (see alarmstate.go), in
	// rule order so that workers lock rules' state in one order.
	results := map[int]*ruleResult{}
	memory := maps.Clone(r.router.last)
	first := firstMinute(res)
	for i := range r.o.Rules {
		if in[i] != nil {
			batch.AlarmUpdates = append(batch.AlarmUpdates, r.update(i, in[i], first, wall, results))
		}
	}
	cr, err := r.o.Store.Commit(ctx, batch)
	if err == nil {
		r.settle(results)
	} else {
		r.abandon(results, memory)
	}
	r.mu.Unlock()
	if errors.Is(err, store.ErrAlreadyProcessed) {
		r.m.units.WithLabelValues(name, "duplicate").Inc()
		return s.Done(ctx, u)
	}
	if err != nil {
		// The store cannot commit (a lost connection, a full disk): stop, and let a restart
		// read the unit again from the last commit.
		return fmt.Errorf("commit %s: %w", u.Input.Name(), err)
	}
	r.m.units.WithLabelValues(name, outcome).Inc()
	if cr.Deliveries > 0 {
		r.poke()
	}
	return s.Done(ctx, u)
}

func (r *Runner) setState(rule, series, state string) {
	k := rule + "\x00" + series
	if old, ok := r.states[k]; ok {
		r.m.alarmState.WithLabelValues(rule, old).Dec()
	}
	r.states[k] = state
	r.m.alarmState.WithLabelValues(rule, state).Inc()
}

func (r *Runner) poke() {
	for _, w := range r.wake {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// deliver drains one notifier's outbox until ctx ends: claimed deliveries are sent, and
// recorded as delivered, retried later with exponential backoff, or given up when the receiver
// rejects them for good.
func (r *Runner) deliver(ctx context.Context, n notify.Notifier, wake <-chan struct{}) {
	name := n.Name()
	for ctx.Err() == nil {
		now := r.o.Now()
		ds, err := r.o.Store.Claim(ctx, name, now, now.Add(5*time.Minute), 20)
		if err != nil && ctx.Err() == nil {
			r.log.Error("read outbox", "notifier", name, "err", err)
		}
		for _, d := range ds {
			nctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := n.Notify(nctx, &d.Alert)
			cancel()
			at := r.o.Now()
			switch {
			case err == nil:
				err = r.o.Store.Delivered(context.WithoutCancel(ctx), d.AlertID, name, at)
				r.m.deliveries.WithLabelValues(name, "delivered").Inc()
			case notify.IsPermanent(err):
				r.log.Error("alert rejected; giving up", "notifier", name, "alert", d.AlertID, "err", err)
				err = r.o.Store.Failed(context.WithoutCancel(ctx), d.AlertID, name, at, err.Error(), time.Time{})
				r.m.deliveries.WithLabelValues(name, "failed").Inc()
			default:
				next := at.Add(max(backoff(d.Attempts), notify.RetryAfter(err)))
				r.log.Warn("delivery failed; will retry", "notifier", name, "alert", d.AlertID, "attempt", d.Attempts+1, "next", next, "err", err)
				err = r.o.Store.Failed(context.WithoutCancel(ctx), d.AlertID, name, at, err.Error(), next)
				r.m.deliveries.WithLabelValues(name, "retry").Inc()
			}
			if err != nil {
				r.log.Error("record delivery", "notifier", name, "alert", d.AlertID, "err", err)
			}
		}
		if counts, err := r.o.Store.OutboxCounts(ctx); err == nil {
			for _, c := range counts {
				r.m.outbox.WithLabelValues(c.Notifier, string(c.State)).Set(float64(c.Count))
			}
		}
		if len(ds) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
		case <-wake:
		case <-time.After(r.o.DeliveryPoll):
		}
	}
}

// backoff is the wait before attempt n+1: 5 s doubling per attempt, at most an hour.
func backoff(attempts int) time.Duration {
	d := 5 * time.Second * time.Duration(math.Pow(2, float64(min(attempts, 10))))
	return min(d, time.Hour)
}

// atomicTime is a time read and written from several goroutines.
type atomicTime struct {
	mu sync.Mutex
	t  time.Time
}

func (a *atomicTime) store(t time.Time) { a.mu.Lock(); a.t = t; a.mu.Unlock() }
func (a *atomicTime) load() time.Time   { a.mu.Lock(); defer a.mu.Unlock(); return a.t }
