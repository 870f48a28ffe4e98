package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"github.com/trailalarm/trailalarm/internal/awsconf"
	"github.com/trailalarm/trailalarm/internal/backtest"
	"github.com/trailalarm/trailalarm/internal/detect"
	"github.com/trailalarm/trailalarm/internal/report"
	"github.com/trailalarm/trailalarm/internal/rules"
	"github.com/trailalarm/trailalarm/internal/source"
	"github.com/trailalarm/trailalarm/internal/store"
)

type scanFlags struct {
	packs, ruleFiles  []string
	allow             []string // RULE=PATTERN allow-list entries
	params            []string // NAME=VALUE rule parameters
	since, until      string
	accounts, regions []string
	workers           int
	format, output    string
	strict, exitCode  bool
	maxEvents         int
	endpointURL       string
	s3Region, profile string
	progress          string
	cpuProfile        string
	store             string // record what `run` would store in this store

	// Alarm settings that override every rule's, for a backtest.
	period, evalPeriods, dpToAlarm int
	threshold                      float64
	statistic, treatMissing        string
	noAlarms                       bool
}

func newScanCmd() *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "scan [flags] SOURCE...",
		Short: "Detect risky operations in CloudTrail archives: folders, files, stdin or S3",
		Long: `Scan CloudTrail logs with the rules of the selected packs and report every match with its
evidence: who did what, when, from where, in which account and region.

SOURCE is a file or folder (read recursively; .json or gzip, recognised by content; digest
files are skipped), - for standard input, or s3://BUCKET/PREFIX. Files may hold CloudTrail S3
delivery files ({"Records":[...]}), JSON arrays of records, NDJSON, 'aws logs filter-log-events'
output or CloudWatch Logs exports, or EventBridge envelopes.

For S3, the standard AWS credential chain is used (environment, profiles, SSO, roles); the
CloudTrail key layout AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ lets --since,
--until, --account and --region prune the listing, so only the folders that can hold matching
events are listed and downloaded.

Rules: --pack selects built-in packs ('trailalarm rules list' shows them), --rules adds rule
files; with neither, the default selection (Security Hub CloudWatch.1-14 plus CIS 5.0's
Organizations control) is used.

Bad input never stops a scan: truncated gzip, malformed or incomplete records, records without
eventTime and non-CloudTrail files are counted and listed with file and byte offset, and the scan
goes on. --strict makes them fatal (exit 2).

--store FILE also records what 'trailalarm run' would have stored for these records — alarm
state, alerts with their evidence (delivered nowhere), match counts per minute, the files read —
in a SQLite file or a postgres:// store, to explore with 'trailalarm serve --store FILE'. Files
already in the store are skipped. Its alarms are the rules' own (no --period etc.), evaluated to
just after the last record (or --until); standard input cannot be recorded.

Output: text (the default on a terminal; JSON otherwise), json (one document) or jsonl (one
match per line); see the README for the JSON schema. Exit status: 0, or 1 with --exit-code when
anything matched; 2 on errors.`,
		Example: `  trailalarm scan examples/cloudtrail
  trailalarm scan --pack cis-1.2 --format json --output report.json ./logs
  trailalarm scan --since 2024-05-01 --until 2024-06-01 --region eu-west-1 s3://my-trail-bucket/
  zcat file.json.gz | trailalarm scan --exit-code -
  trailalarm scan --store archive.db ./logs && trailalarm serve --store archive.db`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError(cmd, "give at least one SOURCE: a file, a folder, - or s3://BUCKET/PREFIX")
			}
			return runScan(cmd, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.packs, "pack", nil, "built-in rule `PACK` to use (repeatable)")
	fl.StringArrayVar(&f.ruleFiles, "rules", nil, "rule `FILE` to use (repeatable)")
	fl.StringArrayVar(&f.params, "param", nil, "`NAME=VALUE`: the value of rule parameter NAME, lists comma-separated (repeatable)")
	fl.StringArrayVar(&f.allow, "allow", nil, "`RULE=PATTERN`: records the filter pattern matches do not match rule RULE (an id or a glob such as threat:*; repeatable)")
	fl.StringVar(&f.since, "since", "", "only events at or after `TIME` (RFC 3339, YYYY-MM-DD, or a duration before now such as 24h or 7d)")
	fl.StringVar(&f.until, "until", "", "only events before `TIME` (same forms as --since)")
	fl.StringArrayVar(&f.accounts, "account", nil, "only events of account `ID` (repeatable)")
	fl.StringArrayVar(&f.regions, "region", nil, "only events of AWS region `NAME` (repeatable)")
	fl.IntVar(&f.workers, "workers", 0, "files read in parallel (default: one per core; more for S3)")
	fl.StringVar(&f.format, "format", "", "output `FORMAT`: text, json or jsonl (default: text on a terminal, json otherwise)")
	fl.StringVarP(&f.output, "output", "o", "", "write the report to `FILE` instead of stdout")
	fl.BoolVar(&f.strict, "strict", false, "stop at the first bad input (exit 2)")
	fl.BoolVar(&f.exitCode, "exit-code", false, "exit 1 when anything matched (for CI)")
	fl.IntVar(&f.maxEvents, "max-events", 100, "events listed per rule in the text report (0: all)")
	fl.StringVar(&f.endpointURL, "endpoint-url", "", "S3 endpoint `URL`, for S3-compatible stores and emulators")
	fl.StringVar(&f.s3Region, "s3-region", "", "AWS region of the S3 bucket (default: from the profile or AWS_REGION)")
	fl.StringVar(&f.profile, "profile", "", "AWS `PROFILE` to use for S3")
	fl.StringVar(&f.progress, "progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always or never")
	fl.IntVar(&f.period, "period", 0, "backtest every alarm with this period, in `SECONDS`")
	fl.StringVar(&f.statistic, "statistic", "", "backtest every alarm with this `STATISTIC` (Sum, Average, SampleCount, Minimum, Maximum, pNN)")
	fl.Float64Var(&f.threshold, "threshold", 0, "backtest every alarm with this `THRESHOLD`")
	fl.IntVar(&f.evalPeriods, "evaluation-periods", 0, "backtest every alarm with this EvaluationPeriods (`N`)")
	fl.IntVar(&f.dpToAlarm, "datapoints-to-alarm", 0, "backtest every alarm with this DatapointsToAlarm (`M` of N)")
	fl.StringVar(&f.treatMissing, "treat-missing-data", "", "backtest every alarm with this `TREATMENT`: missing, notBreaching, breaching or ignore")
	fl.BoolVar(&f.noAlarms, "no-alarms", false, "report matches only, without the alarm backtest")
	fl.StringVar(&f.store, "store", "", "also record the alarms, alerts with evidence and match counts in this store (a SQLite `FILE` or a postgres:// URL), for 'trailalarm serve'")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile to `FILE` (for performance reports)")
	fl.MarkHidden("cpuprofile")
	return cmd
}

