package store_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trailalarm/trailalarm/internal/store"
	"github.com/trailalarm/trailalarm/internal/store/storetest"
)

func openTemp(t testing.TB) *store.SQLite {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "trailalarm.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

// rawDB opens the file without the store, to look at or tamper with what it wrote.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	uri := "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	db, err := sql.Open("sqlite", uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func schemaVersion(t *testing.T, path string) int {
	t.Helper()
	var v int
	if err := rawDB(t, path).QueryRow(`SELECT MAX(version) FROM schema_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenMigrates(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name    string
		prepare func(path string) error
	}{
		{"no file", func(string) error { return nil }},
		{"empty file", func(p string) error { return os.WriteFile(p, nil, 0o600) }},
		{"special characters in the path", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".db")
			if c.prepare == nil {
				path = filepath.Join(dir, "a?b#c%20d.db")
			} else if err := c.prepare(path); err != nil {
				t.Fatal(err)
			}
			for range 2 { // opening again applies nothing and keeps the data
				s, err := store.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.Commit(context.Background(), store.Batch{Time: storetest.T0,
					Checkpoints: []store.Checkpoint{{Source: "s", Position: "p"}}}); err != nil {
					t.Fatal(err)
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("database not at %s: %v", path, err)
			}
			if v := schemaVersion(t, path); v != store.SchemaVersion() {
				t.Errorf("schema version %d, want %d", v, store.SchemaVersion())
			}
			var mode string
			if err := rawDB(t, path).QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
				t.Errorf("journal mode %q, %v; want wal", mode, err)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	newer := filepath.Join(dir, "newer.db")
	s, err := store.Open(newer)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := rawDB(t, newer).Exec(`INSERT INTO schema_version (version) VALUES (?)`, store.SchemaVersion()+4); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("this is not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path string
		is         error
		says       string
	}{
		{"newer schema", newer, store.ErrNewerSchema,
			fmt.Sprintf("written by a newer trailalarm (schema %d; this one knows %d): upgrade trailalarm", store.SchemaVersion()+4, store.SchemaVersion())},
		{"not a database", garbage, nil, "not an SQLite database"},
		{"missing directory", filepath.Join(dir, "nope", "x.db"), nil, "does not exist; create it"},
		{"no path", "", nil, "no database path"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := store.Open(c.path)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v is not %v", err, c.is)
			}
			if !strings.Contains(err.Error(), c.says) {
				t.Errorf("error %q does not say %q", err, c.says)
			}
		})
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	s, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a := storetest.Alert("r", storetest.T0, "ALARM", "1", "r", "p")
	if _, err := s.Commit(ctx, store.Batch{Time: storetest.T0, Checkpoints: []store.Checkpoint{{Source: "s", Position: "p"}},
		Objects: []store.Object{store.S3Object("b", "k", "e")}, AlarmStates: []store.AlarmState{{RuleID: "r", State: []byte("x")}},
		Alerts: []store.NewAlert{{Alert: a, Notifiers: []string{"n"}}}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, _, _ := s.Checkpoint(ctx, "s")
	ok, _ := s.IsProcessed(ctx, store.S3Object("b", "k", "e"))
	st, _, _ := s.AlarmState(ctx, "r")
	due, _ := s.Due(ctx, "n", storetest.T0, 10)
	if p != "p" || !ok || string(st) != "x" || len(due) != 1 || due[0].AlertID != a.ID {
		t.Errorf("after reopening: %q %v %q %+v", p, ok, st, due)
	}
}

// The crash test: a child process (this test binary again) commits batches in a loop and is
// killed with SIGKILL at random moments; after each kill the database must hold every batch
// the child reported committed, each complete, and nothing of a batch that did not commit.

const crashEnv = "TRAILALARM_STORE_CRASH_DB"

func crashBatch(i int) store.Batch {
	at := storetest.T0.Add(time.Duration(i) * time.Second)
	return store.Batch{Time: at,
		Checkpoints: []store.Checkpoint{{Source: "crash", Position: strconv.Itoa(i)}},
		Objects:     []store.Object{store.S3Object("b", fmt.Sprintf("obj-%d", i), "e"), store.FileObject("dir", fmt.Sprintf("f-%d", i), int64(i), at)},
		AlarmStates: []store.AlarmState{{RuleID: "rule", State: []byte(strconv.Itoa(i))}, {RuleID: fmt.Sprintf("rule-%d", i%7), State: []byte(strconv.Itoa(i))}},
		Alerts: []store.NewAlert{
			{Alert: storetest.Alert(fmt.Sprintf("crash-%d", i), at, "ALARM", "111111111111", "us-east-1", "root"), Notifiers: []string{"a", "b"}},
			{Alert: storetest.Alert(fmt.Sprintf("crash-%d-ok", i), at, "OK", "111111111111", "us-east-1", "root"), Notifiers: []string{"a"}},
		},
	}
}

// TestCrashChild is the child's side; it does nothing unless started by TestCrashSafety.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("the child of TestCrashSafety")
	}
	ctx := context.Background()
	s, err := store.Open(path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	i := 0
	if p, ok, err := s.Checkpoint(ctx, "crash"); err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	} else if ok {
		i, _ = strconv.Atoi(p)
		i++
	}
	for ; ; i++ {
		if _, err := s.Commit(ctx, crashBatch(i)); err != nil {
			fmt.Println("error", err)
			os.Exit(3)
		}
		fmt.Println("committed", i)
		// Drain some of the outbox too, so that kills also land in outbox writes.
		now := storetest.T0.Add(time.Duration(i) * time.Second)
		ds, err := s.Claim(ctx, "a", now, now.Add(time.Minute), 2)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(3)
		}
		for _, d := range ds {
			if err := s.Delivered(ctx, d.AlertID, "a", now); err != nil {
				fmt.Println("error", err)
				os.Exit(3)
			}
		}
		if i%50 == 49 {
			if _, err := s.Prune(ctx, now.Add(-30*time.Second)); err != nil {
				fmt.Println("error", err)
				os.Exit(3)
			}
		}
	}
}

func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	rounds := 9
	if v, err := strconv.Atoi(os.Getenv("TRAILALARM_CRASH_ROUNDS")); err == nil {
		rounds = v
	}
	reported := -1 // the highest batch a child said was committed
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), crashEnv+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Every third round (the first one on an empty file: inside the migration, then inside
		// Open or the first commits) kills within a few milliseconds of the start; the others
		// wait for the first commit, so that they get work done, then kill at a random moment.
		deadline := time.After(30 * time.Second)
		var kill <-chan time.Time
		early := round%3 == 0
		if early {
			kill = time.After(time.Duration(rand.IntN(60)) * time.Millisecond)
		}
		for lines != nil {
			select {
			case l, ok := <-lines:
				if !ok {
					lines = nil
					break
				}
				if n, ok := strings.CutPrefix(l, "committed "); ok {
					i, _ := strconv.Atoi(n)
					reported = max(reported, i)
					if kill == nil && !early {
						kill = time.After(time.Duration(rand.IntN(400)) * time.Millisecond)
					}
				} else if strings.HasPrefix(l, "error") {
					t.Fatalf("round %d: child: %s", round, l)
				}
			case <-kill:
				cmd.Process.Signal(syscall.SIGKILL)
				kill, early = nil, true // no second timer
			case <-deadline:
				cmd.Process.Kill()
				t.Fatalf("round %d: the child committed nothing in 30s", round)
			}
		}
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: child ended with %v, not by SIGKILL", round, err)
		}
		n := checkCrashDB(t, path, reported)
		t.Logf("round %d: %d batches committed, %d reported", round, n+1, reported+1)
	}
}

// checkCrashDB checks that the database holds batches 0..n completely and nothing of n+1, with
// n the checkpoint, and that n covers every batch reported committed. It returns n.
func checkCrashDB(t *testing.T, path string, reported int) int {
	t.Helper()
	var integrity string
	if err := rawDB(t, path).QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity check: %q %v", integrity, err)
	}
	s, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	p, ok, err := s.Checkpoint(ctx, "crash")
	if err != nil || (!ok && reported >= 0) {
		t.Fatalf("no checkpoint after a commit was reported: %v", err)
	}
	n := -1
	if ok {
		n, _ = strconv.Atoi(p)
	}
	if n < reported || n > reported+1 {
		t.Fatalf("checkpoint %d, but the child reported %d committed: a commit was lost", n, reported)
	}
	if st, _, _ := s.AlarmState(ctx, "rule"); string(st) != p {
		// both empty before the first commit
		t.Errorf("alarm state %q, checkpoint %s", st, p)
	}
	pending := 0
	for i := 0; i <= n+1; i++ {
		b := crashBatch(i)
		want := i <= n
		for _, o := range b.Objects {
			// The child's Prune removes objects more than 30 batches older than the last one.
			if ok, err := s.IsProcessed(ctx, o); err != nil || (ok != want && i >= n-30) {
				t.Fatalf("batch %d (checkpoint %d): object %s processed = %v, %v", i, n, o.Key, ok, err)
			}
		}
		for _, na := range b.Alerts {
			ds, err := s.Deliveries(ctx, na.Alert.ID)
			if err != nil {
				t.Fatal(err)
			}
			_, aerr := s.Alert(ctx, na.Alert.ID)
			switch {
			case !want && (aerr == nil || len(ds) != 0):
				t.Fatalf("batch %d after the checkpoint %d has its alert", i, n)
			case want && aerr != nil && len(ds) == 0:
				// pruned: only possible when every delivery was delivered; checked below
			case want && (aerr != nil || len(ds) != len(na.Notifiers)):
				t.Fatalf("batch %d (checkpoint %d): alert %v with %d deliveries, want %d", i, n, aerr, len(ds), len(na.Notifiers))
			}
			for _, d := range ds {
				if d.State == store.Pending {
					pending++
				}
			}
		}
	}
	// Nothing undelivered was ever pruned: every alert of every batch is there or was
	// delivered everywhere. The outbox counts add up to what the batches hold.
	var total, delivered int
	counts, _ := s.OutboxCounts(ctx)
	for _, c := range counts {
		total += c.Count
		if c.State == store.Delivered {
			delivered += c.Count
		}
	}
	if total-delivered != pending {
		t.Errorf("outbox: %d undelivered, %d pending deliveries found by alert", total-delivered, pending)
	}
	if want := 3 * (n + 1); pending > want {
		t.Errorf("%d pending deliveries, more than the %d committed", pending, want)
	}
	if b := pendingB(t, s, n); b != n+1 {
		t.Errorf("%d deliveries to b pending, want %d (b is never drained, so none may be pruned)", b, n+1)
	}
	return n
}

func pendingB(t *testing.T, s store.Store, n int) int {
	ds, err := s.Due(context.Background(), "b", storetest.T0.Add(time.Duration(n+1)*time.Second), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	return len(ds)
}

// BenchmarkCommit measures the commit path: one batch with a checkpoint, a processed object and
// one alert to one notifier, as `run` commits a file that raised an alert (alerts=0: most
// files). NORMAL shows what FULL's fsync costs.
func BenchmarkCommit(b *testing.B) {
	for _, c := range []struct {
		sync   string
		alerts int
	}{{"FULL", 1}, {"NORMAL", 1}, {"FULL", 0}} {
		sync := c.sync
		b.Run(fmt.Sprintf("synchronous=%s/alerts=%d", c.sync, c.alerts), func(b *testing.B) {
			s := openTemp(b)
			if sync == "NORMAL" {
				if err := store.SyncNormal(s); err != nil {
					b.Fatal(err)
				}
			}
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				at := storetest.T0.Add(time.Duration(i) * time.Second)
				key := fmt.Sprintf("AWSLogs/111111111111/CloudTrail/us-east-1/%08d.json.gz", i)
				batch := store.Batch{Time: at,
					Checkpoints: []store.Checkpoint{{Source: "s3", Position: key}},
					Objects:     []store.Object{store.S3Object("bucket", key, `"0123456789abcdef"`)},
				}
				for range c.alerts {
					batch.Alerts = append(batch.Alerts, store.NewAlert{Alert: storetest.Alert(strconv.Itoa(i), at, "ALARM", "111111111111", "us-east-1", "root"), Notifiers: []string{"slack"}})
				}
				if _, err := s.Commit(ctx, batch); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "batches/s")
		})
	}
}

func BenchmarkDueDelivered(b *testing.B) {
	s := openTemp(b)
	ctx := context.Background()
	// Fill the outbox in large batches first: this measures delivery bookkeeping only.
	const per = 500
	var batch store.Batch
	for i := 0; i < b.N+per; i++ {
		at := storetest.T0.Add(time.Duration(i) * time.Millisecond)
		batch.Time = at
		batch.Alerts = append(batch.Alerts, store.NewAlert{Alert: storetest.Alert(strconv.Itoa(i), at, "ALARM", "1", "r", "p"), Notifiers: []string{"slack"}})
		if len(batch.Alerts) == per {
			if _, err := s.Commit(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch.Alerts = batch.Alerts[:0]
		}
	}
	now := storetest.T0.Add(24 * time.Hour)
	b.ResetTimer()
	n := 0
	for n < b.N {
		ds, err := s.Due(ctx, "slack", now, 1)
		if err != nil || len(ds) == 0 {
			b.Fatal("nothing due", err)
		}
		if err := s.Delivered(ctx, ds[0].AlertID, "slack", now); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "deliveries/s")
}

// TestConcurrentFirstOpen: several processes (here, handles) opening a new file at the same
// moment all succeed; the losers of the race to switch it to WAL mode wait and retry.
func TestConcurrentFirstOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "race.db")
	errs := make(chan error, 6)
	for range 6 {
		go func() {
			s, err := store.Open(path)
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	for range 6 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
