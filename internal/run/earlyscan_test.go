package run

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailalarm/trailalarm/internal/alarm"
	"github.com/trailalarm/trailalarm/internal/backtest"
	"github.com/trailalarm/trailalarm/internal/generate"
	"github.com/trailalarm/trailalarm/internal/rules"
	"github.com/trailalarm/trailalarm/internal/store"
)

// TestOneRunnerEqualsScan commits generated CloudTrail files in delivery order through one
// runner with the built-in CIS v1.4 pack (Sum >= 1: most ALARMs are raised early) and the
// default lateness, and expects the alerts to be the transitions a scan of the same files
// gives, each early ALARM standing for the scan's transition at the evaluation it anticipates
// (alarm.CompareWithBatch). Files in delivery order are not in event-time order record by
// record, so an early ALARM may be redundant; none may be false.
func TestOneRunnerEqualsScan(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 15 MB of CloudTrail")
	}
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := generate.WriteDir(ctx, dir, generate.Options{Size: 15_000_000, Seed: 8, EventsPerFile: 40, InjectRate: 40,
		Accounts: []string{"111111111111", "222222222222"}, Regions: []string{"us-east-1"}}); err != nil {
		t.Fatal(err)
	}
	rs, err := rules.Pack("cis-1.4")
	if err != nil {
		t.Fatal(err)
	}
	units, results := sampleUnits(t, dir, rs)
	path := filepath.Join(t.TempDir(), "one.db")
	one, src := workers(t, 1, rs, func() store.Store {
		st, err := store.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
	r := one[0]
	for i, u := range units {
		if err := r.commitUnit(ctx, src, u, results[i]); err != nil {
			t.Fatal(err)
		}
	}

	// The scan's transitions, up to the last evaluation the runner has done for each rule.
	bt, err := backtest.New(rs, backtest.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range results {
		bt.Add(res)
	}
	from, until, _ := bt.Range()
	states, err := r.o.Store.AlarmStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	evaluated := map[string]time.Time{}
	for _, s := range states {
		var blob struct{ Stream struct{ Evaluated time.Time } }
		if err := json.Unmarshal(s.State, &blob); err != nil {
			t.Fatal(err)
		}
		evaluated[s.RuleID] = blob.Stream.Evaluated
	}
	// A runner starts a series at its first sample, a scan at the first record: the scan's
	// INSUFFICIENT_DATA -> OK at the start is not the runner's, and from-states are left out.
	key := func(rule string, dims map[string]string) string {
		var kv []string
		for k, v := range dims {
			kv = append(kv, k+"="+v)
		}
		sort.Strings(kv)
		return rule + "[" + strings.Join(kv, ",") + "]"
	}
	var want, have []alarm.SeriesTransition
	for _, res := range bt.Run(from, until) {
		dims := map[string]string{}
		for _, d := range res.Dimensions {
			dims[d.Name] = d.Value
		}
		for _, tr := range res.Transitions {
			if (tr.From == alarm.StateInsufficientData && tr.To == alarm.StateOK) || tr.Time.After(evaluated[res.Rule.ID]) {
				continue
			}
			want = append(want, alarm.SeriesTransition{Key: key(res.Rule.ID, dims), Transition: alarm.Transition{Time: tr.Time, To: tr.To}})
		}
	}
	page, err := r.o.Store.Alerts(ctx, store.AlertFilter{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	early := 0
	for _, a := range page.Alerts {
		to, err := alarm.ParseState(a.To)
		if err != nil {
			t.Fatal(err)
		}
		tr := alarm.SeriesTransition{Key: key(a.Rule.ID, a.Dimensions), Transition: alarm.Transition{Time: a.Time.UTC(), To: to, Early: a.Early}}
		at := tr.Time
		if a.Early {
			early++
			tr.Anticipates = anticipates(t, a.Reason)
			if !a.Anticipates.Equal(tr.Anticipates) {
				t.Errorf("alert %s: anticipates %v, its reason names %v", a.ID, a.Anticipates, tr.Anticipates)
			}
			at = tr.Anticipates
		}
		if (a.From == "INSUFFICIENT_DATA" && a.To == "OK") || at.After(evaluated[a.Rule.ID]) {
			continue
		}
		have = append(have, tr)
	}
	c := alarm.CompareWithBatch(have, want)
	t.Logf("%d files; scan %d transitions, run %d alerts (%d early): %d early anticipate a scan transition, %d redundant, %d false; %d missing, %d extra",
		len(units), len(want), len(have), early, c.Anticipated, len(c.Redundant), len(c.False), len(c.Missing), len(c.Extra))
	if len(want) < 150 || c.Anticipated < 50 {
		t.Fatalf("too little to compare")
	}
	if !c.Equal() {
		for _, l := range [][]alarm.SeriesTransition{c.Missing, c.Extra, c.False} {
			for i, tr := range l {
				if i < 5 {
					t.Logf("%s %v %s early %v (%s)", tr.Key, tr.To, tr.Time.Format("15:04:05"), tr.Early, tr.Anticipates.Format("15:04"))
				}
			}
		}
		t.Errorf("the runner's transitions differ from the scan's")
	}
}

// anticipates is the evaluation time an early ALARM's reason names.
func anticipates(t *testing.T, reason string) time.Time {
	t.Helper()
	const marker = "before the period that ends at "
	i := strings.Index(reason, marker)
	if i < 0 || len(reason) < i+len(marker)+17 {
		t.Fatalf("early ALARM without its evaluation time: %q", reason)
	}
	at, err := time.Parse("02/01/06 15:04:05", reason[i+len(marker):i+len(marker)+17])
	if err != nil {
		t.Fatal(err)
	}
	return at
}
