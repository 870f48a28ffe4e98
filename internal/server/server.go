// Package server is trailalarm's HTTP side: the JSON API under /api/v1/, the dashboard pages,
// /metrics and /healthz. It only reads the store; it never changes detection state.
//
// Security: everything but /healthz and the static assets needs the token, either as
// `Authorization: Bearer TOKEN` or as a session cookie set by the login form. The cookie holds
// a nonce, an expiry and an HMAC keyed by a key derived from the token — never the token. Form
// POSTs (login, logout, the pattern tester) carry a CSRF token, the HMAC of a random
// double-submit cookie; requests authenticated with a Bearer header are exempt. Every response
// has a Content-Security-Policy that forbids inline scripts and framing.
package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trailalarm/trailalarm/internal/rules"
	"github.com/trailalarm/trailalarm/internal/store"
)

// Options are what a server is made of.
type Options struct {
	Store store.Store
	Rules []*rules.Rule // the loaded rules; alarm states of other rules are shown by id
	// Token protects everything but /healthz. Empty disables authentication: the caller must
	// then listen on a loopback address only (cmd/trailalarm's serve enforces it).
	Token   string
	Metrics http.Handler // served at /metrics (behind the token); nil: 404
	Health  http.Handler // served at /healthz (open); nil: {"status":"ok"}
	Now     func() time.Time
}

// Cookie names and lifetimes.
const (
	sessionCookie = "ta_session"
	csrfCookie    = "ta_csrf"
	sessionTTL    = 12 * time.Hour
)

// Server serves the API and the pages.
type Server struct {
	o       Options
	rules   map[string]*rules.Rule
	sessKey []byte // HMAC key of session cookies, derived from the token
	csrfKey []byte // HMAC key of CSRF tokens
	mux     *http.ServeMux

	mu       sync.Mutex  // guards failures
	failures []time.Time // failed logins within the last minute, for throttling
}

// maxLoginFailures is how many wrong tokens the login form takes per minute (from anyone)
// before it answers 429: guessing a token by hand stays possible, by script it does not.
const maxLoginFailures = 10

// New builds the handler.
func New(o Options) http.Handler {
	return newServer(o)
}

func newServer(o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{o: o, rules: map[string]*rules.Rule{}, mux: http.NewServeMux()}
	for _, r := range o.Rules {
		s.rules[r.ID] = r
	}
	if o.Token != "" {
		s.sessKey = mac([]byte(o.Token), "trailalarm session v1")
		s.csrfKey = mac([]byte(o.Token), "trailalarm csrf v1")
	} else {
		s.sessKey = randomBytes(32)
		s.csrfKey = randomBytes(32)
	}
	s.routes()
	return s
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if s.o.Health != nil {
			s.o.Health.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	m.Handle("GET /static/", http.StripPrefix("/static/", staticHandler()))
	m.HandleFunc("GET /login", s.loginPage)
	m.HandleFunc("POST /login", s.login)
	m.HandleFunc("POST /logout", s.api(false, s.logout))

	m.HandleFunc("/metrics", s.api(true, func(w http.ResponseWriter, r *http.Request) {
		if s.o.Metrics == nil {
			http.NotFound(w, r)
			return
		}
		s.o.Metrics.ServeHTTP(w, r)
	}))

	m.HandleFunc("GET /api/v1/alarms", s.api(true, s.apiAlarms))
	m.HandleFunc("GET /api/v1/alerts", s.api(true, s.apiAlerts))
	m.HandleFunc("GET /api/v1/alerts/{id}", s.api(true, s.apiAlert))
	m.HandleFunc("GET /api/v1/rules", s.api(true, s.apiRules))
	m.HandleFunc("GET /api/v1/rules/{id}", s.api(true, s.apiRule))
	m.HandleFunc("POST /api/v1/test", s.api(true, s.apiTest))
	m.HandleFunc("GET /api/v1/status", s.api(true, s.apiStatus))
	m.HandleFunc("GET /api/v1/matches", s.api(true, s.apiMatches))
	m.HandleFunc("/api/", s.api(true, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API endpoint: see the README", 0)
	}))

	m.HandleFunc("GET /{$}", s.page(s.overviewPage))
	m.HandleFunc("GET /alerts", s.page(s.alertsPage))
	m.HandleFunc("GET /alerts/{id}", s.page(s.alertPage))
	m.HandleFunc("GET /rules", s.page(s.rulesPage))
	m.HandleFunc("GET /rules/{id}", s.page(s.rulePage))
	m.HandleFunc("POST /rules/{id}", s.page(s.rulePage))
	m.HandleFunc("GET /test", s.page(s.testerPage))
	m.HandleFunc("POST /test", s.page(s.testerPage))
	m.HandleFunc("GET /status", s.page(s.statusPage))
}

// ServeHTTP sets the security headers and dispatches.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if !strings.HasPrefix(r.URL.Path, "/static/") {
		h.Set("Cache-Control", "no-store")
	}
	s.mux.ServeHTTP(w, r)
}

// authKind says how a request proved it has the token.
type authKind int

const (
	authNone    authKind = iota
	authBearer           // Authorization: Bearer; exempt from CSRF checks
	authSession          // the session cookie
	authOpen             // no token configured
)

