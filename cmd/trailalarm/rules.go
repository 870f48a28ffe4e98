package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/trailalarm/trailalarm/internal/rules"
)

func newRulesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules (list | packs | show | validate | coverage)",
		Short: "List, show and validate detection rules and the built-in packs",
		Long: `Detection rules are CloudWatch Logs filter patterns with the metric filter and alarm that go
with them, written in YAML (see the README, "Rules and packs"). trailalarm has built-in packs:

  cis-1.2 cis-1.3 cis-1.4 cis-1.5 cis-2.0 cis-3.0 cis-4.0 cis-5.0 cis-6.0 cis-7.0
            the monitoring controls of each CIS AWS Foundations Benchmark version, with that
            version's patterns verbatim (quirks included; 'rules show' prints known problems)
  securityhub
            Security Hub's CloudWatch.1–14, with the exact patterns Security Hub requires
  threat    attacker behaviour beyond CIS (credential theft, persistence, defense evasion,
            exfiltration, impact): every Stratus Red Team AWS technique; 'rules coverage'
  runbook   the runbook alarms every team adapts, with parameters (--param on scan):
            console sign-in outside home_cidrs, API calls outside allowed_regions,
            break-glass role use by others
  default   what is used when no pack is named: securityhub plus cis-5.0:4.15 (AWS
            Organizations changes)

Your own rules live in rule files; 'trailalarm rules validate' checks them.`,
		Example: `  trailalarm rules packs
  trailalarm rules list --pack cis-5.0
  trailalarm rules show cis-1.4:4.1
  trailalarm rules validate my-rules.yaml
  trailalarm rules coverage --pack threat`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError(cmd, fmt.Sprintf("unknown command %q: use list, packs, show, validate or coverage", args[0]))
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(newRulesListCmd(), newRulesPacksCmd(), newRulesShowCmd(), newRulesValidateCmd(), newRulesCoverageCmd())
	return cmd
}

// checkFormat accepts the values of --format.
func checkFormat(cmd *cobra.Command, format string) error {
	if format != "text" && format != "json" {
		return usageError(cmd, fmt.Sprintf("--format %q: use text or json", format))
	}
	return nil
}

