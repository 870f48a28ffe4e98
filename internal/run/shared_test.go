package run

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailalarm/trailalarm/internal/config"
	"github.com/trailalarm/trailalarm/internal/detect"
	"github.com/trailalarm/trailalarm/internal/generate"
	"github.com/trailalarm/trailalarm/internal/rules"
	"github.com/trailalarm/trailalarm/internal/source"
	"github.com/trailalarm/trailalarm/internal/store"
	"github.com/trailalarm/trailalarm/internal/store/postgres"
	pgtest "github.com/trailalarm/trailalarm/internal/testutil/postgres"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// busyCorpus writes generated CloudTrail in which the CIS alarms go in and out of ALARM many
// times: 2 accounts, small files, many injected events.
func busyCorpus(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	_, err := generate.WriteDir(context.Background(), dir, generate.Options{Size: 6_000_000, Seed: 8,
		Accounts: []string{"111111111111", "222222222222"}, Regions: []string{"us-east-1"}, EventsPerFile: 40, InjectRate: 300})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// sampleUnits reads CloudTrail files once, in order: the detection results each worker commits.
func sampleUnits(t *testing.T, dir string, rs []*rules.Rule) ([]source.Unit, []*detect.FileResult) {
	t.Helper()
	files, err := source.Files([]string{dir}, nil)
	if err != nil || len(files) < 50 {
		t.Fatalf("sample files: %d, %v", len(files), err)
	}
	// In delivery order: by the time in the name, then account.
	stamp := func(f *source.File) string {
		b := filepath.Base(f.Name())
		return b[strings.Index(b, "_CloudTrail_")+12:] + b[:12]
	}
	sort.Slice(files, func(i, j int) bool { return stamp(files[i]) < stamp(files[j]) })
	units := make([]source.Unit, len(files))
	inputs := make([]detect.Input, len(files))
	for i, f := range files {
		units[i] = source.Unit{Input: f, Key: f.Name()}
		inputs[i] = f
	}
	results := make([]*detect.FileResult, len(files))
	err = detect.ForRules(rs).Scan(context.Background(), inputs, detect.Options{}, nil, func(res *detect.FileResult) error {
		r := *res
		results[res.Index] = &r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return units, results
}

// workers makes n runners, each with its own connection to one shared store (as n processes
// would have), and a folder source of the same name.
func workers(t *testing.T, n int, rs []*rules.Rule, open func() store.Store) ([]*Runner, source.Live) {
	t.Helper()
	src, err := source.NewFolder(source.FolderConfig{Path: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	var out []*Runner
	for range n {
		st := open()
		t.Cleanup(func() { st.Close() })
		cfg := config.Default()
		r, err := New(context.Background(), Options{Config: cfg, Rules: rs, Store: st})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out, src
}

// storedAlerts lists a store's alerts as rule, series, state change and time, sorted.
func storedAlerts(t *testing.T, st store.Store) []string {
	t.Helper()
	p, err := st.Alerts(context.Background(), store.AlertFilter{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range p.Alerts {
		out = append(out, a.Rule.ID+" "+a.From+"->"+a.To+" "+a.Time.Format("15:04:05")+" "+a.ID)
	}
	sort.Strings(out)
	return out
}

// TestSharedAlarmState commits the sample files through several runners sharing one store,
// in an interleaving where each runner's view of the alarms is stale most of the time: the
// alerts must be those of one runner committing every file, each recorded once.
func TestSharedAlarmState(t *testing.T) {
	rs := rules.DefaultSelection()
	units, results := sampleUnits(t, busyCorpus(t), rs)
	ctx := context.Background()

	backends := []struct {
		name string
		open func(t *testing.T) func() store.Store
	}{
		{"sqlite", func(t *testing.T) func() store.Store {
			path := filepath.Join(t.TempDir(), "shared.db")
			return func() store.Store {
				st, err := store.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				return st
			}
		}},
		{"postgres", func(t *testing.T) func() store.Store {
			dsn := pgtest.DSN(t)
			return func() store.Store {
				st, err := postgres.Open(ctx, dsn)
				if err != nil {
					t.Fatal(err)
				}
				return st
			}
		}},
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			one, src := workers(t, 1, rs, be.open(t))
			for i, u := range units {
				if err := one[0].commitUnit(ctx, src, u, results[i]); err != nil {
					t.Fatal(err)
				}
			}
			want := storedAlerts(t, one[0].o.Store)
			t.Logf("%d files, %d alerts", len(units), len(want))
			if len(want) < 10 {
				t.Fatalf("one runner raised only %d alerts", len(want))
			}

			three, src := workers(t, 3, rs, be.open(t))
			for i, u := range units {
				w := three[(i/2+i%3)%3] // runs of one or two files each, in a shifting order
				if err := w.commitUnit(ctx, src, u, results[i]); err != nil {
					t.Fatal(err)
				}
			}
			// A file committed again (a redelivered message) is a duplicate, and adds nothing.
			if err := three[1].commitUnit(ctx, src, units[3], results[3]); err != nil {
				t.Fatal(err)
			}
			got := storedAlerts(t, three[0].o.Store)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("three runners on one store:\n got %d alerts %v\nwant %d alerts %v", len(got), got, len(want), want)
			}
			// Every alert once in the outbox of its notifier.
			counts, _ := three[0].o.Store.OutboxCounts(ctx)
			wantCounts, _ := one[0].o.Store.OutboxCounts(ctx)
			if !reflect.DeepEqual(counts, wantCounts) {
				t.Errorf("outbox %+v, want %+v", counts, wantCounts)
			}
		})
	}
}

// TestWorkersInMetrics: a running runner sends heartbeats, and /metrics shows every worker of
// the shared store, up or not.
func TestWorkersInMetrics(t *testing.T) {
	ctx := context.Background()
	st, err := postgres.Open(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Heartbeat(ctx, "other-host:42", time.Now().Add(-10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	src, err := source.NewFolder(source.FolderConfig{Path: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	r, err := New(ctx, Options{Config: config.Default(), Rules: rules.DefaultSelection(), Store: st, Sources: []source.Live{src}, WorkerID: "this-host:7"})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- r.Run(runCtx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ws, _ := st.Workers(ctx)
		if len(ws) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("workers %+v: no heartbeat of this runner", ws)
		}
		time.Sleep(50 * time.Millisecond)
	}
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`trailalarm_worker_up{worker="this-host:7"} 1`,
		`trailalarm_worker_up{worker="other-host:42"} 0`,
		`trailalarm_worker_last_seen_timestamp_seconds{worker="other-host:42"}`,
		`trailalarm_worker_start_timestamp_seconds{worker="this-host:7"}`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
