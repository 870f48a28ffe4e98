// Package report turns the results of a scan into what a person reads (text) or a program
// parses (one JSON document, or JSON lines). Results arrive file by file, in input order;
// matches are streamed to the output or to a spill file, so a scan's memory does not grow with
// the number of matches.
package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/trailalarm/trailalarm/internal/alarm"
	"github.com/trailalarm/trailalarm/internal/backtest"
	"github.com/trailalarm/trailalarm/internal/cloudtrail"
	"github.com/trailalarm/trailalarm/internal/detect"
	"github.com/trailalarm/trailalarm/internal/rules"
)

// Format is an output format.
type Format string

const (
	Text  Format = "text"
	JSON  Format = "json"
	JSONL Format = "jsonl"
)

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case Text, JSON, JSONL:
		return Format(s), nil
	}
	return "", fmt.Errorf("unknown format %q: use text, json or jsonl", s)
}

// Options tune a report.
type Options struct {
	Format Format
	// MaxEvents bounds the events listed per rule in the text report (0: no limit); the
	// JSON formats always carry every match.
	MaxEvents int
	// Elapsed, when set, returns the scan's duration for the text report's first line.
	Elapsed func() time.Duration
}

// Summary is the "summary" object of the JSON report.
type Summary struct {
	Files    int64        `json:"files"`
	Records  int64        `json:"records"`
	Bytes    int64        `json:"bytes"`
	Skipped  int64        `json:"skipped"`
	Filtered int64        `json:"filtered"`
	Errors   []ErrorEntry `json:"errors"`
}

// ErrorEntry is one bad input: the file, the byte offset in its decompressed content, and what
// was wrong. Offset is -1 when the whole file could not be read.
type ErrorEntry struct {
	File   string `json:"file"`
	Offset int64  `json:"offset"`
	Error  string `json:"error"`
}

// MatchEntry is one match as the JSON formats print it.
type MatchEntry struct {
	Rule               string          `json:"rule"`
	EventID            string          `json:"eventID"`
	EventTime          string          `json:"eventTime"`
	EventName          string          `json:"eventName"`
	EventSource        string          `json:"eventSource"`
	AWSRegion          string          `json:"awsRegion"`
	RecipientAccountID string          `json:"recipientAccountId"`
	Principal          string          `json:"principal"`
	SourceIPAddress    string          `json:"sourceIPAddress"`
	UserAgent          string          `json:"userAgent"`
	ErrorCode          string          `json:"errorCode"`
	File               string          `json:"file"`
	Record             json.RawMessage `json:"record,omitempty"` // written by appendMatch
}

// RuleEntry is one rule in the JSON report.
type RuleEntry struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
	Matches  int64  `json:"matches"`
}

// maxDistinct bounds each top-N counter; values beyond it are counted as "(others)".
const maxDistinct = 10000

type counter map[string]int64

func (c counter) add(k string) {
	if k == "" {
		k = "-"
	}
	if _, ok := c[k]; !ok && len(c) >= maxDistinct {
		k = "(others)"
	}
	c[k]++
}

// top returns the n largest entries as "value (count)", ties by value.
func (c counter) top(n int) string {
	type kv struct {
		k string
		v int64
	}
	var all []kv
	for k, v := range c {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].v != all[j].v {
			return all[i].v > all[j].v
		}
		return all[i].k < all[j].k
	})
	var parts []string
	for i, e := range all {
		if i == n {
			parts = append(parts, fmt.Sprintf("… %d more", len(all)-n))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%d)", e.k, e.v))
	}
	return strings.Join(parts, ", ")
}

type eventText struct {
	time time.Time
	line string
}

type ruleStats struct {
	matches     int64
	first, last time.Time
	principals  counter
	ips         counter
	accounts    counter
	regions     counter
	lines       []eventText // text report: the first MaxEvents events
}

// Report accumulates scan results and writes them.
type Report struct {
	rules   []*rules.Rule
	opts    Options
	out     io.Writer
	summary Summary
	stats   []*ruleStats

	spill  *os.File      // JSON: matches, one per line, until Finish
	spillW *bufio.Writer // JSON: buffered writer of spill
	lineW  *bufio.Writer // JSONL: the output
	buf    []byte        // one JSON line being built
	alarms []AlarmEntry

	backtest        []backtest.Result // text report: the alarm timeline
	btFrom, btUntil time.Time
}

