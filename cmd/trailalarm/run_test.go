package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailalarm/trailalarm/internal/config"
	"github.com/trailalarm/trailalarm/internal/notify"
	"github.com/trailalarm/trailalarm/internal/store"
)

// sampleFiles lists the sample CloudTrail files in delivery order.
func sampleFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(examples + "/AWSLogs/*/CloudTrail/*/*/*/*/*.json")
	if err != nil || len(files) < 50 {
		t.Fatalf("sample files: %v", err)
	}
	sort.Strings(files)
	return files
}

// copyInto copies a file into dir atomically (write elsewhere, rename in), as a delivery would.
func copyInto(t *testing.T, src, dir string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "."+filepath.Base(src)+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, filepath.Base(src))); err != nil {
		t.Fatal(err)
	}
}

// receiver is a webhook endpoint that verifies signatures and counts alert IDs.
type receiver struct {
	mu       sync.Mutex
	ids      map[string]int
	bad      int
	srv      *httptest.Server
	down     int // answer this many requests with 503 first
	refusals int
}

func newReceiver(t *testing.T, secret string) *receiver {
	r := &receiver{ids: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		err := notify.VerifySignature([]byte(secret), req.Header.Get("X-Trailalarm-Timestamp"), req.Header.Get("X-Trailalarm-Signature"), body, time.Now(), 5*time.Minute)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.refusals < r.down {
			r.refusals++
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		if err != nil {
			r.bad++
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		r.ids[req.Header.Get("X-Trailalarm-Id")]++
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) snapshot() (map[string]int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.ids {
		out[k] = v
	}
	return out, r.bad
}

func writeRunConfig(t *testing.T, dir, folder, hook, secretEnv string) string {
	t.Helper()
	cfg := fmt.Sprintf(`sources:
  - folder: %s
    pollInterval: 1s
store: %s
notifiers:
  - type: webhook
    url: %s
    secret: ${%s}
  - type: file
    path: %s
server:
  listen: off
log:
  format: json
`, folder, filepath.Join(dir, "trailalarm.db"), hook, secretEnv, filepath.Join(dir, "alerts.jsonl"))
	p := filepath.Join(dir, "trailalarm.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRunDeliversAlerts runs the service in-process on the sample data: every rule alarm the
// data triggers reaches the webhook (signed) and the file, with its evidence.
func TestRunDeliversAlerts(t *testing.T) {
	dir := t.TempDir()
	folder := filepath.Join(dir, "cloudtrail")
	os.MkdirAll(folder, 0o755)
	for _, f := range sampleFiles(t) {
		copyInto(t, f, folder)
	}
	const secret = "a-webhook-secret-of-some-length"
	t.Setenv("TA_TEST_SECRET", secret)
	rcv := newReceiver(t, secret)
	cfgPath := writeRunConfig(t, dir, folder, rcv.srv.URL, "TA_TEST_SECRET")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var stderr strings.Builder
	go func() {
		done <- runContext(ctx, []string{"run", "--config", cfgPath}, strings.NewReader(""), io.Discard, &syncWriter{w: &stderr})
	}()
	files := len(sampleFiles(t))
	waitFor(t, 90*time.Second, func() bool {
		ids, _ := rcv.snapshot()
		return len(ids) >= 10 && processed(dir) == files
	})
	cancel() // as SIGTERM does
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop on SIGTERM")
	}
	ids, bad := rcv.snapshot()
	if len(ids) < 10 || bad > 0 {
		t.Fatalf("webhook received %d alerts (%d badly signed); log:\n%s", len(ids), bad, stderr.String())
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("alert %s delivered %d times", id, n)
		}
	}
	f, err := os.Open(filepath.Join(dir, "alerts.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	found := false
	for sc.Scan() {
		var a struct {
			Rule     struct{ ID string }
			To       string
			Evidence []struct {
				Principal, EventName, SourceIPAddress string
			}
		}
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatal(err)
		}
		if a.Rule.ID == "securityhub:CloudWatch.3" && a.To == "ALARM" && len(a.Evidence) == 1 &&
			a.Evidence[0].EventName == "ConsoleLogin" && a.Evidence[0].SourceIPAddress != "" {
			found = true
		}
	}
	if !found {
		t.Error("the console sign-in without MFA alert, with its evidence, is not in the file")
	}
	// The store has every sample file's checkpoint behind it.
	st, err := store.Open(filepath.Join(dir, "trailalarm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cps, err := st.Checkpoints(context.Background())
	if err != nil || len(cps) != 1 || !strings.Contains(cps[0].Position, "218007301253_CloudTrail_us-east-1_20230710T1240Z") {
		t.Errorf("checkpoints %+v, %v", cps, err)
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

var _ = exec.Command

// TestRunNotifierDown: a receiver that is down does not hold up detection — every file is
// processed while it refuses — and its alerts arrive once it is back, after retries.
func TestRunNotifierDown(t *testing.T) {
	dir := t.TempDir()
	folder := filepath.Join(dir, "cloudtrail")
	os.MkdirAll(folder, 0o755)
	files := sampleFiles(t)
	for _, f := range files {
		copyInto(t, f, folder)
	}
	const secret = "a-webhook-secret-of-some-length"
	t.Setenv("TA_TEST_SECRET", secret)
	rcv := newReceiver(t, secret)
	rcv.down = 1000 // down until told otherwise
	cfgPath := writeRunConfig(t, dir, folder, rcv.srv.URL, "TA_TEST_SECRET")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int)
	var stderr strings.Builder
	go func() {
		done <- runContext(ctx, []string{"run", "--config", cfgPath}, strings.NewReader(""), io.Discard, &syncWriter{w: &stderr})
	}()
	deadline := time.Now().Add(60 * time.Second)
	for processed(dir) != len(files) {
		if time.Now().After(deadline) {
			t.Fatalf("detection held up: %d of %d files processed; log:\n%s", processed(dir), len(files), lastLines(stderr.String(), 30))
		}
		time.Sleep(250 * time.Millisecond)
	}
	rcv.mu.Lock()
	refused := rcv.refusals
	rcv.down = 0 // back up
	rcv.mu.Unlock()
	if refused == 0 {
		t.Fatal("the receiver was never tried while down")
	}
	waitFor(t, 60*time.Second, func() bool { ids, _ := rcv.snapshot(); return len(ids) >= 10 })
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "will retry") {
		t.Error("no retry was logged")
	}
}

func TestServerToken(t *testing.T) {
	h := requireToken("s3cret", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	for _, tt := range []struct {
		path, auth string
		want       int
	}{
		{"/healthz", "", 200},
		{"/metrics", "", 401},
		{"/metrics", "Bearer wrong", 401},
		{"/metrics", "s3cret", 401},
		{"/metrics", "Bearer s3cret", 200},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", tt.path, nil)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		h.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("%s with %q: %d, want %d", tt.path, tt.auth, rec.Code, tt.want)
		}
	}
	// Without a token, only a loopback address may be served.
	if _, err := serve(config.Server{Listen: "0.0.0.0:0"}, h, nil); err == nil || !strings.Contains(err.Error(), "server.token") {
		t.Errorf("non-loopback without a token: %v", err)
	}
}

// TestRunParams: run passes the configuration's params to the rules; a bad value stops it at
// start with the parameter named, and a rule without a value is reported and skipped.
func TestRunParams(t *testing.T) {
	dir := t.TempDir()
	folder := filepath.Join(dir, "cloudtrail")
	os.MkdirAll(folder, 0o755)
	write := func(params string) string {
		cfg := fmt.Sprintf("sources:\n  - folder: %s\nstore: %s\nrules:\n  packs: [runbook]\n%snotifiers:\n  - type: file\n    path: %s\nserver:\n  listen: off\n",
			folder, filepath.Join(dir, "trailalarm.db"), params, filepath.Join(dir, "alerts.jsonl"))
		p := filepath.Join(dir, "trailalarm.yaml")
		if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for params, want := range map[string]string{
		"params:\n  home_cidrs: [203.0.113.0/24, 10.0.0.0/33]\n": `parameter home_cidrs: "10.0.0.0/33" is not a CIDR range`,
		"": "no rule left to evaluate",
	} {
		var stderr strings.Builder
		code := runContext(context.Background(), []string{"run", "--config", write(params)}, strings.NewReader(""), io.Discard, &syncWriter{w: &stderr})
		if code != 2 || !strings.Contains(stderr.String(), want) {
			t.Errorf("%q: exit %d, stderr %s; want exit 2 and %q", params, code, stderr.String(), want)
		}
		if params == "" && !strings.Contains(stderr.String(), "rule runbook:console-login-outside-home skipped: parameter home_cidrs has no value") {
			t.Errorf("no skipped line: %s", stderr.String())
		}
	}
	// With a value from the environment, the console rule runs and finds the sample sign-ins.
	for _, f := range sampleFiles(t) {
		copyInto(t, f, folder)
	}
	t.Setenv("TA_TEST_HOME", "203.0.113.0/24")
	cfg := write("params:\n  home_cidrs: ${TA_TEST_HOME}\n")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var stderr strings.Builder
	go func() {
		done <- runContext(ctx, []string{"run", "--config", cfg}, strings.NewReader(""), io.Discard, &syncWriter{w: &stderr})
	}()
	alerts := filepath.Join(dir, "alerts.jsonl")
	waitFor(t, 90*time.Second, func() bool {
		b, _ := os.ReadFile(alerts)
		return strings.Contains(string(b), "runbook:console-login-outside-home")
	})
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "runbook:break-glass-role-use skipped") {
		t.Errorf("stderr: %s", stderr.String())
	}
}
