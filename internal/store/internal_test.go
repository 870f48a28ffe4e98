package store

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trailalarm/trailalarm/internal/alert"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func openInternal(t testing.TB) *SQLite {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testAlert(rule string, at time.Time) alert.Alert {
	a := alert.Alert{Rule: alert.Rule{ID: rule, Severity: "high"}, Time: at, From: "OK", To: "ALARM"}
	a.Finish()
	return a
}

// TestSettings checks the connection settings the package comment promises.
func TestSettings(t *testing.T) {
	s := openInternal(t)
	cases := []struct {
		pool   string
		pragma string
		want   string
	}{
		{"writer", "journal_mode", "wal"},
		{"writer", "synchronous", "2"}, // FULL
		{"writer", "foreign_keys", "1"},
		{"writer", "busy_timeout", "10000"},
		{"writer", "auto_vacuum", "2"}, // INCREMENTAL
		{"writer", "query_only", "0"},
		{"reader", "synchronous", "2"},
		{"reader", "foreign_keys", "1"},
		{"reader", "busy_timeout", "10000"},
		{"reader", "query_only", "1"},
	}
	for _, c := range cases {
		db := s.w
		if c.pool == "reader" {
			db = s.r
		}
		var got string
		if err := db.QueryRow("PRAGMA " + c.pragma).Scan(&got); err != nil || got != c.want {
			t.Errorf("%s: %s = %q, %v; want %q", c.pool, c.pragma, got, err, c.want)
		}
	}
	if _, err := s.r.Exec(`DELETE FROM checkpoints`); err == nil {
		t.Error("a reader connection could write")
	}
}

// TestCommitFailsAtEveryStep fails a Commit before each of its steps and checks that nothing
// of the batch was written.
func TestCommitFailsAtEveryStep(t *testing.T) {
	ctx := context.Background()
	batch := Batch{Time: t0,
		Checkpoints: []Checkpoint{{Source: "s", Position: "1"}},
		Objects:     []Object{S3Object("b", "k", "e")},
		AlarmStates: []AlarmState{{RuleID: "r", State: []byte("1")}},
		Alerts:      []NewAlert{{Alert: testAlert("r", t0), Notifiers: []string{"n"}}},
	}
	for _, step := range []string{"checkpoints", "objects", "alarm_states", "alerts", "commit"} {
		t.Run(step, func(t *testing.T) {
			s := openInternal(t)
			boom := errors.New("boom")
			s.hook = func(at string) error {
				if at == step {
					return boom
				}
				return nil
			}
			if _, err := s.Commit(ctx, batch); !errors.Is(err, boom) {
				t.Fatalf("commit: %v, want boom", err)
			}
			for _, table := range []string{"checkpoints", "processed", "alarm_states", "alerts", "alert_accounts", "outbox"} {
				var n int
				if err := s.r.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil || n != 0 {
					t.Errorf("%s has %d rows after a failed commit (%v)", table, n, err)
				}
			}
			s.hook = nil
			if _, err := s.Commit(ctx, batch); err != nil {
				t.Errorf("the same batch after the failure: %v", err)
			}
		})
	}
}

// TestMigrationAtomic: a migration that fails half-way leaves the schema as it was, and the
// next Open (with the migration fixed) applies it.
func TestMigrationAtomic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	saved := migrations
	defer func() { migrations = saved }()
	migrations = append(append([]string(nil), saved...), `CREATE TABLE added (x INTEGER); INSERT INTO nowhere VALUES (1);`)
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "migrate schema "+strconv.Itoa(len(saved))) {
		t.Fatalf("open with a broken migration: %v", err)
	}
	migrations[len(saved)] = `CREATE TABLE added (x INTEGER);`
	s, err = Open(path)
	if err != nil {
		t.Fatalf("open after the fix: %v", err)
	}
	defer s.Close()
	var v int
	if err := s.r.QueryRow(`SELECT MAX(version) FROM schema_version`).Scan(&v); err != nil || v != len(saved)+1 {
		t.Errorf("schema version %d, %v", v, err)
	}
}

func TestCursor(t *testing.T) {
	for _, c := range []struct {
		t  int64
		id string
	}{{0, ""}, {-5, "a:b"}, {t0.UnixNano(), "ta-0123"}} {
		gt, gid, err := DecodeCursor(EncodeCursor(c.t, c.id))
		if err != nil || gt != c.t || gid != c.id {
			t.Errorf("cursor %v: %d %q %v", c, gt, gid, err)
		}
	}
	for _, bad := range []string{"!!", "bm8tY29sb24", "eDp5"} { // not base64; "no-colon"; "x:y"
		if _, _, err := DecodeCursor(bad); err == nil {
			t.Errorf("cursor %q accepted", bad)
		}
	}
}

func TestTimes(t *testing.T) {
	for _, tm := range []time.Time{{}, t0, t0.Add(123), time.Date(1999, 1, 1, 0, 0, 0, 1, time.FixedZone("x", 3600))} {
		if got := FromUnixNano(UnixNano(tm)); !got.Equal(tm) || (!tm.IsZero() && got.Location() != time.UTC) || !reflect.DeepEqual(got.IsZero(), tm.IsZero()) {
			t.Errorf("%v round-trips to %v", tm, got)
		}
	}
}
