package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailalarm/trailalarm/internal/alert"
	"github.com/trailalarm/trailalarm/internal/store"
)

func TestServeErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"serve"}, "--store FILE is required"},
		{[]string{"serve", "--store", "/nonexistent/ta.db"}, "no such file"},
		{[]string{"serve", "--store", "x", "--bogus"}, "unknown flag"},
	} {
		if code, _, errOut := runCLI(t, "", tt.args...); code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, %q", tt.args, code, errOut)
		}
	}
}

// TestServeStore serves a store read-only: the API answers with the token and refuses without.
func TestServeStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ta.db")
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a := alert.Alert{Rule: alert.Rule{ID: "cis-1.2:3.3", Title: "Root", Severity: "critical"}, Time: time.Date(2026, 1, 1, 0, 3, 0, 0, time.UTC),
		From: "OK", To: "ALARM", Reason: "Threshold Crossed", Evidence: []alert.Evidence{alert.NewEvidence([]byte(`{"eventTime":"2026-01-01T00:02:10Z","eventName":"ConsoleLogin","userIdentity":{"type":"Root"}}`))}}
	a.Finish()
	if _, err := st.Commit(context.Background(), store.Batch{Time: time.Now(), Alerts: []store.NewAlert{{Alert: a}}}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	t.Setenv(tokenEnv, "dashboard-token")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- runContext(ctx, []string{"serve", "--store", path, "--listen", addr}, strings.NewReader(""), io.Discard, io.Discard)
	}()
	defer func() { cancel(); <-done }()

	get := func(path, token string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for i := 0; i < 50; i++ {
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, string(body)
		}
		t.Fatalf("%s: the server did not answer", path)
		return 0, ""
	}
	if code, _ := get("/healthz", ""); code != 200 {
		t.Errorf("/healthz: %d", code)
	}
	if code, _ := get("/api/v1/alerts", ""); code != 401 {
		t.Errorf("/api/v1/alerts without the token: %d", code)
	}
	if code, body := get("/api/v1/alerts", "dashboard-token"); code != 200 || !strings.Contains(body, a.ID) {
		t.Errorf("/api/v1/alerts: %d %.200s", code, body)
	}
}
