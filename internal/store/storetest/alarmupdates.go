package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/trailalarm/trailalarm/internal/store"
)

// testAlarmUpdates: updates apply to the latest state, from several writers at once (as several
// workers do), a state change is recorded once, and a failed commit leaves the state alone.
func testAlarmUpdates(t *testing.T, s store.Store) {
	ctx := context.Background()
	// The state is a counter; the update that takes it to threshold raises the one alert.
	const writers, each, threshold = 4, 25, 50
	incr := func(rule string) store.AlarmUpdate {
		return store.AlarmUpdate{RuleID: rule, Apply: func(st []byte, ok bool) ([]byte, []store.NewAlert, error) {
			n := 0
			if ok {
				var err error
				if n, err = strconv.Atoi(string(st)); err != nil {
					return nil, nil, err
				}
			}
			n++
			var alerts []store.NewAlert
			if n == threshold {
				alerts = append(alerts, store.NewAlert{Alert: Alert(rule, T0.Add(time.Duration(n)*time.Minute), "ALARM", "1", "r", "p"), Notifiers: []string{"n"}})
			}
			return []byte(strconv.Itoa(n)), alerts, nil
		}}
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// Both rules in every batch, in an order that differs between writers.
				ups := []store.AlarmUpdate{incr("x"), incr("y")}
				if w%2 == 1 {
					ups[0], ups[1] = ups[1], ups[0]
				}
				if _, err := s.Commit(ctx, store.Batch{Time: T0.Add(time.Duration(i) * time.Second), AlarmUpdates: ups,
					Objects: []store.Object{store.S3Object("b", fmt.Sprintf("%d/%d", w, i), "e")}}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, rule := range []string{"x", "y"} {
		if st, ok, err := s.AlarmState(ctx, rule); err != nil || !ok || string(st) != strconv.Itoa(writers*each) {
			t.Errorf("state of %s = %q %v %v, want %d: an update was lost", rule, st, ok, err, writers*each)
		}
		p, err := s.Alerts(ctx, store.AlertFilter{Rule: rule})
		if err != nil || len(p.Alerts) != 1 {
			t.Errorf("alerts of %s: %d, %v; want exactly one", rule, len(p.Alerts), err)
		}
	}
	if d, _ := s.Due(ctx, "n", T0.Add(time.Hour), 10); len(d) != 2 {
		t.Errorf("%d deliveries due, want 2", len(d))
	}

	// A commit that fails after its updates ran (an object processed before) keeps nothing of them.
	_, err := s.Commit(ctx, store.Batch{Time: T0.Add(time.Hour), AlarmUpdates: []store.AlarmUpdate{incr("x")},
		Objects: []store.Object{store.S3Object("b", "new", "e"), store.S3Object("b", "0/0", "e")}})
	if !errors.Is(err, store.ErrAlreadyProcessed) {
		t.Fatalf("commit with a processed object: %v", err)
	}
	// An update that fails fails the commit.
	boom := errors.New("boom")
	_, err = s.Commit(ctx, store.Batch{Time: T0.Add(time.Hour), AlarmUpdates: []store.AlarmUpdate{incr("y"),
		{RuleID: "x", Apply: func([]byte, bool) ([]byte, []store.NewAlert, error) { return nil, nil, boom }}}})
	if !errors.Is(err, boom) {
		t.Errorf("failing update: %v, want its error", err)
	}
	for _, rule := range []string{"x", "y"} {
		if st, _, _ := s.AlarmState(ctx, rule); string(st) != strconv.Itoa(writers*each) {
			t.Errorf("state of %s = %q after failed commits", rule, st)
		}
	}
	// Nil leaves the state as it is, and a rule that had none still has none.
	keep := func(rule string) store.AlarmUpdate {
		return store.AlarmUpdate{RuleID: rule, Apply: func([]byte, bool) ([]byte, []store.NewAlert, error) { return nil, nil, nil }}
	}
	commit(t, s, store.Batch{Time: T0.Add(2 * time.Hour), AlarmUpdates: []store.AlarmUpdate{keep("x"), keep("z")}})
	if st, _, _ := s.AlarmState(ctx, "x"); string(st) != strconv.Itoa(writers*each) {
		t.Errorf("state of x = %q after an update that kept it", st)
	}
	if _, ok, err := s.AlarmState(ctx, "z"); ok || err != nil {
		t.Errorf("an update that kept nothing created a state: %v %v", ok, err)
	}
	if all, _ := s.AlarmStates(ctx); len(all) != 2 {
		t.Errorf("alarm states %+v, want x and y", all)
	}
	// A rule in both AlarmStates and AlarmUpdates, or an update without a function, is refused.
	for _, b := range []store.Batch{
		{Time: T0, AlarmStates: []store.AlarmState{{RuleID: "x", State: []byte("1")}}, AlarmUpdates: []store.AlarmUpdate{incr("x")}},
		{Time: T0, AlarmUpdates: []store.AlarmUpdate{{RuleID: "x"}}},
	} {
		if _, err := s.Commit(ctx, b); err == nil {
			t.Errorf("batch %+v accepted", b)
		}
	}
}
