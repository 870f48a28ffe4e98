// Package postgres is the shared store.Store: PostgreSQL, for several `trailalarm run` workers
// on different machines working on the same queue with the same state.
//
// It holds what the SQLite store holds, in the same tables, with the same semantics (the
// storetest suite runs against both). What sharing adds: concurrent commits lock the rows they
// change in one order (no deadlock between workers), alarm updates run on the latest state with
// its row locked (store.AlarmUpdate), and Claim skips rows another worker has locked.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/trailalarm/trailalarm/internal/store"
)

// IsURL reports whether a store setting names a PostgreSQL database rather than a SQLite file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Store is a store.Store in a PostgreSQL database.
type Store struct {
	name string // the URL without its password, for messages
	pool *pool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at dsn (a postgres:// URL; the password may come from the
// environment, PGPASSWORD, or ~/.pgpass as libpq does) and brings its schema up to date. The
// URL parameter pool_max_conns bounds the connections this process opens (default 8).
func Open(ctx context.Context, dsn string) (*Store, error) {
	name := Redact(dsn)
	maxConns := max(8, runtime.GOMAXPROCS(0))
	if u, err := url.Parse(dsn); err == nil {
		q := u.Query()
		if v := q.Get("pool_max_conns"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("open store %s: pool_max_conns=%q is not a positive number", name, v)
			}
			maxConns = n
			q.Del("pool_max_conns")
			u.RawQuery = q.Encode()
			dsn = u.String()
		}
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %v", name, err)
	}
	s := &Store{name: name, pool: newPool(cfg, maxConns)}
	if err := s.migrate(ctx); err != nil {
		s.pool.close()
		return nil, err
	}
	return s, nil
}

// Redact drops the password from a URL for messages and logs.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://…" // unparsable: show nothing of it
	}
	return u.Redacted()
}

// Name is the database URL without its password.
func (s *Store) Name() string { return s.name }

// Close closes every connection.
func (s *Store) Close() error {
	s.pool.close()
	return nil
}

// migrations are applied in order; migrations[i] brings the schema from version i to i+1.
// Never edit one that has shipped: add a new one. The tables are the SQLite store's; names
// that may hold any byte (a checkpoint's source joins name and cursor with NUL, which text
// columns refuse) are bytea; text sorts bytewise (COLLATE "C"), as in SQLite, whatever the
// database's locale.
var migrations = []string{
	`
CREATE TABLE checkpoints (
	source     bytea PRIMARY KEY,
	position   bytea NOT NULL,
	updated_ns bigint NOT NULL
);
CREATE TABLE processed (
	id           bigserial PRIMARY KEY,
	source       bytea NOT NULL,
	key          bytea NOT NULL,
	version      bytea NOT NULL,
	processed_ns bigint NOT NULL,
	UNIQUE (source, key, version)
);
CREATE INDEX processed_time ON processed (processed_ns);
CREATE TABLE alarm_states (
	rule_id    text COLLATE "C" PRIMARY KEY,
	state      bytea NOT NULL,
	updated_ns bigint NOT NULL
);
CREATE TABLE alerts (
	seq        bigserial PRIMARY KEY,
	id         text COLLATE "C" NOT NULL UNIQUE,
	rule_id    text COLLATE "C" NOT NULL,
	severity   text COLLATE "C" NOT NULL,
	from_state text COLLATE "C" NOT NULL,
	to_state   text COLLATE "C" NOT NULL,
	time_ns    bigint NOT NULL,
	principal  text COLLATE "C" NOT NULL,
	created_ns bigint NOT NULL,
	body       text COLLATE "C" NOT NULL
);
CREATE INDEX alerts_time ON alerts (time_ns, id);
CREATE INDEX alerts_rule ON alerts (rule_id, time_ns);
CREATE INDEX alerts_severity ON alerts (severity, time_ns);
CREATE INDEX alerts_principal ON alerts (principal, time_ns);
CREATE INDEX alerts_created ON alerts (created_ns);
CREATE TABLE alert_accounts (
	account  text COLLATE "C" NOT NULL,
	alert_id text COLLATE "C" NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
	PRIMARY KEY (account, alert_id)
);
CREATE INDEX alert_accounts_alert ON alert_accounts (alert_id);
CREATE TABLE alert_regions (
	region   text COLLATE "C" NOT NULL,
	alert_id text COLLATE "C" NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
	PRIMARY KEY (region, alert_id)
);
CREATE INDEX alert_regions_alert ON alert_regions (alert_id);
CREATE TABLE outbox (
	alert_id        text COLLATE "C" NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
	notifier        text COLLATE "C" NOT NULL,
	alert_time_ns   bigint NOT NULL,
	state           text COLLATE "C" NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
	attempts        integer NOT NULL DEFAULT 0,
	last_error      text COLLATE "C" NOT NULL DEFAULT '',
	next_attempt_ns bigint NOT NULL,
	updated_ns      bigint NOT NULL,
	delivered_ns    bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (alert_id, notifier)
);
CREATE INDEX outbox_due ON outbox (notifier, state, alert_time_ns, alert_id, next_attempt_ns);
CREATE TABLE match_counts (
	rule_id   text COLLATE "C" NOT NULL,
	account   text COLLATE "C" NOT NULL,
	region    text COLLATE "C" NOT NULL,
	minute_ns bigint NOT NULL,
	count     bigint NOT NULL,
	PRIMARY KEY (rule_id, account, region, minute_ns)
);
CREATE INDEX match_counts_minute ON match_counts (minute_ns);
CREATE TABLE workers (
	id         text COLLATE "C" PRIMARY KEY,
	started_ns bigint NOT NULL,
	seen_ns    bigint NOT NULL
);
`,
}

