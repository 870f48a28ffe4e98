package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailalarm/trailalarm/internal/cloudtrail"
	"github.com/trailalarm/trailalarm/internal/config"
	"github.com/trailalarm/trailalarm/internal/detect"
	"github.com/trailalarm/trailalarm/internal/rules"
	runner "github.com/trailalarm/trailalarm/internal/run"
	"github.com/trailalarm/trailalarm/internal/source"
	"github.com/trailalarm/trailalarm/internal/store"
)

// scanStoreSource names the scan's inputs in the store's processed objects.
const scanStoreSource = "scan"

// checkScanStore rejects what --store cannot record; it returns a usage error or nil.
func checkScanStore(cmd *cobra.Command, f scanFlags, args []string) error {
	if f.store == "" {
		return nil
	}
	for _, a := range args {
		if a == cloudtrail.Stdin {
			return usageError(cmd, "--store cannot record standard input (-): save it to a file and scan that")
		}
	}
	for _, name := range []string{"period", "statistic", "threshold", "evaluation-periods", "datapoints-to-alarm", "treat-missing-data"} {
		if cmd.Flags().Changed(name) {
			return usageError(cmd, fmt.Sprintf("--store records the rules' own alarms, as 'trailalarm run' would: leave out --%s", name))
		}
	}
	return nil
}

// openScanStore opens the store of --store before the scan, so that a bad path fails at once.
func openScanStore(ctx context.Context, spec string) (store.Store, error) {
	st, err := openStore(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("--store: %w", err)
	}
	return st, nil
}

// recordScan stores what 'trailalarm run' would have stored for the scanned inputs: it reads
// them again through run's pipeline (processed objects, match counts, alarm state, alerts with
// their evidence), then moves the alarms on to until, the end of the backtest. Inputs already
// in the store are skipped. No notifier is configured: nothing is delivered.
func recordScan(ctx context.Context, st store.Store, selected []*rules.Rule, inputs []detect.Input, filter detect.Filter, until time.Time) error {
	ins := make([]source.Input, len(inputs))
	for i, in := range inputs {
		ins[i] = in
	}
	src, err := source.NewList(scanStoreSource, ins)
	if err != nil {
		return fmt.Errorf("--store: %w", err)
	}
	cfg := config.Default()
	cfg.Notifiers, cfg.Routes = nil, nil
	r, err := runner.New(ctx, runner.Options{Config: cfg, Rules: selected, Store: st, Sources: []source.Live{src},
		Filter: filter, Log: slog.New(slog.DiscardHandler)}) // bad input is in the scan's report already
	if err != nil {
		return fmt.Errorf("--store: %w", err)
	}
	if err := r.Replay(ctx, src, until); err != nil {
		return fmt.Errorf("--store: %w", err)
	}
	return nil
}
