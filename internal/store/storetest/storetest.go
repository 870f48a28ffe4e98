// Package storetest is the behaviour test suite of store.Store: every backend (SQLite now,
// PostgreSQL later) runs the same tests through Run.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/trailalarm/trailalarm/internal/alert"
	"github.com/trailalarm/trailalarm/internal/cloudtrail"
	"github.com/trailalarm/trailalarm/internal/store"
)

// T0 is the time the tests start from; the store never reads the clock, so neither do they.
var T0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Run runs every behaviour test against stores made by open, which returns a new, empty store
// for each test and arranges (with t.Cleanup) for it to be closed and removed.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Checkpoints", testCheckpoints},
		{"ProcessedObjects", testProcessedObjects},
		{"AlarmStates", testAlarmStates},
		{"AlarmUpdates", testAlarmUpdates},
		{"CommitAtomicity", testCommitAtomicity},
		{"IdempotentAlerts", testIdempotentAlerts},
		{"AlertRoundTrip", testAlertRoundTrip},
		{"OutboxFlow", testOutboxFlow},
		{"OutboxNotFound", testOutboxNotFound},
		{"Claim", testClaim},
		{"AlertQueries", testAlertQueries},
		{"AlertPaging", testAlertPaging},
		{"MatchCounts", testMatchCounts},
		{"Retention", testRetention},
		{"Concurrent", testConcurrent},
		{"Workers", testWorkers},
		{"Size", testSize},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// Alert builds a finished alert of a rule at a time, with one evidence record.
func Alert(rule string, at time.Time, to, account, region, principal string) alert.Alert {
	a := alert.Alert{
		Rule:   alert.Rule{ID: rule, Title: "title of " + rule, Severity: "high", Pack: "cis-1.2"},
		Time:   at,
		From:   "OK",
		To:     to,
		Reason: "Threshold Crossed: 1 datapoint [1.0 (" + at.Format(time.RFC3339) + ")] was greater than or equal to the threshold (1.0).",
		Evidence: []alert.Evidence{{
			Summary: cloudtrail.Summary{
				EventID: "e-" + rule, EventTime: at.Format(time.RFC3339), EventName: "StopLogging",
				EventSource: "cloudtrail.amazonaws.com", AWSRegion: region, RecipientAccountID: account,
				Principal: principal, SourceIPAddress: "192.0.2.1", UserAgent: "aws-cli",
			},
			RequestParameters: `{"name":"trail"}`,
			Record:            []byte(`{"eventName":"StopLogging"}`),
		}},
		EvidenceCount: 1,
	}
	a.Finish()
	return a
}

func commit(t *testing.T, s store.Store, b store.Batch) store.CommitResult {
	t.Helper()
	r, err := s.Commit(context.Background(), b)
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
	return r
}

func testCheckpoints(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, ok, err := s.Checkpoint(ctx, "s3"); err != nil || ok {
		t.Fatalf("empty store has a checkpoint: %v %v", ok, err)
	}
	commit(t, s, store.Batch{Time: T0, Checkpoints: []store.Checkpoint{{Source: "s3", Position: "AWSLogs/1/a"}, {Source: "dir", Position: "f1:10"}}})
	commit(t, s, store.Batch{Time: T0.Add(time.Minute), Checkpoints: []store.Checkpoint{{Source: "s3", Position: "AWSLogs/1/b"}}})
	if p, ok, err := s.Checkpoint(ctx, "s3"); err != nil || !ok || p != "AWSLogs/1/b" {
		t.Errorf("checkpoint s3 = %q %v %v", p, ok, err)
	}
	got, err := s.Checkpoints(ctx)
	want := []store.Checkpoint{
		{Source: "dir", Position: "f1:10", Updated: T0},
		{Source: "s3", Position: "AWSLogs/1/b", Updated: T0.Add(time.Minute)},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("checkpoints = %+v, %v; want %+v", got, err, want)
	}
}

func testProcessedObjects(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := store.S3Object("bucket", "AWSLogs/1/CloudTrail/us-east-1/f.json.gz", `"etag1"`)
	f := store.FileObject("dir", "/logs/a.json", 100, T0)
	for _, x := range []store.Object{o, f} {
		if ok, err := s.IsProcessed(ctx, x); err != nil || ok {
			t.Fatalf("%+v processed before commit: %v %v", x, ok, err)
		}
	}
	// The same object twice in one batch (duplicate notifications) counts once.
	commit(t, s, store.Batch{Time: T0, Objects: []store.Object{o, f, o}})
	cases := []struct {
		o    store.Object
		want bool
	}{
		{o, true},
		{f, true},
		{store.S3Object("bucket", o.Key, `"etag2"`), false}, // overwritten object: new content
		{store.S3Object("other", o.Key, `"etag1"`), false},
		{store.FileObject("dir", "/logs/a.json", 101, T0), false}, // grew
		{store.FileObject("dir", "/logs/a.json", 100, T0.Add(time.Second)), false},
	}
	for _, c := range cases {
		if ok, err := s.IsProcessed(ctx, c.o); err != nil || ok != c.want {
			t.Errorf("IsProcessed(%+v) = %v, %v; want %v", c.o, ok, err, c.want)
		}
	}
	// Committing a processed object again fails, and writes nothing of its batch.
	_, err := s.Commit(ctx, store.Batch{Time: T0.Add(time.Minute),
		Checkpoints: []store.Checkpoint{{Source: "s3", Position: "later"}},
		Objects:     []store.Object{store.S3Object("bucket", "new", "e"), o}})
	if !errors.Is(err, store.ErrAlreadyProcessed) {
		t.Fatalf("second commit of %+v: %v, want ErrAlreadyProcessed", o, err)
	}
	if _, ok, _ := s.Checkpoint(ctx, "s3"); ok {
		t.Error("a failed commit left its checkpoint")
	}
	if ok, _ := s.IsProcessed(ctx, store.S3Object("bucket", "new", "e")); ok {
		t.Error("a failed commit left a processed object")
	}
}

