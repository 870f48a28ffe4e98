// Package store is trailalarm's durable state: source checkpoints, processed objects, alarm
// evaluator state, alerts and their delivery outbox.
//
// Everything one processed file (or batch) produces is written by one Commit, in one
// transaction, so that a crash at any moment leaves either all of it or none of it. Alerts carry
// a content-derived ID (see internal/alert) and are inserted once: the same alert produced again
// after a crash finds its row and its outbox entries already there and is not delivered twice.
//
// Store is the interface; SQLite (this package, through modernc.org/sqlite) is the embedded
// backend, and storetest holds the behaviour tests every backend must pass. Time is always
// passed in: the package never reads the clock.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/trailalarm/trailalarm/internal/alert"
)

// Store is the durable state of `trailalarm run`. Implementations are safe for concurrent use.
type Store interface {
	// Commit writes a batch atomically: all of it or, on any error, none of it. It fails with
	// ErrAlreadyProcessed when one of the batch's objects was committed before (another worker
	// or an earlier run processed it), so that a redelivered object contributes once.
	Commit(ctx context.Context, b Batch) (CommitResult, error)

	// Checkpoint returns a source's position; ok is false when the source has none yet.
	Checkpoint(ctx context.Context, source string) (position string, ok bool, err error)
	// Checkpoints returns every source's position, by source name.
	Checkpoints(ctx context.Context) ([]Checkpoint, error)
	// IsProcessed reports whether an object was committed by an earlier batch.
	IsProcessed(ctx context.Context, o Object) (bool, error)

	// AlarmState returns the evaluator state of one rule; ok is false when there is none.
	AlarmState(ctx context.Context, ruleID string) (state []byte, ok bool, err error)
	// AlarmStates returns the evaluator state of every rule, by rule id.
	AlarmStates(ctx context.Context) ([]AlarmState, error)

	// Due returns up to limit pending deliveries of a notifier whose next attempt time is at or
	// before now, oldest alert first (by alert time, then id), each with its alert. It changes
	// nothing.
	Due(ctx context.Context, notifier string, now time.Time, limit int) ([]Delivery, error)
	// Claim is Due for several concurrent deliverers (goroutines or, with a shared backend,
	// processes): the deliveries it returns get their next attempt time moved to until, so
	// that no other Claim or Due returns them before then. Delivered or Failed settles them.
	Claim(ctx context.Context, notifier string, now, until time.Time, limit int) ([]Delivery, error)
	// Delivered records a successful delivery. A delivery already delivered stays as it was.
	// It fails with ErrNotFound when there is no such delivery.
	Delivered(ctx context.Context, alertID, notifier string, at time.Time) error
	// Failed records a failed attempt: attempts+1, the error text, and the next attempt time
	// (the caller computes the backoff). A zero nextAttempt gives up: the delivery becomes
	// failed and is not due again. A delivery already delivered stays delivered. It fails with
	// ErrNotFound when there is no such delivery.
	Failed(ctx context.Context, alertID, notifier string, at time.Time, errText string, nextAttempt time.Time) error
	// Deliveries returns the deliveries of one alert, by notifier (without the alert).
	Deliveries(ctx context.Context, alertID string) ([]Delivery, error)
	// OutboxCounts returns how many deliveries each notifier has in each state, for /metrics.
	OutboxCounts(ctx context.Context) ([]OutboxCount, error)

	// Alerts lists alerts newest first (by alert time, then id), filtered and paged.
	Alerts(ctx context.Context, f AlertFilter) (AlertPage, error)
	// Alert returns one alert; it fails with ErrNotFound when there is none with that id.
	Alert(ctx context.Context, id string) (StoredAlert, error)

	// MatchCounts returns the match counts Commit added up (Batch.Matches), summed per rule,
	// account, region and step-long bucket of the filter's time range, ordered by rule,
	// account, region and bucket start. Buckets with no match are absent.
	MatchCounts(ctx context.Context, f MatchFilter) ([]MatchCount, error)

	// Prune deletes what retention no longer needs: alerts from before `before` (by alert time
	// and by commit time) all of whose deliveries were delivered — never one still pending or
	// failed — processed-object keys committed before `before`, and match counts of minutes
	// before `before`.
	Prune(ctx context.Context, before time.Time) (PruneResult, error)
	// Size returns the bytes the store occupies.
	Size(ctx context.Context) (int64, error)

	// Heartbeat records that a worker is alive at a time; the first heartbeat is its start.
	Heartbeat(ctx context.Context, workerID string, at time.Time) error
	// Workers returns every worker that sent a heartbeat, by id.
	Workers(ctx context.Context) ([]Worker, error)

	Close() error
}

