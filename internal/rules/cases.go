package rules

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
)

// The case bank: real CloudTrail records, one file per CIS monitoring topic, each labelled with
// whether the control is meant to fire on it. cases/SOURCE.md names the datasets and licences;
// cases/topics.json maps every built-in CIS and Security Hub rule id to its topic and is
// generated from testdata/cis-patterns.json (go test -run TestTopicsJSON -update-topics).
//
//go:embed cases/*.jsonl cases/topics.json
var caseFiles embed.FS

// Case is one labelled CloudTrail record of the case bank.
type Case struct {
	Expect bool            // true: the control is meant to fire on Record; false: a near-miss it must not fire on
	Source string          // "dataset/file … (licence)": where the record comes from
	Note   string          // why the record is in the bank
	Record json.RawMessage // the CloudTrail record, as in the dataset (or derived, as Note says)
	Line   int             // line of the case in cases/<topic>.jsonl
}

// caseLine is a line of cases/<topic>.jsonl.
type caseLine struct {
	Expect string          `json:"expect"`
	Source string          `json:"source"`
	Note   string          `json:"note"`
	Record json.RawMessage `json:"record"`
}

// Topics lists the topics of the case bank (unauthorized_api_calls, root_usage, …), sorted.
func Topics() []string {
	entries, err := caseFiles.ReadDir("cases")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".jsonl"); ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// Cases returns the labelled records of a topic, in file order.
func Cases(topic string) ([]Case, error) {
	name := path.Join("cases", topic+".jsonl")
	data, err := caseFiles.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("unknown case topic %q: the topics are %s", topic, strings.Join(Topics(), ", "))
	}
	return parseCases(name, data)
}

// parseCases reads a cases/<topic>.jsonl file.
func parseCases(name string, data []byte) ([]Case, error) {
	var out []Case
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<24)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var l caseLine
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		c := Case{Source: l.Source, Note: l.Note, Record: bytes.Clone(l.Record), Line: line}
		switch l.Expect {
		case "match":
			c.Expect = true
		case "nomatch":
		default:
			return nil, fmt.Errorf("%s:%d: expect is %q: use \"match\" or \"nomatch\"", name, line, l.Expect)
		}
		if len(c.Record) == 0 || c.Record[0] != '{' {
			return nil, fmt.Errorf("%s:%d: record is not a JSON object", name, line)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// ruleTopics maps a built-in rule id to its topic, read once from cases/topics.json.
var ruleTopics = sync.OnceValues(func() (map[string]string, error) {
	data, err := caseFiles.ReadFile("cases/topics.json")
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("cases/topics.json: %w", err)
	}
	return m, nil
})

// TopicOf returns the topic of a built-in CIS or Security Hub rule, e.g. "cis-1.2:3.3" →
// "root_usage", "securityhub:CloudWatch.2" → "unauthorized_api_calls". ok is false for any
// other id.
func TopicOf(ruleID string) (topic string, ok bool) {
	m, err := ruleTopics()
	if err != nil {
		return "", false
	}
	topic, ok = m[ruleID]
	return topic, ok
}
