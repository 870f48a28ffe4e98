package server

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/trailalarm/trailalarm/filterpattern"
	"github.com/trailalarm/trailalarm/internal/rules"
	"github.com/trailalarm/trailalarm/internal/store"
)

//go:embed web
var webFS embed.FS

func staticHandler() http.Handler {
	sub, _ := fs.Sub(webFS, "web/static")
	return http.FileServerFS(sub)
}

var funcs = template.FuncMap{
	"path": url.PathEscape,
	"time": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"ptime": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"age":    age,
	"num":    func(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) },
	"sub":    func(a, b any) float64 { return toFloat(a) - toFloat(b) },
	"lower":  strings.ToLower,
	"indent": indentJSON,
	"dims":   dimsText,
	"bytes":  byteSize,
	"joinv":  func(v []string) string { return strings.Join(v, ", ") },
	"clean":  clean,
	"list":   func(v ...string) []string { return v },
	"ref":    func(t time.Time) *time.Time { return &t },
	"tester": func(csrf string, t *testerView) any {
		return struct {
			CSRF string
			T    *testerView
		}{csrf, t}
	},
}

// pages are parsed once: each page template with the layout.
var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	names, err := fs.Glob(webFS, "web/templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		base := strings.TrimSuffix(n[len("web/templates/"):], ".html")
		if base == "layout" {
			continue
		}
		out[base] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(webFS, "web/templates/layout.html", "web/templates/tester_form.tmpl", n))
	}
	return out
}()

// view is what every page template gets.
type view struct {
	Title  string
	Nav    string
	CSRF   string
	Authed bool // a session or bearer: show the logout button
	Data   any
}

type loginView struct {
	Next  string
	Error string
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	t := pages[name]
	v := &view{Title: name, Nav: name, CSRF: s.csrfToken(w, r), Authed: s.o.Token != "" && s.authenticate(r) != authNone, Data: data}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		slog.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	s.render(w, r, status, "error", err.Error())
}

// overview

type overviewView struct {
	Now     time.Time
	Status  *Status
	Pending int // deliveries waiting, over every notifier
	Failed  int // deliveries given up
	Grid    []gridRow
	Firing  []Alarm
	Counts  map[string]int
	// The charts' window (the last 24 hours, or the store's last day of matches), its
	// account/region columns, how many columns did not fit, and the newest matched minute.
	WindowStart, WindowEnd time.Time
	Columns                []column
	MoreColumns            int
	Newest                 time.Time
}

type gridRow struct {
	RuleID, Title, Severity string
	Alarm, OK, Insufficient int
	Spark                   *sparkline
	Cells                   []cell // per column of the overview
}

// State is the rule's worst state over its series.
func (g *gridRow) State() string {
	switch {
	case g.Alarm > 0:
		return "ALARM"
	case g.OK > 0:
		return "OK"
	}
	return "INSUFFICIENT_DATA"
}

func (s *Server) overviewPage(w http.ResponseWriter, r *http.Request) {
	v := &overviewView{Now: s.o.Now(), Counts: map[string]int{}}
	// The status (outbox counts over every delivery) and the alarms are independent reads of
	// about the same cost: read them side by side (the store has several read connections).
	var statusErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		v.Status, statusErr = s.status(r.Context())
	}()
	as, err := s.alarms(r.Context())
	<-done
	if err == nil {
		err = statusErr
	}
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	for _, c := range v.Status.Outbox {
		switch c.State {
		case store.Pending:
			v.Pending += c.Count
		case store.Failed:
			v.Failed += c.Count
		}
	}
	idx := map[string]int{}
	for _, a := range as {
		i, ok := idx[a.RuleID]
		if !ok {
			i = len(v.Grid)
			idx[a.RuleID] = i
			v.Grid = append(v.Grid, gridRow{RuleID: a.RuleID, Title: a.Title, Severity: a.Severity})
		}
		switch a.State {
		case "ALARM":
			v.Grid[i].Alarm++
			v.Firing = append(v.Firing, a)
		case "OK":
			v.Grid[i].OK++
		default:
			v.Grid[i].Insufficient++
		}
		v.Counts[a.State]++
	}
	if err := s.overviewCharts(r.Context(), v, as); err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	// Firing alarms, oldest first: the ones that have waited longest.
	sort.SliceStable(v.Firing, func(i, j int) bool {
		a, b := v.Firing[i].Since, v.Firing[j].Since
		return a != nil && (b == nil || a.Before(*b))
	})
	s.render(w, r, http.StatusOK, "overview", v)
}

// alerts

type alertsView struct {
	Filter  map[string]string
	Alerts  []store.StoredAlert
	Next    template.URL // the next page: /alerts?filters&cursor=…
	Error   string
	Rules   []*rules.Rule
	Filters []string
}

var filterParams = []string{"rule", "severity", "account", "region", "principal", "to", "since", "until", "limit"}

func (s *Server) alertsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := &alertsView{Filter: map[string]string{}, Rules: s.o.Rules}
	for _, k := range filterParams {
		v.Filter[k] = q.Get(k)
	}
	f, err := s.alertFilter(q)
	if err != nil {
		v.Error = err.Error()
		s.render(w, r, http.StatusBadRequest, "alerts", v)
		return
	}
	page, err := s.o.Store.Alerts(r.Context(), f)
	if err != nil {
		v.Error = err.Error()
		s.render(w, r, http.StatusBadRequest, "alerts", v)
		return
	}
	v.Alerts = page.Alerts
	if page.Next != "" {
		nq := url.Values{}
		for _, k := range filterParams {
			if x := q.Get(k); x != "" {
				nq.Set(k, x)
			}
		}
		nq.Set("cursor", page.Next)
		v.Next = template.URL("/alerts?" + nq.Encode()) // built from url.Values: safe
	}
	s.render(w, r, http.StatusOK, "alerts", v)
}