// Errors callers test with errors.Is.
var (
	ErrNotFound         = errors.New("not found")
	ErrAlreadyProcessed = errors.New("object already processed")
	ErrNewerSchema      = errors.New("database schema is newer than this trailalarm")
)

// Batch is everything one processed file or batch of records produced, committed together.
type Batch struct {
	Time        time.Time    // when the batch is committed: the rows' commit time, for retention
	Checkpoints []Checkpoint // new source positions
	Objects     []Object     // objects this batch processed; each may be committed once
	AlarmStates []AlarmState // new evaluator state of the rules the batch touched
	Alerts      []NewAlert   // alerts the batch raised, with where each goes
	// AlarmUpdates change rules' evaluator state from the latest stored one, inside the
	// commit, so that several workers sharing a store merge their data instead of overwriting
	// each other's (see AlarmUpdate). A rule may not be both in AlarmStates and here.
	AlarmUpdates []AlarmUpdate
	// Matches are added to the stored per-minute counts (the same key twice adds up twice),
	// for the dashboard's charts. A batch is committed once, so the counts count each record
	// once.
	Matches []MatchCount
}

// MatchCount is how many records matched a rule in one account and region during one minute
// (of event time) — or, from MatchCounts, during one bucket starting at Minute.
type MatchCount struct {
	Rule    string
	Account string // recipientAccountId; may be empty
	Region  string // awsRegion; may be empty
	Minute  time.Time
	Count   int64
}

// MatchFilter selects match counts; zero fields select everything.
type MatchFilter struct {
	Rule    string
	Account string
	Region  string
	Since   time.Time // minutes at or after
	Until   time.Time // minutes before
	// Step is the bucket size, a whole number of minutes (a minute when zero); buckets start
	// at multiples of Step since the Unix epoch.
	Step time.Duration
}

// AlarmUpdate is a change to one rule's evaluator state, computed from the state the store
// holds when the batch commits. The store locks the rule's state (a row lock in PostgreSQL;
// SQLite has one writer), calls Apply with it, writes what Apply returns and inserts the alerts
// it raised, all in the commit's transaction: of several workers, each applies its change to
// the state the previous one left, and a state change is recorded by exactly one of them.
type AlarmUpdate struct {
	RuleID string
	// Apply gets the stored state (ok false when there is none) and returns the new state
	// (nil: leave it as it is) and the alerts the change raised. It may be called more than
	// once — a transaction PostgreSQL aborts to break a deadlock is run again — and the commit
	// may still fail after it: it must not change anything outside until Commit succeeds.
	Apply func(state []byte, ok bool) (newState []byte, alerts []NewAlert, err error)
}

// NewAlert is an alert to insert and the notifiers it goes to (one outbox row each).
type NewAlert struct {
	Alert     alert.Alert // Finish must have been called: the ID is the idempotence key
	Notifiers []string
}

// CommitResult says what a Commit inserted.
type CommitResult struct {
	// Inserted lists the ids of the batch's alerts that were new; an alert whose id existed
	// is left as it was (only outbox rows for notifiers it did not have yet are added).
	Inserted []string
	// Deliveries is the number of outbox rows added.
	Deliveries int
}

// Checkpoint is a source's position: opaque to the store (a folder's last file and offset, an
// S3 key, a CloudWatch Logs token…).
type Checkpoint struct {
	Source   string
	Position string
	Updated  time.Time // the Batch.Time that wrote it
}

// Object identifies one processed input, so that processing it again is recognisable:
// S3Object or FileObject build the usual ones.
type Object struct {
	Source  string // a bucket, or a source name
	Key     string // an object key or a file path
	Version string // an ETag, or size and modification time
}

// S3Object identifies an S3 object by bucket, key and ETag.
func S3Object(bucket, key, etag string) Object {
	return Object{Source: bucket, Key: key, Version: etag}
}

// FileObject identifies a local file by source name, path, size and modification time.
func FileObject(source, path string, size int64, mtime time.Time) Object {
	return Object{Source: source, Key: path, Version: fmt.Sprintf("%d@%d", size, mtime.UnixNano())}
}

// AlarmState is one rule's evaluator state, opaque to the store.
type AlarmState struct {
	RuleID  string
	State   []byte
	Updated time.Time // the Batch.Time that wrote it
}

// DeliveryState is where an outbox row stands.
type DeliveryState string

const (
	Pending   DeliveryState = "pending"   // not delivered yet; due at its next attempt time
	Delivered DeliveryState = "delivered" // the notifier acknowledged it
	Failed    DeliveryState = "failed"    // given up after retries; kept until someone looks
)