func runScan(cmd *cobra.Command, f scanFlags, args []string) error {
	fail := func(err error) error { return &exitCodeError{code: exitError, err: err} }
	now := time.Now().UTC()
	since, err := parseTimeFlag("--since", f.since, now)
	if err != nil {
		return usageError(cmd, err.Error())
	}
	until, err := parseTimeFlag("--until", f.until, now)
	if err != nil {
		return usageError(cmd, err.Error())
	}
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		return usageError(cmd, "--since must be before --until")
	}
	for _, a := range f.accounts {
		if len(a) != 12 || strings.Trim(a, "0123456789") != "" {
			return usageError(cmd, fmt.Sprintf("--account %q is not a 12-digit AWS account id", a))
		}
	}
	if f.workers < 0 {
		return usageError(cmd, "--workers must be positive")
	}
	if f.maxEvents < 0 {
		return usageError(cmd, "--max-events must be 0 or more")
	}
	switch f.progress {
	case "auto", "always", "never":
	default:
		return usageError(cmd, fmt.Sprintf("--progress %q: use auto, always or never", f.progress))
	}
	format := report.Text
	if f.format != "" {
		if format, err = report.ParseFormat(f.format); err != nil {
			return usageError(cmd, err.Error())
		}
	} else if f.output != "" || !isTerminal(cmd.OutOrStdout()) {
		format = report.JSON
	}

	if err := checkScanStore(cmd, f, args); err != nil {
		return err
	}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return fail(fmt.Errorf("--cpuprofile: %w", err))
		}
		defer pf.Close()
		pprof.StartCPUProfile(pf)
		defer pprof.StopCPUProfile()
	}
	selected, err := selectRules(f.packs, f.ruleFiles)
	if err != nil {
		return fail(err)
	}
	for _, v := range f.allow {
		id, a, err := rules.ParseAllowFlag(v)
		if err != nil {
			return usageError(cmd, err.Error())
		}
		if err := rules.AddAllow(selected, id, a); err != nil {
			return usageError(cmd, "--allow: "+err.Error())
		}
	}
	params, err := rules.ParseParamFlags(f.params)
	if err != nil {
		return usageError(cmd, err.Error())
	}
	if selected, err = bindParams(cmd.ErrOrStderr(), selected, params, "--param"); err != nil {
		return fail(err)
	}
	var bt *backtest.Backtest
	if !f.noAlarms {
		o := backtest.Overrides{Period: f.period, Statistic: f.statistic, EvaluationPeriods: f.evalPeriods,
			DatapointsToAlarm: f.dpToAlarm, TreatMissingData: f.treatMissing}
		if cmd.Flags().Changed("threshold") {
			o.Threshold = &f.threshold
		}
		if bt, err = backtest.New(selected, o); err != nil {
			return usageError(cmd, err.Error())
		}
	}

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	defer stop()

	filter := detect.Filter{Since: since, Until: until, Accounts: set(f.accounts), Regions: set(f.regions)}
	inputs, hasS3, err := scanInputs(ctx, f, args, filter, cmd.InOrStdin())
	if err != nil {
		return fail(err)
	}
	var st store.Store
	if f.store != "" {
		if st, err = openScanStore(ctx, f.store); err != nil {
			return fail(err)
		}
		defer st.Close()
	}
	workers := f.workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
		if hasS3 {
			workers = max(16, 4*workers) // downloads wait on the network, not the CPU
		}
	}

	out := cmd.OutOrStdout()
	var outFile *os.File
	if f.output != "" {
		outFile, err = os.CreateTemp(filepath.Dir(f.output), ".trailalarm-report-*")
		if err != nil {
			return fail(fmt.Errorf("--output: %w", err))
		}
		defer os.Remove(outFile.Name())
		defer outFile.Close()
		out = outFile
	}
	start := time.Now()
	rep, err := report.New(selected, out, report.Options{Format: format, MaxEvents: f.maxEvents, Elapsed: func() time.Duration { return time.Since(start) }})
	if err != nil {
		return fail(err)
	}

	progress := &detect.Progress{}
	showProgress := f.progress == "always" || f.progress == "auto" && isTerminal(cmd.ErrOrStderr())
	var bar *progressBar
	if showProgress {
		bar = startProgress(cmd.ErrOrStderr(), inputs, progress)
	}
	engine := detect.ForRules(selected)
	lastMinute := int64(-1) // of the records read, for the store's alarms
	err = engine.Scan(ctx, inputs, detect.Options{Workers: workers, Strict: f.strict, Filter: filter}, progress, func(res *detect.FileResult) error {
		for _, m := range res.Minutes {
			lastMinute = max(lastMinute, m)
		}
		if bt != nil {
			bt.Add(res)
		}
		return rep.Add(res)
	})
	if bar != nil {
		bar.stop()
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fail(errors.New("interrupted"))
		}
		return fail(awsconf.Explain(err))
	}
	if st != nil {
		// The store's alarms are evaluated as the backtest's: to just after the last record,
		// or to --until.
		end := until
		if end.IsZero() && lastMinute >= 0 {
			end = time.Unix((lastMinute+1)*60, 0).UTC()
		}
		if err := recordScan(ctx, st, selected, inputs, filter, end); err != nil {
			if errors.Is(err, context.Canceled) {
				return fail(errors.New("interrupted"))
			}
			return fail(awsconf.Explain(err))
		}
	}
	if bt != nil {
		// Evaluate from the first record (or --since) to just after the last (or --until).
		btFrom, btUntil, seen := bt.Range()
		if !since.IsZero() {
			btFrom = since
		}
		if !until.IsZero() {
			btUntil = until
		}
		if seen || (!since.IsZero() && !until.IsZero()) {
			rep.SetBacktest(bt.Run(btFrom, btUntil), btFrom, btUntil)
		}
	}
	if err := rep.Finish(); err != nil {
		return fail(err)
	}
	if outFile != nil {
		if err := outFile.Close(); err != nil {
			return fail(fmt.Errorf("--output: %w", err))
		}
		if err := os.Rename(outFile.Name(), f.output); err != nil {
			return fail(fmt.Errorf("--output: %w", err))
		}
	}
	if f.exitCode && rep.Matches() > 0 {
		return &exitCodeError{code: exitFound}
	}
	return nil
}

