package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trailalarm/trailalarm/internal/alarm"
	"github.com/trailalarm/trailalarm/internal/alert"
	"github.com/trailalarm/trailalarm/internal/rules"
	"github.com/trailalarm/trailalarm/internal/store"
)

const testToken = "s3cret-token"

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const hostileUA = `<script>alert(1)</script>`

const hostileUser = `<img src=x onerror=alert(2)>`

// record builds a CloudTrail record; i varies the event.
func record(i int, account, ua string) []byte {
	r := map[string]any{
		"eventVersion": "1.08", "eventTime": t0.Add(time.Duration(i) * time.Minute).Format(time.RFC3339),
		"eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "awsRegion": "us-east-1",
		"sourceIPAddress": "198.51.100.7", "userAgent": ua, "eventID": fmt.Sprintf("ev-%d", i),
		"eventType": "AwsConsoleSignIn", "recipientAccountId": account,
		"userIdentity": map[string]any{"type": "Root", "arn": "arn:aws:iam::" + account + ":root", "accountId": account},
	}
	if ua == hostileUA {
		r["userIdentity"] = map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::" + account + ":user/" + hostileUser, "accountId": account, "userName": hostileUser}
	}
	r["requestParameters"] = map[string]any{"note": "<b>bold</b>"}
	b, _ := json.Marshal(r)
	return b
}

// newAlert builds an alert as internal/run does.
func newAlert(r *rules.Rule, i int, account, from, to, ua string) alert.Alert {
	a := alert.Alert{
		Rule: alert.Rule{ID: r.ID, Title: r.Title, Severity: r.Severity.String(), Pack: r.Pack,
			Description: r.Description, Remediation: r.Remediation},
		Dimensions: map[string]string{"account": account}, Time: t0.Add(time.Duration(i) * time.Minute),
		From: from, To: to, Reason: "Threshold Crossed: 1 datapoint [1.0] was greater than or equal to the threshold (1.0).",
		EvidenceCount: 1, Evidence: []alert.Evidence{alert.NewEvidence(record(i, account, ua))},
	}
	a.Finish()
	return a
}

