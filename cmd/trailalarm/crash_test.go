package main

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trailalarm/trailalarm/internal/store"
)

// startRun starts the trailalarm binary with a configuration; it is killed at the test's end.
func startRun(t *testing.T, bin, cfg, env string, log *os.File) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "run", "--config", cfg)
	cmd.Env = append(os.Environ(), env)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}

// TestRunCrashSafe feeds the sample files to `trailalarm run` while killing it with SIGKILL at
// random moments and starting it again. At the end every alert an uninterrupted run delivers
// was delivered, none was lost, a redelivery only follows a kill, and the checkpoint is at
// the last file.
func TestRunCrashSafe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it for about a minute")
	}
	bin := filepath.Join(t.TempDir(), "trailalarm")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	const secret = "crash-test-webhook-secret"
	env := "TA_CRASH_SECRET=" + secret
	files := sampleFiles(t)

	// The expected alerts: one run that is never interrupted.
	want := func() map[string]int {
		dir := t.TempDir()
		folder := filepath.Join(dir, "cloudtrail")
		os.MkdirAll(folder, 0o755)
		for _, f := range files {
			copyInto(t, f, folder)
		}
		rcv := newReceiver(t, secret)
		log, _ := os.Create(filepath.Join(dir, "log"))
		cmd := startRun(t, bin, writeRunConfig(t, dir, folder, rcv.srv.URL, "TA_CRASH_SECRET"), env, log)
		waitFor(t, 60*time.Second, func() bool { return processed(dir) == len(files) })
		time.Sleep(2 * time.Second) // let the outbox drain
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		ids, _ := rcv.snapshot()
		return ids
	}()
	if len(want) < 5 {
		t.Fatalf("the uninterrupted run delivered only %d alerts", len(want))
	}

	dir := t.TempDir()
	folder := filepath.Join(dir, "cloudtrail")
	os.MkdirAll(folder, 0o755)
	rcv := newReceiver(t, secret)
	cfg := writeRunConfig(t, dir, folder, rcv.srv.URL, "TA_CRASH_SECRET")
	log, _ := os.Create(filepath.Join(dir, "log"))
	rng := rand.New(rand.NewPCG(1, 2))
	kills := 0
	next := 0
	for round := 0; round < 5; round++ {
		// Deliver some files, start, kill at a random moment.
		for n := 0; n < len(files)/5 && next < len(files); n++ {
			copyInto(t, files[next], folder)
			next++
		}
		cmd := startRun(t, bin, cfg, env, log)
		time.Sleep(time.Duration(500+rng.IntN(3500)) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		kills++
	}
	for ; next < len(files); next++ {
		copyInto(t, files[next], folder)
	}
	cmd := startRun(t, bin, cfg, env, log)
	waitFor(t, 90*time.Second, func() bool {
		got, _ := rcv.snapshot()
		for id := range want {
			if got[id] == 0 {
				return false
			}
		}
		return processed(dir) == len(files)
	})
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()

	got, bad := rcv.snapshot()
	if bad > 0 {
		t.Errorf("%d deliveries with a bad signature", bad)
	}
	redelivered := 0
	for id, n := range got {
		if want[id] == 0 {
			t.Errorf("alert %s was not produced by the uninterrupted run", id)
		}
		redelivered += n - 1
	}
	for id := range want {
		if got[id] == 0 {
			t.Errorf("alert %s was lost", id)
		}
	}
	// A kill between a receiver's acknowledgement and the commit that records it can repeat
	// the deliveries in flight (at most one batch of 20 per notifier); nothing else may.
	if redelivered > kills*20 {
		t.Errorf("%d redeliveries after %d kills", redelivered, kills)
	}
	t.Logf("%d alerts, %d kills, %d redelivered after a kill", len(want), kills, redelivered)
	if t.Failed() {
		out, _ := os.ReadFile(filepath.Join(dir, "log"))
		t.Logf("log:\n%s", lastLines(string(out), 40))
	}
}

// processed is how many sample files the store in dir has committed, read from its checkpoint:
// the folder source checkpoints the last file in order.
func processed(dir string) int {
	st, err := store.Open(filepath.Join(dir, "trailalarm.db"))
	if err != nil {
		return -1
	}
	defer st.Close()
	cps, err := st.Checkpoints(context.Background())
	if err != nil || len(cps) == 0 {
		return 0
	}
	files, _ := filepath.Glob(filepath.Join(dir, "cloudtrail", "*.json"))
	last := cps[0].Position[strings.IndexByte(cps[0].Position, ' ')+1:]
	n := 0
	for _, f := range files {
		if f <= last {
			n++
		}
	}
	return n
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not done after %s", d)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