// selectRules loads the named packs and rule files, or the default selection.
func selectRules(packs, files []string) ([]*rules.Rule, error) {
	if len(packs) == 0 && len(files) == 0 {
		return rules.DefaultSelection(), nil
	}
	return rules.Select(packs, files)
}

// scanInputs turns the SOURCE arguments into inputs, listing folders and S3 prefixes.
func scanInputs(ctx context.Context, f scanFlags, args []string, filter detect.Filter, stdin io.Reader) ([]detect.Input, bool, error) {
	var inputs []detect.Input
	var local []string
	hasS3 := false
	var client *s3.Client
	for _, a := range args {
		if !strings.HasPrefix(a, "s3://") {
			local = append(local, a)
			continue
		}
		hasS3 = true
		loc, err := source.ParseS3URL(a)
		if err != nil {
			return nil, false, err
		}
		if client == nil {
			cfg, err := awsconf.Load(ctx, awsconf.Options{Region: f.s3Region, Profile: f.profile, EndpointURL: f.endpointURL})
			if err != nil {
				return nil, false, awsconf.Explain(err)
			}
			client = s3.NewFromConfig(cfg, func(o *s3.Options) {
				o.UsePathStyle = f.endpointURL != ""
				o.DisableLogOutputChecksumValidationSkipped = true
			})
		}
		sf := source.S3Filter{Since: filter.Since, Until: filter.Until, Accounts: filter.Accounts, Regions: filter.Regions}
		if !sf.Since.IsZero() && sf.Until.IsZero() {
			sf.Until = time.Now().UTC() // a day-by-day listing needs an end
		}
		objs, _, err := source.ListS3(ctx, client, loc, sf)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", a, awsconf.Explain(err))
		}
		for _, o := range objs {
			inputs = append(inputs, o)
		}
	}
	files, err := source.Files(local, stdin)
	if err != nil {
		return nil, false, err
	}
	for _, fl := range files {
		inputs = append(inputs, fl)
	}
	return inputs, hasS3, nil
}

