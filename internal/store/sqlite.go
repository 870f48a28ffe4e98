package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver: pure Go, no cgo
)

// SQLite is the embedded Store: one database file in WAL mode.
//
// It holds two connection pools: a single writer connection, because SQLite admits one writer
// at a time and queueing writers in database/sql is cheaper and fairer than letting them spin
// on SQLITE_BUSY; and a few read-only connections, which WAL lets run alongside the writer.
type SQLite struct {
	path string
	w    *sql.DB // one connection; every write goes through it, in BEGIN IMMEDIATE transactions
	r    *sql.DB // query_only connections for reads

	// hook, when set (by tests), runs before each step of Commit; an error fails the Commit
	// there, which is how the tests show that a failure at any step leaves nothing behind.
	hook func(step string) error
}

var _ Store = (*SQLite)(nil)

// busyTimeout bounds how long a connection waits for a lock held by another process (a second
// trailalarm, or the sqlite3 shell) before giving up with "database is locked".
const busyTimeout = 10 * time.Second

// Open opens (creating it if needed) the database at path and brings its schema up to date.
func Open(path string) (*SQLite, error) {
	if path == "" {
		return nil, errors.New("open store: no database path given")
	}
	if dir := filepath.Dir(path); dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("open store %s: the directory %s does not exist; create it or choose another path", path, dir)
		}
	}
	s := &SQLite{path: path}
	var err error
	if s.w, err = sql.Open("sqlite", dsn(path, true)); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	// Switching a new file to WAL mode, which the first connection does, fails at once with
	// SQLITE_BUSY (no busy handler applies) when another process opens the file at the same
	// moment: retry for as long as a lock would be waited for.
	for deadline := time.Now().Add(busyTimeout); ; {
		err = s.migrate(context.Background())
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			break
		}
		s.w.Close()
		time.Sleep(50 * time.Millisecond)
		if s.w, err = sql.Open("sqlite", dsn(path, true)); err != nil {
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
		s.w.SetMaxOpenConns(1)
		s.w.SetMaxIdleConns(1)
	}
	if err != nil {
		s.w.Close()
		return nil, err
	}
	// Readers are opened after the migration: by then the file is in WAL mode and has its
	// tables, so a query_only connection never needs to write anything.
	if s.r, err = sql.Open("sqlite", dsn(path, false)); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	s.r.SetMaxOpenConns(n)
	s.r.SetMaxIdleConns(n)
	if err := s.r.Ping(); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

// isBusy reports SQLite's "database is locked".
func isBusy(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked")
}

// dsn builds the modernc.org/sqlite connection string. The settings, and why:
//   - journal_mode=WAL: readers (dashboard, /metrics, IsProcessed) never block the writer and
//     the writer never blocks them; a commit appends to the WAL instead of rewriting pages.
//   - synchronous=FULL: in WAL mode NORMAL may roll back the last transactions on a power
//     loss or OS crash (a process crash loses nothing either way). A commit here is the
//     promise on which a source deletes its SQS message or moves past an S3 key, so it must
//     be on disk when Commit returns: FULL fsyncs the WAL at every commit.
//   - foreign_keys=ON: outbox and account/region rows go with their alert (ON DELETE CASCADE).
//   - busy_timeout: wait for other processes' locks instead of failing at once.
//   - _txlock=immediate (writer): take the write lock at BEGIN, so that a transaction never
//     fails half-way when it upgrades from reader to writer.
//   - auto_vacuum=INCREMENTAL (new files): retention can give freed pages back to the disk.
//   - journal_size_limit: the WAL file is truncated back to 64 MiB after a checkpoint.
//   - query_only (readers): a read connection cannot write by mistake.
func dsn(path string, writer bool) string {
	// A URI filename, so that the path may contain '?' or '#'.
	p := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	q := []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()),
		"_pragma=foreign_keys(1)",
		"_pragma=synchronous(FULL)",
	}
	if writer {
		q = append(q, "_auto_vacuum=INCREMENTAL", "_pragma=journal_mode(WAL)",
			"_pragma=journal_size_limit(67108864)", "_txlock=immediate")
	} else {
		q = append(q, "_pragma=query_only(1)")
	}
	return "file:" + p + "?" + strings.Join(q, "&")
}

