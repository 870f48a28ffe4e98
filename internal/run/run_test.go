package run

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailalarm/trailalarm/internal/alarm"
	"github.com/trailalarm/trailalarm/internal/alert"
	"github.com/trailalarm/trailalarm/internal/config"
	"github.com/trailalarm/trailalarm/internal/rules"
	"github.com/trailalarm/trailalarm/internal/source"
	"github.com/trailalarm/trailalarm/internal/store"
)

func testConfig(t *testing.T, yaml string) *config.Config {
	t.Helper()
	c, err := config.Parse("t.yaml", []byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRouting(t *testing.T) {
	c := testConfig(t, `notifiers:
  - type: stdout
  - name: pager
    type: file
    path: /tmp/x
routes:
  - notifiers: [pager]
    minSeverity: high
  - notifiers: [stdout]
    states: [ALARM, OK]
suppress:
  - window: 1h
    keys: [$.userIdentity.arn]
`)
	r, err := newRouter(c)
	if err != nil {
		t.Fatal(err)
	}
	high := &rules.Rule{ID: "r1", Severity: rules.Severity(4)}
	low := &rules.Rule{ID: "r2", Severity: rules.Severity(1)}
	ev := func(arn string) []alert.Evidence {
		return []alert.Evidence{alert.NewEvidence([]byte(`{"eventTime":"2026-01-01T00:00:00Z","userIdentity":{"type":"IAMUser","arn":"` + arn + `"}}`))}
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := &alert.Alert{Rule: alert.Rule{ID: "r1"}, To: "ALARM", Time: t0, Evidence: ev("alice")}
	if got := r.targets(a, high); len(got) != 2 {
		t.Errorf("high ALARM goes to %v, want pager and stdout", got)
	}
	// The same rule and principal within the hour: suppressed.
	a2 := &alert.Alert{Rule: alert.Rule{ID: "r1"}, To: "ALARM", Time: t0.Add(10 * time.Minute), Evidence: ev("alice")}
	if got := r.targets(a2, high); got != nil {
		t.Errorf("repeat within the window goes to %v", got)
	}
	// Another principal is not the same alert; after the window it is sent again.
	if got := r.targets(&alert.Alert{Rule: alert.Rule{ID: "r1"}, To: "ALARM", Time: t0.Add(11 * time.Minute), Evidence: ev("bob")}, high); len(got) != 2 {
		t.Errorf("another principal goes to %v", got)
	}
	if got := r.targets(&alert.Alert{Rule: alert.Rule{ID: "r1"}, To: "ALARM", Time: t0.Add(2 * time.Hour), Evidence: ev("alice")}, high); len(got) != 2 {
		t.Errorf("after the window goes to %v", got)
	}
	if got := r.targets(&alert.Alert{Rule: alert.Rule{ID: "r2"}, To: "ALARM", Time: t0, Evidence: ev("carol")}, low); len(got) != 1 || got[0] != "stdout" {
		t.Errorf("low ALARM goes to %v, want stdout", got)
	}
	if got := r.targets(&alert.Alert{Rule: alert.Rule{ID: "r2"}, To: "OK", Time: t0}, low); len(got) != 1 {
		t.Errorf("OK goes to %v, want stdout", got)
	}
	// Without routes, ALARMs go everywhere and other states nowhere.
	r2, _ := newRouter(testConfig(t, "notifiers:\n  - type: stdout\n"))
	if got := r2.targets(&alert.Alert{To: "OK"}, low); got != nil {
		t.Errorf("OK without routes goes to %v", got)
	}
	if got := r2.targets(&alert.Alert{To: "ALARM"}, low); len(got) != 1 {
		t.Errorf("ALARM without routes goes to %v", got)
	}
}

func TestEvidenceCache(t *testing.T) {
	e := newEvidence()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 100; i++ {
		e.add(string(rune('a'+i%26))+string(rune('a'+i/26)), "s", t0, []byte(`{}`))
	}
	if len(e.byID) != e.capacity {
		t.Errorf("%d records kept for one minute, want %d", len(e.byID), e.capacity)
	}
	e.add("late", "s", t0.Add(time.Hour), []byte(`{"x":1}`))
	e.prune(t0.Add(time.Minute))
	if len(e.byID) != 1 || e.byID["late"].Record == nil {
		t.Errorf("after pruning: %d records", len(e.byID))
	}
	f := newEvidence()
	f.restore(e.list())
	if len(f.byID) != 1 {
		t.Error("restore lost records")
	}
	// An alert cites the records it can find.
	ru := &rules.Rule{ID: "r", Title: "T"}
	a := newAlert(ru, alarm.SeriesTransition{Key: alarm.SeriesKey([][2]string{{"Principal", "alice"}}), Transition: alarm.Transition{
		Time: t0, From: alarm.StateOK, To: alarm.StateAlarm, Evidence: []string{"late", "gone"}, EvidenceCount: 2}}, e)
	if len(a.Evidence) != 1 || a.EvidenceCount != 2 || a.Dimensions["Principal"] != "alice" || a.ID == "" {
		t.Errorf("alert %+v", a)
	}
}

func TestHandler(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err := New(context.Background(), Options{Config: config.Default(), Rules: rules.DefaultSelection(), Store: st})
	if err != nil {
		t.Fatal(err)
	}
	r.Problem(&source.Problem{Source: "s3://b/", Kind: source.ProblemMissing, Input: "k", Err: errors.New("gone")})
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	for path, want := range map[string]string{
		"/healthz": `"status":"ok"`,
		"/metrics": `trailalarm_source_errors_total{kind="missing_object",source="s3://b/"} 1`,
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d, body lacks %s", path, resp.StatusCode, want)
		}
	}
}
