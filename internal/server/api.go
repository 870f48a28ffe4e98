package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/trailalarm/trailalarm/filterpattern"
	"github.com/trailalarm/trailalarm/internal/alarm"
	"github.com/trailalarm/trailalarm/internal/alert"
	"github.com/trailalarm/trailalarm/internal/rules"
	"github.com/trailalarm/trailalarm/internal/store"
)

// Alarm is one rule's alarm state for one metric series.
type Alarm struct {
	RuleID     string            `json:"ruleId"`
	Title      string            `json:"title,omitempty"`
	Severity   string            `json:"severity,omitempty"`
	Dimensions map[string]string `json:"dimensions"`
	State      string            `json:"state"`
	// Since is the time of the alert that entered the state; nil when the store has none
	// (no series yet, or the alert was pruned).
	Since   *time.Time `json:"since,omitempty"`
	AlertID string     `json:"alertId,omitempty"` // that alert
	Updated *time.Time `json:"updated,omitempty"` // when the rule's state was last committed
	// Accounts and Regions are those of the records the alert that entered the state cites.
	Accounts []string `json:"accounts,omitempty"`
	Regions  []string `json:"regions,omitempty"`

	cells []column // the (account, region) pairs of those records, for the overview's grid
}

// ruleState is the part of the runner's per-rule blob (internal/run's ruleState) read here.
type ruleState struct {
	Stream alarm.StreamSnapshot `json:"stream"`
}

// alarms lists every rule's alarm state per series: loaded rules first (in their order), then
// rules that only the store knows.
func (s *Server) alarms(ctx context.Context) ([]Alarm, error) {
	states, err := s.o.Store.AlarmStates(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[string]store.AlarmState{}
	var ids []string
	for _, r := range s.o.Rules {
		ids = append(ids, r.ID)
	}
	var extra []string
	for _, st := range states {
		byID[st.RuleID] = st
		if s.rules[st.RuleID] == nil {
			extra = append(extra, st.RuleID)
		}
	}
	sort.Strings(extra)
	ids = append(ids, extra...)
	out := []Alarm{}
	for _, id := range ids {
		base := Alarm{RuleID: id, Dimensions: map[string]string{}, State: alarm.StateInsufficientData.String()}
		if r := s.rules[id]; r != nil {
			base.Title, base.Severity = r.Title, r.Severity.String()
		}
		st, ok := byID[id]
		if !ok {
			out = append(out, base)
			continue
		}
		updated := st.Updated
		base.Updated = &updated
		var rs ruleState
		if err := json.Unmarshal(st.State, &rs); err != nil || len(rs.Stream.Series) == 0 {
			out = append(out, base)
			continue
		}
		// Since when: the newest alert of the rule per series (every transition is an alert).
		latest := map[string]store.StoredAlert{}
		if page, err := s.o.Store.Alerts(ctx, store.AlertFilter{Rule: id, Limit: 200}); err == nil {
			for _, a := range page.Alerts {
				k := dimsKey(a.Dimensions)
				if _, seen := latest[k]; !seen {
					latest[k] = a
				}
			}
		}
		for _, ser := range rs.Stream.Series {
			a := base
			a.Dimensions = alarm.SeriesDimensions(ser.Key)
			a.State = ser.State.String()
			if !ser.EarlyAlarm.IsZero() {
				// An early ALARM was raised (and alerted) before its period was evaluated: the
				// series is in ALARM although the evaluated state does not say so yet.
				a.State = alarm.StateAlarm.String()
			}
			if la, ok := latest[dimsKey(a.Dimensions)]; ok && la.To == a.State {
				t := la.Time
				a.Since, a.AlertID = &t, la.ID
				a.Accounts, a.Regions = la.Accounts, la.Regions
				for _, e := range la.Evidence {
					c := column{e.RecipientAccountID, e.AWSRegion}
					if !slices.Contains(a.cells, c) {
						a.cells = append(a.cells, c)
					}
				}
			}
			out = append(out, a)
		}
	}
	return out, nil
}

func dimsKey(d map[string]string) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(d[k])
		b.WriteByte(0)
	}
	return b.String()
}

func (s *Server) apiAlarms(w http.ResponseWriter, r *http.Request) {
	as, err := s.alarms(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error(), 0)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"alarms": as})
}

// alertFilter reads the filter query parameters. since and until take RFC 3339 times or a
// duration back from now ("24h").
func (s *Server) alertFilter(q map[string][]string) (store.AlertFilter, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	f := store.AlertFilter{Rule: get("rule"), Severity: strings.ToLower(get("severity")), Account: get("account"),
		Region: get("region"), Principal: get("principal"), To: strings.ToUpper(get("to")), Cursor: get("cursor")}
	var err error
	if f.Since, err = s.parseTime("since", get("since")); err != nil {
		return f, err
	}
	if f.Until, err = s.parseTime("until", get("until")); err != nil {
		return f, err
	}
	if l := get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return f, fmt.Errorf("limit %q: give a positive number (at most %d)", l, store.MaxLimit)
		}
		f.Limit = min(n, store.MaxLimit)
	}
	if f.Severity != "" {
		if _, err := rules.ParseSeverity(f.Severity); err != nil {
			return f, err
		}
	}
	if f.To != "" {
		if _, err := alarm.ParseState(f.To); err != nil {
			return f, fmt.Errorf("to: %w", err)
		}
	}
	return f, nil
}