func (s *Server) authenticate(r *http.Request) authKind {
	if got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		if s.o.Token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.o.Token)) == 1 {
			return authBearer
		}
		if s.o.Token != "" {
			return authNone // a wrong bearer token is not rescued by a cookie
		}
	}
	if s.o.Token == "" {
		return authOpen
	}
	if c, err := r.Cookie(sessionCookie); err == nil && s.validSession(c.Value) {
		return authSession
	}
	return authNone
}

// api wraps a handler that answers 401 (JSON) without the token. POSTs not authenticated by a
// Bearer header need the CSRF token. jsonErrors selects a JSON error body.
func (s *Server) api(jsonErrors bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a := s.authenticate(r)
		if a == authNone {
			w.Header().Set("WWW-Authenticate", `Bearer realm="trailalarm"`)
			if jsonErrors {
				writeError(w, http.StatusUnauthorized, "a bearer token is required (Authorization: Bearer TOKEN)", 0)
			} else {
				http.Error(w, "a bearer token is required", http.StatusUnauthorized)
			}
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxTestBody)
		}
		if r.Method == http.MethodPost && a != authBearer && !s.checkCSRF(r) {
			if jsonErrors {
				writeError(w, http.StatusForbidden, "missing or invalid CSRF token", 0)
			} else {
				http.Error(w, "missing or invalid CSRF token: reload the page and try again", http.StatusForbidden)
			}
			return
		}
		h(w, r)
	}
}

// page wraps a page handler: without the token it redirects to the login form.
func (s *Server) page(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a := s.authenticate(r)
		if a == authNone {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxTestBody)
		}
		if r.Method == http.MethodPost && a != authBearer && !s.checkCSRF(r) {
			http.Error(w, "missing or invalid CSRF token: reload the page and try again", http.StatusForbidden)
			return
		}
		h(w, r)
	}
}

// Sessions: nonce.expiry.mac, mac = HMAC(sessKey, nonce.expiry).

func (s *Server) newSession() string {
	nonce := base64.RawURLEncoding.EncodeToString(randomBytes(18))
	payload := nonce + "." + strconv.FormatInt(s.o.Now().Add(sessionTTL).Unix(), 10)
	return payload + "." + base64.RawURLEncoding.EncodeToString(mac(s.sessKey, payload))
}

func (s *Server) validSession(v string) bool {
	i := strings.LastIndexByte(v, '.')
	if i < 0 {
		return false
	}
	payload, sig := v[:i], v[i+1:]
	want := base64.RawURLEncoding.EncodeToString(mac(s.sessKey, payload))
	if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) != 1 {
		return false
	}
	_, exp, ok := strings.Cut(payload, ".")
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	return err == nil && s.o.Now().Unix() < n
}

// CSRF: a random cookie; forms carry HMAC(csrfKey, cookie), which an attacker who can plant a
// cookie still cannot compute.

// csrfToken returns the token for forms of this response, setting the cookie when missing.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(csrfCookie)
	v := ""
	if err == nil && len(c.Value) >= 16 {
		v = c.Value
	} else {
		v = base64.RawURLEncoding.EncodeToString(randomBytes(18))
		http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: "/", HttpOnly: true,
			SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
		// Later calls within this request see the same value.
		r.AddCookie(&http.Cookie{Name: csrfCookie, Value: v})
	}
	return base64.RawURLEncoding.EncodeToString(mac(s.csrfKey, "csrf:"+v))
}

func (s *Server) checkCSRF(r *http.Request) bool {
	// A browser's cross-site POST says where it comes from: refuse it outright.
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) < 16 {
		return false
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	want := base64.RawURLEncoding.EncodeToString(mac(s.csrfKey, "csrf:"+c.Value))
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if s.authenticate(r) != authNone {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login", &loginView{Next: safeNext(r.URL.Query().Get("next"))})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if !s.checkCSRF(r) {
		http.Error(w, "missing or invalid CSRF token: reload the login page and try again", http.StatusForbidden)
		return
	}
	next := safeNext(r.PostFormValue("next"))
	if s.o.Token == "" {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	if s.throttled() {
		s.render(w, r, http.StatusTooManyRequests, "login", &loginView{Next: next, Error: "too many wrong tokens: wait a minute"})
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.PostFormValue("token")), []byte(s.o.Token)) != 1 {
		s.loginFailed()
		s.render(w, r, http.StatusUnauthorized, "login", &loginView{Next: next, Error: "wrong token"})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.newSession(), Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: int(sessionTTL.Seconds())})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) throttled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	cut := s.o.Now().Add(-time.Minute)
	i := 0
	for i < len(s.failures) && s.failures[i].Before(cut) {
		i++
	}
	s.failures = s.failures[i:]
	return len(s.failures) >= maxLoginFailures
}

func (s *Server) loginFailed() {
	s.mu.Lock()
	s.failures = append(s.failures, s.o.Now())
	s.mu.Unlock()
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a redirect target on this site: a path, not "//host" or a URL.
func safeNext(n string) string {
	if n == "" || n[0] != '/' || strings.HasPrefix(n, "//") || strings.HasPrefix(n, "/\\") || strings.ContainsAny(n, "\r\n") {
		return "/"
	}
	return n
}

func mac(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
