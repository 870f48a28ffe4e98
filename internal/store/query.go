package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// deliveryExpr sums up an alert's deliveries (see StoredAlert.Delivery). SUM over no rows is
// NULL, so an alert with no deliveries falls through to 'delivered'.
const deliveryExpr = `(SELECT CASE
	WHEN SUM(o.state = 'failed') > 0 THEN 'failed'
	WHEN SUM(o.state = 'pending') > 0 THEN 'pending'
	ELSE 'delivered' END FROM outbox o WHERE o.alert_id = a.id)`

// Alerts implements Store.
func (s *SQLite) Alerts(ctx context.Context, f AlertFilter) (AlertPage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if f.Rule != "" {
		add("a.rule_id = ?", f.Rule)
	}
	if f.Severity != "" {
		add("a.severity = ?", f.Severity)
	}
	if f.Principal != "" {
		add("a.principal = ?", f.Principal)
	}
	if f.To != "" {
		add("a.to_state = ?", f.To)
	}
	if f.Account != "" {
		add(s.memberOf(ctx, "alert_accounts", "account", f.Account), f.Account)
	}
	if f.Region != "" {
		add(s.memberOf(ctx, "alert_regions", "region", f.Region), f.Region)
	}
	if !f.Since.IsZero() {
		add("a.time_ns >= ?", UnixNano(f.Since))
	}
	if !f.Until.IsZero() {
		add("a.time_ns < ?", UnixNano(f.Until))
	}
	if f.Delivery != "" {
		add(deliveryExpr+" = ?", string(f.Delivery))
	}
	offset := f.Offset
	if f.Cursor != "" {
		t, id, err := DecodeCursor(f.Cursor)
		if err != nil {
			return AlertPage{}, fmt.Errorf("list alerts: %w", err)
		}
		add("(a.time_ns < ? OR (a.time_ns = ? AND a.id < ?))", t, t, id)
		offset = 0
	}
	q := `SELECT a.body, a.created_ns, ` + deliveryExpr + `, a.time_ns FROM alerts a`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	// One more than asked tells whether there is a next page.
	q += " ORDER BY a.time_ns DESC, a.id DESC LIMIT ? OFFSET ?"
	args = append(args, limit+1, max(offset, 0))
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return AlertPage{}, fmt.Errorf("list alerts: %w", err)
	}
	defer rows.Close()
	var page AlertPage
	var lastNS int64
	for rows.Next() {
		if len(page.Alerts) == limit {
			last := page.Alerts[limit-1]
			page.Next = EncodeCursor(lastNS, last.ID)
			break
		}
		a, t, err := scanAlert(rows)
		if err != nil {
			return AlertPage{}, fmt.Errorf("list alerts: %w", err)
		}
		lastNS = t
		page.Alerts = append(page.Alerts, a)
	}
	if err := rows.Err(); err != nil {
		return AlertPage{}, fmt.Errorf("list alerts: %w", err)
	}
	return page, nil
}

// rareMember is how many alerts an account or region may have for Alerts to start from them.
var rareMember = 2000 // a variable for tests

