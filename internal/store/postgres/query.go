package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trailalarm/trailalarm/internal/store"
)

// deliveryExpr sums up an alert's deliveries (see store.StoredAlert.Delivery); bool_or over no
// rows is NULL, so an alert with no deliveries falls through to 'delivered'.
const deliveryExpr = `(SELECT CASE
	WHEN bool_or(o.state = 'failed') THEN 'failed'
	WHEN bool_or(o.state = 'pending') THEN 'pending'
	ELSE 'delivered' END FROM outbox o WHERE o.alert_id = a.id)`

// args numbers query parameters as PostgreSQL wants them ($1, $2, …).
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// Alerts implements store.Store.
func (s *Store) Alerts(ctx context.Context, f store.AlertFilter) (store.AlertPage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	limit = min(limit, store.MaxLimit)
	var where []string
	var a args
	if f.Rule != "" {
		where = append(where, "a.rule_id = "+a.add(text(f.Rule)))
	}
	if f.Severity != "" {
		where = append(where, "a.severity = "+a.add(text(f.Severity)))
	}
	if f.Principal != "" {
		where = append(where, "a.principal = "+a.add(text(f.Principal)))
	}
	if f.To != "" {
		where = append(where, "a.to_state = "+a.add(text(f.To)))
	}
	if f.Account != "" {
		where = append(where, "EXISTS (SELECT 1 FROM alert_accounts x WHERE x.alert_id = a.id AND x.account = "+a.add(text(f.Account))+")")
	}
	if f.Region != "" {
		where = append(where, "EXISTS (SELECT 1 FROM alert_regions x WHERE x.alert_id = a.id AND x.region = "+a.add(text(f.Region))+")")
	}
	if !f.Since.IsZero() {
		where = append(where, "a.time_ns >= "+a.add(store.UnixNano(f.Since)))
	}
	if !f.Until.IsZero() {
		where = append(where, "a.time_ns < "+a.add(store.UnixNano(f.Until)))
	}
	if f.Delivery != "" {
		where = append(where, deliveryExpr+" = "+a.add(string(f.Delivery)))
	}
	offset := f.Offset
	if f.Cursor != "" {
		t, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return store.AlertPage{}, fmt.Errorf("list alerts: %w", err)
		}
		pt, pid := a.add(t), a.add(id)
		where = append(where, "(a.time_ns < "+pt+" OR (a.time_ns = "+pt+" AND a.id < "+pid+"))")
		offset = 0
	}
	q := `SELECT a.body, a.created_ns, ` + deliveryExpr + `, a.time_ns FROM alerts a`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY a.time_ns DESC, a.id DESC LIMIT " + a.add(limit+1) + " OFFSET " + a.add(max(offset, 0))
	var page store.AlertPage
	err := s.conn(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, q, a...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var lastNS int64
		for rows.Next() {
			if len(page.Alerts) == limit {
				page.Next = store.EncodeCursor(lastNS, page.Alerts[limit-1].ID)
				break
			}
			sa, t, err := scanAlert(rows)
			if err != nil {
				return err
			}
			lastNS = t
			page.Alerts = append(page.Alerts, sa)
		}
		return rows.Err()
	})
	if err != nil {
		return store.AlertPage{}, fmt.Errorf("list alerts: %w", err)
	}
	return page, nil
}

func scanAlert(row pgx.Row) (store.StoredAlert, int64, error) {
	var a store.StoredAlert
	var body, delivery string
	var created, t int64
	if err := row.Scan(&body, &created, &delivery, &t); err != nil {
		return a, 0, err
	}
	if err := json.Unmarshal([]byte(body), &a.Alert); err != nil {
		return a, 0, fmt.Errorf("decode alert: %w", err)
	}
	a.Committed, a.Delivery = store.FromUnixNano(created), store.DeliveryState(delivery)
	return a, t, nil
}

// decodeCursor is store.DecodeCursor with the id made fit for a text column.
func decodeCursor(c string) (int64, string, error) {
	t, id, err := store.DecodeCursor(c)
	return t, text(id), err
}