func testRules(t testing.TB) []*rules.Rule {
	rs, err := rules.Pack("cis-1.2")
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func ruleByID(t testing.TB, rs []*rules.Rule, id string) *rules.Rule {
	for _, r := range rs {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no rule %s", id)
	return nil
}

type fixture struct {
	st    *store.SQLite
	rules []*rules.Rule
	h     http.Handler
	ids   []string // alert ids, oldest first
}

// newFixture fills a real SQLite store: n alerts of the root-usage rule (alternating two
// accounts; the first has a hostile user agent), its alarm state, a checkpoint, a worker.
func newFixture(t testing.TB, n int) *fixture {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rs := testRules(t)
	root := ruleByID(t, rs, "cis-1.2:3.3")
	f := &fixture{st: st, rules: rs}
	ctx := context.Background()
	batch := store.Batch{Time: t0.Add(time.Hour), Checkpoints: []store.Checkpoint{{Source: "folder", Position: "2026/03/01/x.json.gz"}}}
	for i := range n {
		acct := "111111111111"
		if i%2 == 1 {
			acct = "222222222222"
		}
		ua := "aws-cli/2.0"
		if i == 0 {
			ua = hostileUA
		}
		from, to := "OK", "ALARM"
		if i == 1 {
			from, to = "INSUFFICIENT_DATA", "ALARM"
		}
		a := newAlert(root, i, acct, from, to, ua)
		f.ids = append(f.ids, a.ID)
		batch.Alerts = append(batch.Alerts, store.NewAlert{Alert: a, Notifiers: []string{"stdout"}})
		// The record behind each alert counted as a match, as internal/run does.
		batch.Matches = append(batch.Matches, store.MatchCount{Rule: root.ID, Account: acct, Region: "us-east-1", Minute: a.Time, Count: 1})
		if len(batch.Alerts) == 1000 || i == n-1 {
			if _, err := st.Commit(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = store.Batch{Time: t0.Add(time.Hour)}
		}
	}
	snap := alarm.StreamSnapshot{Watermark: t0, Evaluated: t0, Series: []alarm.SeriesSnapshot{
		{Key: `[["account","111111111111"]]`, State: alarm.StateAlarm},
		{Key: `[["account","222222222222"]]`, State: alarm.StateAlarm},
		{Key: `[["account","333333333333"]]`, State: alarm.StateOK},
	}}
	blob, _ := json.Marshal(map[string]any{"stream": snap, "evidence": []any{}})
	if _, err := st.Commit(ctx, store.Batch{Time: t0.Add(2 * time.Hour), AlarmStates: []store.AlarmState{{RuleID: root.ID, State: blob}},
		Checkpoints: []store.Checkpoint{{Source: "s3-main", Position: "AWSLogs/111111111111/CloudTrail/us-east-1/2026/03/01/k.json.gz"}}}); err != nil {
		t.Fatal(err)
	}
	if len(f.ids) > 0 {
		if err := st.Failed(ctx, f.ids[0], "stdout", t0.Add(3*time.Hour), "broken pipe <b>", time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Heartbeat(ctx, "worker-1", t0); err != nil {
		t.Fatal(err)
	}
	f.h = New(Options{Store: st, Rules: rs, Token: testToken, Now: func() time.Time { return t0.Add(3 * time.Hour) },
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "trailalarm_up 1\n") }),
		Health:  http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"status":"ok"}`) })})
	return f
}

// do sends a request; auth is "bearer", a cookie header value, or "".
func (f *fixture) do(t testing.TB, method, target, body string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, req)
	return w
}

var bearer = map[string]string{"Authorization": "Bearer " + testToken}

func (f *fixture) getJSON(t *testing.T, target string, v any) {
	t.Helper()
	w := f.do(t, "GET", target, "", bearer)
	if w.Code != 200 {
		t.Fatalf("GET %s: %d %s", target, w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("GET %s: Content-Type %q", target, ct)
	}
	if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
		t.Fatalf("GET %s: %v\n%s", target, err, w.Body)
	}
}

var protected = []string{"/", "/alerts", "/alerts/ID", "/rules", "/rules/cis-1.2:3.3", "/test", "/status",
	"/api/v1/alarms", "/api/v1/alerts", "/api/v1/alerts/ID", "/api/v1/rules", "/api/v1/rules/cis-1.2:3.3", "/api/v1/status", "/api/v1/matches", "/metrics"}

func TestAuthRequired(t *testing.T) {
	f := newFixture(t, 3)
	for _, p := range protected {
		p = strings.Replace(p, "ID", f.ids[0], 1)
		for _, hdr := range []map[string]string{nil, {"Authorization": "Bearer wrong"}, {"Cookie": sessionCookie + "=forged.9999999999.AAAA"}} {
			w := f.do(t, "GET", p, "", hdr)
			if strings.HasPrefix(p, "/api/") || p == "/metrics" {
				if w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") == "" {
					t.Errorf("GET %s %v: %d, want 401 with WWW-Authenticate", p, hdr, w.Code)
				}
				if strings.Contains(w.Body.String(), "trailalarm_up") || strings.Contains(w.Body.String(), "111111111111") {
					t.Errorf("GET %s without token leaks data: %s", p, w.Body)
				}
				continue
			}
			if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/login?next=") {
				t.Errorf("GET %s %v: %d Location %q, want a redirect to /login", p, hdr, w.Code, w.Header().Get("Location"))
			}
		}
		if w := f.do(t, "GET", p, "", bearer); w.Code != 200 {
			t.Errorf("GET %s with the token: %d %s", p, w.Code, w.Body)
		}
	}
	// POST /api/v1/test needs it too.
	if w := f.do(t, "POST", "/api/v1/test", `{"pattern":"x","event":"x"}`, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("POST /api/v1/test without token: %d", w.Code)
	}
	// /healthz and the assets are open.
	for _, p := range []string{"/healthz", "/static/style.css", "/static/app.js"} {
		if w := f.do(t, "GET", p, "", nil); w.Code != 200 {
			t.Errorf("GET %s: %d", p, w.Code)
		}
	}
	// requireToken's table for /metrics: the token without "Bearer " is refused.
	if w := f.do(t, "GET", "/metrics", "", map[string]string{"Authorization": testToken}); w.Code != 401 {
		t.Errorf("/metrics with the bare token: %d", w.Code)
	}
	if w := f.do(t, "GET", "/metrics", "", bearer); !strings.Contains(w.Body.String(), "trailalarm_up 1") {
		t.Errorf("/metrics with the token: %s", w.Body)
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t, 1)
	for _, p := range []string{"/healthz", "/login", "/", "/api/v1/alerts", "/static/app.js", "/nope"} {
		w := f.do(t, "GET", p, "", bearer)
		h := w.Header()
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "script-src 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP allows inline: %q", p, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", p, h)
		}
	}
	// No page has an inline script or style attribute that the CSP would block anyway.
	for _, p := range []string{"/", "/alerts", "/alerts/" + f.ids[0], "/rules", "/rules/cis-1.2:3.3", "/test", "/status", "/login"} {
		hdr := bearer
		if p == "/login" {
			hdr = nil
		}
		w := f.do(t, "GET", p, "", hdr)
		body := w.Body.String()
		if regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`).MatchString(body) || strings.Contains(body, " style=") || strings.Contains(body, " onclick=") {
			t.Errorf("%s has inline script or style:\n%s", p, body)
		}
		if !strings.Contains(body, `<script src="/static/app.js" defer></script>`) {
			t.Errorf("%s does not load app.js", p)
		}
	}
}

// login performs the login flow and returns the cookies to send afterwards.
func login(t *testing.T, f *fixture, token string) (*httptest.ResponseRecorder, string) {
	t.Helper()
	w := f.do(t, "GET", "/login?next=%2Falerts", "", nil)
	if w.Code != 200 {
		t.Fatalf("GET /login: %d", w.Code)
	}
	csrfC := findCookie(w, csrfCookie)
	if csrfC == nil || !csrfC.HttpOnly || csrfC.SameSite != http.SameSiteStrictMode {
		t.Fatalf("csrf cookie %+v", csrfC)
	}
	csrf := hiddenCSRF(t, w.Body.String())
	form := url.Values{"token": {token}, "csrf": {csrf}, "next": {"/alerts"}}
	w = f.do(t, "POST", "/login", form.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded",
		"Cookie": csrfCookie + "=" + csrfC.Value, "Origin": "http://example.com"})
	return w, csrfCookie + "=" + csrfC.Value
}

