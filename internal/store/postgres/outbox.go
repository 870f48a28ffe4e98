package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/trailalarm/trailalarm/internal/store"
)

const dueQuery = `SELECT o.alert_id, o.notifier, o.state, o.attempts, o.last_error, o.next_attempt_ns,
	o.updated_ns, o.delivered_ns, a.body
FROM outbox o JOIN alerts a ON a.id = o.alert_id
WHERE o.notifier = $1 AND o.state = 'pending' AND o.next_attempt_ns <= $2
ORDER BY o.alert_time_ns, o.alert_id
LIMIT $3`

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func due(ctx context.Context, q querier, query, notifier string, now time.Time, limit int) ([]store.Delivery, error) {
	rows, err := q.Query(ctx, query, notifier, store.UnixNano(now), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Delivery
	for rows.Next() {
		var d store.Delivery
		var next, upd, del int64
		var state, body string
		if err := rows.Scan(&d.AlertID, &d.Notifier, &state, &d.Attempts, &d.LastError, &next, &upd, &del, &body); err != nil {
			return nil, err
		}
		d.State = store.DeliveryState(state)
		d.NextAttempt, d.Updated, d.DeliveredAt = store.FromUnixNano(next), store.FromUnixNano(upd), store.FromUnixNano(del)
		if err := json.Unmarshal([]byte(body), &d.Alert); err != nil {
			return nil, fmt.Errorf("decode alert %s: %w", d.AlertID, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Due implements store.Store.
func (s *Store) Due(ctx context.Context, notifier string, now time.Time, limit int) ([]store.Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []store.Delivery
	err := s.conn(ctx, func(c *pgx.Conn) error {
		var err error
		out, err = due(ctx, c, dueQuery, notifier, now, limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("due deliveries of %s: %w", notifier, err)
	}
	return out, nil
}

// Claim implements store.Store: the due rows are locked with SKIP LOCKED, so that workers
// claiming at the same moment each get other rows instead of waiting for one another, and
// leased in the same transaction.
func (s *Store) Claim(ctx context.Context, notifier string, now, until time.Time, limit int) ([]store.Delivery, error) {
	if !until.After(now) {
		return nil, fmt.Errorf("claim deliveries of %s: the lease must end after now", notifier)
	}
	if limit <= 0 {
		return nil, nil
	}
	var out []store.Delivery
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = due(ctx, tx, dueQuery+" FOR UPDATE OF o SKIP LOCKED", notifier, now, limit)
		if err != nil || len(out) == 0 {
			return err
		}
		ids := make([]string, len(out))
		for i := range out {
			ids[i] = out[i].AlertID
			out[i].NextAttempt = until
		}
		_, err = tx.Exec(ctx, `UPDATE outbox SET next_attempt_ns = $1 WHERE notifier = $2 AND alert_id = ANY($3)`, store.UnixNano(until), notifier, ids)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries of %s: %w", notifier, err)
	}
	return out, nil
}

// Delivered implements store.Store.
func (s *Store) Delivered(ctx context.Context, alertID, notifier string, at time.Time) error {
	err := s.settle(ctx, alertID, notifier, `UPDATE outbox SET state = 'delivered', attempts = attempts + 1, last_error = '',
		delivered_ns = $1, updated_ns = $1 WHERE alert_id = $2 AND notifier = $3 AND state <> 'delivered'`, store.UnixNano(at), alertID, notifier)
	if err != nil {
		return fmt.Errorf("record delivery of %s to %s: %w", alertID, notifier, err)
	}
	return nil
}

// Failed implements store.Store.
func (s *Store) Failed(ctx context.Context, alertID, notifier string, at time.Time, errText string, nextAttempt time.Time) error {
	state, next := store.Pending, store.UnixNano(nextAttempt)
	if nextAttempt.IsZero() {
		state, next = store.Failed, 0
	}
	err := s.settle(ctx, alertID, notifier, `UPDATE outbox SET state = $1, attempts = attempts + 1, last_error = $2,
		next_attempt_ns = $3, updated_ns = $4 WHERE alert_id = $5 AND notifier = $6 AND state = 'pending'`,
		string(state), text(errText), next, store.UnixNano(at), alertID, notifier)
	if err != nil {
		return fmt.Errorf("record failed delivery of %s to %s: %w", alertID, notifier, err)
	}
	return nil
}

// settle runs an update of one outbox row; one that matched nothing is fine when the row is
// already settled (a late or repeated report) and ErrNotFound when there is no such row.
func (s *Store) settle(ctx context.Context, alertID, notifier, query string, args ...any) error {
	return s.conn(ctx, func(c *pgx.Conn) error {
		var tag pgconn.CommandTag
		tag, err := c.Exec(ctx, query, args...)
		if err != nil || tag.RowsAffected() > 0 {
			return err
		}
		var n int
		if err := c.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE alert_id = $1 AND notifier = $2`, alertID, notifier).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// Deliveries implements store.Store.
func (s *Store) Deliveries(ctx context.Context, alertID string) ([]store.Delivery, error) {
	var out []store.Delivery
	err := s.conn(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT alert_id, notifier, state, attempts, last_error, next_attempt_ns, updated_ns, delivered_ns
			FROM outbox WHERE alert_id = $1 ORDER BY notifier`, alertID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d store.Delivery
			var next, upd, del int64
			var state string
			if err := rows.Scan(&d.AlertID, &d.Notifier, &state, &d.Attempts, &d.LastError, &next, &upd, &del); err != nil {
				return err
			}
			d.State = store.DeliveryState(state)
			d.NextAttempt, d.Updated, d.DeliveredAt = store.FromUnixNano(next), store.FromUnixNano(upd), store.FromUnixNano(del)
			out = append(out, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("deliveries of %s: %w", alertID, err)
	}
	return out, nil
}

// OutboxCounts implements store.Store.
func (s *Store) OutboxCounts(ctx context.Context) ([]store.OutboxCount, error) {
	var out []store.OutboxCount
	err := s.conn(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT notifier, state, count(*) FROM outbox GROUP BY notifier, state ORDER BY notifier, state`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var oc store.OutboxCount
			var state string
			var n int64
			if err := rows.Scan(&oc.Notifier, &state, &n); err != nil {
				return err
			}
			oc.State, oc.Count = store.DeliveryState(state), int(n)
			out = append(out, oc)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("outbox counts: %w", err)
	}
	return out, nil
}
