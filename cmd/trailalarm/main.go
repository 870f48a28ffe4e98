// Command trailalarm detects unauthorized and risky operations in AWS accounts from CloudTrail.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes, documented in the README: 0 success, 1 "found something" for commands that are
// asked to say so (scan --exit-code), 2 for bad usage, bad input and failures.
const (
	exitOK    = 0
	exitFound = 1
	exitError = 2
)

// exitCodeError carries an exit code through cobra's error return.
type exitCodeError struct {
	code int
	err  error // nil: exit quietly with code
}

func (e *exitCodeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitCodeError) Unwrap() error { return e.err }

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the command line and returns the exit code; tests call it directly.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdin, stdout, stderr)
}

// runContext is run with a context whose end stops long-running commands as SIGTERM does.
func runContext(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ec *exitCodeError
	if errors.As(err, &ec) {
		if ec.err != nil {
			fmt.Fprintln(stderr, "trailalarm:", ec.err)
		}
		return ec.code
	}
	fmt.Fprintln(stderr, "trailalarm:", err)
	return exitError
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "trailalarm",
		Short: "Detect unauthorized and risky operations in AWS accounts from CloudTrail",
		Long: `trailalarm detects unauthorized and risky operations in AWS accounts from CloudTrail:
root account use, console sign-in without MFA, IAM policy changes, CloudTrail being stopped,
security groups opened, KMS keys scheduled for deletion — the CIS AWS Foundations monitoring
controls and more. It evaluates CloudWatch Logs filter patterns with AWS's exact semantics.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitCodeError{code: exitError, err: fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	root.AddCommand(newVersionCmd(), newTestMetricFilterCmd(), newScanCmd(), newRulesCmd(), newGenerateCmd(), newAlarmCmd(), newConfigCmd(), newRunCmd(), newServeCmd())
	root.AddCommand(newPlanCmd(), newApplyCmd(), newExportCmd())
	root.AddCommand(newAuditCmd())
	return root
}
