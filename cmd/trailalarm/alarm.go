package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailalarm/trailalarm/internal/alarm"
	"github.com/trailalarm/trailalarm/internal/backtest"
	"github.com/trailalarm/trailalarm/internal/rules"
)

func newAlarmCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alarm simulate",
		Short: "Work with CloudWatch alarms offline: simulate an alarm over a series of datapoints",
		Long: `trailalarm evaluates CloudWatch metric alarms with CloudWatch's semantics: evaluated at every
minute boundary, the statistic over each period, M of N over the evaluation range, missing
data treated as TreatMissingData says. 'alarm simulate' shows what an alarm does with a series
of values you give it.`,
		Example: `  trailalarm alarm simulate --rule cis-1.2:3.3 --data samples.csv`,
		Args:    cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError(cmd, fmt.Sprintf("unknown command %q: use simulate", args[0]))
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(newAlarmSimulateCmd())
	return cmd
}

// simulateOptions are the flags of 'alarm simulate'.
type simulateOptions struct {
	alarmsFile, alarmName string
	ruleID                string
	ruleFiles             []string

	period                          int
	statistic                       string
	threshold                       float64
	comparison                      string
	evaluationPeriods, datapointsTo int
	treatMissing                    string

	data         string
	defaultValue float64
	from, until  string
	format       string
}

