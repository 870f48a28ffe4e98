package server

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trailalarm/trailalarm/internal/alarm"
	"github.com/trailalarm/trailalarm/internal/store"
)

// TestOverviewGrid: the overview shows each rule's state per account and region, with a
// sparkline of its matches; the firing cells link to the alert that entered ALARM.
func TestOverviewGrid(t *testing.T) {
	f := newFixture(t, 4)
	w := f.do(t, "GET", "/", "", bearer)
	body := w.Body.String()
	if w.Code != 200 {
		t.Fatalf("GET /: %d\n%s", w.Code, body)
	}
	for _, want := range []string{
		`<th class="col"><span>111111111111</span><span>us-east-1</span></th>`,
		`<th class="col"><span>222222222222</span><span>us-east-1</span></th>`,
		`<svg class="spark"`,
		`<title>2026-03-01 12:00:00Z: 4</title>`, // the first 30 minutes: 4 matches over 2 accounts
		`<span class="n">4</span>`,               // the rule's total over the window
		`<td class="cell ALARM"><a href="/alerts/`,
		`<td class="cell INSUFFICIENT_DATA">·</td>`, // a rule never evaluated
	} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	// The root rule's row: ALARM in both accounts (its two firing series), each cell linking to
	// the newest ALARM alert of that account, with 2 matches each.
	grid := body[strings.Index(body, `<table class="grid">`):]
	row := regexp.MustCompile(`(?s)<tr><td><a href="/rules/cis-1.2:3.3">.*?</tr>`).FindString(grid)
	if got := strings.Count(row, `<td class="cell ALARM"><a href="/alerts/`); got != 2 {
		t.Errorf("root rule row has %d firing cells, want 2:\n%s", got, row)
	}
	for _, id := range []string{f.ids[2], f.ids[3]} {
		if !strings.Contains(row, `href="/alerts/`+id+`">ALARM</a> <span class="n">2</span>`) {
			t.Errorf("root rule row lacks the link to %s with 2 matches:\n%s", id, row)
		}
	}
	if !strings.Contains(body, "Newest matched event: 2026-03-01 12:03:00Z") {
		t.Errorf("overview lacks the newest matched event")
	}
}

// TestOverviewArchiveWindow: a store whose matches are older than a day (run over an
// archive) shows its own last day, not an empty one.
func TestOverviewArchiveWindow(t *testing.T) {
	f := newFixture(t, 2)
	h := New(Options{Store: f.st, Rules: f.rules, Token: testToken, Now: func() time.Time { return t0.Add(90 * 24 * time.Hour) }})
	f.h = h
	body := f.do(t, "GET", "/", "", bearer).Body.String()
	if !strings.Contains(body, "to 2026-03-01 12:30:00Z") || !strings.Contains(body, `<span class="n">2</span>`) {
		t.Errorf("archive window:\n%s", body)
	}
}

// TestChartEscaping: rule ids, accounts and regions are text in the SVG and the grid, even
// when they hold markup.
func TestChartEscaping(t *testing.T) {
	f := newFixture(t, 1)
	evil := `<script>alert(7)</script>`
	snap := alarm.StreamSnapshot{Watermark: t0, Evaluated: t0, Series: []alarm.SeriesSnapshot{{Key: `[["account","` + `\u003cb\u003e` + `"]]`, State: alarm.StateAlarm}}}
	blob, _ := json.Marshal(map[string]any{"stream": snap})
	if _, err := f.st.Commit(context.Background(), store.Batch{Time: t0.Add(4 * time.Hour),
		AlarmStates: []store.AlarmState{{RuleID: evil, State: blob}},
		Matches:     []store.MatchCount{{Rule: evil, Account: `"><svg onload=alert(8)>`, Region: `<img src=x onerror=alert(9)>`, Minute: t0, Count: 3}},
	}); err != nil {
		t.Fatal(err)
	}
	body := f.do(t, "GET", "/", "", bearer).Body.String()
	for _, raw := range []string{evil, `<svg onload`, `<img src=x`, "<b>"} {
		if strings.Contains(body, raw) {
			t.Errorf("overview renders %q raw", raw)
		}
	}
	for _, esc := range []string{"&lt;script&gt;alert(7)&lt;/script&gt;", "&#34;&gt;&lt;svg onload=alert(8)&gt;", "&lt;img src=x onerror=alert(9)&gt;"} {
		if !strings.Contains(body, esc) {
			t.Errorf("overview lacks the escaped %q", esc)
		}
	}
	if !strings.Contains(body, `href="/rules/%3Cscript%3Ealert%287%29%3C%2Fscript%3E"`) {
		t.Errorf("rule link not path-escaped")
	}
	var got struct{ Counts []MatchCountView }
	f.getJSON(t, "/api/v1/matches?since=2026-01-01T00:00:00Z&rule="+url.QueryEscape(evil), &got)
	if len(got.Counts) != 1 || got.Counts[0].Account != `"><svg onload=alert(8)>` {
		t.Errorf("API returns %+v", got)
	}
}

