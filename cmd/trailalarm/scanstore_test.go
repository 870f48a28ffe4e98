package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailalarm/trailalarm/internal/alarm"
	"github.com/trailalarm/trailalarm/internal/rules"
	"github.com/trailalarm/trailalarm/internal/server"
	"github.com/trailalarm/trailalarm/internal/store"
	"github.com/trailalarm/trailalarm/internal/store/postgres"
	pgtest "github.com/trailalarm/trailalarm/internal/testutil/postgres"
)

// TestScanStore: `scan --store` records what `run` would for the same files — the alerts are
// the scan's alarm transitions (early ALARMs standing for the evaluation they anticipate), the
// match counts are the scan's matches per rule, account, region and minute — the report is the
// one without --store, the dashboard serves it, and scanning the same files again adds nothing.
func TestScanStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "archive.db")
	code, plain, _ := runCLI(t, "", "scan", "--format", "json", "../../examples/cloudtrail")
	if code != 0 {
		t.Fatalf("scan exit %d", code)
	}
	code, out, errOut := runCLI(t, "", "scan", "--format", "json", "--store", path, "../../examples/cloudtrail")
	if code != 0 {
		t.Fatalf("scan --store exit %d: %s", code, errOut)
	}
	// The report does not change with --store (but for the time it took).
	if strip(t, out) != strip(t, plain) {
		t.Errorf("the report differs with --store")
	}
	var rep struct {
		Matches []struct{ Rule, EventTime, AWSRegion, RecipientAccountID string }
		Alarms  []struct {
			Rule       string
			Dimensions map[string]string
			Time       time.Time
			From, To   string
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	page, err := st.Alerts(ctx, store.AlertFilter{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	// A runner starts a series at its first sample, a scan at the first record: the
	// INSUFFICIENT_DATA -> OK at the start differs and is left out, as are from-states.
	var want, have []alarm.SeriesTransition
	for _, a := range rep.Alarms {
		if !seriesStart(a.From, a.To) {
			want = append(want, seriesTransition(t, seriesKey(a.Rule, a.Dimensions), a.To, a.Time, false, time.Time{}))
		}
	}
	var consoleLogin string
	for _, a := range page.Alerts {
		if a.Rule.ID == "securityhub:CloudWatch.3" && a.To == "ALARM" {
			for _, e := range a.Evidence {
				if strings.Contains(string(e.Record), `"ConsoleLogin"`) {
					consoleLogin = a.ID
				}
			}
		}
		if !seriesStart(a.From, a.To) {
			have = append(have, seriesTransition(t, seriesKey(a.Rule.ID, a.Dimensions), a.To, a.Time, a.Early, a.Anticipates))
		}
	}
	if oc, err := st.OutboxCounts(ctx); err != nil || len(oc) > 0 {
		t.Errorf("outbox %v, %v: scan --store delivers nothing", oc, err)
	}
	if consoleLogin == "" {
		t.Errorf("no securityhub:CloudWatch.3 ALARM with the ConsoleLogin record as evidence")
	}
	c := alarm.CompareWithBatch(have, want)
	t.Logf("scan %d transitions, store %d alerts: %d anticipated, %d redundant", len(want), len(have), c.Anticipated, len(c.Redundant))
	if len(want) < 10 {
		t.Fatalf("only %d transitions: the comparison would say little", len(want))
	}
	if !c.Equal() {
		t.Errorf("the stored alerts differ from the scan's transitions: missing %v, extra %v, false %v", c.Missing, c.Extra, c.False)
	}

	// Match counts: the scan's matches, per rule, account, region and minute.
	counts := func() map[string]int64 {
		stored, err := st.MatchCounts(ctx, store.MatchFilter{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, m := range stored {
			got[m.Rule+" "+m.Account+" "+m.Region+" "+m.Minute.Format(time.RFC3339)] += m.Count
		}
		return got
	}
	wantCounts := map[string]int64{}
	for _, m := range rep.Matches {
		at, err := time.Parse(time.RFC3339, m.EventTime)
		if err != nil {
			t.Fatal(err)
		}
		wantCounts[m.Rule+" "+m.RecipientAccountID+" "+m.AWSRegion+" "+at.Truncate(time.Minute).Format(time.RFC3339)]++
	}
	got := counts()
	if len(wantCounts) < 10 || !reflect.DeepEqual(got, wantCounts) {
		t.Errorf("stored match counts %v, scan's %v", got, wantCounts)
	}

	// The dashboard shows them.
	h := server.New(server.Options{Store: st, Rules: rules.DefaultSelection()})
	get := func(p string) string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %.200s", p, rec.Code, rec.Body.String())
		}
		return rec.Body.String()
	}
	if body := get("/"); !strings.Contains(body, "CloudWatch.3") || !strings.Contains(body, "<svg") {
		t.Errorf("the overview does not show CloudWatch.3 and its chart")
	}
	if consoleLogin != "" {
		if body := get("/api/v1/alerts/" + consoleLogin); !strings.Contains(body, "ConsoleLogin") {
			t.Errorf("the alert's API page has no ConsoleLogin evidence: %.300s", body)
		}
	}
	if body := get("/api/v1/matches?rule=securityhub:CloudWatch.3&since=2023-07-10T00:00:00Z&until=2023-07-11T00:00:00Z"); !strings.Contains(body, "securityhub:CloudWatch.3") {
		t.Errorf("no match counts for CloudWatch.3: %.300s", body)
	}

	// Again: every file is already processed, nothing is added.
	if code, _, errOut := runCLI(t, "", "scan", "--format", "json", "--store", path, "../../examples/cloudtrail"); code != 0 {
		t.Fatalf("second scan --store exit %d: %s", code, errOut)
	}
	again, err := st.Alerts(ctx, store.AlertFilter{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Alerts) != len(page.Alerts) {
		t.Errorf("the second scan added alerts: %d, then %d", len(page.Alerts), len(again.Alerts))
	}
	if after := counts(); !reflect.DeepEqual(after, got) {
		t.Errorf("the second scan changed the match counts")
	}
}

// strip removes what changes from one run of a report to the next: the time it took.
func strip(t *testing.T, report string) string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(report), &v); err != nil {
		t.Fatal(err)
	}
	delete(v, "elapsed")
	if s, ok := v["stats"].(map[string]any); ok {
		delete(s, "elapsed")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestScanStoreErrors(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notDB, []byte("these are not the tables you are looking for\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--store", filepath.Join(dir, "missing", "ta.db")}, "does not exist"},
		{[]string{"--store", notDB}, "not a database"},
		{[]string{"--store", filepath.Join(dir, "ta.db"), "--period", "60"}, "leave out --period"},
	} {
		args := append([]string{"scan", "--format", "json"}, tt.args...)
		args = append(args, "../../examples/cloudtrail")
		code, out, errOut := runCLI(t, "", args...)
		if code != 2 || !strings.Contains(errOut, tt.want) || strings.Count(strings.TrimSpace(errOut), "\n") > 2 {
			t.Errorf("%v: exit %d, %q", tt.args, code, errOut)
		}
		if out != "" {
			t.Errorf("%v: a report on error: %.100s", tt.args, out)
		}
	}
	code, _, errOut := runCLI(t, `{"Records":[]}`, "scan", "--store", filepath.Join(dir, "ta.db"), "-")
	if code != 2 || !strings.Contains(errOut, "standard input") {
		t.Errorf("stdin: exit %d, %q", code, errOut)
	}
}

// TestScanStorePostgres: `scan --store postgres://…` records the same alerts and match counts
// as into a SQLite file, and a second scan adds nothing.
func TestScanStorePostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	path := filepath.Join(t.TempDir(), "archive.db")
	for _, spec := range []string{path, dsn, dsn} {
		if code, _, errOut := runCLI(t, "", "scan", "--format", "json", "--store", spec, "../../examples/cloudtrail"); code != 0 {
			t.Fatalf("scan --store exit %d: %s", code, errOut)
		}
	}
	ctx := context.Background()
	contents := func(st store.Store) ([]string, map[string]int64) {
		page, err := st.Alerts(ctx, store.AlertFilter{Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range page.Alerts {
			ids = append(ids, a.ID)
		}
		sort.Strings(ids)
		mc, err := st.MatchCounts(ctx, store.MatchFilter{})
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string]int64{}
		for _, m := range mc {
			counts[m.Rule+" "+m.Account+" "+m.Region+" "+m.Minute.Format(time.RFC3339)] += m.Count
		}
		return ids, counts
	}
	lite, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	pg, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	wantIDs, wantCounts := contents(lite)
	gotIDs, gotCounts := contents(pg)
	if len(wantIDs) < 10 || !reflect.DeepEqual(gotIDs, wantIDs) {
		t.Errorf("PostgreSQL alerts %v, SQLite's %v", gotIDs, wantIDs)
	}
	if !reflect.DeepEqual(gotCounts, wantCounts) {
		t.Errorf("PostgreSQL match counts differ from SQLite's")
	}
}