func newAlarmSimulateCmd() *cobra.Command {
	var o simulateOptions
	cmd := &cobra.Command{
		Use:   "simulate (--alarms FILE [--alarm-name NAME] | --rule ID [--rules FILE] | --period ... ) --data FILE",
		Short: "Show the state changes of a CloudWatch alarm over a series of values",
		Long: `Evaluate a CloudWatch metric alarm over a series of values, offline, exactly as CloudWatch
would, and print its state changes: when, from which state to which, and CloudWatch's reason.

The alarm comes from one of:
  --alarms FILE     the JSON output of 'aws cloudwatch describe-alarms' (or a JSON array of
                    its MetricAlarms entries); --alarm-name picks one when it holds several
  --rule ID         the alarm of a rule: a built-in one (see 'trailalarm rules list'), or one
                    of the rule files given with --rules; the rule's defaultValue is used too
  the flags below   --period, --statistic, --threshold, --comparison-operator,
                    --evaluation-periods, --datapoints-to-alarm, --treat-missing-data; they
                    override the alarm of --alarms or --rule, or, without either, are the
                    whole alarm (--period, --statistic, --threshold, --comparison-operator and
                    --evaluation-periods are then required)

The values (--data FILE, or - for standard input) are what a metric filter publishes: one per
matching log event, placed at the start of its minute, and aggregated by the alarm's statistic
over each period. One per line, either CSV or JSON lines:

  2026-01-01T00:02:10Z,1
  {"t": "2026-01-01T00:02:10Z", "value": 1, "id": "evt-1"}

Times are RFC 3339 or Unix seconds. An empty value (or "value": null) is a log event that
matched nothing: it publishes --default-value (the metric filter's defaultValue) for its minute
if that is set, and nothing otherwise. A third CSV column, or "id", names the event; the
evidence of a transition lists these (by default FILE:LINE). Blank lines and lines starting
with # are skipped, and so is a first line "time,value".

The alarm is evaluated at every evaluation time (minute boundary) T with FROM < T <= UNTIL,
starting from INSUFFICIENT_DATA as a new alarm does. FROM defaults to the minute of the first
value, UNTIL to the first evaluation after the last value has left the evaluation range.

--format json prints one JSON document for programs: the settings, the range and every
transition with its datapoints (newest first) and evidence.

Exit status: 0 when the simulation ran (whatever the alarm did); 2 for invalid settings, a bad
data line (its line number says which), or a file that cannot be read.`,
		Example: `  # The CIS root-account alarm over a few events
  printf '2026-01-01T00:02:10Z,1\n' | trailalarm alarm simulate --rule cis-1.2:3.3 --data -

  # An alarm as it is in the account, with a tighter threshold
  aws cloudwatch describe-alarms --alarm-names api-errors > alarms.json
  trailalarm alarm simulate --alarms alarms.json --threshold 5 --data errors.csv

  # An alarm from flags alone, JSON out
  trailalarm alarm simulate --period 300 --statistic Sum --threshold 1 \
      --comparison-operator GreaterThanOrEqualToThreshold --evaluation-periods 3 \
      --datapoints-to-alarm 2 --treat-missing-data notBreaching \
      --data values.jsonl --format json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError(cmd, fmt.Sprintf("unexpected argument %q", args[0]))
			}
			return runSimulate(cmd, &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.alarmsFile, "alarms", "", "read the alarm from `FILE`, the JSON of 'aws cloudwatch describe-alarms'")
	f.StringVar(&o.alarmName, "alarm-name", "", "the alarm of --alarms to simulate, when it holds several")
	f.StringVar(&o.ruleID, "rule", "", "simulate the alarm of rule `ID` (built-in, or from --rules)")
	f.StringArrayVar(&o.ruleFiles, "rules", nil, "look --rule up in the rule file `FILE` (repeatable)")
	f.IntVar(&o.period, "period", 0, "Period in `seconds`: 10, 20, 30 or a multiple of 60")
	f.StringVar(&o.statistic, "statistic", "", "SampleCount, Average, Sum, Minimum, Maximum or a percentile such as p99")
	f.Float64Var(&o.threshold, "threshold", 0, "Threshold, compared with the statistic")
	f.StringVar(&o.comparison, "comparison-operator", "", "GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold or LessThanOrEqualToThreshold")
	f.IntVar(&o.evaluationPeriods, "evaluation-periods", 0, "EvaluationPeriods: N, the periods evaluated")
	f.IntVar(&o.datapointsTo, "datapoints-to-alarm", 0, "DatapointsToAlarm: M of N (default N)")
	f.StringVar(&o.treatMissing, "treat-missing-data", "", "missing (default), notBreaching, breaching or ignore")
	f.StringVar(&o.data, "data", "", "read the values from `FILE` (CSV TIME,VALUE or JSON lines; - for stdin)")
	f.Float64Var(&o.defaultValue, "default-value", 0, "the metric filter's defaultValue, published for a minute with non-matching events only")
	f.StringVar(&o.from, "from", "", "evaluate after `TIME` (RFC 3339 or Unix seconds; default: the first value's minute)")
	f.StringVar(&o.until, "until", "", "evaluate up to `TIME` (default: once the last value has left the evaluation range)")
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	return cmd
}

func runSimulate(cmd *cobra.Command, o *simulateOptions) error {
	if err := checkFormat(cmd, o.format); err != nil {
		return err
	}
	switch {
	case o.alarmsFile != "" && o.ruleID != "":
		return usageError(cmd, "give either --alarms or --rule, not both")
	case o.alarmName != "" && o.alarmsFile == "":
		return usageError(cmd, "--alarm-name needs --alarms")
	case len(o.ruleFiles) > 0 && o.ruleID == "":
		return usageError(cmd, "--rules needs --rule")
	case o.data == "":
		return usageError(cmd, "--data is required: a file of TIME,VALUE lines or JSON lines, or - for stdin")
	}

	settings, name, def, err := simulateSettings(cmd, o)
	if err != nil {
		return &exitCodeError{code: exitError, err: err}
	}
	a, err := alarm.New(settings)
	if err != nil {
		return &exitCodeError{code: exitError, err: fmt.Errorf("invalid alarm settings:\n  %s",
			strings.ReplaceAll(err.Error(), "\n", "\n  "))}
	}
	if cmd.Flags().Changed("default-value") {
		v := o.defaultValue
		def = &v
	}

	samples, err := readSimulateData(o.data, cmd.InOrStdin())
	if err != nil {
		return &exitCodeError{code: exitError, err: err}
	}
	from, until, err := simulateRange(o, a, samples)
	if err != nil {
		return usageError(cmd, err.Error())
	}

	ts := a.Evaluate(alarm.Series{DefaultValue: def, Samples: samples}, from, until)
	if o.format == "json" {
		return writeJSON(cmd.OutOrStdout(), simulateJSON(name, settings, def, from, until, ts))
	}
	return writeSimulateText(cmd.OutOrStdout(), name, settings, from, until, ts)
}

// simulateSettings assembles the alarm from --alarms or --rule, then the flags. It returns the
// alarm's name (for the output) and the defaultValue of a rule's metric filter.
func simulateSettings(cmd *cobra.Command, o *simulateOptions) (alarm.Settings, string, *float64, error) {
	var (
		s    alarm.Settings
		name string
		def  *float64
	)
	switch {
	case o.alarmsFile != "":
		data, err := os.ReadFile(o.alarmsFile)
		if err != nil {
			return s, "", nil, fmt.Errorf("--alarms: %w", err)
		}
		ns, err := pickAlarm(o.alarmsFile, data, o.alarmName)
		if err != nil {
			return s, "", nil, err
		}
		s, name = ns.Settings, ns.Name
	case o.ruleID != "":
		r, err := findRule(o.ruleID, o.ruleFiles)
		if err != nil {
			return s, "", nil, err
		}
		s, name, def = backtest.Settings(r.Alarm, backtest.Overrides{}), r.ID, r.Metric.DefaultValue
	}

	fl := cmd.Flags()
	if fl.Changed("period") {
		s.Period = o.period
	}
	if fl.Changed("statistic") {
		if strings.HasPrefix(o.statistic, "p") {
			s.Statistic, s.ExtendedStatistic = "", o.statistic
		} else {
			s.Statistic, s.ExtendedStatistic = o.statistic, ""
		}
	}
	if fl.Changed("threshold") {
		s.Threshold = o.threshold
	}
	if fl.Changed("comparison-operator") {
		s.ComparisonOperator = alarm.ComparisonOperator(o.comparison)
	}
	if fl.Changed("evaluation-periods") {
		s.EvaluationPeriods = o.evaluationPeriods
		// M of the source alarm cannot exceed the new N; M = N is what omitting it means.
		if !fl.Changed("datapoints-to-alarm") && s.DatapointsToAlarm > s.EvaluationPeriods {
			s.DatapointsToAlarm = 0
		}
	}
	if fl.Changed("datapoints-to-alarm") {
		if o.datapointsTo < 1 {
			return s, "", nil, fmt.Errorf("--datapoints-to-alarm (%d) must be at least 1", o.datapointsTo)
		}
		s.DatapointsToAlarm = o.datapointsTo
	}
	if fl.Changed("treat-missing-data") {
		s.TreatMissingData = alarm.TreatMissingData(o.treatMissing)
	}
	return s, name, def, nil
}

// pickAlarm reads describe-alarms output and returns the alarm named name, or the only one.
func pickAlarm(file string, data []byte, name string) (alarm.NamedSettings, error) {
	alarms, readErr := alarm.SettingsFromDescribeAlarms(data)
	if name != "" {
		for _, ns := range alarms {
			if ns.Name == name {
				return ns, nil
			}
		}
		if readErr != nil {
			return alarm.NamedSettings{}, fmt.Errorf("--alarms %s: %w", file, readErr)
		}
		return alarm.NamedSettings{}, fmt.Errorf("--alarms %s: no alarm named %q; it has %s", file, name, alarmNames(alarms))
	}
	if readErr != nil {
		return alarm.NamedSettings{}, fmt.Errorf("--alarms %s: %w", file, readErr)
	}
	switch len(alarms) {
	case 0:
		return alarm.NamedSettings{}, fmt.Errorf("--alarms %s: no metric alarm in the file (MetricAlarms is empty)", file)
	case 1:
		return alarms[0], nil
	}
	return alarm.NamedSettings{}, fmt.Errorf("--alarms %s: the file has %d alarms (%s): pick one with --alarm-name", file, len(alarms), alarmNames(alarms))
}

func alarmNames(alarms []alarm.NamedSettings) string {
	if len(alarms) == 0 {
		return "none"
	}
	names := make([]string, len(alarms))
	for i, ns := range alarms {
		names[i] = strconv.Quote(ns.Name)
	}
	return strings.Join(names, ", ")
}

// findRule finds a rule in the rule files, or among the built-in rules.
func findRule(id string, files []string) (*rules.Rule, error) {
	if len(files) > 0 {
		rs, err := rules.Select(nil, files)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if r.ID == id {
				return r, nil
			}
		}
	}
	if r, ok := rules.Builtin(id); ok {
		return r, nil
	}
	if len(files) > 0 {
		return nil, fmt.Errorf("--rule %q: no such rule in %s or the built-in packs (see 'trailalarm rules list')", id, strings.Join(files, ", "))
	}
	return nil, fmt.Errorf("--rule %q: no such built-in rule (see 'trailalarm rules list'; give --rules FILE for your own)", id)
}

// readSimulateData reads --data: CSV TIME,VALUE[,ID] or JSON lines {"t", "value", "id"}.
func readSimulateData(name string, stdin io.Reader) ([]alarm.Sample, error) {
	var r io.Reader = stdin
	label := "stdin"
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
		defer f.Close()
		r, label = f, name
	}
	var samples []alarm.Sample
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if n == 1 && isCSVHeader(line) {
			continue
		}
		sm, err := parseDataLine(line)
		if err != nil {
			return nil, fmt.Errorf("--data %s:%d: %w", label, n, err)
		}
		if sm.ID == "" {
			sm.ID = label + ":" + strconv.Itoa(n)
		}
		samples = append(samples, sm)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--data %s: %w", label, err)
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("--data %s: no values (expected lines like 2026-01-01T00:02:10Z,1 or {\"t\":\"2026-01-01T00:02:10Z\",\"value\":1})", label)
	}
	return samples, nil
}

func isCSVHeader(line string) bool {
	first, _, _ := strings.Cut(strings.ToLower(line), ",")
	first = strings.TrimSpace(first)
	return first == "time" || first == "t" || first == "timestamp"
}

// parseDataLine parses one line of --data.
func parseDataLine(line string) (alarm.Sample, error) {
	if strings.HasPrefix(line, "{") {
		return parseJSONDataLine(line)
	}
	fields := strings.Split(line, ",")
	if len(fields) < 2 || len(fields) > 3 {
		return alarm.Sample{}, fmt.Errorf("%q: want TIME,VALUE (or TIME,VALUE,ID), or a JSON object", line)
	}
	t, err := parseSimTime(strings.TrimSpace(fields[0]))
	if err != nil {
		return alarm.Sample{}, err
	}
	sm := alarm.Sample{Time: t}
	if len(fields) == 3 {
		sm.ID = strings.TrimSpace(fields[2])
	}
	v := strings.TrimSpace(fields[1])
	if v == "" {
		sm.NoMatch = true
		return sm, nil
	}
	if sm.Value, err = parseSimValue(v); err != nil {
		return alarm.Sample{}, err
	}
	return sm, nil
}

func parseJSONDataLine(line string) (alarm.Sample, error) {
	var j struct {
		T     *json.RawMessage `json:"t"`
		Value *json.RawMessage `json:"value"`
		ID    string           `json:"id"`
	}
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return alarm.Sample{}, fmt.Errorf("invalid JSON line: %v (want {\"t\": TIME, \"value\": NUMBER, \"id\": ID})", err)
	}
	if dec.More() {
		return alarm.Sample{}, errors.New("one JSON object per line, please")
	}
	if j.T == nil {
		return alarm.Sample{}, errors.New(`"t" (the time) is missing`)
	}
	var ts string
	if err := json.Unmarshal(*j.T, &ts); err != nil {
		var unix json.Number
		if json.Unmarshal(*j.T, &unix) != nil {
			return alarm.Sample{}, fmt.Errorf(`"t" is %s: want an RFC 3339 string or Unix seconds`, *j.T)
		}
		ts = unix.String()
	}
	t, err := parseSimTime(ts)
	if err != nil {
		return alarm.Sample{}, err
	}
	sm := alarm.Sample{Time: t, ID: j.ID}
	if j.Value == nil || string(*j.Value) == "null" {
		sm.NoMatch = true
		return sm, nil
	}
	var v float64
	if err := json.Unmarshal(*j.Value, &v); err != nil {
		return alarm.Sample{}, fmt.Errorf(`"value" is %s: want a number (or null for an event that matched nothing)`, *j.Value)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return alarm.Sample{}, fmt.Errorf(`"value" %v: want a finite number`, v)
	}
	sm.Value = v
	return sm, nil
}

func parseSimValue(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("value %q is not a number (leave it empty for an event that matched nothing)", s)
	}
	return v, nil
}

// parseSimTime accepts RFC 3339 (with or without fractional seconds) and Unix seconds.
func parseSimTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(sec, 0).UTC(), nil
	}
	if sec, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(sec) && !math.IsInf(sec, 0) && strings.Contains(s, ".") {
		whole, frac := math.Modf(sec)
		return time.Unix(int64(whole), int64(frac*1e9)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("time %q is neither RFC 3339 (like 2026-01-01T00:02:10Z) nor Unix seconds", s)
}

// simulateRange is (from, until] of the simulation: the flags, or the span of the data plus
// what it takes for the last value to leave the evaluation range.
func simulateRange(o *simulateOptions, a *alarm.Alarm, samples []alarm.Sample) (time.Time, time.Time, error) {
	first, last := samples[0].Time, samples[0].Time
	for _, sm := range samples[1:] {
		if sm.Time.Before(first) {
			first = sm.Time
		}
		if sm.Time.After(last) {
			last = sm.Time
		}
	}
	from := first.Truncate(time.Minute)
	step := a.Step()
	s := a.Settings()
	rangeLen := time.Duration(a.EvaluationRange()) * time.Duration(s.Period) * time.Second
	until := last.Truncate(time.Minute).Add(rangeLen).Truncate(step).Add(step)
	var err error
	if o.from != "" {
		if from, err = parseSimTime(o.from); err != nil {
			return from, until, fmt.Errorf("--from: %w", err)
		}
	}
	if o.until != "" {
		if until, err = parseSimTime(o.until); err != nil {
			return from, until, fmt.Errorf("--until: %w", err)
		}
	}
	if !until.After(from) {
		return from, until, fmt.Errorf("--until (%s) must be after --from (%s)", until.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	return from, until, nil
}

// describeSettings is the alarm in one line: "Sum >= 1 over 300 s, 1 of 1 periods, missing data: missing".
func describeSettings(s alarm.Settings) string {
	stat := s.Statistic
	if stat == "" {
		stat = s.ExtendedStatistic
	}
	op := comparisonSymbols[string(s.ComparisonOperator)]
	m := s.DatapointsToAlarm
	if m == 0 {
		m = s.EvaluationPeriods
	}
	tmd := s.TreatMissingData
	if tmd == "" {
		tmd = alarm.Missing
	}
	return fmt.Sprintf("%s %s %s over %d s, %d of %d periods, missing data: %s",
		stat, op, strconv.FormatFloat(s.Threshold, 'g', -1, 64), s.Period, m, s.EvaluationPeriods, tmd)
}

func writeSimulateText(w io.Writer, name string, s alarm.Settings, from, until time.Time, ts []alarm.Transition) error {
	var b bytes.Buffer
	if name != "" {
		fmt.Fprintf(&b, "alarm %s: ", name)
	} else {
		b.WriteString("alarm: ")
	}
	fmt.Fprintf(&b, "%s\n", describeSettings(s))
	fmt.Fprintf(&b, "evaluated after %s up to %s\n", from.UTC().Format(time.RFC3339), until.UTC().Format(time.RFC3339))
	if len(ts) == 0 {
		b.WriteString("no state change: the alarm stays INSUFFICIENT_DATA\n")
	}
	for _, tr := range ts {
		fmt.Fprintf(&b, "%s  %s → %s  %s\n", tr.Time.UTC().Format(time.RFC3339), tr.From, tr.To, tr.Reason)
	}
	_, err := w.Write(b.Bytes())
	return err
}

type simDatapointJSON struct {
	Time        time.Time `json:"time"`
	Value       *float64  `json:"value"` // null when missing
	SampleCount int       `json:"sampleCount"`
}

type simTransitionJSON struct {
	Time          time.Time          `json:"time"`
	From          alarm.State        `json:"from"`
	To            alarm.State        `json:"to"`
	Reason        string             `json:"reason"`
	Datapoints    []simDatapointJSON `json:"datapoints"`
	Evidence      []string           `json:"evidence"`
	EvidenceCount int                `json:"evidenceCount"`
}

type simSettingsJSON struct {
	Name               string   `json:"name,omitempty"`
	Period             int      `json:"period"`
	Statistic          string   `json:"statistic,omitempty"`
	ExtendedStatistic  string   `json:"extendedStatistic,omitempty"`
	Threshold          float64  `json:"threshold"`
	ComparisonOperator string   `json:"comparisonOperator"`
	EvaluationPeriods  int      `json:"evaluationPeriods"`
	DatapointsToAlarm  int      `json:"datapointsToAlarm"`
	TreatMissingData   string   `json:"treatMissingData"`
	DefaultValue       *float64 `json:"defaultValue"`
}

type simulateOutputJSON struct {
	Alarm       simSettingsJSON     `json:"alarm"`
	From        time.Time           `json:"from"`
	Until       time.Time           `json:"until"`
	Transitions []simTransitionJSON `json:"transitions"`
	FinalState  alarm.State         `json:"finalState"`
}

func simulateJSON(name string, s alarm.Settings, def *float64, from, until time.Time, ts []alarm.Transition) simulateOutputJSON {
	m := s.DatapointsToAlarm
	if m == 0 {
		m = s.EvaluationPeriods
	}
	tmd := s.TreatMissingData
	if tmd == "" {
		tmd = alarm.Missing
	}
	out := simulateOutputJSON{
		Alarm: simSettingsJSON{
			Name: name, Period: s.Period, Statistic: s.Statistic, ExtendedStatistic: s.ExtendedStatistic,
			Threshold: s.Threshold, ComparisonOperator: string(s.ComparisonOperator),
			EvaluationPeriods: s.EvaluationPeriods, DatapointsToAlarm: m, TreatMissingData: string(tmd),
			DefaultValue: def,
		},
		From: from.UTC(), Until: until.UTC(),
		Transitions: []simTransitionJSON{},
		FinalState:  alarm.StateInsufficientData,
	}
	for _, tr := range ts {
		tj := simTransitionJSON{
			Time: tr.Time.UTC(), From: tr.From, To: tr.To, Reason: tr.Reason,
			Datapoints: []simDatapointJSON{}, Evidence: tr.Evidence, EvidenceCount: tr.EvidenceCount,
		}
		if tj.Evidence == nil {
			tj.Evidence = []string{}
		}
		for _, d := range tr.Evaluated {
			dj := simDatapointJSON{Time: d.Time.UTC(), SampleCount: d.SampleCount}
			if !d.Missing() {
				v := d.Value
				dj.Value = &v
			}
			tj.Datapoints = append(tj.Datapoints, dj)
		}
		out.Transitions = append(out.Transitions, tj)
		out.FinalState = tr.To
	}
	return out
}
