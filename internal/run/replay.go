package run

import (
	"context"
	"fmt"
	"time"

	"github.com/trailalarm/trailalarm/internal/source"
)

// Replay reads a finite source (source.List) to its end as Run would — units already in the
// store are skipped, each other one is committed with its alarm state, alerts and match counts
// — and then moves every rule's alarm on to until, as a scan's backtest evaluates up to just
// after its last record; the alarms of an archive are not moved on by the wall clock. Nothing
// is delivered: alerts go to the outbox of the configured notifiers, if any.
func (r *Runner) Replay(ctx context.Context, s source.Live, until time.Time) error {
	if err := r.runSource(ctx, s); err != nil {
		return fmt.Errorf("source %s: %w", s.Name(), err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if until.IsZero() {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// The input has ended: evaluate up to until itself, not up to until minus the lateness
	// that live data waits for (alarm.Stream.Advance evaluates to the watermark minus it).
	if err := r.advance(ctx, r.o.Now(), until.Add(r.lateness)); err != nil {
		return fmt.Errorf("commit alarm evaluation: %w", err)
	}
	return nil
}