// New starts a report of rs (the rules in the Engine's order) written to out.
func New(rs []*rules.Rule, out io.Writer, opts Options) (*Report, error) {
	r := &Report{rules: rs, opts: opts, out: out, stats: make([]*ruleStats, len(rs))}
	r.summary.Errors = []ErrorEntry{}
	for i := range rs {
		r.stats[i] = &ruleStats{principals: counter{}, ips: counter{}, accounts: counter{}, regions: counter{}}
	}
	switch opts.Format {
	case JSON:
		f, err := os.CreateTemp("", "trailalarm-matches-*.jsonl")
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		os.Remove(f.Name()) // the open file stays usable and leaves nothing behind
		r.spill, r.spillW = f, bufio.NewWriterSize(f, 256<<10)
	case JSONL:
		r.lineW = bufio.NewWriterSize(out, 256<<10)
	}
	return r, nil
}

// Add takes one input's results, in input order.
func (r *Report) Add(res *detect.FileResult) error {
	s := &r.summary
	s.Files++
	s.Records += res.Stats.Records
	s.Bytes += res.Stats.Bytes
	s.Skipped += res.Stats.Errors
	s.Filtered += res.Filtered
	for _, e := range res.Errors {
		s.Errors = append(s.Errors, ErrorEntry{File: e.File, Offset: e.Offset, Error: e.Err.Error()})
	}
	if res.Err != nil {
		s.Errors = append(s.Errors, ErrorEntry{File: res.Input.Name(), Offset: -1, Error: res.Err.Error()})
	}
	for i := range res.Matches {
		if err := r.addMatch(&res.Matches[i]); err != nil {
			return err
		}
	}
	return nil
}

// Matches returns how many matches the report has seen.
func (r *Report) Matches() int64 {
	var n int64
	for _, st := range r.stats {
		n += st.matches
	}
	return n
}

// Summary returns the counts so far.
func (r *Report) Summary() Summary { return r.summary }

// AlarmEntry is one alarm state change of the backtest, as the JSON report prints it.
type AlarmEntry struct {
	Rule          string            `json:"rule"`
	Dimensions    map[string]string `json:"dimensions"`
	Time          string            `json:"time"`
	From          string            `json:"from"`
	To            string            `json:"to"`
	Reason        string            `json:"reason"`
	Datapoints    []DatapointEntry  `json:"datapoints"`
	Evidence      []string          `json:"evidence"`
	EvidenceCount int               `json:"evidenceCount"`
}

// DatapointEntry is one datapoint an alarm evaluation used, newest first; a missing one has
// sampleCount 0 and no value.
type DatapointEntry struct {
	Time        string   `json:"time"`
	Value       *float64 `json:"value"`
	SampleCount int      `json:"sampleCount"`
}

// SetBacktest adds the alarm backtest: the "alarms" of the JSON report, the timeline of the
// text report.
func (r *Report) SetBacktest(results []backtest.Result, from, until time.Time) {
	r.backtest, r.btFrom, r.btUntil = results, from, until
	r.alarms = []AlarmEntry{}
	for _, res := range results {
		dims := map[string]string{}
		for _, d := range res.Dimensions {
			dims[d.Name] = d.Value
		}
		for _, t := range res.Transitions {
			e := AlarmEntry{Rule: res.Rule.ID, Dimensions: dims, Time: t.Time.UTC().Format(time.RFC3339),
				From: t.From.String(), To: t.To.String(), Reason: t.Reason, Evidence: t.Evidence, EvidenceCount: t.EvidenceCount,
				Datapoints: []DatapointEntry{}}
			if e.Evidence == nil {
				e.Evidence = []string{}
			}
			for _, d := range t.Evaluated {
				de := DatapointEntry{Time: d.Time.UTC().Format(time.RFC3339), SampleCount: d.SampleCount}
				if !d.Missing() {
					v := d.Value
					de.Value = &v
				}
				e.Datapoints = append(e.Datapoints, de)
			}
			r.alarms = append(r.alarms, e)
		}
	}
}

func (r *Report) addMatch(m *detect.Match) error {
	rule := r.rules[m.Rule]
	sum, err := cloudtrail.Summarize(m.Record.Raw)
	if err != nil {
		sum = cloudtrail.Summary{Principal: "unknown"}
	}
	if sum.EventName == "" {
		sum.EventName = m.Record.EventName
	}
	st := r.stats[m.Rule]
	st.matches++
	t := m.Record.EventTime
	if st.first.IsZero() || t.Before(st.first) {
		st.first = t
	}
	if t.After(st.last) {
		st.last = t
	}
	st.principals.add(sum.Principal)
	st.ips.add(sum.SourceIPAddress)
	st.accounts.add(m.Record.RecipientAccountID)
	st.regions.add(m.Record.AWSRegion)
	switch r.opts.Format {
	case Text:
		if r.opts.MaxEvents == 0 || len(st.lines) < r.opts.MaxEvents {
			st.lines = append(st.lines, eventText{m.Record.EventTime, eventLine(&m.Record, &sum)})
		}
		return nil
	}
	e := MatchEntry{
		Rule: rule.ID, EventID: sum.EventID, EventTime: sum.EventTime, EventName: sum.EventName,
		EventSource: m.Record.EventSource, AWSRegion: m.Record.AWSRegion, RecipientAccountID: m.Record.RecipientAccountID,
		Principal: sum.Principal, SourceIPAddress: sum.SourceIPAddress, UserAgent: sum.UserAgent, ErrorCode: sum.ErrorCode,
		File: m.Record.File,
	}
	w := r.lineW
	if r.opts.Format == JSON {
		w = r.spillW
	}
	r.buf, err = appendMatch(r.buf[:0], &e, m.Record.Raw)
	if err != nil {
		return err
	}
	_, err = w.Write(r.buf)
	return err
}