// Delivery is one outbox row: an alert and one notifier.
type Delivery struct {
	AlertID     string
	Notifier    string
	State       DeliveryState
	Attempts    int
	LastError   string
	NextAttempt time.Time
	Updated     time.Time   // the last state change (the commit, or the last attempt)
	DeliveredAt time.Time   // zero unless delivered
	Alert       alert.Alert // filled by Due and Claim
}

// OutboxCount is how many deliveries a notifier has in a state.
type OutboxCount struct {
	Notifier string
	State    DeliveryState
	Count    int
}

// StoredAlert is an alert as the store holds it.
type StoredAlert struct {
	alert.Alert
	Committed time.Time // the Batch.Time that inserted it
	// Delivery sums up its deliveries: failed if any failed, else pending if any is pending,
	// else delivered (also when it goes to no notifier).
	Delivery DeliveryState
}

// AlertFilter selects alerts; zero fields select everything.
type AlertFilter struct {
	Rule      string        // rule id
	Severity  string        // info, low, medium, high, critical
	Account   string        // one of the alert's accounts
	Region    string        // one of the alert's regions
	Principal string        // the principal of the first evidence record
	To        string        // the alarm state changed to: ALARM, OK, INSUFFICIENT_DATA
	Delivery  DeliveryState // the summed-up delivery state
	Since     time.Time     // alert time at or after
	Until     time.Time     // alert time before
	// Limit is the page size: DefaultLimit when zero, at most MaxLimit.
	Limit int
	// Offset skips that many alerts; Cursor (AlertPage.Next of the previous page) is cheaper
	// and stable while new alerts arrive. Cursor wins when both are set.
	Offset int
	Cursor string
}

// Page sizes of Alerts.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// AlertPage is one page of alerts; Next is the cursor of the next page, empty on the last.
type AlertPage struct {
	Alerts []StoredAlert
	Next   string
}

// PruneResult says what Prune deleted.
type PruneResult struct {
	Alerts  int // alerts, with their deliveries
	Objects int // processed-object keys
}

// Worker is a process that sent heartbeats.
type Worker struct {
	ID      string
	Started time.Time // first heartbeat
	Seen    time.Time // last heartbeat
}

// Validate checks a batch as Commit does before writing anything; backends call it first.
func (b *Batch) Validate() error {
	if b.Time.IsZero() {
		return errors.New("batch has no time")
	}
	for _, c := range b.Checkpoints {
		if c.Source == "" {
			return errors.New("checkpoint without a source name")
		}
	}
	for _, o := range b.Objects {
		if o.Source == "" || o.Key == "" {
			return fmt.Errorf("processed object %+v without a source or key", o)
		}
	}
	for _, s := range b.AlarmStates {
		if s.RuleID == "" {
			return errors.New("alarm state without a rule id")
		}
	}
	for _, u := range b.AlarmUpdates {
		if u.RuleID == "" || u.Apply == nil {
			return errors.New("alarm update without a rule id or a function")
		}
		for _, s := range b.AlarmStates {
			if s.RuleID == u.RuleID {
				return fmt.Errorf("rule %s both in the alarm states and the alarm updates of a batch", u.RuleID)
			}
		}
	}
	for _, m := range b.Matches {
		if m.Rule == "" {
			return errors.New("match count without a rule id")
		}
		if m.Minute.IsZero() || !m.Minute.Equal(m.Minute.Truncate(time.Minute)) {
			return fmt.Errorf("match count of rule %q: time %s is not the start of a minute", m.Rule, m.Minute.Format(time.RFC3339Nano))
		}
		if m.Count < 0 {
			return fmt.Errorf("match count of rule %q: negative count %d", m.Rule, m.Count)
		}
	}
	for _, a := range b.Alerts {
		if a.Alert.ID == "" {
			return fmt.Errorf("alert of rule %q has no ID (call Finish first)", a.Alert.Rule.ID)
		}
		for _, n := range a.Notifiers {
			if n == "" {
				return fmt.Errorf("alert %s: empty notifier name", a.Alert.ID)
			}
		}
	}
	return nil
}

// Bucket returns the filter's step in minutes (1 when Step is zero); backends call it first.
// It fails when Step is negative or not a whole number of minutes.
func (f *MatchFilter) Bucket() (int64, error) {
	if f.Step == 0 {
		return 1, nil
	}
	if f.Step < 0 || f.Step%time.Minute != 0 {
		return 0, fmt.Errorf("match counts: step %s is not a whole number of minutes", f.Step)
	}
	return int64(f.Step / time.Minute), nil
}