// memberOf returns the condition "the alert has this account (or region)", in the form that
// is fast for the value: an account with many alerts is checked alert by alert while walking
// the time index (the page fills at once), a rare one gives the list of its alerts to sort
// (walking the time index would read every alert to find none). The cost of asking: one index
// range of at most rareMember entries.
func (s *SQLite) memberOf(ctx context.Context, table, column, value string) string {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM `+table+` WHERE `+column+` = ? LIMIT ?)`, value, rareMember).Scan(&n)
	if err == nil && n < rareMember {
		return "a.id IN (SELECT alert_id FROM " + table + " WHERE " + column + " = ?)"
	}
	return "EXISTS (SELECT 1 FROM " + table + " x WHERE x.alert_id = a.id AND x." + column + " = ?)"
}

func scanAlert(rows interface{ Scan(...any) error }) (StoredAlert, int64, error) {
	var a StoredAlert
	var body string
	var created, t int64
	if err := rows.Scan(&body, &created, &a.Delivery, &t); err != nil {
		return a, 0, err
	}
	if err := json.Unmarshal([]byte(body), &a.Alert); err != nil {
		return a, 0, fmt.Errorf("decode alert: %w", err)
	}
	a.Committed = FromUnixNano(created)
	return a, t, nil
}

// EncodeCursor makes a page cursor of the sort key of a page's last alert: opaque to callers,
// so that it can change without breaking them. Every backend uses it.
func EncodeCursor(t int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t, 10) + ":" + id))
}

// DecodeCursor is the inverse of EncodeCursor; a cursor it did not make is an error that says
// what to pass instead.
func DecodeCursor(c string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if ts, id, ok := strings.Cut(string(b), ":"); ok {
			if t, err := strconv.ParseInt(ts, 10, 64); err == nil {
				return t, id, nil
			}
		}
	}
	return 0, "", fmt.Errorf("invalid cursor %q: pass the Next of a previous page, or none", c)
}

// Alert implements Store.
func (s *SQLite) Alert(ctx context.Context, id string) (StoredAlert, error) {
	row := s.r.QueryRowContext(ctx, `SELECT a.body, a.created_ns, `+deliveryExpr+`, a.time_ns FROM alerts a WHERE a.id = ?`, id)
	a, _, err := scanAlert(row)
	if errors.Is(err, sql.ErrNoRows) {
		return StoredAlert{}, fmt.Errorf("alert %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return StoredAlert{}, fmt.Errorf("alert %s: %w", id, err)
	}
	return a, nil
}

// pruneChunk bounds each delete transaction, so that retention never holds the write lock
// long enough to stall the commit path.
const pruneChunk = 1000

// Prune implements Store.
func (s *SQLite) Prune(ctx context.Context, before time.Time) (PruneResult, error) {
	var res PruneResult
	var pruned int64 // match counts: not in PruneResult, which counts what people may miss
	b := UnixNano(before)
	for {
		// Also by commit time: an old alert committed just now (a backlog being caught up)
		// stays long enough for its id to stop a re-processed file from raising it again.
		r, err := s.w.ExecContext(ctx, `DELETE FROM alerts WHERE seq IN (
			SELECT a.seq FROM alerts a WHERE a.time_ns < ? AND a.created_ns < ?
			AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.alert_id = a.id AND o.state <> 'delivered')
			LIMIT ?)`, b, b, pruneChunk)
		if err != nil {
			return res, fmt.Errorf("prune alerts before %s: %w", before.Format(time.RFC3339), err)
		}
		n, _ := r.RowsAffected()
		res.Alerts += int(n)
		if n < pruneChunk {
			break
		}
	}
	for {
		r, err := s.w.ExecContext(ctx, `DELETE FROM processed WHERE id IN (
			SELECT id FROM processed WHERE processed_ns < ? LIMIT ?)`, b, pruneChunk)
		if err != nil {
			return res, fmt.Errorf("prune processed objects before %s: %w", before.Format(time.RFC3339), err)
		}
		n, _ := r.RowsAffected()
		res.Objects += int(n)
		if n < pruneChunk {
			break
		}
	}
	for {
		r, err := s.w.ExecContext(ctx, `DELETE FROM match_counts WHERE (rule_id, account, region, minute_ns) IN (
			SELECT rule_id, account, region, minute_ns FROM match_counts WHERE minute_ns < ? LIMIT ?)`, b, pruneChunk)
		if err != nil {
			return res, fmt.Errorf("prune match counts before %s: %w", before.Format(time.RFC3339), err)
		}
		n, _ := r.RowsAffected()
		pruned += n
		if n < pruneChunk {
			break
		}
	}
	if res.Alerts+res.Objects > 0 || pruned > 0 {
		// Give the freed pages back to the file system (auto_vacuum=INCREMENTAL).
		if _, err := s.w.ExecContext(ctx, `PRAGMA incremental_vacuum`); err != nil {
			return res, fmt.Errorf("prune: vacuum: %w", err)
		}
	}
	return res, nil
}

// Size implements Store: the database file's pages plus the WAL file.
func (s *SQLite) Size(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store size: %w", err)
	}
	if fi, err := os.Stat(s.path + "-wal"); err == nil {
		n += fi.Size()
	}
	return n, nil
}

// MatchCounts implements Store.
func (s *SQLite) MatchCounts(ctx context.Context, f MatchFilter) ([]MatchCount, error) {
	step, err := f.Bucket()
	if err != nil {
		return nil, err
	}
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if f.Rule != "" {
		add("rule_id = ?", f.Rule)
	}
	if f.Account != "" {
		add("account = ?", f.Account)
	}
	if f.Region != "" {
		add("region = ?", f.Region)
	}
	if !f.Since.IsZero() {
		add("minute_ns >= ?", UnixNano(f.Since))
	}
	if !f.Until.IsZero() {
		add("minute_ns < ?", UnixNano(f.Until))
	}
	// Bucket starts in Unix minutes; integer division floors for times after 1970.
	width := step * int64(time.Minute)
	q := `SELECT rule_id, account, region, (minute_ns / ?) * ? AS bucket, SUM(count) FROM match_counts`
	args = append([]any{width, width}, args...)
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " GROUP BY rule_id, account, region, bucket ORDER BY rule_id, account, region, bucket"
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("match counts: %w", err)
	}
	defer rows.Close()
	var out []MatchCount
	for rows.Next() {
		var m MatchCount
		var t int64
		if err := rows.Scan(&m.Rule, &m.Account, &m.Region, &t, &m.Count); err != nil {
			return nil, fmt.Errorf("match counts: %w", err)
		}
		m.Minute = time.Unix(0, t).UTC()
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("match counts: %w", err)
	}
	return out, nil
}
