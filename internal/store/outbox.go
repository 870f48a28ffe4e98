package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

const dueQuery = `SELECT o.alert_id, o.notifier, o.state, o.attempts, o.last_error, o.next_attempt_ns,
	o.updated_ns, o.delivered_ns, a.body
FROM outbox o JOIN alerts a ON a.id = o.alert_id
WHERE o.notifier = ? AND o.state = 'pending' AND o.next_attempt_ns <= ?
ORDER BY o.alert_time_ns, o.alert_id
LIMIT ?`

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func due(ctx context.Context, q querier, notifier string, now time.Time, limit int) ([]Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := q.QueryContext(ctx, dueQuery, notifier, UnixNano(now), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		var next, upd, del int64
		var body string
		if err := rows.Scan(&d.AlertID, &d.Notifier, &d.State, &d.Attempts, &d.LastError, &next, &upd, &del, &body); err != nil {
			return nil, err
		}
		d.NextAttempt, d.Updated, d.DeliveredAt = FromUnixNano(next), FromUnixNano(upd), FromUnixNano(del)
		if err := json.Unmarshal([]byte(body), &d.Alert); err != nil {
			return nil, fmt.Errorf("decode alert %s: %w", d.AlertID, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Due implements Store.
func (s *SQLite) Due(ctx context.Context, notifier string, now time.Time, limit int) ([]Delivery, error) {
	out, err := due(ctx, s.r, notifier, now, limit)
	if err != nil {
		return nil, fmt.Errorf("due deliveries of %s: %w", notifier, err)
	}
	return out, nil
}

// Claim implements Store. Select and lease happen in one write transaction, so two Claims
// never return the same delivery.
func (s *SQLite) Claim(ctx context.Context, notifier string, now, until time.Time, limit int) ([]Delivery, error) {
	if !until.After(now) {
		return nil, fmt.Errorf("claim deliveries of %s: the lease must end after now", notifier)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries of %s: %w", notifier, err)
	}
	defer tx.Rollback()
	out, err := due(ctx, tx, notifier, now, limit)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries of %s: %w", notifier, err)
	}
	for i := range out {
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET next_attempt_ns = ? WHERE alert_id = ? AND notifier = ?`,
			UnixNano(until), out[i].AlertID, notifier); err != nil {
			return nil, fmt.Errorf("claim deliveries of %s: %w", notifier, err)
		}
		out[i].NextAttempt = until
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claim deliveries of %s: %w", notifier, err)
	}
	return out, nil
}

// Delivered implements Store.
func (s *SQLite) Delivered(ctx context.Context, alertID, notifier string, at time.Time) error {
	r, err := s.w.ExecContext(ctx, `UPDATE outbox SET state = 'delivered', attempts = attempts + 1, last_error = '',
		delivered_ns = ?, updated_ns = ? WHERE alert_id = ? AND notifier = ? AND state <> 'delivered'`,
		UnixNano(at), UnixNano(at), alertID, notifier)
	if err == nil {
		err = s.settled(ctx, r, alertID, notifier)
	}
	if err != nil {
		return fmt.Errorf("record delivery of %s to %s: %w", alertID, notifier, err)
	}
	return nil
}

// Failed implements Store.
func (s *SQLite) Failed(ctx context.Context, alertID, notifier string, at time.Time, errText string, nextAttempt time.Time) error {
	state, next := Pending, UnixNano(nextAttempt)
	if nextAttempt.IsZero() {
		state, next = Failed, 0
	}
	r, err := s.w.ExecContext(ctx, `UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?,
		next_attempt_ns = ?, updated_ns = ? WHERE alert_id = ? AND notifier = ? AND state = 'pending'`,
		state, errText, next, UnixNano(at), alertID, notifier)
	if err == nil {
		err = s.settled(ctx, r, alertID, notifier)
	}
	if err != nil {
		return fmt.Errorf("record failed delivery of %s to %s: %w", alertID, notifier, err)
	}
	return nil
}

// settled tells an update that matched nothing because the row is already settled (fine: a
// late or repeated report) from one that matched nothing because there is no such row.
func (s *SQLite) settled(ctx context.Context, r sql.Result, alertID, notifier string) error {
	if n, err := r.RowsAffected(); err != nil || n > 0 {
		return err
	}
	var one int
	err := s.w.QueryRowContext(ctx, `SELECT 1 FROM outbox WHERE alert_id = ? AND notifier = ?`, alertID, notifier).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// Deliveries implements Store.
func (s *SQLite) Deliveries(ctx context.Context, alertID string) ([]Delivery, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT alert_id, notifier, state, attempts, last_error, next_attempt_ns, updated_ns, delivered_ns
		FROM outbox WHERE alert_id = ? ORDER BY notifier`, alertID)
	if err != nil {
		return nil, fmt.Errorf("deliveries of %s: %w", alertID, err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		var next, upd, del int64
		if err := rows.Scan(&d.AlertID, &d.Notifier, &d.State, &d.Attempts, &d.LastError, &next, &upd, &del); err != nil {
			return nil, fmt.Errorf("deliveries of %s: %w", alertID, err)
		}
		d.NextAttempt, d.Updated, d.DeliveredAt = FromUnixNano(next), FromUnixNano(upd), FromUnixNano(del)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("deliveries of %s: %w", alertID, err)
	}
	return out, nil
}

// OutboxCounts implements Store.
func (s *SQLite) OutboxCounts(ctx context.Context) ([]OutboxCount, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT notifier, state, COUNT(*) FROM outbox GROUP BY notifier, state ORDER BY notifier, state`)
	if err != nil {
		return nil, fmt.Errorf("outbox counts: %w", err)
	}
	defer rows.Close()
	var out []OutboxCount
	for rows.Next() {
		var c OutboxCount
		if err := rows.Scan(&c.Notifier, &c.State, &c.Count); err != nil {
			return nil, fmt.Errorf("outbox counts: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("outbox counts: %w", err)
	}
	return out, nil
}
