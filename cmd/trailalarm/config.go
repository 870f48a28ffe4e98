package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/trailalarm/trailalarm/internal/config"
)

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check trailalarm.yaml, the configuration of 'trailalarm run'",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "validate FILE...",
		Short: "Check configuration files and say what is wrong and where",
		Long: `Check configuration files: YAML syntax, unknown keys, sources, notifiers, routes,
suppressions, durations and ${ENV} references (every referenced variable must be set). Every
problem is printed as FILE:LINE:COLUMN: message. Exit status 0 when every file is valid, 2
otherwise.`,
		Example: `  trailalarm config validate examples/trailalarm.yaml`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := false
			for _, path := range args {
				c, err := config.Load(path)
				if err != nil {
					bad = true
					var errs config.Errors
					if errors.As(err, &errs) {
						fmt.Fprintln(cmd.ErrOrStderr(), errs.Error())
					} else {
						fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", path, err)
					}
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: OK (%d sources, %d notifiers)\n", path, len(c.Sources), len(c.Notifiers))
			}
			if bad {
				return &exitCodeError{code: exitError}
			}
			return nil
		},
	})
	return cmd
}