// parseTimeFlag reads RFC 3339, a date, or a duration before now (24h, 7d, 90m).
func parseTimeFlag(name, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if strings.HasSuffix(s, "d") {
		var days int
		if _, err := fmt.Sscanf(s, "%dd", &days); err == nil && days >= 0 && fmt.Sprintf("%dd", days) == s {
			return now.AddDate(0, 0, -days), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%s %q: use RFC 3339 (2024-05-01T00:00:00Z), a date (2024-05-01) or a duration before now (24h, 7d)", name, s)
}

func set(values []string) map[string]bool {
	if len(values) == 0 {
		return nil
	}
	m := map[string]bool{}
	for _, v := range values {
		m[v] = true
	}
	return m
}

// isTerminal reports whether w is a character device (a terminal), without a dependency.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// bindParams gives the rules' parameters their values (rules.Bind), reporting on stderr, one
// line each, the rules skipped for a parameter without a value and the values no rule uses. It
// is an error when every rule is skipped, or a value has the wrong type.
func bindParams(stderr io.Writer, rs []*rules.Rule, values map[string]string, origin string) ([]*rules.Rule, error) {
	bound, skipped, unused, err := rules.Bind(rs, values)
	if err != nil {
		return nil, err
	}
	for _, s := range skipped {
		fmt.Fprintf(stderr, "trailalarm: %s\n", s)
	}
	for _, n := range unused {
		fmt.Fprintf(stderr, "trailalarm: %s %s: none of the selected rules has this parameter\n", origin, n)
	}
	if len(bound) == 0 && len(skipped) > 0 {
		return nil, fmt.Errorf("no rule left to evaluate: every selected rule needs a parameter value (see above)")
	}
	return bound, nil
}
