package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailalarm/trailalarm/internal/generate"
)

func newGenerateCmd() *cobra.Command {
	var (
		out, size, start, manifest string
		seed                       uint64
		numAccounts                int
		accounts, regions          []string
		perFile, workers           int
		rate                       float64
		force                      bool
	)
	cmd := &cobra.Command{
		Use:   "generate --out DIR [--size SIZE] [flags]",
		Short: "Write synthetic CloudTrail logs, with CIS events injected, for demos, tests and benchmarks",
		Long: `Write realistic synthetic CloudTrail in the layout CloudTrail delivers to S3:

  DIR/AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_XXXXXXXXXXXXXXXX.json.gz

Each file is the gzip of {"Records":[...]}: one account and region, one 5-minute window (the
name carries the window's end), events in time order. The background is everyday traffic of a
few hundred principals per account (IAM users, SSO and federated users, Lambda, EC2 and ECS
roles, CI roles, service-linked roles, AWS services) across EC2, S3, IAM, STS, KMS, Lambda,
CloudWatch, Logs, DynamoDB, SSM and more. None of it matches a CIS metric filter.

Into it go events for every CIS monitoring control (unauthorized calls, sign-in without MFA,
root use, IAM policy, CloudTrail, console failures, KMS, S3 policy, Config, security groups,
NACLs, gateways, route tables, VPCs, Organizations) at --inject-rate per control, account and
day — and at least one of each in the first megabyte — plus as many near-misses (the same APIs
in a harmless shape, such as ConsoleLogin with MFA or root acting through an AWS service).
--manifest lists them, so that a scan can be checked against it.

The same flags and --seed give byte-identical files, whatever the machine. Sizes are bytes of
uncompressed JSON: 500KB, 10MB, 2GB, 1.5GiB (KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024).

Exit status: 0 on success, 2 on bad flags, a non-empty --out (without --force) or a write error.`,
		Example: `  trailalarm generate --out /tmp/ct --size 10MB
  trailalarm generate --out bench/data --size 2GB --seed 42 --regions us-east-1,eu-west-1
  trailalarm generate --out /tmp/ct --size 50MB --account 111122223333 --inject-rate 20 --manifest /tmp/ct.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageError(cmd, "--out is required: the directory to write to")
			}
			o := generate.Options{Seed: seed, Regions: regions, EventsPerFile: perFile, InjectRate: rate, Workers: workers}
			var err error
			if o.Size, err = generate.ParseSize(size); err != nil {
				return usageError(cmd, "--size: "+err.Error())
			}
			if o.Size < generate.MinSize {
				return usageError(cmd, fmt.Sprintf("--size %s is too small: want at least %s", size, generate.FormatSize(generate.MinSize)))
			}
			if o.Start, err = time.Parse(time.RFC3339, start); err != nil {
				return usageError(cmd, fmt.Sprintf("invalid --start %q: want an RFC 3339 time such as 2024-01-01T00:00:00Z", start))
			}
			if cmd.Flags().Changed("account") && cmd.Flags().Changed("accounts") {
				return usageError(cmd, "give --accounts N or --account ID, not both")
			}
			o.Accounts = accounts
			o.NumAccounts = numAccounts
			if numAccounts < 1 {
				return usageError(cmd, fmt.Sprintf("--accounts %d: want at least 1", numAccounts))
			}
			if perFile < 1 {
				return usageError(cmd, fmt.Sprintf("--events-per-file %d: want at least 1", perFile))
			}
			if workers < 0 {
				return usageError(cmd, fmt.Sprintf("--workers %d: want 0 (all cores) or more", workers))
			}
			if rate < 0 {
				return usageError(cmd, fmt.Sprintf("--inject-rate %g: want 0 (none) or more", rate))
			}
			if rate == 0 {
				o.NoInject = true
			}
			if err := checkOutDir(out, force); err != nil {
				return &exitCodeError{code: exitError, err: err}
			}

			began := time.Now()
			sum, err := generate.WriteDir(cmd.Context(), out, o)
			if err != nil {
				return &exitCodeError{code: exitError, err: fmt.Errorf("generate: %w", err)}
			}
			took := time.Since(began)
			if manifest != "" {
				if err := writeManifest(manifest, cmd.OutOrStdout(), o, sum); err != nil {
					return &exitCodeError{code: exitError, err: err}
				}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "generated %d files, %d records, %s (%s gzipped) in %.1fs (%.0f MB/s); injected %d CIS events and %d near-misses; %d accounts, %d regions, %s to %s\n",
				sum.Files, sum.Records, generate.FormatSize(sum.Bytes), generate.FormatSize(sum.Compressed),
				took.Seconds(), float64(sum.Bytes)/1e6/max(took.Seconds(), 1e-3),
				sum.Hits(), len(sum.Injected)-sum.Hits(), len(sum.Accounts), len(sum.Regions),
				sum.First.Format(time.RFC3339), sum.Last.Format(time.RFC3339))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "write the AWSLogs/... tree under `DIR` (required)")
	f.StringVar(&size, "size", "100MB", "uncompressed bytes to write, such as 500KB, 10MB, 2GB")
	f.Uint64Var(&seed, "seed", 1, "random seed: the same seed and flags give the same files")
	f.StringVar(&start, "start", generate.DefaultStart.Format(time.RFC3339), "`TIME` of the first event (RFC 3339; rounded down to 5 minutes)")
	f.IntVar(&numAccounts, "accounts", generate.DefaultAccounts, "number of accounts, with IDs derived from the seed")
	f.StringSliceVar(&accounts, "account", nil, "account `ID`s to use instead (12 digits; repeat or separate with commas)")
	f.StringSliceVar(&regions, "regions", generate.DefaultRegions, "regions, comma-separated; IAM, Organizations and sign-in events go to us-east-1 (or the first)")
	f.IntVar(&perFile, "events-per-file", generate.DefaultEventsPerFile, "mean records per file (each file within ±30%)")
	f.Float64Var(&rate, "inject-rate", generate.DefaultInjectRate, "CIS events per control, account and day (and as many near-misses); 0 for background only")
	f.IntVar(&workers, "workers", 0, "files built at once (default: all cores); the output does not depend on it")
	f.StringVar(&manifest, "manifest", "", "write the injected events as JSON to `FILE` (- for stdout)")
	f.BoolVar(&force, "force", false, "write into --out even if it is not empty")
	return cmd
}

// checkOutDir refuses a non-empty directory unless forced: generated files
// mixed with real logs, or with another corpus, would be hard to tell apart.
func checkOutDir(dir string, force bool) error {
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("--out %s is not a directory", dir)
	}
	if force {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	defer d.Close()
	if names, _ := d.Readdirnames(1); len(names) > 0 {
		return fmt.Errorf("--out %s is not empty: choose a new or empty directory, or add --force to write into it", dir)
	}
	return nil
}

// manifestDoc is the --manifest file: what was generated and which events a
// CIS detector should find.
type manifestDoc struct {
	Seed       uint64              `json:"seed"`
	Start      time.Time           `json:"start"`
	End        time.Time           `json:"end"`
	Accounts   []string            `json:"accounts"`
	Regions    []string            `json:"regions"`
	Files      int                 `json:"files"`
	Records    int64               `json:"records"`
	Bytes      int64               `json:"bytes"`
	Controls   []generate.Control  `json:"controls"`
	Injected   []generate.Injected `json:"injected"`
	Hits       int                 `json:"hits"`
	NearMisses int                 `json:"nearMisses"`
}

func writeManifest(name string, stdout io.Writer, o generate.Options, s *generate.Summary) error {
	doc := manifestDoc{Seed: o.Seed, Start: s.First, End: s.Last, Accounts: s.Accounts, Regions: s.Regions,
		Files: s.Files, Records: s.Records, Bytes: s.Bytes, Controls: generate.Controls, Injected: s.Injected,
		Hits: s.Hits(), NearMisses: len(s.Injected) - s.Hits()}
	if doc.Injected == nil {
		doc.Injected = []generate.Injected{}
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if name == "-" {
		_, err = stdout.Write(data)
		return err
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		return fmt.Errorf("--manifest: %w", err)
	}
	return nil
}