type alertView struct {
	Alert      store.StoredAlert
	Deliveries []apiDelivery
	Rule       *rules.Rule
	Chart      *metricChart
}

func (s *Server) alertPage(w http.ResponseWriter, r *http.Request) {
	a, ds, err := s.alertWithDeliveries(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, err)
		return
	}
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	v := &alertView{Alert: a, Deliveries: deliveryViews(ds), Rule: s.rules[a.Rule.ID]}
	if v.Chart, err = s.alertChart(r.Context(), a, v.Rule); err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	s.render(w, r, http.StatusOK, "alert", v)
}

// rules and the tester

type rulesView struct {
	Rules  []*rules.Rule
	States map[string]string // rule id → worst state over its series
}

func (s *Server) rulesPage(w http.ResponseWriter, r *http.Request) {
	v := &rulesView{Rules: s.o.Rules, States: map[string]string{}}
	if as, err := s.alarms(r.Context()); err == nil {
		for _, a := range as {
			if cur := v.States[a.RuleID]; cur != "ALARM" && (cur == "" || a.State == "ALARM" || a.State == "OK") {
				v.States[a.RuleID] = a.State
			}
		}
	}
	s.render(w, r, http.StatusOK, "rules", v)
}

type testerView struct {
	Pattern string
	Event   string
	Tested  bool
	Result  *TestResult
	Error   string
	Column  int
	Tree    []explainLine
}

// explainLine is one node of the explain tree, flattened with its depth for the template.
type explainLine struct {
	Depth  int
	Indent string
	Expr   string
	Result bool
	Detail string
}

func flatten(e *filterpattern.Explanation, depth int, out []explainLine) []explainLine {
	out = append(out, explainLine{Depth: depth, Indent: strings.Repeat("  ", depth), Expr: e.Expr, Result: e.Result, Detail: e.Detail})
	for _, c := range e.Children {
		out = flatten(c, depth+1, out)
	}
	return out
}

// runTester reads the tester form (pattern, event) of a POST.
func runTester(w http.ResponseWriter, r *http.Request, pattern string) *testerView {
	tv := &testerView{Pattern: pattern}
	if r.Method != http.MethodPost {
		return tv
	}
	tv.Tested = true
	tv.Pattern = r.PostFormValue("pattern")
	tv.Event = r.PostFormValue("event")
	res, err := testPattern(tv.Pattern, []byte(strings.TrimSpace(tv.Event)))
	if err != nil {
		tv.Error = err.Error()
		var se *filterpattern.SyntaxError
		if errors.As(err, &se) {
			tv.Column = se.Column
		}
		return tv
	}
	tv.Result = res
	tv.Tree = flatten(res.Explain, 0, nil)
	return tv
}

type ruleView2 struct {
	Rule   *rules.Rule
	Alarms []Alarm
	Tester *testerView
	Alarm  string // the alarm settings, described
}

func (s *Server) rulePage(w http.ResponseWriter, r *http.Request) {
	ru := s.rules[r.PathValue("id")]
	if ru == nil {
		s.fail(w, r, http.StatusNotFound, fmt.Errorf("rule %q is not loaded", r.PathValue("id")))
		return
	}
	v := &ruleView2{Rule: ru, Tester: runTester(w, r, ru.Pattern), Alarm: describeAlarm(ru.Alarm)}
	if as, err := s.alarms(r.Context()); err == nil {
		for _, a := range as {
			if a.RuleID == ru.ID && a.Updated != nil {
				v.Alarms = append(v.Alarms, a)
			}
		}
	}
	status := http.StatusOK
	if v.Tester.Error != "" {
		status = http.StatusBadRequest
	}
	s.render(w, r, status, "rule", v)
}

func (s *Server) testerPage(w http.ResponseWriter, r *http.Request) {
	tv := runTester(w, r, r.URL.Query().Get("pattern"))
	status := http.StatusOK
	if tv.Error != "" {
		status = http.StatusBadRequest
	}
	s.render(w, r, status, "tester", tv)
}

func describeAlarm(a rules.AlarmSettings) string {
	op := map[string]string{"GreaterThanOrEqualToThreshold": ">=", "GreaterThanThreshold": ">",
		"LessThanThreshold": "<", "LessThanOrEqualToThreshold": "<="}[a.ComparisonOperator]
	if op == "" {
		op = a.ComparisonOperator
	}
	return fmt.Sprintf("%s %s %g over %d s, %d of %d periods, missing data: %s",
		a.Statistic, op, a.Threshold, a.Period, a.DatapointsToAlarm, a.EvaluationPeriods, a.TreatMissingData)
}

// status

func (s *Server) statusPage(w http.ResponseWriter, r *http.Request) {
	st, err := s.status(r.Context())
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	s.render(w, r, http.StatusOK, "status", st)
}

// helpers for templates

func age(now time.Time, t *time.Time) string {
	if t == nil || t.IsZero() {
		return "—"
	}
	d := now.Sub(*t)
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func indentJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		return string(raw)
	}
	return b.String()
}

// clean shows control characters (a source name's separator, say) as a middle dot.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '·'
		}
		return r
	}, s)
}

func dimsText(d map[string]string) string {
	if len(d) == 0 {
		return "—"
	}
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + d[k]
	}
	return strings.Join(parts, ", ")
}

func byteSize(n int64) string {
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

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	}
	return 0
}