// Alert implements store.Store.
func (s *Store) Alert(ctx context.Context, id string) (store.StoredAlert, error) {
	var a store.StoredAlert
	err := s.conn(ctx, func(c *pgx.Conn) error {
		var err error
		a, _, err = scanAlert(c.QueryRow(ctx, `SELECT a.body, a.created_ns, `+deliveryExpr+`, a.time_ns FROM alerts a WHERE a.id = $1`, text(id)))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return store.StoredAlert{}, fmt.Errorf("alert %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.StoredAlert{}, fmt.Errorf("alert %s: %w", id, err)
	}
	return a, nil
}

// MatchCounts implements store.Store.
func (s *Store) MatchCounts(ctx context.Context, f store.MatchFilter) ([]store.MatchCount, error) {
	step, err := f.Bucket()
	if err != nil {
		return nil, err
	}
	var a args
	width := a.add(step * int64(time.Minute))
	var where []string
	if f.Rule != "" {
		where = append(where, "rule_id = "+a.add(text(f.Rule)))
	}
	if f.Account != "" {
		where = append(where, "account = "+a.add(text(f.Account)))
	}
	if f.Region != "" {
		where = append(where, "region = "+a.add(text(f.Region)))
	}
	if !f.Since.IsZero() {
		where = append(where, "minute_ns >= "+a.add(store.UnixNano(f.Since)))
	}
	if !f.Until.IsZero() {
		where = append(where, "minute_ns < "+a.add(store.UnixNano(f.Until)))
	}
	// Times are after 1970, so integer division floors.
	q := `SELECT rule_id, account, region, (minute_ns / ` + width + `::bigint) * ` + width + `::bigint AS bucket, SUM(count)::bigint FROM match_counts`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " GROUP BY rule_id, account, region, bucket ORDER BY rule_id, account, region, bucket"
	var out []store.MatchCount
	err = s.conn(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, q, a...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m store.MatchCount
			var t int64
			if err := rows.Scan(&m.Rule, &m.Account, &m.Region, &t, &m.Count); err != nil {
				return err
			}
			m.Minute = time.Unix(0, t).UTC()
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("match counts: %w", err)
	}
	return out, nil
}

// pruneChunk bounds each delete, so that retention never holds locks long enough to stall
// the workers' commits.
const pruneChunk = 1000

// Prune implements store.Store.
func (s *Store) Prune(ctx context.Context, before time.Time) (store.PruneResult, error) {
	var res store.PruneResult
	b := store.UnixNano(before)
	chunks := func(what, q string) (int, error) {
		total := 0
		for {
			var n int64
			err := s.conn(ctx, func(c *pgx.Conn) error {
				tag, err := c.Exec(ctx, q, b, pruneChunk)
				n = tag.RowsAffected()
				return err
			})
			if err != nil {
				return total, fmt.Errorf("prune %s before %s: %w", what, before.Format(time.RFC3339), err)
			}
			total += int(n)
			if n < pruneChunk {
				return total, nil
			}
		}
	}
	var err error
	// Also by commit time: an old alert committed just now (a backlog being caught up) stays
	// long enough for its id to stop a re-processed file from raising it again.
	if res.Alerts, err = chunks("alerts", `DELETE FROM alerts WHERE seq IN (
		SELECT a.seq FROM alerts a WHERE a.time_ns < $1 AND a.created_ns < $1
		AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.alert_id = a.id AND o.state <> 'delivered')
		LIMIT $2)`); err != nil {
		return res, err
	}
	if res.Objects, err = chunks("processed objects", `DELETE FROM processed WHERE id IN (
		SELECT id FROM processed WHERE processed_ns < $1 LIMIT $2)`); err != nil {
		return res, err
	}
	if _, err = chunks("match counts", `DELETE FROM match_counts WHERE (rule_id, account, region, minute_ns) IN (
		SELECT rule_id, account, region, minute_ns FROM match_counts WHERE minute_ns < $1 LIMIT $2)`); err != nil {
		return res, err
	}
	return res, nil
}

// Size implements store.Store: the database's size on disk.
func (s *Store) Size(ctx context.Context) (int64, error) {
	var n int64
	err := s.conn(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("store size: %w", err)
	}
	return n, nil
}