// migrateLock is the advisory lock key under which workers starting together migrate one
// after the other.
const migrateLock = 0x747261696c616c // "trailal"

func (s *Store) migrate(ctx context.Context) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY)`); err != nil {
			return err
		}
		var v int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v); err != nil {
			return err
		}
		if v > len(migrations) {
			return fmt.Errorf("the database was written by a newer trailalarm (schema %d; this one knows %d): upgrade trailalarm, or point it at another database: %w",
				v, len(migrations), store.ErrNewerSchema)
		}
		for i := v; i < len(migrations); i++ {
			if _, err := tx.Exec(ctx, migrations[i]); err != nil {
				return fmt.Errorf("migrate schema %d to %d: %w", i, i+1, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, i+1); err != nil {
				return fmt.Errorf("migrate schema %d to %d: %w", i, i+1, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("open store %s: %w", s.name, explain(err))
	}
	return nil
}

// SchemaVersion is the schema version this trailalarm writes.
func SchemaVersion() int { return len(migrations) }

// explain adds what to do to the connection errors people meet first, on one line: pgx lists
// every address and attempt it tried, one per line; the last says enough.
func explain(err error) error {
	msg := err.Error()
	if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
		msg = "cannot connect: " + strings.TrimSpace(msg[i+1:])
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "28P01", "28000":
			return fmt.Errorf("%s (check the user and the password: PGPASSWORD, or ${ENV} in the URL)", msg)
		case "3D000":
			return fmt.Errorf("%s (create the database first: createdb NAME)", msg)
		}
		return errors.New(msg)
	}
	if strings.Contains(msg, "connect") {
		return fmt.Errorf("%s (is PostgreSQL running and reachable at that host and port?)", msg)
	}
	return err
}

// retryable reports a transaction PostgreSQL aborted to resolve a conflict with another one:
// running it again is the documented answer.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// tx runs fn in a transaction on one connection, committing when it returns nil; a deadlock or
// serialization failure runs it again, a few times.
func (s *Store) tx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := s.conn(ctx, func(c *pgx.Conn) error {
			tx, err := c.Begin(ctx)
			if err != nil {
				return err
			}
			defer tx.Rollback(context.WithoutCancel(ctx))
			if err := fn(tx); err != nil {
				return err
			}
			return tx.Commit(ctx)
		})
		if err == nil || !retryable(err) || attempt == 4 {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
	}
}

// conn runs fn on a connection of the pool.
func (s *Store) conn(ctx context.Context, fn func(c *pgx.Conn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := s.pool.acquire(ctx)
	if err != nil {
		return err
	}
	err = fn(c)
	s.pool.release(c)
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w: %v", ctx.Err(), err)
	}
	return err
}

// pool is a small connection pool. pgx's own (pgxpool) needs a module this build does not
// have; this one is enough for a process that runs a handful of queries at a time.
type pool struct {
	cfg  *pgx.ConnConfig
	idle chan *pgx.Conn
	sem  chan struct{} // a token per open or opening connection
}

func newPool(cfg *pgx.ConnConfig, n int) *pool {
	return &pool{cfg: cfg, idle: make(chan *pgx.Conn, n), sem: make(chan struct{}, n)}
}

func (p *pool) acquire(ctx context.Context) (*pgx.Conn, error) {
	select {
	case c := <-p.idle:
		return c, nil
	default:
	}
	select {
	case c := <-p.idle:
		return c, nil
	case p.sem <- struct{}{}:
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		c, err := pgx.ConnectConfig(ctx, p.cfg)
		if err != nil {
			<-p.sem
			return nil, err
		}
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// release puts a connection back, or closes it when a cancelled query or a lost server left
// it unusable.
func (p *pool) release(c *pgx.Conn) {
	if c.IsClosed() || c.PgConn().IsBusy() || c.PgConn().TxStatus() != 'I' {
		c.Close(context.Background())
		<-p.sem
		return
	}
	p.idle <- c
}

func (p *pool) close() {
	for {
		select {
		case c := <-p.idle:
			c.Close(context.Background())
			<-p.sem
		default:
			return
		}
	}
}

// text makes a string acceptable to a text column (valid UTF-8 without NUL): CloudTrail values
// indexed for the dashboard's filters are untrusted input. Filters go through it too, so that
// they still find what they name.
func text(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}