func findCookie(w *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func hiddenCSRF(t *testing.T, body string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf field in\n%s", body)
	}
	return m[1]
}

func TestLoginFlow(t *testing.T) {
	f := newFixture(t, 2)
	if w, _ := login(t, f, "wrong"); w.Code != http.StatusUnauthorized || findCookie(w, sessionCookie) != nil {
		t.Fatalf("wrong token: %d, cookies %v", w.Code, w.Result().Cookies())
	}
	w, csrfC := login(t, f, testToken)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/alerts" {
		t.Fatalf("login: %d Location %q %s", w.Code, w.Header().Get("Location"), w.Body)
	}
	sc := findCookie(w, sessionCookie)
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie %+v", sc)
	}
	if strings.Contains(sc.Value, testToken) || strings.Contains(sc.Raw, testToken) {
		t.Fatalf("the session cookie holds the token: %q", sc.Raw)
	}
	cookies := sc.Name + "=" + sc.Value + "; " + csrfC
	for _, p := range []string{"/", "/alerts", "/status", "/api/v1/alerts", "/metrics"} {
		if w := f.do(t, "GET", p, "", map[string]string{"Cookie": cookies}); w.Code != 200 {
			t.Errorf("GET %s with the session: %d", p, w.Code)
		}
	}
	// A tampered or expired session is refused.
	tampered := sc.Value[:len(sc.Value)-2] + "xx"
	if w := f.do(t, "GET", "/api/v1/alerts", "", map[string]string{"Cookie": sessionCookie + "=" + tampered}); w.Code != 401 {
		t.Errorf("tampered session: %d", w.Code)
	}
	later := New(Options{Store: f.st, Rules: f.rules, Token: testToken, Now: func() time.Time { return t0.Add(3*time.Hour + 13*time.Hour) }})
	req := httptest.NewRequest("GET", "/api/v1/alerts", nil)
	req.Header.Set("Cookie", cookies)
	rec := httptest.NewRecorder()
	later.ServeHTTP(rec, req)
	if rec.Code != 401 {
		t.Errorf("expired session: %d", rec.Code)
	}
	// Another token invalidates sessions.
	other := New(Options{Store: f.st, Rules: f.rules, Token: "another", Now: func() time.Time { return t0 }})
	rec = httptest.NewRecorder()
	other.ServeHTTP(rec, req)
	if rec.Code != 401 {
		t.Errorf("session of another token: %d", rec.Code)
	}
	// Guessing is throttled: after maxLoginFailures wrong tokens a minute, even the right one waits.
	for range maxLoginFailures {
		login(t, f, "guess")
	}
	if w, _ := login(t, f, testToken); w.Code != http.StatusTooManyRequests || findCookie(w, sessionCookie) != nil {
		t.Errorf("login after %d failures: %d", maxLoginFailures, w.Code)
	}
	// Open redirects are refused.
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example"} {
		if got := safeNext(next); got != "/" {
			t.Errorf("safeNext(%q) = %q", next, got)
		}
	}
	// Logout clears the cookie (with the CSRF token).
	page := f.do(t, "GET", "/", "", map[string]string{"Cookie": cookies})
	csrf := hiddenCSRF(t, page.Body.String())
	w = f.do(t, "POST", "/logout", url.Values{"csrf": {csrf}}.Encode(), map[string]string{"Cookie": cookies, "Content-Type": "application/x-www-form-urlencoded"})
	if w.Code != http.StatusSeeOther || findCookie(w, sessionCookie) == nil || findCookie(w, sessionCookie).MaxAge >= 0 {
		t.Errorf("logout: %d %v", w.Code, w.Result().Cookies())
	}
}

