package run

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/trailalarm/trailalarm/internal/config"
	"github.com/trailalarm/trailalarm/internal/rules"
	"github.com/trailalarm/trailalarm/internal/source"
	"github.com/trailalarm/trailalarm/internal/store"
)

// TestRunEndsWithFiniteSource: Run returns once a finite source is read to its end, and Replay
// of the same files then skips them all and only moves the alarms on to the end.
func TestRunEndsWithFiniteSource(t *testing.T) {
	ctx := context.Background()
	files, err := source.Files([]string{"../../examples/cloudtrail"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	list := func() *source.List {
		ins := make([]source.Input, len(files))
		for i, f := range files {
			ins[i] = f
		}
		l, err := source.NewList("scan", ins)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "ta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := config.Default()
	cfg.Notifiers = nil
	newRunner := func(s source.Live) *Runner {
		r, err := New(ctx, Options{Config: cfg, Rules: rules.DefaultSelection(), Store: st, Sources: []source.Live{s}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	done := make(chan error, 1)
	go func() { done <- newRunner(list()).Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not return after the finite source ended")
	}
	for _, f := range files {
		ok, err := st.IsProcessed(ctx, store.Object{Source: "scan", Key: mustKey(t, f)})
		if err != nil || !ok {
			t.Errorf("%s not processed: %v", f.Path, err)
		}
	}
	before, err := st.Alerts(ctx, store.AlertFilter{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	// The end of the data: the alarms return to OK once it has gone by (ALARM -> OK alerts).
	end := time.Date(2023, 7, 10, 13, 0, 0, 0, time.UTC)
	if err := newRunner(list()).Replay(ctx, list(), end); err != nil {
		t.Fatal(err)
	}
	after, err := st.Alerts(ctx, store.AlertFilter{Limit: store.MaxLimit, To: "OK"})
	if err != nil {
		t.Fatal(err)
	}
	okBefore := 0
	for _, a := range before.Alerts {
		if a.To == "OK" {
			okBefore++
		}
	}
	if len(after.Alerts) <= okBefore {
		t.Errorf("moving the alarms on to %v raised no OK alert (%d before, %d after)", end, okBefore, len(after.Alerts))
	}
	counts, err := st.MatchCounts(ctx, store.MatchFilter{})
	if err != nil || len(counts) == 0 {
		t.Fatalf("no match counts: %v", err)
	}
}

func mustKey(t *testing.T, f *source.File) string {
	t.Helper()
	l, err := source.NewList("scan", []source.Input{f})
	if err != nil {
		t.Fatal(err)
	}
	us, _ := l.Next(context.Background())
	return us[0].Key
}