func testAlarmStates(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, ok, err := s.AlarmState(ctx, "r1"); err != nil || ok {
		t.Fatalf("empty store has alarm state: %v %v", ok, err)
	}
	commit(t, s, store.Batch{Time: T0, AlarmStates: []store.AlarmState{{RuleID: "r1", State: []byte(`{"v":1}`)}, {RuleID: "r2", State: nil}}})
	commit(t, s, store.Batch{Time: T0.Add(time.Minute), AlarmStates: []store.AlarmState{{RuleID: "r1", State: []byte{0, 1, 2, 0xff}}}})
	if st, ok, err := s.AlarmState(ctx, "r1"); err != nil || !ok || string(st) != "\x00\x01\x02\xff" {
		t.Errorf("alarm state r1 = %q %v %v", st, ok, err)
	}
	if st, ok, err := s.AlarmState(ctx, "r2"); err != nil || !ok || len(st) != 0 {
		t.Errorf("alarm state r2 = %q %v %v", st, ok, err)
	}
	got, err := s.AlarmStates(ctx)
	want := []store.AlarmState{
		{RuleID: "r1", State: []byte{0, 1, 2, 0xff}, Updated: T0.Add(time.Minute)},
		{RuleID: "r2", State: []byte{}, Updated: T0},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("alarm states = %+v, %v; want %+v", got, err, want)
	}
}

// snapshot is everything a test can see of a store, to compare before and after a failure.
type snapshot struct {
	Checkpoints []store.Checkpoint
	States      []store.AlarmState
	Alerts      []store.StoredAlert
	Counts      []store.OutboxCount
	Processed   []bool
}