func (s *Server) parseTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02T15:04", v); err == nil { // <input type=datetime-local>
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(strings.TrimPrefix(v, "-")); err == nil {
		return s.o.Now().Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%s %q: give an RFC 3339 time (2026-01-02T15:04:05Z), a date, or a duration back from now (24h)", name, v)
}

// apiAlertView is an alert as the API returns it.
type apiAlertView struct {
	alert.Alert
	Committed  time.Time           `json:"committed"`
	Delivery   store.DeliveryState `json:"delivery"`
	Deliveries []apiDelivery       `json:"deliveries,omitempty"`
}

type apiDelivery struct {
	Notifier    string              `json:"notifier"`
	State       store.DeliveryState `json:"state"`
	Attempts    int                 `json:"attempts"`
	LastError   string              `json:"lastError,omitempty"`
	NextAttempt *time.Time          `json:"nextAttempt,omitempty"`
	Updated     time.Time           `json:"updated"`
	DeliveredAt *time.Time          `json:"deliveredAt,omitempty"`
}

func deliveryViews(ds []store.Delivery) []apiDelivery {
	out := make([]apiDelivery, 0, len(ds))
	for _, d := range ds {
		v := apiDelivery{Notifier: d.Notifier, State: d.State, Attempts: d.Attempts, LastError: d.LastError, Updated: d.Updated}
		if d.State == store.Pending && !d.NextAttempt.IsZero() {
			t := d.NextAttempt
			v.NextAttempt = &t
		}
		if !d.DeliveredAt.IsZero() {
			t := d.DeliveredAt
			v.DeliveredAt = &t
		}
		out = append(out, v)
	}
	return out
}

func (s *Server) apiAlerts(w http.ResponseWriter, r *http.Request) {
	f, err := s.alertFilter(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), 0)
		return
	}
	page, err := s.o.Store.Alerts(r.Context(), f)
	if err != nil {
		status := http.StatusInternalServerError
		if f.Cursor != "" && strings.Contains(err.Error(), "cursor") {
			status = http.StatusBadRequest
		}
		writeError(w, status, err.Error(), 0)
		return
	}
	// The list carries each record's summary; the records themselves are in alerts/{id}.
	out := make([]apiAlertView, 0, len(page.Alerts))
	for _, a := range page.Alerts {
		v := apiAlertView{Alert: a.Alert, Committed: a.Committed, Delivery: a.Delivery}
		v.Evidence = make([]alert.Evidence, len(a.Evidence))
		for i, e := range a.Evidence {
			e.Record = nil
			v.Evidence[i] = e
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": out, "next": page.Next})
}

func (s *Server) apiAlert(w http.ResponseWriter, r *http.Request) {
	a, ds, err := s.alertWithDeliveries(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, err.Error(), 0)
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error(), 0)
		return
	}
	writeJSON(w, http.StatusOK, apiAlertView{Alert: a.Alert, Committed: a.Committed, Delivery: a.Delivery, Deliveries: deliveryViews(ds)})
}

func (s *Server) alertWithDeliveries(ctx context.Context, id string) (store.StoredAlert, []store.Delivery, error) {
	a, err := s.o.Store.Alert(ctx, id)
	if err != nil {
		return a, nil, err
	}
	ds, err := s.o.Store.Deliveries(ctx, id)
	return a, ds, err
}

// RuleView is a rule as the API returns it.
type RuleView struct {
	ID             string              `json:"id"`
	Title          string              `json:"title"`
	Description    string              `json:"description,omitempty"`
	Severity       string              `json:"severity"`
	Pack           string              `json:"pack,omitempty"`
	Pattern        string              `json:"pattern"`
	Metric         MetricView          `json:"metric"`
	Alarm          rules.AlarmSettings `json:"alarm"`
	References     rules.References    `json:"references"`
	Remediation    string              `json:"remediation,omitempty"`
	FalsePositives string              `json:"falsePositives,omitempty"`
	Notes          string              `json:"notes,omitempty"`
	Allow          []string            `json:"allow,omitempty"`
	Source         string              `json:"source"` // file:line:col
}

// MetricView is a rule's metric transformation.
type MetricView struct {
	Name         string            `json:"name"`
	Namespace    string            `json:"namespace"`
	Value        string            `json:"value"`
	DefaultValue *float64          `json:"defaultValue,omitempty"`
	Dimensions   map[string]string `json:"dimensions,omitempty"`
	Unit         string            `json:"unit,omitempty"`
}

