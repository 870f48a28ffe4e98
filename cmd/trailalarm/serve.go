package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/trailalarm/trailalarm/internal/config"
	"github.com/trailalarm/trailalarm/internal/server"
	"github.com/trailalarm/trailalarm/internal/store/postgres"
)

// tokenEnv holds the dashboard token of `trailalarm serve`: secrets never go on the command line.
const tokenEnv = "TRAILALARM_TOKEN"

func newServeCmd() *cobra.Command {
	var storePath, listen string
	var packs, ruleFiles []string
	cmd := &cobra.Command{
		Use:   "serve --store FILE",
		Short: "Serve the dashboard and API over a store, read-only",
		Long: `Serve the dashboard and the JSON API (/api/v1/) over a trailalarm store — the SQLite file
of 'trailalarm run', or the PostgreSQL database of its workers (a postgres:// URL, the password
from PGPASSWORD) — without running detection: a read-only view of its alarms, alerts and
deliveries, for instance of a copy of a production store.

The token comes from the environment variable ` + tokenEnv + `; without it the server only
listens on a loopback address. --pack and --rules choose the rules shown (default: the default
selection).`,
		Example: `  TRAILALARM_TOKEN=... trailalarm serve --store trailalarm.db
  trailalarm serve --store archive.db --listen 127.0.0.1:9000 --pack cis-1.2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if storePath == "" {
				return usageError(cmd, "--store FILE is required")
			}
			if _, err := os.Stat(storePath); err != nil && !postgres.IsURL(storePath) {
				return &exitCodeError{code: exitError, err: fmt.Errorf("store %s: %w", storePath, err)}
			}
			selected, err := selectRules(packs, ruleFiles)
			if err != nil {
				return &exitCodeError{code: exitError, err: err}
			}
			st, err := openStore(cmd.Context(), storePath)
			if err != nil {
				return &exitCodeError{code: exitError, err: err}
			}
			defer st.Close()
			cfg := config.Default()
			log := newLogger(cfg.Log, cmd.ErrOrStderr())
			sc := config.Server{Listen: listen, Token: os.Getenv(tokenEnv)}
			h := server.New(server.Options{Store: st, Rules: selected, Token: sc.Token})
			srv, err := serve(sc, h, log)
			if err != nil {
				return &exitCodeError{code: exitError, err: err}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			<-ctx.Done()
			srv.Shutdown(context.Background())
			return nil
		},
	}
	cmd.Flags().StringVar(&storePath, "store", "", "the store: a trailalarm.db `FILE`, or a postgres:// URL (password from PGPASSWORD)")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8089", "`HOST:PORT` to listen on")
	cmd.Flags().StringArrayVar(&packs, "pack", nil, "built-in rule `PACK` to show (repeatable)")
	cmd.Flags().StringArrayVar(&ruleFiles, "rules", nil, "rule `FILE` to show (repeatable)")
	return cmd
}