func newRulesListCmd() *cobra.Command {
	var (
		packs, files []string
		format       string
	)
	cmd := &cobra.Command{
		Use:   "list [--pack PACK]... [--rules FILE]... [--format text|json]",
		Short: "List rules: id, severity and title",
		Long: `List the rules of the named packs and rule files, one per line: id, severity, title. Without
--pack or --rules it lists every built-in rule of every pack; --pack default lists the rules
used when no pack is named.

--format json prints every field of every rule (as 'rules show' does), for programs.`,
		Example: `  trailalarm rules list                       # every built-in rule
  trailalarm rules list --pack default        # what scan uses without --pack
  trailalarm rules list --pack cis-1.2 --pack securityhub
  trailalarm rules list --rules my-rules.yaml --format json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError(cmd, fmt.Sprintf("unexpected argument %q (name packs with --pack)", args[0]))
			}
			if err := checkFormat(cmd, format); err != nil {
				return err
			}
			rs, err := rulesOrAllBuiltin(packs, files)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(cmd.OutOrStdout(), rulesJSON(rs))
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSEVERITY\tTITLE")
			for _, r := range rs {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Severity, r.Title)
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&packs, "pack", nil, "list the rules of `PACK` (repeatable; see 'trailalarm rules packs')")
	f.StringArrayVar(&files, "rules", nil, "list the rules of the rule file `FILE` (repeatable)")
	f.StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

func newRulesPacksCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "packs [--format text|json]",
		Short: "List the built-in rule packs",
		Long:  `List the built-in packs: name, number of rules, description.`,
		Example: `  trailalarm rules packs
  trailalarm rules packs --format json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError(cmd, fmt.Sprintf("unexpected argument %q", args[0]))
			}
			if err := checkFormat(cmd, format); err != nil {
				return err
			}
			packs := rules.Packs()
			if format == "json" {
				type packJSON struct {
					Name        string `json:"name"`
					Rules       int    `json:"rules"`
					Description string `json:"description"`
				}
				out := []packJSON{}
				for _, p := range packs {
					out = append(out, packJSON{p.Name, p.Rules, p.Description})
				}
				return writeJSON(cmd.OutOrStdout(), out)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "PACK\tRULES\tDESCRIPTION")
			for _, p := range packs {
				fmt.Fprintf(tw, "%s\t%d\t%s\n", p.Name, p.Rules, p.Description)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

func newRulesShowCmd() *cobra.Command {
	var (
		files  []string
		format string
	)
	cmd := &cobra.Command{
		Use:   "show ID [--rules FILE]... [--format text|json]",
		Short: "Show everything about one rule",
		Long: `Show one rule: its pattern, metric filter, alarm, references, remediation and notes (known
problems with the pattern, such as the CIS v1.3–v1.5 unauthorized-API-calls pattern that
matches nearly every event). ID is a built-in rule's id, such as cis-5.0:4.3 or
securityhub:CloudWatch.1, or the id of a rule in one of the --rules files.`,
		Example: `  trailalarm rules show securityhub:CloudWatch.1
  trailalarm rules show cis-1.3:4.1
  trailalarm rules show acme:root-login --rules my-rules.yaml --format json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError(cmd, "give exactly one rule id")
			}
			if err := checkFormat(cmd, format); err != nil {
				return err
			}
			candidates := rules.AllBuiltin()
			if len(files) > 0 {
				fromFiles, err := rules.Select(nil, files)
				if err != nil {
					return &exitCodeError{code: exitError, err: err}
				}
				candidates = append(fromFiles, candidates...)
			}
			id := args[0]
			i := slices.IndexFunc(candidates, func(r *rules.Rule) bool { return r.ID == id })
			if i < 0 {
				return &exitCodeError{code: exitError, err: unknownRuleError(id, candidates)}
			}
			r := candidates[i]
			if format == "json" {
				return writeJSON(cmd.OutOrStdout(), toRuleJSON(r))
			}
			return writeRuleText(cmd.OutOrStdout(), r)
		},
	}
	cmd.Flags().StringArrayVar(&files, "rules", nil, "also look in the rule file `FILE` (repeatable)")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

// unknownRuleError suggests the ids that end like the one given ("CloudWatch.1", "4.3").
func unknownRuleError(id string, candidates []*rules.Rule) error {
	var near []string
	for _, r := range candidates {
		if strings.EqualFold(r.ID, id) || strings.HasSuffix(strings.ToLower(r.ID), ":"+strings.ToLower(id)) {
			near = append(near, r.ID)
		}
	}
	msg := fmt.Sprintf("unknown rule id %q", id)
	switch {
	case len(near) > 0 && len(near) <= 12:
		msg += "; did you mean " + strings.Join(near, ", ") + "?"
	case len(near) > 12:
		msg += fmt.Sprintf("; %d rules end with %q, e.g. %s", len(near), ":"+id, strings.Join(near[:3], ", "))
	default:
		msg += " ('trailalarm rules list' lists the ids; ids of rule files need --rules FILE)"
	}
	return errors.New(msg)
}

func newRulesValidateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check rule files",
		Long: `Check rule files: YAML syntax, unknown or misspelt keys, required fields (id, title, pattern),
the filter pattern (as CloudWatch Logs would check it), the metric (name and namespace, value
and dimensions valid for the pattern, at most 3 dimensions, no defaultValue with dimensions,
unit), the alarm settings, references, and ids unique across all the files given.

Prints "FILE: OK (N rules)" for each good file. Every problem goes to stderr as
FILE:LINE:COLUMN: message. Exit status 0 when every file is valid, 2 otherwise.`,
		Example: `  trailalarm rules validate my-rules.yaml
  trailalarm rules validate rules/*.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError(cmd, "give at least one rule file to validate")
			}
			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			failed := false
			var good []string
			for _, file := range args {
				rs, err := rules.LoadFile(file)
				var es rules.Errors
				switch {
				case errors.As(err, &es):
					failed = true
					fmt.Fprintln(errOut, es.Error())
				case err != nil:
					failed = true
					fmt.Fprintf(errOut, "%s: %s\n", file, readErrorText(err))
				default:
					good = append(good, file)
					fmt.Fprintf(out, "%s: OK (%d %s)\n", file, len(rs), plural(len(rs), "rule", "rules"))
				}
			}
			// Ids must also be unique across the files, as they will be used together.
			if len(good) > 1 {
				if _, err := rules.Select(nil, good); err != nil {
					failed = true
					fmt.Fprintln(errOut, err)
				}
			}
			if failed {
				return &exitCodeError{code: exitError}
			}
			return nil
		},
	}
	return cmd
}

// readErrorText words a file that cannot be read without repeating its name.
func readErrorText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return "cannot read the file: " + pe.Err.Error()
	}
	return err.Error()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// The JSON form of a rule, with the YAML's field names.
type ruleJSON struct {
	ID          string         `json:"id"`
	Pack        string         `json:"pack,omitempty"`
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	Severity    rules.Severity `json:"severity"`
	Pattern     string         `json:"pattern"`
	PatternKind string         `json:"patternKind"`
	Metric      metricJSON     `json:"metric"`
	Alarm       alarmJSON      `json:"alarm"`
	References  referencesJSON `json:"references"`
	Remediation string         `json:"remediation,omitempty"`
	Notes       string         `json:"notes,omitempty"`
	FalsePos    string         `json:"falsePositives,omitempty"`
	AllowFields []string       `json:"allowFields,omitempty"`
	Allow       []allowJSON    `json:"allow,omitempty"`
	File        string         `json:"file"`
	Line        int            `json:"line"`
}

type metricJSON struct {
	Name         string            `json:"name"`
	Namespace    string            `json:"namespace"`
	Value        string            `json:"value"`
	DefaultValue *float64          `json:"defaultValue,omitempty"`
	Dimensions   map[string]string `json:"dimensions,omitempty"`
	Unit         string            `json:"unit"`
}

type alarmJSON struct {
	Period             int     `json:"period"`
	Statistic          string  `json:"statistic"`
	Threshold          float64 `json:"threshold"`
	ComparisonOperator string  `json:"comparisonOperator"`
	EvaluationPeriods  int     `json:"evaluationPeriods"`
	DatapointsToAlarm  int     `json:"datapointsToAlarm"`
	TreatMissingData   string  `json:"treatMissingData"`
}

type referencesJSON struct {
	CIS         []string `json:"cis"`
	SecurityHub []string `json:"securityHub"`
	MITRE       []string `json:"mitre"`
	Stratus     []string `json:"stratus,omitempty"`
	URLs        []string `json:"urls"`
}

type allowJSON struct {
	Field   string   `json:"field,omitempty"`
	Values  []string `json:"values,omitempty"`
	Pattern string   `json:"pattern,omitempty"`
}

func toRuleJSON(r *rules.Rule) ruleJSON {
	m := r.Metric
	var dims map[string]string
	if len(m.Dimensions) > 0 {
		dims = map[string]string{}
		for _, d := range m.Dimensions {
			dims[d.Name] = d.Value
		}
	}
	a := r.Alarm
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	return ruleJSON{
		ID: r.ID, Pack: r.Pack, Title: r.Title, Description: r.Description, Severity: r.Severity,
		Pattern: r.Pattern, PatternKind: r.Compiled.Kind().String(),
		Metric: metricJSON{Name: m.Name, Namespace: m.Namespace, Value: m.Value, DefaultValue: m.DefaultValue, Dimensions: dims, Unit: m.Unit},
		Alarm: alarmJSON{Period: a.Period, Statistic: a.Statistic, Threshold: a.Threshold, ComparisonOperator: a.ComparisonOperator,
			EvaluationPeriods: a.EvaluationPeriods, DatapointsToAlarm: a.DatapointsToAlarm, TreatMissingData: a.TreatMissingData},
		References: referencesJSON{CIS: nonNil(r.References.CIS), SecurityHub: nonNil(r.References.SecurityHub),
			MITRE: nonNil(r.References.MITRE), Stratus: r.References.Stratus, URLs: nonNil(r.References.URLs)},
		Remediation: r.Remediation, Notes: r.Notes, FalsePos: r.FalsePositives, AllowFields: r.AllowFields,
		Allow: allowsJSON(r.Allow), File: r.File, Line: r.Line,
	}
}

func allowsJSON(as []rules.Allow) []allowJSON {
	var out []allowJSON
	for _, a := range as {
		out = append(out, allowJSON{Field: a.Field, Values: a.Values, Pattern: a.Pattern})
	}
	return out
}

func rulesJSON(rs []*rules.Rule) []ruleJSON {
	out := make([]ruleJSON, 0, len(rs))
	for _, r := range rs {
		out = append(out, toRuleJSON(r))
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // patterns are full of && and <, >
	return enc.Encode(v)
}

var comparisonSymbols = map[string]string{
	"GreaterThanOrEqualToThreshold": ">=",
	"GreaterThanThreshold":          ">",
	"LessThanThreshold":             "<",
	"LessThanOrEqualToThreshold":    "<=",
}

// writeRuleText prints a rule for people: a header, the settings as label/value lines, then the
// texts as indented paragraphs.
func writeRuleText(w io.Writer, r *rules.Rule) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s — %s\n\n", r.ID, r.Title)
	line := func(label, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%-14s%s\n", label, value)
		}
	}
	line("severity", r.Severity.String())
	pack := r.Pack
	if pack == "" {
		pack = "(none)"
	}
	line("pack", pack)
	line("defined at", fmt.Sprintf("%s:%d", r.File, r.Line))
	line("pattern", r.Pattern)
	line("pattern kind", r.Compiled.Kind().String())
	for i, p := range r.Params {
		label := ""
		if i == 0 {
			label = "parameters"
		}
		def := "no default: give it with --param"
		if p.HasDefault {
			def = "default " + p.Default
		}
		fmt.Fprintf(&b, "%-14s%s (%s, %s): %s\n", label, p.Name, p.Type, def, p.Description)
	}
	m := r.Metric
	line("metric", fmt.Sprintf("%s/%s, value %s, unit %s", m.Namespace, m.Name, m.Value, m.Unit))
	if m.DefaultValue != nil {
		line("default value", fmt.Sprint(*m.DefaultValue))
	}
	for i, d := range m.Dimensions {
		label := ""
		if i == 0 {
			label = "dimensions"
		}
		fmt.Fprintf(&b, "%-14s%s = %s\n", label, d.Name, d.Value)
	}
	a := r.Alarm
	op := comparisonSymbols[a.ComparisonOperator]
	line("alarm", fmt.Sprintf("%s over %d s %s %v, %d of %d periods, missing data %s",
		a.Statistic, a.Period, op, a.Threshold, a.DatapointsToAlarm, a.EvaluationPeriods, a.TreatMissingData))
	refs := r.References
	line("CIS", strings.Join(refs.CIS, ", "))
	line("Security Hub", strings.Join(refs.SecurityHub, ", "))
	line("MITRE ATT&CK", strings.Join(refs.MITRE, ", "))
	line("Stratus", strings.Join(refs.Stratus, ", "))
	line("allow-list on", strings.Join(r.AllowFields, ", "))
	for i, a := range r.Allow {
		label := ""
		if i == 0 {
			label = "allowed"
		}
		fmt.Fprintf(&b, "%-14s%s\n", label, a)
	}
	for i, u := range refs.URLs {
		label := ""
		if i == 0 {
			label = "see"
		}
		line(label, u)
	}
	section := func(title, text string) {
		text = strings.TrimSpace(text)
		if text == "" {
			return
		}
		fmt.Fprintf(&b, "\n%s\n", title)
		for _, l := range strings.Split(text, "\n") {
			if l == "" {
				b.WriteString("\n")
				continue
			}
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	section("Description", r.Description)
	section("False positives", r.FalsePositives)
	section("Remediation", r.Remediation)
	section("Notes", r.Notes)
	_, err := io.WriteString(w, b.String())
	return err
}

func newRulesCoverageCmd() *cobra.Command {
	var (
		packs, files []string
		format       string
	)
	cmd := &cobra.Command{
		Use:   "coverage [--pack PACK]... [--rules FILE]... [--format text|json]",
		Short: "Which MITRE ATT&CK and Stratus Red Team techniques the rules cover",
		Long: `Print, for the rules of the named packs and rule files (every built-in rule without --pack or
--rules), the MITRE ATT&CK techniques and the Stratus Red Team AWS techniques their references
name, with the rules that cover each, and the Stratus AWS techniques that no rule covers.

A rule covers a Stratus technique when its references.stratus names it; the threat pack's tests
run every such rule over that technique's detonation log and check that it fires.`,
		Example: `  trailalarm rules coverage --pack threat
  trailalarm rules coverage --pack default --format json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError(cmd, fmt.Sprintf("unexpected argument %q (name packs with --pack)", args[0]))
			}
			if err := checkFormat(cmd, format); err != nil {
				return err
			}
			rs, err := rulesOrAllBuiltin(packs, files)
			if err != nil {
				return err
			}
			c := rules.CoverageOf(rs)
			if format == "json" {
				return writeJSON(cmd.OutOrStdout(), c)
			}
			return writeCoverageText(cmd.OutOrStdout(), c)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&packs, "pack", nil, "the rules of `PACK` (repeatable; see 'trailalarm rules packs')")
	f.StringArrayVar(&files, "rules", nil, "the rules of the rule file `FILE` (repeatable)")
	f.StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

func writeCoverageText(w io.Writer, c rules.Coverage) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%d rules: %d MITRE ATT&CK techniques, %d of %d Stratus Red Team AWS techniques\n\n",
		c.Rules, len(c.MITRE), c.StratusTotal-len(c.StratusMissing), c.StratusTotal)
	fmt.Fprintln(tw, "MITRE ATT&CK\tRULES")
	for _, k := range rules.SortedKeys(c.MITRE) {
		fmt.Fprintf(tw, "%s\t%s\n", k, strings.Join(c.MITRE[k], " "))
	}
	fmt.Fprintln(tw, "\nSTRATUS TECHNIQUE\tRULES")
	for _, k := range rules.SortedKeys(c.Stratus) {
		fmt.Fprintf(tw, "%s\t%s\n", k, strings.Join(c.Stratus[k], " "))
	}
	for _, k := range c.StratusMissing {
		fmt.Fprintf(tw, "%s\t(not covered)\n", k)
	}
	return tw.Flush()
}

// rulesOrAllBuiltin is the rules of the named packs and files, or every built-in rule when
// none is named (what 'rules list' and 'rules coverage' show by default).
func rulesOrAllBuiltin(packs, files []string) ([]*rules.Rule, error) {
	if len(packs) == 0 && len(files) == 0 {
		return rules.AllBuiltin(), nil
	}
	rs, err := rules.Select(packs, files)
	if err != nil {
		return nil, &exitCodeError{code: exitError, err: err}
	}
	return rs, nil
}