// Close closes the database. The last connection to close checkpoints the WAL into the file.
func (s *SQLite) Close() error {
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// Path returns the database file's path.
func (s *SQLite) Path() string { return s.path }

// migrations are applied in order; migrations[i] brings the schema from version i to i+1.
// Never edit one that has shipped: add a new one.
var migrations = []string{
	// 1: the initial schema. Times are UTC Unix nanoseconds (0 = none), so that they compare
	// and index as integers here and in PostgreSQL (bigint).
	`
CREATE TABLE checkpoints (
	source     TEXT PRIMARY KEY,
	position   TEXT NOT NULL,
	updated_ns INTEGER NOT NULL
);
CREATE TABLE processed (
	id           INTEGER PRIMARY KEY,
	source       TEXT NOT NULL,
	key          TEXT NOT NULL,
	version      TEXT NOT NULL,
	processed_ns INTEGER NOT NULL,
	UNIQUE (source, key, version)
);
CREATE INDEX processed_time ON processed (processed_ns);
CREATE TABLE alarm_states (
	rule_id    TEXT PRIMARY KEY,
	state      BLOB NOT NULL,
	updated_ns INTEGER NOT NULL
);
CREATE TABLE alerts (
	seq        INTEGER PRIMARY KEY,
	id         TEXT NOT NULL UNIQUE,
	rule_id    TEXT NOT NULL,
	severity   TEXT NOT NULL,
	from_state TEXT NOT NULL,
	to_state   TEXT NOT NULL,
	time_ns    INTEGER NOT NULL,
	principal  TEXT NOT NULL,
	created_ns INTEGER NOT NULL,
	body       TEXT NOT NULL -- the alert.Alert as JSON
);
CREATE INDEX alerts_time ON alerts (time_ns, id);
CREATE INDEX alerts_rule ON alerts (rule_id, time_ns);
CREATE INDEX alerts_severity ON alerts (severity, time_ns);
CREATE INDEX alerts_principal ON alerts (principal, time_ns);
CREATE INDEX alerts_created ON alerts (created_ns);
CREATE TABLE alert_accounts (
	account  TEXT NOT NULL,
	alert_id TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
	PRIMARY KEY (account, alert_id)
) WITHOUT ROWID;
CREATE INDEX alert_accounts_alert ON alert_accounts (alert_id);
CREATE TABLE alert_regions (
	region   TEXT NOT NULL,
	alert_id TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
	PRIMARY KEY (region, alert_id)
) WITHOUT ROWID;
CREATE INDEX alert_regions_alert ON alert_regions (alert_id);
CREATE TABLE outbox (
	alert_id        TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
	notifier        TEXT NOT NULL,
	alert_time_ns   INTEGER NOT NULL, -- the alert's time, copied so that Due reads one index
	state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT NOT NULL DEFAULT '',
	next_attempt_ns INTEGER NOT NULL,
	updated_ns      INTEGER NOT NULL,
	delivered_ns    INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (alert_id, notifier)
) WITHOUT ROWID;
-- Due walks this in order and stops after its limit; next_attempt_ns is in it so that rows in
-- backoff are skipped without reading the table.
CREATE INDEX outbox_due ON outbox (notifier, state, alert_time_ns, alert_id, next_attempt_ns);
CREATE TABLE workers (
	id         TEXT PRIMARY KEY,
	started_ns INTEGER NOT NULL,
	seen_ns    INTEGER NOT NULL
);
`,
	// 2: per-minute match counts per rule, account and region, for the dashboard's charts.
	`
CREATE TABLE match_counts (
	rule_id   TEXT NOT NULL,
	account   TEXT NOT NULL,
	region    TEXT NOT NULL,
	minute_ns INTEGER NOT NULL, -- the minute's start
	count     INTEGER NOT NULL,
	PRIMARY KEY (rule_id, account, region, minute_ns)
) WITHOUT ROWID;
CREATE INDEX match_counts_minute ON match_counts (minute_ns);
`,
}

// SchemaVersion is the schema version this trailalarm writes.
func SchemaVersion() int { return len(migrations) }

// migrate applies the missing migrations in one transaction: a crash half-way leaves the
// schema as it was.
func (s *SQLite) migrate(ctx context.Context) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return openError(s.path, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY)`); err != nil {
		return openError(s.path, err)
	}
	var v int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return openError(s.path, err)
	}
	if v > len(migrations) {
		return fmt.Errorf("open store %s: the database was written by a newer trailalarm (schema %d; this one knows %d): upgrade trailalarm, or point it at another database file: %w",
			s.path, v, len(migrations), ErrNewerSchema)
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("open store %s: migrate schema %d to %d: %w", s.path, i, i+1, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (?)`, i+1); err != nil {
			return fmt.Errorf("open store %s: migrate schema %d to %d: %w", s.path, i, i+1, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return openError(s.path, err)
	}
	return nil
}

func openError(path string, err error) error {
	if strings.Contains(err.Error(), "not a database") {
		return fmt.Errorf("open store %s: the file is not an SQLite database (is the path right?): %w", path, err)
	}
	return fmt.Errorf("open store %s: %w", path, err)
}

// UnixNano turns a time into the integer every backend stores; the zero time is 0.
func UnixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// FromUnixNano is the inverse of UnixNano, in UTC.
func FromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
