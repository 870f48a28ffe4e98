package main

import (
	"context"

	"github.com/trailalarm/trailalarm/internal/store"
	"github.com/trailalarm/trailalarm/internal/store/postgres"
)

// openStore opens the store a `store:` setting names: a postgres:// URL is the shared
// PostgreSQL store of several workers, anything else a SQLite file.
func openStore(ctx context.Context, spec string) (store.Store, error) {
	if postgres.IsURL(spec) {
		return postgres.Open(ctx, spec)
	}
	return store.Open(spec)
}

// storeName is how logs show a store: a URL without its password.
func storeName(spec string) string {
	if postgres.IsURL(spec) {
		return postgres.Redact(spec)
	}
	return spec
}