func TestCSRF(t *testing.T) {
	f := newFixture(t, 1)
	w, csrfC := login(t, f, testToken)
	sc := findCookie(w, sessionCookie)
	cookies := sc.Name + "=" + sc.Value + "; " + csrfC
	page := f.do(t, "GET", "/rules/cis-1.2:3.3", "", map[string]string{"Cookie": cookies})
	csrf := hiddenCSRF(t, page.Body.String())
	form := func(token string) string {
		return url.Values{"csrf": {token}, "pattern": {`{ $.eventName = "ConsoleLogin" }`}, "event": {string(record(1, "1", "x"))}}.Encode()
	}
	ct := "application/x-www-form-urlencoded"
	cases := []struct {
		name string
		body string
		hdr  map[string]string
		want int
	}{
		{"valid", form(csrf), map[string]string{"Cookie": cookies, "Content-Type": ct}, 200},
		{"no token", form(""), map[string]string{"Cookie": cookies, "Content-Type": ct}, 403},
		{"wrong token", form("AAAA" + csrf[4:]), map[string]string{"Cookie": cookies, "Content-Type": ct}, 403},
		{"no csrf cookie", form(csrf), map[string]string{"Cookie": sc.Name + "=" + sc.Value, "Content-Type": ct}, 403},
		{"planted csrf cookie", form(csrf), map[string]string{"Cookie": sc.Name + "=" + sc.Value + "; " + csrfCookie + "=attackerchosen123456", "Content-Type": ct}, 403},
		{"cross-origin", form(csrf), map[string]string{"Cookie": cookies, "Content-Type": ct, "Origin": "https://evil.example"}, 403},
	}
	for _, c := range cases {
		if w := f.do(t, "POST", "/rules/cis-1.2:3.3", c.body, c.hdr); w.Code != c.want {
			t.Errorf("%s: POST tester: %d, want %d", c.name, w.Code, c.want)
		}
	}
	// The JSON API with a cookie needs the token in X-CSRF-Token; with a Bearer header it does not.
	body := `{"pattern":"{ $.eventName = \"ConsoleLogin\" }","event":{"eventName":"ConsoleLogin"}}`
	if w := f.do(t, "POST", "/api/v1/test", body, map[string]string{"Cookie": cookies}); w.Code != 403 {
		t.Errorf("API POST with cookie, no CSRF header: %d", w.Code)
	}
	if w := f.do(t, "POST", "/api/v1/test", body, map[string]string{"Cookie": cookies, "X-CSRF-Token": csrf}); w.Code != 200 {
		t.Errorf("API POST with cookie and CSRF header: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, "POST", "/api/v1/test", body, bearer); w.Code != 200 {
		t.Errorf("API POST with bearer: %d", w.Code)
	}
	// The login form itself is protected.
	lf := url.Values{"token": {testToken}}.Encode()
	if w := f.do(t, "POST", "/login", lf, map[string]string{"Content-Type": ct}); w.Code != 403 || findCookie(w, sessionCookie) != nil {
		t.Errorf("login without CSRF: %d", w.Code)
	}
}

func TestAPIAlarms(t *testing.T) {
	f := newFixture(t, 4)
	var got struct{ Alarms []Alarm }
	f.getJSON(t, "/api/v1/alarms", &got)
	if len(got.Alarms) < len(f.rules) {
		t.Fatalf("%d alarms for %d rules", len(got.Alarms), len(f.rules))
	}
	byAcct := map[string]Alarm{}
	for _, a := range got.Alarms {
		if a.RuleID == "cis-1.2:3.3" {
			byAcct[a.Dimensions["account"]] = a
		}
	}
	a := byAcct["111111111111"]
	if a.State != "ALARM" || a.Since == nil || !a.Since.Equal(t0.Add(2*time.Minute)) || a.AlertID != f.ids[2] || a.Title == "" || a.Severity == "" {
		t.Errorf("111111111111: %+v", a)
	}
	if b := byAcct["333333333333"]; b.State != "OK" || b.Since != nil {
		t.Errorf("333333333333: %+v", b)
	}
}

func TestAPIAlertsPaging(t *testing.T) {
	f := newFixture(t, 25)
	type page struct {
		Alerts []apiAlertView
		Next   string
	}
	var seen []string
	next := ""
	for i := 0; ; i++ {
		var p page
		f.getJSON(t, "/api/v1/alerts?limit=10&cursor="+url.QueryEscape(next), &p)
		for _, a := range p.Alerts {
			seen = append(seen, a.ID)
			if len(a.Evidence) != 1 || a.Evidence[0].Record != nil || a.Evidence[0].Principal == "" {
				t.Errorf("list evidence: %+v", a.Evidence)
			}
		}
		if p.Next == "" {
			break
		}
		next = p.Next
		if i > 5 {
			t.Fatal("no end")
		}
	}
	if len(seen) != 25 || seen[0] != f.ids[24] || seen[24] != f.ids[0] {
		t.Fatalf("paged %d alerts, first %s last %s", len(seen), seen[0], seen[len(seen)-1])
	}
	var p page
	f.getJSON(t, "/api/v1/alerts?account=222222222222&since="+url.QueryEscape(t0.Add(10*time.Minute).Format(time.RFC3339))+"&until="+url.QueryEscape(t0.Add(20*time.Minute).Format(time.RFC3339)), &p)
	if len(p.Alerts) != 5 { // 11, 13, 15, 17, 19
		t.Errorf("account+time filter: %d alerts", len(p.Alerts))
	}
	f.getJSON(t, "/api/v1/alerts?rule=cis-1.2:3.3&severity=HIGH&to=alarm&region=us-east-1&principal=root", &p)
	if len(p.Alerts) == 0 {
		// severity of cis-1.2:3.3 may differ; check with its own.
		t.Logf("severity filter returned none")
	}
	f.getJSON(t, "/api/v1/alerts?rule=nope", &p)
	if len(p.Alerts) != 0 {
		t.Errorf("rule=nope: %d", len(p.Alerts))
	}
	for _, bad := range []string{"limit=x", "since=yesterday", "severity=urgent", "to=FIRE", "cursor=%21%21"} {
		if w := f.do(t, "GET", "/api/v1/alerts?"+bad, "", bearer); w.Code != 400 || !strings.Contains(w.Body.String(), `"error"`) {
			t.Errorf("%s: %d %s", bad, w.Code, w.Body)
		}
	}
}

func TestAPIAlert(t *testing.T) {
	f := newFixture(t, 2)
	var a apiAlertView
	f.getJSON(t, "/api/v1/alerts/"+f.ids[0], &a)
	if a.ID != f.ids[0] || len(a.Evidence) != 1 || len(a.Evidence[0].Record) == 0 || a.Evidence[0].UserAgent != hostileUA {
		t.Errorf("alert: %+v", a)
	}
	if len(a.Deliveries) != 1 || a.Deliveries[0].State != store.Failed || a.Deliveries[0].LastError == "" || a.Delivery != store.Failed {
		t.Errorf("deliveries: %+v", a.Deliveries)
	}
	if w := f.do(t, "GET", "/api/v1/alerts/ta-nope", "", bearer); w.Code != 404 {
		t.Errorf("missing alert: %d", w.Code)
	}
}

func TestAPIRules(t *testing.T) {
	f := newFixture(t, 0)
	var rs struct{ Rules []RuleView }
	f.getJSON(t, "/api/v1/rules", &rs)
	if len(rs.Rules) != len(f.rules) || rs.Rules[0].Pattern == "" {
		t.Fatalf("rules: %d", len(rs.Rules))
	}
	var r RuleView
	f.getJSON(t, "/api/v1/rules/"+url.PathEscape("cis-1.2:3.3"), &r)
	if r.ID != "cis-1.2:3.3" || !strings.Contains(r.Pattern, "Root") || r.Alarm.Period == 0 || len(r.References.CIS) == 0 {
		t.Errorf("rule: %+v", r)
	}
	if w := f.do(t, "GET", "/api/v1/rules/nope", "", bearer); w.Code != 404 {
		t.Errorf("missing rule: %d", w.Code)
	}
}

func TestAPITest(t *testing.T) {
	f := newFixture(t, 0)
	post := func(body string) (int, map[string]any) {
		w := f.do(t, "POST", "/api/v1/test", body, bearer)
		var v map[string]any
		json.Unmarshal(w.Body.Bytes(), &v)
		return w.Code, v
	}
	code, v := post(`{"pattern":"{ ($.eventName = \"ConsoleLogin\") && ($.userIdentity.type = \"Root\") }","event":{"eventName":"ConsoleLogin","userIdentity":{"type":"IAMUser"}}}`)
	if code != 200 || v["match"] != false {
		t.Fatalf("%d %v", code, v)
	}
	ex := v["explain"].(map[string]any)
	kids := ex["children"].([]any)
	if len(kids) != 2 || kids[0].(map[string]any)["result"] != true || kids[1].(map[string]any)["result"] != false ||
		!strings.Contains(kids[1].(map[string]any)["detail"].(string), `"IAMUser"`) {
		t.Errorf("explain: %v", ex)
	}
	code, v = post(`{"pattern":"{ $.eventName = \"ConsoleLogin\" }","event":{"eventName":"ConsoleLogin"}}`)
	if code != 200 || v["match"] != true {
		t.Errorf("%d %v", code, v)
	}
	if ev := v["extractedValues"].([]any); len(ev) != 1 || ev[0].(map[string]any)["name"] != "$.eventName" || ev[0].(map[string]any)["value"] != "ConsoleLogin" {
		t.Errorf("extractedValues: %v", ev)
	}
	// A raw (string) event and a space-delimited pattern.
	code, v = post(`{"pattern":"[ip, user, status=404]","event":"10.0.0.1 alice 404"}`)
	if code != 200 || v["match"] != true {
		t.Errorf("raw event: %d %v", code, v)
	}
	// A pattern error: 400 with its column.
	code, v = post(`{"pattern":"{ $.eventName = }","event":{}}`)
	if code != 400 || v["column"] == nil || v["column"].(float64) < 1 || !strings.Contains(v["error"].(string), "column") {
		t.Errorf("pattern error: %d %v", code, v)
	}
	if code, _ := post(`not json`); code != 400 {
		t.Errorf("bad body: %d", code)
	}
	if code, _ := post(`{"event":{}}`); code != 400 {
		t.Errorf("no pattern: %d", code)
	}
}

func TestAPIStatus(t *testing.T) {
	f := newFixture(t, 3)
	var s Status
	f.getJSON(t, "/api/v1/status", &s)
	if len(s.Checkpoints) != 2 || s.StoreBytes <= 0 || len(s.Workers) != 1 || len(s.Outbox) != 2 {
		t.Errorf("status: %+v", s)
	}
}

func TestPages(t *testing.T) {
	f := newFixture(t, 4)
	get := func(p string, want int, contains ...string) string {
		t.Helper()
		w := f.do(t, "GET", p, "", bearer)
		if w.Code != want {
			t.Errorf("GET %s: %d, want %d", p, w.Code, want)
		}
		if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", p, ct)
		}
		body := w.Body.String()
		for _, c := range contains {
			if !strings.Contains(body, c) {
				t.Errorf("GET %s lacks %q:\n%s", p, c, body)
			}
		}
		return body
	}
	get("/", 200, "Firing now", "1 failed</span>, 3 pending", "s3-main", "account=111111111111", "2h58m", "cis-1.2:3.3", `href="/alerts/`+f.ids[3])
	get("/alerts", 200, f.ids[3], "OK → ", "<td>root</td>")
	get("/alerts?limit=2", 200, "Older alerts", "cursor=")
	get("/alerts?account=222222222222", 200, f.ids[1])
	get("/alerts?since=bogus", 400, "since")
	get("/alerts/"+f.ids[0], 200, "Threshold Crossed", "raw record", "stdout", "failed", "broken pipe &lt;b&gt;")
	get("/alerts/ta-nope", 404, "not found")
	get("/rules", 200, "cis-1.2:3.1", "ALARM")
	get("/rules/cis-1.2:3.3", 200, "Test the pattern", "userIdentity.type", "account=222222222222")
	get("/rules/nope", 404)
	get("/test", 200, "Pattern tester")
	get("/status", 200, "s3-main", "worker-1", "stdout")
}

