package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trailalarm/trailalarm/internal/store"
	"github.com/trailalarm/trailalarm/internal/store/postgres"
	"github.com/trailalarm/trailalarm/internal/store/storetest"
	pgtest "github.com/trailalarm/trailalarm/internal/testutil/postgres"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

func open(t *testing.T) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestPostgres runs the store behaviour suite that the SQLite store passes.
func TestPostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func TestOpenErrors(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	u, _ := url.Parse(dsn)
	noDB := *u
	noDB.Path = "/no_such_database"
	withPassword := *u
	withPassword.User = url.UserPassword("postgres", "s3cret-password")
	withPassword.Host = "127.0.0.1:1" // nothing listens there
	badPool := *u
	badPool.RawQuery = "sslmode=disable&pool_max_conns=lots"
	cases := []struct {
		name, dsn, want string
	}{
		{"no database", noDB.String(), "create the database first"},
		{"nothing listening", withPassword.String(), "is PostgreSQL running"},
		{"bad pool size", badPool.String(), "pool_max_conns"},
		{"not a URL", "postgres://%zz", "open store"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := postgres.Open(ctx, c.dsn)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
			if strings.Contains(err.Error(), "s3cret-password") {
				t.Errorf("the password is in the error: %v", err)
			}
		})
	}
}

// Workers starting together migrate once; a database of a newer trailalarm is refused.
func TestMigrations(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(ctx, dsn)
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent open: %v", err)
	}
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var n, v int
	if err := c.QueryRow(ctx, `SELECT count(*), max(version) FROM schema_version`).Scan(&n, &v); err != nil || n != postgres.SchemaVersion() || v != postgres.SchemaVersion() {
		t.Errorf("schema_version: %d rows, version %d, %v", n, v, err)
	}
	if _, err := c.Exec(ctx, `INSERT INTO schema_version VALUES (99)`); err != nil {
		t.Fatal(err)
	}
	if s, err := postgres.Open(ctx, dsn); !errors.Is(err, store.ErrNewerSchema) {
		if s != nil {
			s.Close()
		}
		t.Errorf("open of a newer schema: %v", err)
	}
}

// Two stores on one database are two workers: their Claims never return the same delivery.
func TestClaimAcrossWorkers(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	var stores []*postgres.Store
	for range 2 {
		s, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores = append(stores, s)
	}
	b := store.Batch{Time: storetest.T0}
	for i := range 60 {
		b.Alerts = append(b.Alerts, store.NewAlert{Alert: storetest.Alert(fmt.Sprint(i), storetest.T0, "ALARM", "1", "r", "p"), Notifiers: []string{"n"}})
	}
	if _, err := stores[0].Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%2]
			now := storetest.T0.Add(time.Minute)
			for {
				ds, err := s.Claim(ctx, "n", now, now.Add(time.Hour), 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					got[d.AlertID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(got) != 60 {
		t.Errorf("%d deliveries claimed, want 60", len(got))
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("%s claimed %d times", id, n)
		}
	}
}