// appendMatch writes e as one line of JSON with the raw record spliced in: the reader has
// validated it, so it is copied rather than re-encoded, unless it spans lines (a pretty-printed
// file), which one JSON line cannot hold.
func appendMatch(dst []byte, e *MatchEntry, raw []byte) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return dst, fmt.Errorf("report: %w", err)
	}
	dst = append(dst, b[:len(b)-1]...)
	dst = append(dst, `,"record":`...)
	if bytes.IndexByte(raw, '\n') >= 0 || bytes.IndexByte(raw, '\r') >= 0 {
		var c bytes.Buffer
		if err := json.Compact(&c, raw); err != nil {
			return dst, fmt.Errorf("report: %w", err)
		}
		dst = append(dst, c.Bytes()...)
	} else {
		dst = append(dst, raw...)
	}
	return append(dst, '}', '\n'), nil
}

// eventLine is one matched event for people: time, account, region, principal, event, source
// IP, user agent, error code. CloudTrail values are untrusted: control characters are escaped
// so that a record cannot rewrite the terminal.
func eventLine(rec *cloudtrail.Record, s *cloudtrail.Summary) string {
	errCode := s.ErrorCode
	if errCode == "" {
		errCode = "-"
	}
	return strings.Join([]string{
		rec.EventTime.UTC().Format(time.RFC3339), orDash(rec.RecipientAccountID), orDash(rec.AWSRegion),
		clean(s.Principal, 80), clean(s.EventName, 60), clean(orDash(s.SourceIPAddress), 45),
		clean(orDash(s.UserAgent), 60), clean(errCode, 40),
	}, "  ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clean makes an untrusted value safe and short for one line of a terminal.
func clean(s string, max int) string {
	if len(s) <= max && printableASCII(s) {
		return s // the usual case, and the report cleans every value it prints
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	out := b.String()
	if len([]rune(out)) > max {
		out = string([]rune(out)[:max-1]) + "…"
	}
	return out
}

// printableASCII reports whether s is all printable ASCII, which clean leaves as it is.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// Finish writes the report (text and JSON) or flushes it (JSONL).
func (r *Report) Finish() error {
	switch r.opts.Format {
	case JSONL:
		return r.lineW.Flush()
	case JSON:
		return r.finishJSON()
	default:
		return r.finishText()
	}
}

func (r *Report) ruleEntries() []RuleEntry {
	out := make([]RuleEntry, len(r.rules))
	for i, rule := range r.rules {
		out[i] = RuleEntry{ID: rule.ID, Title: rule.Title, Severity: rule.Severity.String(), Matches: r.stats[i].matches}
	}
	return out
}

func (r *Report) finishJSON() error {
	defer r.spill.Close()
	if err := r.spillW.Flush(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	w := bufio.NewWriterSize(r.out, 256<<10)
	summary, _ := json.Marshal(r.summary)
	rulesJSON, _ := json.Marshal(r.ruleEntries())
	alarms := r.alarms
	if alarms == nil {
		alarms = []AlarmEntry{}
	}
	alarmsJSON, err := json.Marshal(alarms)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	fmt.Fprintf(w, "{\"summary\":%s,\n\"rules\":%s,\n\"matches\":[", summary, rulesJSON)
	if _, err := r.spill.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	sc := bufio.NewScanner(r.spill)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	first := true
	for sc.Scan() {
		if !first {
			w.WriteByte(',')
		}
		first = false
		w.WriteByte('\n')
		w.Write(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	fmt.Fprintf(w, "],\n\"alarms\":%s}\n", alarmsJSON)
	return w.Flush()
}

func (r *Report) finishText() error {
	w := bufio.NewWriter(r.out)
	s := r.summary
	elapsed := ""
	if r.opts.Elapsed != nil {
		elapsed = fmt.Sprintf(" in %s", r.opts.Elapsed().Round(time.Millisecond))
	}
	fmt.Fprintf(w, "Scanned %d files, %d records, %s%s; %d matches of %d rules.\n",
		s.Files, s.Records, humanBytes(s.Bytes), elapsed, r.Matches(), len(r.rules))
	if s.Skipped > 0 || len(s.Errors) > 0 || s.Filtered > 0 {
		fmt.Fprintf(w, "Skipped %d bad records, %d errors, %d records outside the filters.\n", s.Skipped, len(s.Errors), s.Filtered)
	}
	var quiet []string
	for i, rule := range r.rules {
		st := r.stats[i]
		if st.matches == 0 {
			quiet = append(quiet, rule.ID)
			continue
		}
		fmt.Fprintf(w, "\n%s  %s  [%s]  %d match", rule.ID, clean(rule.Title, 120), rule.Severity, st.matches)
		if st.matches != 1 {
			w.WriteString("es")
		}
		fmt.Fprintf(w, "\n  first %s, last %s\n", st.first.UTC().Format(time.RFC3339), st.last.UTC().Format(time.RFC3339))
		fmt.Fprintf(w, "  principals: %s\n", clean(st.principals.top(5), 400))
		fmt.Fprintf(w, "  source IPs: %s\n", clean(st.ips.top(5), 400))
		fmt.Fprintf(w, "  accounts:   %s\n", clean(st.accounts.top(5), 400))
		fmt.Fprintf(w, "  regions:    %s\n", clean(st.regions.top(5), 400))
		sort.SliceStable(st.lines, func(i, j int) bool { return st.lines[i].time.Before(st.lines[j].time) })
		for _, l := range st.lines {
			fmt.Fprintf(w, "    %s\n", l.line)
		}
		if int64(len(st.lines)) < st.matches {
			fmt.Fprintf(w, "    … %d more (use --max-events 0 or --format json for all)\n", st.matches-int64(len(st.lines)))
		}
	}
	if len(quiet) > 0 {
		fmt.Fprintf(w, "\nNo matches: %s\n", strings.Join(quiet, ", "))
	}
	r.writeTimeline(w)
	if len(s.Errors) > 0 {
		fmt.Fprintf(w, "\nErrors:\n")
		for i, e := range s.Errors {
			if i == 20 {
				fmt.Fprintf(w, "  … %d more (--format json lists all)\n", len(s.Errors)-20)
				break
			}
			if e.Offset >= 0 {
				fmt.Fprintf(w, "  %s: offset %d: %s\n", clean(e.File, 300), e.Offset, clean(e.Error, 300))
			} else {
				fmt.Fprintf(w, "  %s: %s\n", clean(e.File, 300), clean(e.Error, 300))
			}
		}
	}
	return w.Flush()
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// writeTimeline prints the alarm backtest: per series that went to ALARM, every state change
// from the first ALARM on, with CloudWatch's reason.
func (r *Report) writeTimeline(w *bufio.Writer) {
	if r.backtest == nil {
		return
	}
	fmt.Fprintf(w, "\nAlarms, as CloudWatch would have evaluated them from %s to %s:\n",
		r.btFrom.UTC().Format(time.RFC3339), r.btUntil.UTC().Format(time.RFC3339))
	var never []string
	for _, res := range r.backtest {
		alarms := 0
		for _, t := range res.Transitions {
			if t.To == alarm.StateAlarm {
				alarms++
			}
		}
		name := res.Rule.ID
		if len(res.Dimensions) > 0 {
			var parts []string
			for _, d := range res.Dimensions {
				parts = append(parts, d.Name+"="+d.Value)
			}
			name += " {" + strings.Join(parts, ", ") + "}"
		}
		if alarms == 0 {
			never = append(never, clean(name, 200))
			continue
		}
		times := "times"
		if alarms == 1 {
			times = "time"
		}
		fmt.Fprintf(w, "\n  %s  %s: %d %s to ALARM\n", clean(name, 200), clean(res.Rule.Title, 120), alarms, times)
		started := false
		for _, t := range res.Transitions {
			started = started || t.To == alarm.StateAlarm
			if !started {
				continue
			}
			fmt.Fprintf(w, "    %s  %s -> %s  %s\n", t.Time.UTC().Format(time.RFC3339), t.From, t.To, clean(t.Reason, 400))
			if t.To == alarm.StateAlarm && t.EvidenceCount > 0 {
				more := ""
				if t.EvidenceCount > len(t.Evidence) {
					more = fmt.Sprintf(" (+%d more)", t.EvidenceCount-len(t.Evidence))
				}
				fmt.Fprintf(w, "      evidence: %s%s\n", clean(strings.Join(t.Evidence, ", "), 2000), more)
			}
		}
	}
	if len(never) > 0 {
		fmt.Fprintf(w, "\n  Never in ALARM: %s\n", strings.Join(never, ", "))
	}
}