// TestEscaping: CloudTrail values are untrusted; a record whose userAgent is a script renders
// as text on the alert page and in the tester.
func TestEscaping(t *testing.T) {
	f := newFixture(t, 1)
	w := f.do(t, "GET", "/alerts/"+f.ids[0], "", bearer)
	body := w.Body.String()
	if strings.Contains(body, hostileUA) || strings.Contains(body, "<b>bold</b>") {
		t.Fatalf("alert page renders hostile values raw:\n%s", body)
	}
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("alert page lacks the escaped user agent:\n%s", body)
	}
	if strings.Contains(body, hostileUser) || !strings.Contains(body, "user/&lt;img src=x onerror=alert(2)&gt;") {
		t.Errorf("alert page: hostile principal not escaped:\n%s", body)
	}
	// The list shows the principal; a filter value is echoed in the form.
	w = f.do(t, "GET", "/alerts?account="+url.QueryEscape(`"><script>alert(3)</script>`), "", bearer)
	if strings.Contains(w.Body.String(), "<script>alert(3)") || !strings.Contains(w.Body.String(), `value="&#34;&gt;&lt;script&gt;alert(3)&lt;/script&gt;"`) {
		t.Errorf("alerts page echoes the filter raw:\n%s", w.Body)
	}
	w = f.do(t, "GET", "/alerts", "", bearer)
	if body := w.Body.String(); strings.Contains(body, hostileUser) || !strings.Contains(body, "&lt;img src=x onerror=alert(2)&gt;") {
		t.Errorf("alerts page renders the hostile principal raw:\n%s", body)
	}
	// The JSON API returns it as data, in a JSON content type, never as HTML.
	w = f.do(t, "GET", "/api/v1/alerts/"+f.ids[0], "", bearer)
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") || w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("API content type %q", ct)
	}
	// The tester echoes the record and explains a pattern on it.
	w, csrfC := login(t, f, testToken)
	sc := findCookie(w, sessionCookie)
	cookies := sc.Name + "=" + sc.Value + "; " + csrfC
	csrf := hiddenCSRF(t, f.do(t, "GET", "/test", "", map[string]string{"Cookie": cookies}).Body.String())
	form := url.Values{"csrf": {csrf}, "pattern": {`{ $.userAgent = "<script>*" }`}, "event": {string(record(0, "1", hostileUA))}}
	w = f.do(t, "POST", "/test", form.Encode(), map[string]string{"Cookie": cookies, "Content-Type": "application/x-www-form-urlencoded"})
	body = w.Body.String()
	if w.Code != 200 || strings.Contains(body, "<script>alert") || strings.Contains(body, `"<script>*"`) {
		t.Fatalf("tester: %d renders raw values:\n%s", w.Code, body)
	}
	if !strings.Contains(body, "MATCH") || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("tester result:\n%s", body)
	}
}