// TestAlertChart: the alert page draws the datapoints its reason lists, the threshold and the
// matches around the alert.
func TestAlertChart(t *testing.T) {
	f := newFixture(t, 0)
	root := ruleByID(t, f.rules, "cis-1.2:3.3")
	a := newAlert(root, 30, "111111111111", "OK", "ALARM", "aws-cli")
	at := a.Time
	a.Reason = "Threshold Crossed: 1 datapoint [3.0 (" + at.Truncate(5*time.Minute).Format("02/01/06 15:04:05") + ")] was greater than or equal to the threshold (1.0)."
	a.Finish()
	var ms []store.MatchCount
	for i := range 3 {
		ms = append(ms, store.MatchCount{Rule: root.ID, Account: "111111111111", Region: "us-east-1", Minute: at.Truncate(time.Minute).Add(time.Duration(i) * time.Minute), Count: 1})
	}
	ms = append(ms, store.MatchCount{Rule: root.ID, Account: "999999999999", Region: "us-east-1", Minute: at.Truncate(time.Minute), Count: 50})
	if _, err := f.st.Commit(context.Background(), store.Batch{Time: t0.Add(time.Hour), Alerts: []store.NewAlert{{Alert: a}}, Matches: ms}); err != nil {
		t.Fatal(err)
	}
	w := f.do(t, "GET", "/alerts/"+a.ID, "", bearer)
	body := w.Body.String()
	if w.Code != 200 {
		t.Fatalf("%d\n%s", w.Code, body)
	}
	for _, want := range []string{
		`<svg class="metric"`,
		`<line class="threshold"`, "threshold 1</text>",
		`<circle class="point"`, "<title>" + at.Truncate(5*time.Minute).Format("2006-01-02 15:04:05Z") + ": 3</title>",
		// The other account's 50 matches are not this alert's: the bars count 3.
		": 3 matches</title>", "matches per 5m0s (account 111111111111, region us-east-1)",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("alert page lacks %q", want)
		}
	}
	if strings.Contains(body, ": 50 matches") || strings.Contains(body, ": 53 matches") {
		t.Error("alert chart counts another account's matches")
	}
}

// TestParseReason reads back the datapoints of reasons that internal/alarm wrote.
func TestParseReason(t *testing.T) {
	s := alarm.Settings{Period: 300, Statistic: "Sum", Threshold: 2.5, ComparisonOperator: alarm.GreaterThanOrEqualToThreshold,
		EvaluationPeriods: 3, DatapointsToAlarm: 2, TreatMissingData: alarm.NotBreaching}
	var series alarm.Series
	for i, v := range []float64{3, 1, 4, 1e7} {
		series.Samples = append(series.Samples, alarm.Sample{Time: t0.Add(time.Duration(i) * 5 * time.Minute), Value: v})
	}
	ts, err := alarm.Evaluate(s, series, t0.Add(-time.Hour), t0.Add(2*time.Hour))
	if err != nil || len(ts) == 0 {
		t.Fatalf("evaluate: %v %v", ts, err)
	}
	for _, tr := range ts {
		pts, thr, ok := parseReason(tr.Reason)
		if strings.Contains(tr.Reason, "the threshold") && (!ok || thr != 2.5) {
			t.Errorf("%q: threshold %v %v", tr.Reason, thr, ok)
		}
		if strings.Contains(tr.Reason, "[") && len(pts) == 0 {
			t.Errorf("%q: no datapoints read", tr.Reason)
		}
		for _, p := range pts {
			found := false
			for _, d := range tr.Evaluated {
				if d.Time.Equal(p.Time) && d.Value == p.Value {
					found = true
				}
			}
			if !found {
				t.Errorf("%q: datapoint %+v is not among the evaluated %+v", tr.Reason, p, tr.Evaluated)
			}
		}
	}
	if pts, _, ok := parseReason("Insufficient Data: 1 datapoint was unknown."); len(pts) != 0 || ok {
		t.Errorf("insufficient data reason: %v %v", pts, ok)
	}
}

