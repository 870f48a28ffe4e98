package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/spf13/cobra"

	"github.com/trailalarm/trailalarm/filterpattern"
	"github.com/trailalarm/trailalarm/internal/awsjson"
)

func newTestMetricFilterCmd() *cobra.Command {
	var (
		pattern  string
		messages []string
		file     string
		explain  bool
	)
	cmd := &cobra.Command{
		Use:   "test-metric-filter --filter-pattern PATTERN (--log-event-messages MSG [MSG ...] | --log-events-file FILE)",
		Short: "Test a CloudWatch Logs filter pattern against log events, like 'aws logs test-metric-filter'",
		Long: `Test a CloudWatch Logs filter pattern against log event messages, offline, with the
semantics CloudWatch Logs applies. A drop-in for 'aws logs test-metric-filter': the same flags,
and the same JSON on stdout — the matching events only, numbered from 1, with the values the
pattern extracts.

Messages come from --log-event-messages (several may follow the flag, as with the AWS CLI) or
from --log-events-file: one message per line, or a CloudTrail file ({"Records":[...]}, a JSON
array of records, gzip or not) whose records become one message each, as CloudTrail sends them
to CloudWatch Logs. Use - to read standard input.

--explain prints, for every event, the pattern's sub-expressions with the result of each and
what the event holds, to show why a pattern matched or not.

Exit status: 0 when the pattern is valid (whether or not anything matched); 2 when the pattern
is invalid (the error, with its column, goes to stderr) or the input cannot be read.`,
		Example: `  trailalarm test-metric-filter --filter-pattern ERROR \
      --log-event-messages "[ERROR] 400 BAD REQUEST" "[INFO] 200 OK"

  trailalarm test-metric-filter --log-events-file examples/cloudtrail/some-file.json \
      --filter-pattern '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS }'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("filter-pattern") {
				return usageError(cmd, "--filter-pattern is required")
			}
			if len(args) > 0 && !cmd.Flags().Changed("log-event-messages") {
				return usageError(cmd, fmt.Sprintf("unexpected argument %q", args[0]))
			}
			// The AWS CLI takes several messages after one --log-event-messages; cobra hands the
			// ones after the first over as arguments.
			msgs := append(append([]string{}, messages...), args...)
			if file != "" {
				fromFile, err := readLogEvents(file, cmd.InOrStdin())
				if err != nil {
					return &exitCodeError{code: exitError, err: err}
				}
				msgs = append(msgs, fromFile...)
			}
			if len(msgs) == 0 {
				return usageError(cmd, "no log events: give --log-event-messages or --log-events-file")
			}
			p, err := filterpattern.Parse(pattern)
			if err != nil {
				return &exitCodeError{code: exitError, err: err}
			}
			if explain {
				return writeExplanations(cmd.OutOrStdout(), p, msgs)
			}
			return writeMatches(cmd.OutOrStdout(), p, msgs)
		},
	}
	f := cmd.Flags()
	f.StringVar(&pattern, "filter-pattern", "", "the filter pattern to test (required)")
	f.StringArrayVar(&messages, "log-event-messages", nil, "log event messages to test; several may follow the flag")
	f.StringVar(&file, "log-events-file", "", "read messages from `FILE` (one per line, or CloudTrail records; - for stdin)")
	f.BoolVar(&explain, "explain", false, "show why each event matched or not instead of the JSON result")
	return cmd
}

func usageError(cmd *cobra.Command, msg string) error {
	return &exitCodeError{code: exitError, err: fmt.Errorf("%s (see '%s --help')", msg, cmd.CommandPath())}
}

// writeMatches prints what 'aws logs test-metric-filter' prints.
func writeMatches(w io.Writer, p *filterpattern.Pattern, msgs []string) error {
	matches := []any{}
	for i, msg := range msgs {
		values := p.ExtractedValues([]byte(msg))
		if values == nil {
			continue
		}
		extracted := awsjson.Object{}
		for _, v := range values {
			extracted = append(extracted, awsjson.Field{Key: v.Name, Value: v.Value})
		}
		matches = append(matches, awsjson.Object{
			{Key: "eventNumber", Value: i + 1},
			{Key: "eventMessage", Value: msg},
			{Key: "extractedValues", Value: extracted},
		})
	}
	out, err := awsjson.Marshal(awsjson.Object{{Key: "matches", Value: matches}})
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

func writeExplanations(w io.Writer, p *filterpattern.Pattern, msgs []string) error {
	bw := bufio.NewWriter(w)
	for i, msg := range msgs {
		x := p.Explain([]byte(msg))
		verdict := "no match"
		if x.Result {
			verdict = "match"
		}
		fmt.Fprintf(bw, "event %d: %s\n%s\n", i+1, verdict, x)
	}
	return bw.Flush()
}

// readLogEvents reads the messages of --log-events-file.
func readLogEvents(name string, stdin io.Reader) ([]string, error) {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("--log-events-file: %w", err)
		}
		defer f.Close()
		r = f
	}
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("--log-events-file %s: %w", name, err)
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("--log-events-file %s: %w", name, err)
	}
	if msgs, ok := cloudTrailMessages(data); ok {
		return msgs, nil
	}
	var msgs []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) != "" {
			msgs = append(msgs, line)
		}
	}
	if len(msgs) == 0 {
		return nil, fmt.Errorf("--log-events-file %s: no log events in the file", name)
	}
	return msgs, nil
}

// cloudTrailMessages turns a document that is one JSON value into messages: the records of a
// CloudTrail file, the elements of an array, or the one object — each compacted, as CloudTrail
// writes a record to CloudWatch Logs.
func cloudTrailMessages(data []byte) ([]string, bool) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || (trimmed[0] != '{' && trimmed[0] != '[') || !json.Valid(trimmed) {
		return nil, false
	}
	var elems []json.RawMessage
	if trimmed[0] == '[' {
		if json.Unmarshal(trimmed, &elems) != nil {
			return nil, false
		}
	} else {
		var file struct {
			Records []json.RawMessage `json:"Records"`
		}
		if json.Unmarshal(trimmed, &file) == nil && file.Records != nil {
			elems = file.Records
		} else {
			elems = []json.RawMessage{trimmed}
		}
	}
	msgs := make([]string, 0, len(elems))
	for _, e := range elems {
		var b bytes.Buffer
		if err := json.Compact(&b, e); err != nil {
			return nil, false
		}
		msgs = append(msgs, b.String())
	}
	return msgs, true
}