func TestTesterPage(t *testing.T) {
	f := newFixture(t, 0)
	w, csrfC := login(t, f, testToken)
	sc := findCookie(w, sessionCookie)
	cookies := sc.Name + "=" + sc.Value + "; " + csrfC
	csrf := hiddenCSRF(t, f.do(t, "GET", "/rules/cis-1.2:3.3", "", map[string]string{"Cookie": cookies}).Body.String())
	post := func(pattern, event string) (int, string) {
		form := url.Values{"csrf": {csrf}, "pattern": {pattern}, "event": {event}}
		w := f.do(t, "POST", "/rules/cis-1.2:3.3", form.Encode(), map[string]string{"Cookie": cookies, "Content-Type": "application/x-www-form-urlencoded"})
		return w.Code, w.Body.String()
	}
	root := ruleByID(t, f.rules, "cis-1.2:3.3")
	code, body := post(root.Pattern, string(record(0, "123456789012", "ua")))
	if code != 200 || !strings.Contains(body, `class="verdict match">MATCH`) {
		t.Fatalf("root record: %d\n%s", code, body)
	}
	// Each clause with its result and what the event holds.
	for _, want := range []string{`<li class="d1 true"><span class="res">true</span> <code>  $.userIdentity.type = &#34;Root&#34;</code> <span class="detail"># $.userIdentity.type is &#34;Root&#34;</span>`,
		`$.userIdentity.invokedBy NOT EXISTS`} {
		if !strings.Contains(body, want) {
			t.Errorf("explain lacks %q:\n%s", want, body)
		}
	}
	code, body = post(`{ $.eventName = "ConsoleLogin" && }`, "{}")
	if code != 400 || !strings.Contains(body, "column") || !strings.Contains(body, `data-column="`) {
		t.Errorf("pattern error: %d\n%s", code, body)
	}
}

// TestNoToken: without a token (loopback only) pages are open, and the tester still needs CSRF.
func TestNoToken(t *testing.T) {
	f := newFixture(t, 1)
	h := New(Options{Store: f.st, Rules: f.rules})
	for _, p := range []string{"/", "/api/v1/alerts", "/alerts/" + f.ids[0]} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		if rec.Code != 200 {
			t.Errorf("GET %s: %d", p, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/test", strings.NewReader("pattern=x&event=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.ServeHTTP(rec, req)
	if rec.Code != 403 {
		t.Errorf("POST /test without CSRF: %d", rec.Code)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