// TestAPIMatches: the match-count series, filtered and bucketed.
func TestAPIMatches(t *testing.T) {
	f := newFixture(t, 6)
	var got struct {
		Step   string
		Counts []MatchCountView
	}
	f.getJSON(t, "/api/v1/matches", &got) // the last 24 hours before now (t0+3h)
	if got.Step != "1m0s" || len(got.Counts) != 6 || got.Counts[0].Rule != "cis-1.2:3.3" || got.Counts[0].Count != 1 {
		t.Errorf("default: %+v", got)
	}
	f.getJSON(t, "/api/v1/matches?step=1h&account=222222222222", &got)
	if got.Step != "1h0m0s" || len(got.Counts) != 1 || got.Counts[0].Count != 3 || !got.Counts[0].Start.Equal(t0) {
		t.Errorf("hourly for one account: %+v", got)
	}
	f.getJSON(t, "/api/v1/matches?since=2026-03-01T12:02:00Z&until=2026-03-01T12:04:00Z&region=us-east-1", &got)
	if len(got.Counts) != 2 {
		t.Errorf("since/until: %+v", got)
	}
	f.getJSON(t, "/api/v1/matches?rule=nope", &got)
	if len(got.Counts) != 0 || got.Counts == nil {
		t.Errorf("unknown rule: %+v (want an empty list)", got)
	}
	for _, q := range []string{"step=90s", "step=0m", "step=x", "since=yesterday", "until=x"} {
		w := f.do(t, "GET", "/api/v1/matches?"+q, "", bearer)
		if w.Code != 400 || !strings.Contains(w.Body.String(), `"error"`) {
			t.Errorf("%s: %d %s", q, w.Code, w.Body)
		}
	}
	if w := f.do(t, "GET", "/api/v1/matches", "", nil); w.Code != 401 {
		t.Errorf("without the token: %d", w.Code)
	}
}

// TestEarlyAlarmState: a series whose ALARM was raised early (before its period was evaluated)
// is in ALARM on the overview and in the API, as its alert said.
func TestEarlyAlarmState(t *testing.T) {
	f := newFixture(t, 0)
	snap := alarm.StreamSnapshot{Watermark: t0, Evaluated: t0.Add(-5 * time.Minute), Series: []alarm.SeriesSnapshot{
		{Key: "", State: alarm.StateInsufficientData, EarlyAlarm: t0.Add(time.Minute)}}}
	blob, _ := json.Marshal(map[string]any{"stream": snap})
	if _, err := f.st.Commit(context.Background(), store.Batch{Time: t0, AlarmStates: []store.AlarmState{{RuleID: "cis-1.2:3.1", State: blob}}}); err != nil {
		t.Fatal(err)
	}
	var got struct{ Alarms []Alarm }
	f.getJSON(t, "/api/v1/alarms", &got)
	for _, a := range got.Alarms {
		if a.RuleID == "cis-1.2:3.1" && a.State != "ALARM" {
			t.Errorf("early-alarmed series is %s, want ALARM", a.State)
		}
	}
	body := f.do(t, "GET", "/", "", bearer).Body.String()
	if !regexp.MustCompile(`cis-1.2:3.1</a>[^\n]*\n<td class="state ALARM"`).MatchString(body) {
		t.Errorf("overview does not show the early ALARM:\n%s", body)
	}
}

// TestAlertChartEscaping: the chart's caption names the alert's account and region as text.
func TestAlertChartEscaping(t *testing.T) {
	f := newFixture(t, 0)
	root := ruleByID(t, f.rules, "cis-1.2:3.3")
	a := newAlert(root, 0, `<script>alert(10)</script>`, "OK", "ALARM", "ua")
	a.Finish()
	if _, err := f.st.Commit(context.Background(), store.Batch{Time: t0, Alerts: []store.NewAlert{{Alert: a}}}); err != nil {
		t.Fatal(err)
	}
	body := f.do(t, "GET", "/alerts/"+a.ID, "", bearer).Body.String()
	if strings.Contains(body, "<script>alert(10)") || !strings.Contains(body, "(account &lt;script&gt;alert(10)&lt;/script&gt;, region us-east-1)") {
		t.Errorf("alert chart caption:\n%s", body)
	}
}
