package alarm

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"testing"
	"time"
)

// readJSONL decodes every line of a testdata file into a T.
func readJSONL[T any](t *testing.T, name string) []T {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s:%d: %v", name, line, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// knownWrong lists cases whose expectation this package believes to be wrong, with why. The
// test still runs them and reports the difference without failing.
var knownWrong = map[string]string{}

// conformance counts case outcomes and reports them at the end of a test.
type conformance struct {
	pass, uncertainPass, uncertainFail, wrong int
}

// check records a case outcome: a mismatch fails the test unless the case is uncertain or
// listed in knownWrong, in which case it is logged.
func (c *conformance) check(t *testing.T, id, confidence string, ok bool, msg string) {
	t.Helper()
	switch {
	case ok && confidence == "uncertain":
		c.uncertainPass++
	case ok:
		c.pass++
	case knownWrong[id] != "":
		c.wrong++
		t.Logf("%s: known-wrong case (%s): %s", id, knownWrong[id], msg)
	case confidence == "uncertain":
		c.uncertainFail++
		t.Logf("%s: uncertain case differs: %s", id, msg)
	default:
		t.Errorf("%s (%s): %s", id, confidence, msg)
	}
}

func (c *conformance) report(t *testing.T) {
	t.Logf("cases: %d pass, %d uncertain pass, %d uncertain differ, %d known wrong",
		c.pass, c.uncertainPass, c.uncertainFail, c.wrong)
}

type evalCase struct {
	ID            string          `json:"id"`
	Alarm         json.RawMessage `json:"alarm"`
	Datapoints    []*float64      `json:"datapoints"`
	Samples       [][]float64     `json:"samples"`
	InitialState  State           `json:"initialState"`
	ExpectedState State           `json:"expectedState"`
	Confidence    string          `json:"confidence"`
	Note          string          `json:"note"`
}

func TestEvaluateRangeCases(t *testing.T) {
	cases := readJSONL[evalCase](t, "alarm-cases.jsonl")
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	var c conformance
	for _, tc := range cases {
		ns, err := ParseSettings(tc.Alarm)
		if err != nil {
			t.Errorf("%s: settings: %v", tc.ID, err)
			continue
		}
		got, err := EvaluateRange(ns.Settings, tc.Datapoints, tc.InitialState)
		if err != nil {
			t.Errorf("%s: %v", tc.ID, err)
			continue
		}
		c.check(t, tc.ID, tc.Confidence, got == tc.ExpectedState,
			fmt.Sprintf("got %v, want %v (%s)", got, tc.ExpectedState, tc.Note))

		if tc.Samples != nil {
			checkSampleStatistics(t, ns.Settings, tc)
		}
	}
	c.report(t)
}

// checkSampleStatistics recomputes a case's datapoints from its raw samples.
func checkSampleStatistics(t *testing.T, s Settings, tc evalCase) {
	t.Helper()
	a, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(tc.Samples) != len(tc.Datapoints) {
		t.Fatalf("%s: %d sample periods for %d datapoints", tc.ID, len(tc.Samples), len(tc.Datapoints))
	}
	for i, period := range tc.Samples {
		var g agg
		for _, v := range period {
			g.addValue(v, a.stat == statPercentile)
		}
		v, n := a.statistic(&g)
		want := tc.Datapoints[i]
		switch {
		case want == nil && n != 0:
			t.Errorf("%s: period %d: got %v from %d samples, want missing", tc.ID, i, v, n)
		case want != nil && (n == 0 || v != *want):
			ok := n != 0 && v == *want
			c := conformance{}
			c.check(t, tc.ID, tc.Confidence, ok, fmt.Sprintf("period %d: statistic %v (n=%d), want %v", i, v, n, *want))
		}
	}
}

type streamCase struct {
	ID           string `json:"id"`
	MetricFilter struct {
		MetricValue  string            `json:"metricValue"`
		DefaultValue *float64          `json:"defaultValue"`
		Dimensions   map[string]string `json:"dimensions"`
	} `json:"metricFilter"`
	Events []struct {
		T     time.Time         `json:"t"`
		Value *float64          `json:"value"`
		Dims  map[string]string `json:"dims"`
	} `json:"events"`
	Alarm               json.RawMessage `json:"alarm"`
	CreatedAt           time.Time       `json:"createdAt"`
	EvaluateUntil       time.Time       `json:"evaluateUntil"`
	ExpectedTransitions []struct {
		Time time.Time `json:"time"`
		From State     `json:"from"`
		To   State     `json:"to"`
	} `json:"expectedTransitions"`
	ExpectedFinalState State  `json:"expectedFinalState"`
	Confidence         string `json:"confidence"`
	Note               string `json:"note"`
}

// series builds the metric series the case's alarm watches: the events whose dimensions are
// exactly the alarm's (a dimensioned filter never writes to the dimensionless series).
func (tc *streamCase) series(ns NamedSettings) Series {
	want := map[string]string{}
	for _, d := range ns.Dimensions {
		want[d.Name] = d.Value
	}
	s := Series{DefaultValue: tc.MetricFilter.DefaultValue}
	for i, e := range tc.Events {
		id := fmt.Sprintf("%s#%d", tc.ID, i)
		if e.Value == nil {
			s.Samples = append(s.Samples, Sample{Time: e.T, NoMatch: true, ID: id})
			continue
		}
		dims := e.Dims
		if dims == nil {
			dims = map[string]string{}
		}
		if !maps.Equal(dims, want) {
			continue
		}
		s.Samples = append(s.Samples, Sample{Time: e.T, Value: *e.Value, ID: id})
	}
	return s
}

func formatTransitions[T any](ts []T, f func(T) (time.Time, State, State)) string {
	var out []string
	for _, tr := range ts {
		at, from, to := f(tr)
		out = append(out, fmt.Sprintf("%s %v->%v", at.UTC().Format("15:04"), from, to))
	}
	return fmt.Sprint(out)
}

func TestEvaluateStreamCases(t *testing.T) {
	cases := readJSONL[streamCase](t, "alarm-stream-cases.jsonl")
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	var c conformance
	for _, tc := range cases {
		ns, err := ParseSettings(tc.Alarm)
		if err != nil {
			t.Errorf("%s: settings: %v", tc.ID, err)
			continue
		}
		got, err := Evaluate(ns.Settings, tc.series(ns), tc.CreatedAt, tc.EvaluateUntil)
		if err != nil {
			t.Errorf("%s: %v", tc.ID, err)
			continue
		}
		gotS := formatTransitions(got, func(tr Transition) (time.Time, State, State) { return tr.Time, tr.From, tr.To })
		wantS := formatTransitions(tc.ExpectedTransitions, func(tr struct {
			Time time.Time `json:"time"`
			From State     `json:"from"`
			To   State     `json:"to"`
		}) (time.Time, State, State) {
			return tr.Time, tr.From, tr.To
		})
		final := StateInsufficientData
		if len(got) > 0 {
			final = got[len(got)-1].To
		}
		ok := gotS == wantS && final == tc.ExpectedFinalState
		c.check(t, tc.ID, tc.Confidence, ok, fmt.Sprintf("got %s final %v, want %s final %v (%s)", gotS, final, wantS, tc.ExpectedFinalState, tc.Note))
		for _, tr := range got {
			if tr.From == tr.To {
				t.Errorf("%s: transition to the same state at %v", tc.ID, tr.Time)
			}
			t.Logf("%s %s %v->%v: %s evidence=%v/%d", tc.ID, tr.Time.Format("15:04"), tr.From, tr.To, tr.Reason, tr.Evidence, tr.EvidenceCount)
		}
	}
	c.report(t)
}