func ruleView(r *rules.Rule) RuleView {
	v := RuleView{ID: r.ID, Title: r.Title, Description: r.Description, Severity: r.Severity.String(), Pack: r.Pack,
		Pattern: r.Pattern, Alarm: r.Alarm, References: r.References, Remediation: r.Remediation,
		FalsePositives: r.FalsePositives, Notes: r.Notes, Source: r.Position(),
		Metric: MetricView{Name: r.Metric.Name, Namespace: r.Metric.Namespace, Value: r.Metric.Value,
			DefaultValue: r.Metric.DefaultValue, Unit: r.Metric.Unit}}
	if len(r.Metric.Dimensions) > 0 {
		v.Metric.Dimensions = map[string]string{}
		for _, d := range r.Metric.Dimensions {
			v.Metric.Dimensions[d.Name] = d.Value
		}
	}
	for _, a := range r.Allow {
		v.Allow = append(v.Allow, a.String())
	}
	return v
}

func (s *Server) apiRules(w http.ResponseWriter, r *http.Request) {
	out := make([]RuleView, 0, len(s.o.Rules))
	for _, ru := range s.o.Rules {
		out = append(out, ruleView(ru))
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": out})
}

func (s *Server) apiRule(w http.ResponseWriter, r *http.Request) {
	ru := s.rules[r.PathValue("id")]
	if ru == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("rule %q is not loaded", r.PathValue("id")), 0)
		return
	}
	writeJSON(w, http.StatusOK, ruleView(ru))
}

// TestResult is the answer of the pattern tester.
type TestResult struct {
	Match           bool                       `json:"match"`
	Explain         *filterpattern.Explanation `json:"explain"`
	ExtractedValues []ExtractedValue           `json:"extractedValues"`
}

// ExtractedValue is one of TestMetricFilter's extracted values.
type ExtractedValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// maxTestBody bounds the tester's input: a CloudTrail record is at most a few hundred KB.
const maxTestBody = 1 << 20

// testPattern runs the tester: a parse error comes back as a *filterpattern.SyntaxError.
func testPattern(pattern string, event []byte) (*TestResult, error) {
	p, err := filterpattern.Parse(pattern)
	if err != nil {
		return nil, err
	}
	res := &TestResult{Explain: p.Explain(event), ExtractedValues: []ExtractedValue{}}
	res.Match = res.Explain.Result
	for _, v := range p.ExtractedValues(event) {
		res.ExtractedValues = append(res.ExtractedValues, ExtractedValue{Name: v.Name, Value: v.Value})
	}
	return res, nil
}

func (s *Server) apiTest(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxTestBody)
	var req struct {
		Pattern *string         `json:"pattern"`
		Event   json.RawMessage `json:"event"`
	}
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "body: want {\"pattern\": \"…\", \"event\": {…} or \"…\"}: "+err.Error(), 0)
		return
	}
	if req.Pattern == nil {
		writeError(w, http.StatusBadRequest, `body: "pattern" is missing`, 0)
		return
	}
	event := []byte(req.Event)
	var str string
	if len(event) > 0 && event[0] == '"' && json.Unmarshal(event, &str) == nil {
		event = []byte(str) // a raw log event given as a JSON string
	}
	res, err := testPattern(*req.Pattern, event)
	if err != nil {
		col := 0
		var se *filterpattern.SyntaxError
		if errors.As(err, &se) {
			col = se.Column
		}
		writeError(w, http.StatusBadRequest, err.Error(), col)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// Status is what /api/v1/status and the status page show.
type Status struct {
	Now         time.Time           `json:"now"`
	Checkpoints []CheckpointView    `json:"checkpoints"`
	StoreBytes  int64               `json:"storeBytes"`
	Outbox      []store.OutboxCount `json:"outbox"`
	Workers     []WorkerView        `json:"workers"`
}

// CheckpointView is one source's position.
type CheckpointView struct {
	Source   string    `json:"source"`
	Position string    `json:"position"`
	Updated  time.Time `json:"updated"`
}

// WorkerView is one process that sent heartbeats.
type WorkerView struct {
	ID      string    `json:"id"`
	Started time.Time `json:"started"`
	Seen    time.Time `json:"seen"`
}

func (s *Server) status(ctx context.Context) (*Status, error) {
	st := &Status{Now: s.o.Now().UTC(), Checkpoints: []CheckpointView{}, Outbox: []store.OutboxCount{}, Workers: []WorkerView{}}
	cps, err := s.o.Store.Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cps {
		st.Checkpoints = append(st.Checkpoints, CheckpointView{Source: c.Source, Position: c.Position, Updated: c.Updated})
	}
	if st.StoreBytes, err = s.o.Store.Size(ctx); err != nil {
		return nil, err
	}
	oc, err := s.o.Store.OutboxCounts(ctx)
	if err != nil {
		return nil, err
	}
	st.Outbox = append(st.Outbox, oc...)
	ws, err := s.o.Store.Workers(ctx)
	if err != nil {
		return nil, err
	}
	for _, wk := range ws {
		st.Workers = append(st.Workers, WorkerView{ID: wk.ID, Started: wk.Started, Seen: wk.Seen})
	}
	return st, nil
}

func (s *Server) apiStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.status(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error(), 0)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// writeError answers {"error": msg} and, for a pattern error, its 1-based column.
func writeError(w http.ResponseWriter, status int, msg string, column int) {
	body := map[string]any{"error": msg}
	if column > 0 {
		body["column"] = column
	}
	writeJSON(w, status, body)
}
