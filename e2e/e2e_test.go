// Package e2e tests the dashboard end to end, in a real browser: it builds trailalarm, starts
// `trailalarm run` on the examples' CloudTrail files, and has Debian's chromium, driven by
// playwright-core (dashboard.mjs), log in, read the overview, open an alert and its evidence,
// and use the pattern tester. Screenshots go to e2e/screenshots/.
//
// It needs /usr/bin/chromium (or $CHROMIUM), node, and e2e/node_modules (npm ci --prefix e2e):
// scripts/test installs them. Without them it fails, except under -short, where it is skipped.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// An alert the examples raise (Stratus Red Team's console login without MFA), and what its
// evidence must show.
const (
	wantRule      = "securityhub:CloudWatch.3"
	wantEvent     = "ConsoleLogin"
	wantPrincipal = "stratus-red-team-nmfalu-gfjyeaypjt"
)

func TestDashboardInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is skipped under -short")
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("chromium is missing (%v): run scripts/test, which installs it (apt-get install chromium)", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is missing: install Node.js, then run scripts/test")
	}
	if _, err := os.Stat("node_modules/playwright-core/package.json"); err != nil {
		t.Fatal("e2e/node_modules is missing: run scripts/test, which runs 'npm ci --prefix e2e'")
	}

	dir := t.TempDir()
	bin := filepath.Join(dir, "trailalarm")
	build := exec.Command("go", "build", "-o", bin, "github.com/trailalarm/trailalarm/cmd/trailalarm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build trailalarm: %v\n%s", err, out)
	}
	work := filepath.Join(dir, "work")
	if err := os.CopyFS(filepath.Join(work, "cloudtrail"), os.DirFS("../examples/cloudtrail")); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cfg := fmt.Sprintf(`sources:
  - folder: ./cloudtrail
rules:
  packs: [default]
store: ./trailalarm.db
notifiers:
  - type: stdout
server:
  listen: %s
  token: ${TA_E2E_TOKEN}
log:
  format: text
  level: info
`, addr)
	if err := os.WriteFile(filepath.Join(work, "trailalarm.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	token := "e2e-" + fmt.Sprint(time.Now().UnixNano())

	var logs syncBuffer
	run := exec.Command(bin, "run", "--config", "trailalarm.yaml")
	run.Dir = work
	run.Env = append(os.Environ(), "TA_E2E_TOKEN="+token)
	run.Stdout, run.Stderr = &logs, &logs
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- run.Wait() }()
	t.Cleanup(func() {
		run.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("trailalarm run exited with %v after SIGTERM", err)
			}
		case <-time.After(20 * time.Second):
			run.Process.Kill()
			t.Error("trailalarm run did not stop within 20 s of SIGTERM")
		}
		if t.Failed() {
			t.Logf("trailalarm run's output:\n%s", logs.String())
		}
	})
	base := "http://" + addr
	waitFor(t, exited, "/healthz to answer", func() bool {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	// The examples are read in a few seconds; wait until the alert the browser looks for is in.
	waitFor(t, exited, "the examples' alert of "+wantRule, func() bool {
		req, _ := http.NewRequest("GET", base+"/api/v1/alerts?to=ALARM&rule="+wantRule, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var page struct{ Alerts []json.RawMessage }
		return json.NewDecoder(resp.Body).Decode(&page) == nil && len(page.Alerts) > 0
	})

	shots, err := filepath.Abs("screenshots")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	script := exec.CommandContext(ctx, node, "dashboard.mjs")
	script.Env = append(os.Environ(), "TA_URL="+base, "TA_TOKEN="+token, "TA_SHOTS="+shots,
		"TA_PROFILE="+filepath.Join(dir, "chromium-profile"), "CHROMIUM="+chromium,
		"TA_RULE="+wantRule, "TA_EVENT="+wantEvent, "TA_PRINCIPAL="+wantPrincipal)
	out, err := script.CombinedOutput()
	t.Logf("dashboard.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("the browser test failed (%v); screenshots in %s", err, shots)
	}
	t.Logf("screenshots in %s", shots)
	fmt.Printf("e2e: screenshots in %s\n", shots)
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitFor polls cond for up to a minute, failing early when the process exits.
func waitFor(t *testing.T, exited chan error, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("trailalarm run exited (%v) while waiting for %s", err, what)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
	}
}

// syncBuffer collects the process's output from two pipes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Clone(s.b.String())
}