// Snapshot reads what a store holds, for atomicity checks; objects are looked up one by one.
func takeSnapshot(t *testing.T, s store.Store, objects ...store.Object) snapshot {
	t.Helper()
	ctx := context.Background()
	var sn snapshot
	var err error
	if sn.Checkpoints, err = s.Checkpoints(ctx); err != nil {
		t.Fatal(err)
	}
	if sn.States, err = s.AlarmStates(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := s.Alerts(ctx, store.AlertFilter{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	sn.Alerts = p.Alerts
	if sn.Counts, err = s.OutboxCounts(ctx); err != nil {
		t.Fatal(err)
	}
	for _, o := range objects {
		ok, err := s.IsProcessed(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		sn.Processed = append(sn.Processed, ok)
	}
	return sn
}

func testCommitAtomicity(t *testing.T, s store.Store) {
	old := store.S3Object("b", "old", "e")
	commit(t, s, store.Batch{Time: T0,
		Checkpoints: []store.Checkpoint{{Source: "src", Position: "1"}},
		Objects:     []store.Object{old},
		AlarmStates: []store.AlarmState{{RuleID: "r", State: []byte("1")}},
		Alerts:      []store.NewAlert{{Alert: Alert("r", T0, "ALARM", "111111111111", "us-east-1", "root"), Notifiers: []string{"n"}}},
	})
	fresh := store.S3Object("b", "new", "e")
	full := func() store.Batch {
		return store.Batch{Time: T0.Add(time.Hour),
			Checkpoints: []store.Checkpoint{{Source: "src", Position: "2"}, {Source: "other", Position: "x"}},
			Objects:     []store.Object{fresh},
			AlarmStates: []store.AlarmState{{RuleID: "r", State: []byte("2")}, {RuleID: "r2", State: []byte("x")}},
			Alerts: []store.NewAlert{
				{Alert: Alert("r", T0.Add(time.Hour), "OK", "111111111111", "us-east-1", "root"), Notifiers: []string{"n", "m"}},
				{Alert: Alert("r2", T0.Add(time.Hour), "ALARM", "222222222222", "eu-west-1", "alice"), Notifiers: []string{"n"}},
			},
		}
	}
	before := takeSnapshot(t, s, old, fresh)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), T0) // long past
	defer cancel2()
	cases := []struct {
		name  string
		ctx   context.Context
		batch func() store.Batch
		is    error
	}{
		{"processed object last", context.Background(), func() store.Batch {
			b := full()
			b.Objects = append(b.Objects, old)
			return b
		}, store.ErrAlreadyProcessed},
		{"cancelled context", cancelled, full, context.Canceled},
		{"expired deadline", expired, full, context.DeadlineExceeded},
		{"alert without id", context.Background(), func() store.Batch {
			b := full()
			b.Alerts[1].Alert.ID = ""
			return b
		}, nil},
		{"empty notifier", context.Background(), func() store.Batch {
			b := full()
			b.Alerts[0].Notifiers = []string{"n", ""}
			return b
		}, nil},
		{"no time", context.Background(), func() store.Batch {
			b := full()
			b.Time = time.Time{}
			return b
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Commit(c.ctx, c.batch())
			if err == nil || (c.is != nil && !errors.Is(err, c.is)) {
				t.Fatalf("commit: %v, want an error (%v)", err, c.is)
			}
			if after := takeSnapshot(t, s, old, fresh); !reflect.DeepEqual(before, after) {
				t.Errorf("a failed commit changed the store:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
	// And the same batch, valid, goes through whole.
	r := commit(t, s, full())
	if len(r.Inserted) != 2 || r.Deliveries != 3 {
		t.Errorf("commit result %+v, want 2 alerts and 3 deliveries", r)
	}
}

func testIdempotentAlerts(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := Alert("r", T0, "ALARM", "111111111111", "us-east-1", "root")
	r := commit(t, s, store.Batch{Time: T0, Alerts: []store.NewAlert{{Alert: a, Notifiers: []string{"slack"}}}})
	if !reflect.DeepEqual(r.Inserted, []string{a.ID}) || r.Deliveries != 1 {
		t.Fatalf("first commit: %+v", r)
	}
	if err := s.Delivered(ctx, a.ID, "slack", T0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	// The same alert again (a crash before the checkpoint, say), even with different content:
	// the stored one stays, and nothing is due again.
	again := a
	again.Reason = "changed"
	r = commit(t, s, store.Batch{Time: T0.Add(time.Minute), Alerts: []store.NewAlert{{Alert: again, Notifiers: []string{"slack"}}}})
	if len(r.Inserted) != 0 || r.Deliveries != 0 {
		t.Errorf("second commit inserted %+v", r)
	}
	if d, _ := s.Due(ctx, "slack", T0.Add(time.Hour), 10); len(d) != 0 {
		t.Errorf("delivered alert due again: %+v", d)
	}
	got, err := s.Alert(ctx, a.ID)
	if err != nil || got.Reason != a.Reason || !got.Committed.Equal(T0) {
		t.Errorf("stored alert = %+v, %v", got, err)
	}
	// A notifier added since goes into the outbox; the one that had it does not get it again.
	r = commit(t, s, store.Batch{Time: T0.Add(2 * time.Minute), Alerts: []store.NewAlert{{Alert: a, Notifiers: []string{"slack", "sns"}}}})
	if len(r.Inserted) != 0 || r.Deliveries != 1 {
		t.Errorf("third commit: %+v", r)
	}
	if d, _ := s.Due(ctx, "slack", T0.Add(time.Hour), 10); len(d) != 0 {
		t.Errorf("slack: delivered alert due again: %+v", d)
	}
	if d, _ := s.Due(ctx, "sns", T0.Add(time.Hour), 10); len(d) != 1 || d[0].AlertID != a.ID {
		t.Errorf("sns due = %+v", d)
	}
	// The same alert twice in one batch is one alert.
	b := Alert("r", T0.Add(time.Hour), "ALARM", "1", "r", "p")
	r = commit(t, s, store.Batch{Time: T0.Add(time.Hour), Alerts: []store.NewAlert{{Alert: b, Notifiers: []string{"x"}}, {Alert: b, Notifiers: []string{"x"}}}})
	if len(r.Inserted) != 1 || r.Deliveries != 1 {
		t.Errorf("duplicate in one batch: %+v", r)
	}
}

func testAlertRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := Alert("cis-1.2:3.5", T0.Add(123456789), "ALARM", "111111111111", "us-east-1", "role/Admin/alice")
	a.Dimensions = map[string]string{"account": "111111111111"}
	a.Early = true
	a.Rule.References = []string{"CIS 3.5", "CloudTrail.1"}
	a.Evidence = append(a.Evidence, a.Evidence[0])
	a.Evidence[1].RecipientAccountID = "222222222222"
	a.Finish()
	commit(t, s, store.Batch{Time: T0, Alerts: []store.NewAlert{{Alert: a}}})
	got, err := s.Alert(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := store.StoredAlert{Alert: a, Committed: T0, Delivery: store.Delivered}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
	if _, err := s.Alert(ctx, "ta-nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing alert: %v, want ErrNotFound", err)
	}
	if d, err := s.Deliveries(ctx, a.ID); err != nil || len(d) != 0 {
		t.Errorf("deliveries of an alert without notifiers: %+v %v", d, err)
	}
}

func testOutboxFlow(t *testing.T, s store.Store) {
	ctx := context.Background()
	// Committed in one order, alert times in another: Due goes by alert time.
	a1 := Alert("r1", T0.Add(2*time.Minute), "ALARM", "1", "r", "p")
	a2 := Alert("r2", T0.Add(1*time.Minute), "ALARM", "1", "r", "p")
	a3 := Alert("r3", T0.Add(3*time.Minute), "ALARM", "1", "r", "p")
	commit(t, s, store.Batch{Time: T0.Add(10 * time.Minute), Alerts: []store.NewAlert{{Alert: a1, Notifiers: []string{"slack", "sns"}}}})
	commit(t, s, store.Batch{Time: T0.Add(10 * time.Minute), Alerts: []store.NewAlert{{Alert: a2, Notifiers: []string{"slack"}}}})
	commit(t, s, store.Batch{Time: T0.Add(20 * time.Minute), Alerts: []store.NewAlert{{Alert: a3, Notifiers: []string{"slack"}}}})

	ids := func(ds []store.Delivery) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.AlertID)
		}
		return out
	}
	due := func(notifier string, now time.Time, limit int) []string {
		t.Helper()
		ds, err := s.Due(ctx, notifier, now, limit)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if d.Alert.ID != d.AlertID || d.Notifier != notifier || d.State != store.Pending {
				t.Errorf("due delivery %+v", d)
			}
		}
		return ids(ds)
	}
	steps := []struct {
		name     string
		do       func() error
		notifier string
		now      time.Time
		limit    int
		want     []string
	}{
		{"nothing due before the commit", nil, "slack", T0, 10, nil},
		{"oldest alert first", nil, "slack", T0.Add(time.Hour), 10, []string{a2.ID, a1.ID, a3.ID}},
		{"only what is due", nil, "slack", T0.Add(15 * time.Minute), 10, []string{a2.ID, a1.ID}},
		{"limit", nil, "slack", T0.Add(time.Hour), 2, []string{a2.ID, a1.ID}},
		{"zero limit", nil, "slack", T0.Add(time.Hour), 0, nil},
		{"other notifier", nil, "sns", T0.Add(time.Hour), 10, []string{a1.ID}},
		{"unknown notifier", nil, "email", T0.Add(time.Hour), 10, nil},
		{"failed: not due during backoff", func() error {
			return s.Failed(ctx, a2.ID, "slack", T0.Add(30*time.Minute), "503 Service Unavailable", T0.Add(31*time.Minute))
		}, "slack", T0.Add(30 * time.Minute), 10, []string{a1.ID, a3.ID}},
		{"due again after backoff", nil, "slack", T0.Add(31 * time.Minute), 10, []string{a2.ID, a1.ID, a3.ID}},
		{"delivered: not due again", func() error {
			return s.Delivered(ctx, a1.ID, "slack", T0.Add(32*time.Minute))
		}, "slack", T0.Add(time.Hour), 10, []string{a2.ID, a3.ID}},
		{"delivered twice: no change", func() error {
			return s.Delivered(ctx, a1.ID, "slack", T0.Add(33*time.Minute))
		}, "slack", T0.Add(time.Hour), 10, []string{a2.ID, a3.ID}},
		{"failure after delivery: stays delivered", func() error {
			return s.Failed(ctx, a1.ID, "slack", T0.Add(34*time.Minute), "late", T0.Add(35*time.Minute))
		}, "slack", T0.Add(time.Hour), 10, []string{a2.ID, a3.ID}},
		{"given up: failed, never due", func() error {
			return s.Failed(ctx, a3.ID, "slack", T0.Add(35*time.Minute), "410 Gone", time.Time{})
		}, "slack", T0.Add(24 * time.Hour), 10, []string{a2.ID}},
		{"sns untouched", nil, "sns", T0.Add(time.Hour), 10, []string{a1.ID}},
	}
	for _, st := range steps {
		if st.do != nil {
			if err := st.do(); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		if got := due(st.notifier, st.now, st.limit); !reflect.DeepEqual(got, st.want) {
			t.Errorf("%s: due %v, want %v", st.name, got, st.want)
		}
	}

	ds, err := s.Deliveries(ctx, a2.ID)
	want := []store.Delivery{{AlertID: a2.ID, Notifier: "slack", State: store.Pending, Attempts: 1,
		LastError: "503 Service Unavailable", NextAttempt: T0.Add(31 * time.Minute), Updated: T0.Add(30 * time.Minute)}}
	if err != nil || !reflect.DeepEqual(ds, want) {
		t.Errorf("deliveries of a2 = %+v, %v\nwant %+v", ds, err, want)
	}
	ds, err = s.Deliveries(ctx, a1.ID)
	want = []store.Delivery{
		{AlertID: a1.ID, Notifier: "slack", State: store.Delivered, Attempts: 1, NextAttempt: T0.Add(10 * time.Minute),
			Updated: T0.Add(32 * time.Minute), DeliveredAt: T0.Add(32 * time.Minute)},
		{AlertID: a1.ID, Notifier: "sns", State: store.Pending, NextAttempt: T0.Add(10 * time.Minute), Updated: T0.Add(10 * time.Minute)},
	}
	if err != nil || !reflect.DeepEqual(ds, want) {
		t.Errorf("deliveries of a1 = %+v, %v\nwant %+v", ds, err, want)
	}
	ds, _ = s.Deliveries(ctx, a3.ID)
	if len(ds) != 1 || ds[0].State != store.Failed || ds[0].Attempts != 1 || ds[0].LastError != "410 Gone" {
		t.Errorf("deliveries of a3 = %+v", ds)
	}
	counts, err := s.OutboxCounts(ctx)
	wantCounts := []store.OutboxCount{
		{Notifier: "slack", State: store.Delivered, Count: 1},
		{Notifier: "slack", State: store.Failed, Count: 1},
		{Notifier: "slack", State: store.Pending, Count: 1},
		{Notifier: "sns", State: store.Pending, Count: 1},
	}
	if err != nil || !reflect.DeepEqual(counts, wantCounts) {
		t.Errorf("outbox counts = %+v, %v; want %+v", counts, err, wantCounts)
	}
}

func testOutboxNotFound(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := Alert("r", T0, "ALARM", "1", "r", "p")
	commit(t, s, store.Batch{Time: T0, Alerts: []store.NewAlert{{Alert: a, Notifiers: []string{"slack"}}}})
	for _, c := range []struct{ id, notifier string }{{"ta-none", "slack"}, {a.ID, "sns"}} {
		if err := s.Delivered(ctx, c.id, c.notifier, T0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Delivered(%s, %s) = %v, want ErrNotFound", c.id, c.notifier, err)
		}
		if err := s.Failed(ctx, c.id, c.notifier, T0, "x", T0.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Failed(%s, %s) = %v, want ErrNotFound", c.id, c.notifier, err)
		}
	}
}

func testClaim(t *testing.T, s store.Store) {
	ctx := context.Background()
	var batch store.Batch
	batch.Time = T0
	for i := range 5 {
		batch.Alerts = append(batch.Alerts, store.NewAlert{Alert: Alert(fmt.Sprintf("r%d", i), T0.Add(time.Duration(i)*time.Second), "ALARM", "1", "r", "p"), Notifiers: []string{"n"}})
	}
	commit(t, s, batch)
	now := T0.Add(time.Minute)
	lease := now.Add(time.Minute)
	c1, err := s.Claim(ctx, "n", now, lease, 3)
	if err != nil || len(c1) != 3 || c1[0].AlertID != batch.Alerts[0].Alert.ID || !c1[0].NextAttempt.Equal(lease) {
		t.Fatalf("first claim = %+v, %v", c1, err)
	}
	c2, err := s.Claim(ctx, "n", now, lease, 10)
	if err != nil || len(c2) != 2 || c2[0].AlertID != batch.Alerts[3].Alert.ID {
		t.Fatalf("second claim = %+v, %v", c2, err)
	}
	if c3, _ := s.Claim(ctx, "n", now, lease, 10); len(c3) != 0 {
		t.Errorf("third claim = %+v, want nothing: all leased", c3)
	}
	if d, _ := s.Due(ctx, "n", now, 10); len(d) != 0 {
		t.Errorf("due while leased = %+v", d)
	}
	if _, err := s.Claim(ctx, "n", now, now, 10); err == nil {
		t.Error("a lease ending now was accepted")
	}
	// Settle some; the rest come back when the lease runs out (the deliverer died).
	if err := s.Delivered(ctx, c1[0].AlertID, "n", now); err != nil {
		t.Fatal(err)
	}
	if err := s.Failed(ctx, c1[1].AlertID, "n", now, "boom", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	c4, err := s.Claim(ctx, "n", lease, lease.Add(time.Minute), 10)
	if err != nil || len(c4) != 3 || c4[0].AlertID != c1[2].AlertID {
		t.Errorf("claim after the lease = %+v, %v", c4, err)
	}
}

func testAlertQueries(t *testing.T, s store.Store) {
	ctx := context.Background()
	a1 := Alert("r1", T0.Add(1*time.Hour), "ALARM", "111111111111", "us-east-1", "root")
	a2 := Alert("r1", T0.Add(2*time.Hour), "OK", "111111111111", "us-east-1", "root")
	a3 := Alert("r2", T0.Add(3*time.Hour), "ALARM", "222222222222", "eu-west-1", "role/Admin/alice")
	a3.Rule.Severity = "critical"
	a4 := Alert("r3", T0.Add(4*time.Hour), "ALARM", "111111111111", "eu-west-1", "user/bob")
	a4.Evidence = append(a4.Evidence, a4.Evidence[0])
	a4.Evidence[1].RecipientAccountID = "333333333333"
	a4.Evidence[1].AWSRegion = "ap-south-1"
	a4.Evidence[1].Principal = "root" // not the first evidence: not the alert's principal
	a4.Finish()
	commit(t, s, store.Batch{Time: T0.Add(5 * time.Hour), Alerts: []store.NewAlert{
		{Alert: a1, Notifiers: []string{"n"}}, {Alert: a2, Notifiers: []string{"n"}},
		{Alert: a3, Notifiers: []string{"n", "m"}}, {Alert: a4},
	}})
	if err := s.Delivered(ctx, a1.ID, "n", T0.Add(6*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Failed(ctx, a3.ID, "m", T0.Add(6*time.Hour), "x", time.Time{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		f    store.AlertFilter
		want []alert.Alert
	}{
		{"all, newest first", store.AlertFilter{}, []alert.Alert{a4, a3, a2, a1}},
		{"rule", store.AlertFilter{Rule: "r1"}, []alert.Alert{a2, a1}},
		{"severity", store.AlertFilter{Severity: "critical"}, []alert.Alert{a3}},
		{"account", store.AlertFilter{Account: "111111111111"}, []alert.Alert{a4, a2, a1}},
		{"account of a later evidence", store.AlertFilter{Account: "333333333333"}, []alert.Alert{a4}},
		{"region", store.AlertFilter{Region: "eu-west-1"}, []alert.Alert{a4, a3}},
		{"principal of the first evidence", store.AlertFilter{Principal: "root"}, []alert.Alert{a2, a1}},
		{"to state", store.AlertFilter{To: "OK"}, []alert.Alert{a2}},
		{"since (inclusive)", store.AlertFilter{Since: T0.Add(3 * time.Hour)}, []alert.Alert{a4, a3}},
		{"until (exclusive)", store.AlertFilter{Until: T0.Add(3 * time.Hour)}, []alert.Alert{a2, a1}},
		{"time range", store.AlertFilter{Since: T0.Add(2 * time.Hour), Until: T0.Add(4 * time.Hour)}, []alert.Alert{a3, a2}},
		{"delivered (none pending; no notifier counts)", store.AlertFilter{Delivery: store.Delivered}, []alert.Alert{a4, a1}},
		{"pending", store.AlertFilter{Delivery: store.Pending}, []alert.Alert{a2}},
		{"failed wins over pending", store.AlertFilter{Delivery: store.Failed}, []alert.Alert{a3}},
		{"combined", store.AlertFilter{Rule: "r1", To: "ALARM", Account: "111111111111"}, []alert.Alert{a1}},
		{"no match", store.AlertFilter{Rule: "r1", Region: "eu-west-1"}, nil},
		{"offset", store.AlertFilter{Offset: 1, Limit: 2}, []alert.Alert{a3, a2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := s.Alerts(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			var got, want []string
			for _, a := range p.Alerts {
				got = append(got, a.ID)
			}
			for _, a := range c.want {
				want = append(want, a.ID)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
	p, _ := s.Alerts(ctx, store.AlertFilter{Rule: "r2"})
	if len(p.Alerts) != 1 || p.Alerts[0].Delivery != store.Failed || !p.Alerts[0].Committed.Equal(T0.Add(5*time.Hour)) || p.Next != "" {
		t.Errorf("stored alert fields: %+v", p)
	}
	if _, err := s.Alerts(ctx, store.AlertFilter{Cursor: "not a cursor!"}); err == nil {
		t.Error("an invalid cursor was accepted")
	}
}

func testAlertPaging(t *testing.T, s store.Store) {
	ctx := context.Background()
	// 23 alerts, some sharing a time so that the id breaks the tie.
	var all []string
	var b store.Batch
	b.Time = T0
	for i := range 23 {
		a := Alert(fmt.Sprintf("r%02d", i), T0.Add(time.Duration(i/3)*time.Minute), "ALARM", "1", "r", "p")
		b.Alerts = append(b.Alerts, store.NewAlert{Alert: a})
	}
	commit(t, s, b)
	p, err := s.Alerts(ctx, store.AlertFilter{Limit: store.MaxLimit})
	if err != nil || len(p.Alerts) != 23 {
		t.Fatalf("all alerts: %d, %v", len(p.Alerts), err)
	}
	for i, a := range p.Alerts {
		all = append(all, a.ID)
		if i > 0 {
			prev := p.Alerts[i-1]
			if prev.Time.Before(a.Time) || (prev.Time.Equal(a.Time) && prev.ID < a.ID) {
				t.Errorf("alerts %d and %d out of order", i-1, i)
			}
		}
	}
	for _, size := range []int{1, 5, 7, 23, 50} {
		var got []string
		cursor, pages := "", 0
		for {
			p, err := s.Alerts(ctx, store.AlertFilter{Limit: size, Cursor: cursor, Until: T0.Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, a := range p.Alerts {
				got = append(got, a.ID)
			}
			if p.Next == "" {
				break
			}
			cursor = p.Next
			// A new alert arriving meanwhile does not shift the pages (it is newer).
			if pages == 1 {
				commit(t, s, store.Batch{Time: T0, Alerts: []store.NewAlert{{Alert: Alert(fmt.Sprintf("late%d", size), T0.Add(time.Hour), "ALARM", "1", "r", "p")}}})
			}
		}
		if !reflect.DeepEqual(got, all) {
			t.Errorf("pages of %d: got %d alerts %v, want %v", size, len(got), got, all)
		}
		if want := (23 + size - 1) / size; pages != want {
			t.Errorf("pages of %d: %d pages, want %d", size, pages, want)
		}
	}
	p, _ = s.Alerts(ctx, store.AlertFilter{}) // 23 and the late ones of the 3 sizes with pages
	if len(p.Alerts) != 26 {
		t.Errorf("default limit: %d alerts", len(p.Alerts))
	}
}

func testRetention(t *testing.T, s store.Store) {
	ctx := context.Background()
	old := T0
	cut := T0.Add(30 * 24 * time.Hour)
	recent := cut.Add(time.Hour)
	delivered := Alert("delivered", old, "ALARM", "1", "r", "p")
	pending := Alert("pending", old, "ALARM", "1", "r", "p")
	failed := Alert("failed", old, "ALARM", "1", "r", "p")
	partly := Alert("partly", old, "ALARM", "1", "r", "p")
	silent := Alert("silent", old, "ALARM", "1", "r", "p") // no notifier
	fresh := Alert("fresh", recent, "ALARM", "1", "r", "p")
	backlog := Alert("backlog", old, "ALARM", "1", "r", "p") // an old alert committed late
	oldObj, newObj := store.S3Object("b", "old", "e"), store.S3Object("b", "new", "e")
	commit(t, s, store.Batch{Time: old, Objects: []store.Object{oldObj}, Alerts: []store.NewAlert{
		{Alert: delivered, Notifiers: []string{"n"}}, {Alert: pending, Notifiers: []string{"n"}},
		{Alert: failed, Notifiers: []string{"n"}}, {Alert: partly, Notifiers: []string{"n", "m"}},
		{Alert: silent},
	}})
	commit(t, s, store.Batch{Time: recent, Objects: []store.Object{newObj}, Alerts: []store.NewAlert{
		{Alert: fresh, Notifiers: []string{"n"}}, {Alert: backlog, Notifiers: []string{"n"}},
	}})
	for _, id := range []string{delivered.ID, partly.ID, fresh.ID, backlog.ID} {
		if err := s.Delivered(ctx, id, "n", recent); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Failed(ctx, failed.ID, "n", recent, "gone", time.Time{}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Prune(ctx, cut)
	if err != nil || res != (store.PruneResult{Alerts: 2, Objects: 1}) {
		t.Errorf("prune = %+v, %v; want 2 alerts and 1 object", res, err)
	}
	for _, c := range []struct {
		a    alert.Alert
		kept bool
	}{{delivered, false}, {silent, false}, {pending, true}, {failed, true}, {partly, true}, {fresh, true}, {backlog, true}} {
		_, err := s.Alert(ctx, c.a.ID)
		if kept := err == nil; kept != c.kept {
			t.Errorf("alert %s kept = %v (%v), want %v", c.a.Rule.ID, kept, err, c.kept)
		}
	}
	if d, _ := s.Deliveries(ctx, delivered.ID); len(d) != 0 {
		t.Errorf("deliveries of a pruned alert remain: %+v", d)
	}
	if p, _ := s.Alerts(ctx, store.AlertFilter{Account: "1"}); len(p.Alerts) != 5 {
		t.Errorf("account index after prune: %d alerts, want 5", len(p.Alerts))
	}
	if ok, _ := s.IsProcessed(ctx, oldObj); ok {
		t.Error("old processed object kept")
	}
	if ok, _ := s.IsProcessed(ctx, newObj); !ok {
		t.Error("recent processed object pruned")
	}
	if res, err := s.Prune(ctx, cut); err != nil || res != (store.PruneResult{}) {
		t.Errorf("second prune = %+v, %v; want nothing", res, err)
	}
}

// testConcurrent commits from several goroutines while others drain the outbox with Claim;
// every alert must be delivered exactly once to each of its notifiers.
func testConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	const writers, batches, drainers = 4, 25, 3
	notifiers := []string{"a", "b"}
	var (
		mu        sync.Mutex
		delivered = map[string]int{}  // alert id + notifier → deliveries
		failed    = map[string]bool{} // alert id + notifier → failed once already
		wg        sync.WaitGroup
		done      = make(chan struct{})
		errs      = make(chan error, writers+drainers*len(notifiers))
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range batches {
				at := T0.Add(time.Duration(i) * time.Second)
				a := Alert(fmt.Sprintf("w%d-%d", w, i), at, "ALARM", "1", "r", "p")
				_, err := s.Commit(ctx, store.Batch{Time: at,
					Checkpoints: []store.Checkpoint{{Source: fmt.Sprintf("w%d", w), Position: fmt.Sprint(i)}},
					Objects:     []store.Object{store.S3Object("b", fmt.Sprintf("w%d/%d", w, i), "e")},
					AlarmStates: []store.AlarmState{{RuleID: fmt.Sprintf("w%d", w), State: []byte(fmt.Sprint(i))}},
					Alerts:      []store.NewAlert{{Alert: a, Notifiers: notifiers}},
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var dwg sync.WaitGroup
	for d := range drainers {
		for _, n := range notifiers {
			dwg.Add(1)
			go func() {
				defer dwg.Done()
				now := T0.Add(time.Hour)
				for last := false; ; {
					select {
					case <-done:
						last = true
					default:
					}
					ds, err := s.Claim(ctx, n, now, now.Add(time.Hour), 7)
					if err != nil {
						errs <- err
						return
					}
					for i, x := range ds {
						key := x.AlertID + "/" + n
						mu.Lock()
						fail := (i+d)%3 == 0 && !failed[key] // some fail once and are retried at once
						failed[key] = true
						if !fail {
							delivered[key]++
						}
						mu.Unlock()
						if fail {
							if err := s.Failed(ctx, x.AlertID, n, now, "transient", now); err != nil {
								errs <- err
								return
							}
							continue
						}
						if err := s.Delivered(ctx, x.AlertID, n, now); err != nil {
							errs <- err
							return
						}
					}
					if len(ds) == 0 && last {
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(done)
	dwg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(delivered) != writers*batches*len(notifiers) {
		t.Errorf("%d deliveries, want %d", len(delivered), writers*batches*len(notifiers))
	}
	for k, n := range delivered {
		if n != 1 {
			t.Errorf("%s delivered %d times", k, n)
		}
	}
	counts, _ := s.OutboxCounts(ctx)
	for _, c := range counts {
		if c.State != store.Delivered || c.Count != writers*batches {
			t.Errorf("outbox count %+v", c)
		}
	}
	cps, _ := s.Checkpoints(ctx)
	if len(cps) != writers {
		t.Errorf("checkpoints %+v", cps)
	}
	for _, c := range cps {
		if c.Position != fmt.Sprint(batches-1) {
			t.Errorf("checkpoint %+v, want position %d", c, batches-1)
		}
	}
}

func testWorkers(t *testing.T, s store.Store) {
	ctx := context.Background()
	if w, err := s.Workers(ctx); err != nil || len(w) != 0 {
		t.Fatalf("workers of an empty store: %+v %v", w, err)
	}
	for _, h := range []struct {
		id string
		at time.Time
	}{{"host-b:1", T0}, {"host-a:7", T0.Add(time.Second)}, {"host-b:1", T0.Add(10 * time.Second)}, {"host-b:1", T0.Add(5 * time.Second)}} {
		if err := s.Heartbeat(ctx, h.id, h.at); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Workers(ctx)
	want := []store.Worker{
		{ID: "host-a:7", Started: T0.Add(time.Second), Seen: T0.Add(time.Second)},
		{ID: "host-b:1", Started: T0, Seen: T0.Add(10 * time.Second)}, // a late heartbeat does not go back
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("workers = %+v, %v; want %+v", got, err, want)
	}
	if err := s.Heartbeat(ctx, "", T0); err == nil {
		t.Error("empty worker id accepted")
	}
}

func testSize(t *testing.T, s store.Store) {
	ctx := context.Background()
	n0, err := s.Size(ctx)
	if err != nil || n0 <= 0 {
		t.Fatalf("size = %d, %v", n0, err)
	}
	var b store.Batch
	b.Time = T0
	for i := range 200 {
		b.Alerts = append(b.Alerts, store.NewAlert{Alert: Alert(fmt.Sprint(i), T0, "ALARM", "1", "r", "p"), Notifiers: []string{"n"}})
	}
	commit(t, s, b)
	if n1, err := s.Size(ctx); err != nil || n1 <= n0 {
		t.Errorf("size after 200 alerts = %d (was %d), %v", n1, n0, err)
	}
}

// testMatchCounts: counts add up across batches and within one, a failed commit adds nothing,
// queries filter and bucket, and retention removes old minutes.
func testMatchCounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	if got, err := s.MatchCounts(ctx, store.MatchFilter{}); err != nil || len(got) != 0 {
		t.Fatalf("empty store: %+v, %v", got, err)
	}
	m := func(rule, acct, region string, minute int, n int64) store.MatchCount {
		return store.MatchCount{Rule: rule, Account: acct, Region: region, Minute: T0.Add(time.Duration(minute) * time.Minute), Count: n}
	}
	commit(t, s, store.Batch{Time: T0, Objects: []store.Object{store.S3Object("b", "1", "e")}, Matches: []store.MatchCount{
		m("a", "111111111111", "us-east-1", 0, 2),
		m("a", "111111111111", "us-east-1", 0, 1), // the same key twice in one batch adds up
		m("a", "111111111111", "us-east-1", 7, 1),
		m("a", "222222222222", "eu-west-1", 3, 4),
		m("b", "", "", 61, 5), // a record without account or region still counts
	}})
	commit(t, s, store.Batch{Time: T0.Add(time.Hour), Matches: []store.MatchCount{m("a", "111111111111", "us-east-1", 0, 10)}})
	// A failed commit (its object was processed before) adds nothing; neither does an invalid one.
	for _, b := range []store.Batch{
		{Time: T0.Add(2 * time.Hour), Objects: []store.Object{store.S3Object("b", "1", "e")}, Matches: []store.MatchCount{m("a", "111111111111", "us-east-1", 0, 100)}},
		{Time: T0.Add(2 * time.Hour), Matches: []store.MatchCount{m("a", "1", "r", 0, 100), {Rule: "a", Minute: T0.Add(time.Second), Count: 1}}},
		{Time: T0.Add(2 * time.Hour), Matches: []store.MatchCount{m("a", "1", "r", 0, 100), {Minute: T0, Count: 1}}},
		{Time: T0.Add(2 * time.Hour), Matches: []store.MatchCount{m("a", "1", "r", 0, 100), {Rule: "a", Count: 1}}},
		{Time: T0.Add(2 * time.Hour), Matches: []store.MatchCount{m("a", "1", "r", 0, -1)}},
	} {
		if _, err := s.Commit(ctx, b); err == nil {
			t.Errorf("commit %+v succeeded, want an error", b.Matches)
		}
	}
	all := []store.MatchCount{
		m("a", "111111111111", "us-east-1", 0, 13),
		m("a", "111111111111", "us-east-1", 7, 1),
		m("a", "222222222222", "eu-west-1", 3, 4),
		m("b", "", "", 61, 5),
	}
	cases := []struct {
		name string
		f    store.MatchFilter
		want []store.MatchCount
	}{
		{"all", store.MatchFilter{}, all},
		{"rule", store.MatchFilter{Rule: "b"}, all[3:]},
		{"account", store.MatchFilter{Account: "222222222222"}, all[2:3]},
		{"region", store.MatchFilter{Region: "us-east-1"}, all[:2]},
		{"since until", store.MatchFilter{Since: T0.Add(time.Minute), Until: T0.Add(61 * time.Minute)}, all[1:3]},
		{"until is exclusive", store.MatchFilter{Until: T0.Add(7 * time.Minute), Region: "us-east-1"}, all[:1]},
		{"5-minute buckets", store.MatchFilter{Step: 5 * time.Minute}, []store.MatchCount{
			m("a", "111111111111", "us-east-1", 0, 13), m("a", "111111111111", "us-east-1", 5, 1),
			m("a", "222222222222", "eu-west-1", 0, 4), m("b", "", "", 60, 5),
		}},
		{"hour buckets", store.MatchFilter{Step: time.Hour, Rule: "a", Account: "111111111111"}, []store.MatchCount{
			m("a", "111111111111", "us-east-1", 0, 14),
		}},
	}
	for _, c := range cases {
		got, err := s.MatchCounts(ctx, c.f)
		if err != nil || !sameCounts(got, c.want) {
			t.Errorf("%s: match counts = %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}
	for _, step := range []time.Duration{-time.Minute, 90 * time.Second} {
		if _, err := s.MatchCounts(ctx, store.MatchFilter{Step: step}); err == nil {
			t.Errorf("step %s accepted", step)
		}
	}
	if _, err := s.Prune(ctx, T0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	kept := []store.MatchCount{all[1], all[3]}
	if got, err := s.MatchCounts(ctx, store.MatchFilter{}); err != nil || !sameCounts(got, kept) {
		t.Errorf("after prune: %+v, %v; want %+v", got, err, kept)
	}
}

// sameCounts compares match counts with times by instant (backends may differ in location).
func sameCounts(a, b []store.MatchCount) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Rule != y.Rule || x.Account != y.Account || x.Region != y.Region || !x.Minute.Equal(y.Minute) || x.Count != y.Count {
			return false
		}
	}
	return true
}
