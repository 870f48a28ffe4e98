package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trailalarm/trailalarm/internal/store"
)

// Commit implements store.Store. Rows are locked in a fixed order (checkpoints by source,
// alarm states by rule, alerts by id) so that two workers' commits wait for each other instead
// of deadlocking; a deadlock PostgreSQL still detects runs the transaction again.
func (s *Store) Commit(ctx context.Context, b store.Batch) (store.CommitResult, error) {
	if err := b.Validate(); err != nil {
		return store.CommitResult{}, fmt.Errorf("commit batch: %w", err)
	}
	b.Checkpoints = slices.Clone(b.Checkpoints)
	sort.SliceStable(b.Checkpoints, func(i, j int) bool { return b.Checkpoints[i].Source < b.Checkpoints[j].Source })
	b.AlarmStates = slices.Clone(b.AlarmStates)
	sort.SliceStable(b.AlarmStates, func(i, j int) bool { return b.AlarmStates[i].RuleID < b.AlarmStates[j].RuleID })
	b.AlarmUpdates = slices.Clone(b.AlarmUpdates)
	sort.SliceStable(b.AlarmUpdates, func(i, j int) bool { return b.AlarmUpdates[i].RuleID < b.AlarmUpdates[j].RuleID })
	var res store.CommitResult
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		res, err = s.commit(ctx, tx, b)
		return err
	})
	if err != nil {
		return store.CommitResult{}, fmt.Errorf("commit batch: %w", err)
	}
	return res, nil
}

func (s *Store) commit(ctx context.Context, tx pgx.Tx, b store.Batch) (store.CommitResult, error) {
	var res store.CommitResult
	t := store.UnixNano(b.Time)
	for _, c := range b.Checkpoints {
		if _, err := tx.Exec(ctx, `INSERT INTO checkpoints (source, position, updated_ns) VALUES ($1, $2, $3)
			ON CONFLICT (source) DO UPDATE SET position = excluded.position, updated_ns = excluded.updated_ns`,
			[]byte(c.Source), []byte(c.Position), t); err != nil {
			return res, fmt.Errorf("checkpoint %s: %w", c.Source, err)
		}
	}

	seen := make(map[store.Object]bool, len(b.Objects))
	for _, o := range b.Objects {
		if seen[o] {
			continue
		}
		seen[o] = true
		// Another worker committing the same object at the same moment holds its unique key:
		// this insert waits for it, and then finds the row.
		tag, err := tx.Exec(ctx, `INSERT INTO processed (source, key, version, processed_ns) VALUES ($1, $2, $3, $4)
			ON CONFLICT (source, key, version) DO NOTHING`, []byte(o.Source), []byte(o.Key), []byte(o.Version), t)
		if err != nil {
			return res, fmt.Errorf("processed object %s/%s: %w", o.Source, o.Key, err)
		}
		if tag.RowsAffected() == 0 {
			return res, fmt.Errorf("%s/%s (version %s): %w", o.Source, o.Key, o.Version, store.ErrAlreadyProcessed)
		}
	}

	// Before the alarm updates, which lock rules' state until the commit: in one round trip.
	if len(b.Matches) > 0 {
		var mb pgx.Batch
		for _, m := range b.Matches {
			if m.Count == 0 {
				continue
			}
			mb.Queue(`INSERT INTO match_counts (rule_id, account, region, minute_ns, count) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (rule_id, account, region, minute_ns) DO UPDATE SET count = match_counts.count + excluded.count`,
				m.Rule, text(m.Account), text(m.Region), store.UnixNano(m.Minute), m.Count)
		}
		if err := tx.SendBatch(ctx, &mb).Close(); err != nil {
			return res, fmt.Errorf("match counts: %w", err)
		}
	}

	for _, a := range b.AlarmStates {
		st := a.State
		if st == nil {
			st = []byte{}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO alarm_states (rule_id, state, updated_ns) VALUES ($1, $2, $3)
			ON CONFLICT (rule_id) DO UPDATE SET state = excluded.state, updated_ns = excluded.updated_ns`,
			a.RuleID, st, t); err != nil {
			return res, fmt.Errorf("alarm state of %s: %w", a.RuleID, err)
		}
	}

	alerts := b.Alerts
	for _, u := range b.AlarmUpdates {
		more, err := s.update(ctx, tx, u, t)
		if err != nil {
			return res, fmt.Errorf("alarm state of %s: %w", u.RuleID, err)
		}
		alerts = append(alerts[:len(alerts):len(alerts)], more...)
	}

	// By id, so that two workers inserting the same alerts lock them in the same order.
	order := make([]int, len(alerts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return alerts[order[i]].Alert.ID < alerts[order[j]].Alert.ID })
	inserted := map[string]bool{}
	for _, i := range order {
		na := &alerts[i]
		a := &na.Alert
		if a.ID == "" {
			return res, fmt.Errorf("alert of rule %q has no ID (call Finish first)", a.Rule.ID)
		}
		body, err := json.Marshal(a)
		if err != nil {
			return res, fmt.Errorf("encode alert %s: %w", a.ID, err)
		}
		principal := ""
		if len(a.Evidence) > 0 {
			principal = a.Evidence[0].Principal
		}
		tag, err := tx.Exec(ctx, `INSERT INTO alerts (id, rule_id, severity, from_state, to_state, time_ns, principal, created_ns, body)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
			a.ID, text(a.Rule.ID), text(a.Rule.Severity), a.From, a.To, store.UnixNano(a.Time), text(principal), t, string(body))
		if err != nil {
			return res, fmt.Errorf("alert %s: %w", a.ID, err)
		}
		if tag.RowsAffected() > 0 {
			inserted[a.ID] = true
			for _, acct := range a.Accounts {
				if _, err := tx.Exec(ctx, `INSERT INTO alert_accounts (account, alert_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, text(acct), a.ID); err != nil {
					return res, fmt.Errorf("alert %s: account: %w", a.ID, err)
				}
			}
			for _, reg := range a.Regions {
				if _, err := tx.Exec(ctx, `INSERT INTO alert_regions (region, alert_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, text(reg), a.ID); err != nil {
					return res, fmt.Errorf("alert %s: region: %w", a.ID, err)
				}
			}
		}
		for _, nf := range na.Notifiers {
			if nf == "" {
				return res, fmt.Errorf("alert %s: empty notifier name", a.ID)
			}
			tag, err := tx.Exec(ctx, `INSERT INTO outbox (alert_id, notifier, alert_time_ns, state, next_attempt_ns, updated_ns)
				VALUES ($1, $2, $3, 'pending', $4, $5) ON CONFLICT (alert_id, notifier) DO NOTHING`, a.ID, nf, store.UnixNano(a.Time), t, t)
			if err != nil {
				return res, fmt.Errorf("alert %s: outbox %s: %w", a.ID, nf, err)
			}
			res.Deliveries += int(tag.RowsAffected())
		}
	}
	// Inserted in the batch's order, as the SQLite store reports it.
	for _, na := range alerts {
		if inserted[na.Alert.ID] {
			res.Inserted = append(res.Inserted, na.Alert.ID)
			delete(inserted, na.Alert.ID)
		}
	}
	return res, nil
}

// update applies one alarm update with the rule's state row locked: the row is created empty
// if there is none (so that there is a row to lock), and removed again if Apply leaves a new
// rule without state.
func (s *Store) update(ctx context.Context, tx pgx.Tx, u store.AlarmUpdate, t int64) ([]store.NewAlert, error) {
	var st []byte
	existed := true
	err := tx.QueryRow(ctx, `SELECT state FROM alarm_states WHERE rule_id = $1 FOR UPDATE`, u.RuleID).Scan(&st)
	if errors.Is(err, pgx.ErrNoRows) {
		existed = false
		if _, err := tx.Exec(ctx, `INSERT INTO alarm_states (rule_id, state, updated_ns) VALUES ($1, ''::bytea, 0)
			ON CONFLICT (rule_id) DO NOTHING`, u.RuleID); err != nil {
			return nil, err
		}
		var updated int64
		err = tx.QueryRow(ctx, `SELECT state, updated_ns FROM alarm_states WHERE rule_id = $1 FOR UPDATE`, u.RuleID).Scan(&st, &updated)
		// Another worker's state got there first when the row is not our placeholder.
		existed = err == nil && (updated != 0 || len(st) > 0)
	}
	if err != nil {
		return nil, err
	}
	if st == nil {
		st = []byte{}
	}
	var given []byte
	if existed {
		given = st
	}
	next, alerts, err := u.Apply(given, existed)
	if err != nil {
		return nil, err
	}
	switch {
	case next != nil:
		if _, err := tx.Exec(ctx, `UPDATE alarm_states SET state = $2, updated_ns = $3 WHERE rule_id = $1`, u.RuleID, next, t); err != nil {
			return nil, err
		}
	case !existed:
		if _, err := tx.Exec(ctx, `DELETE FROM alarm_states WHERE rule_id = $1 AND updated_ns = 0`, u.RuleID); err != nil {
			return nil, err
		}
	}
	return alerts, nil
}

// Checkpoint implements store.Store.
func (s *Store) Checkpoint(ctx context.Context, source string) (string, bool, error) {
	var p []byte
	err := s.conn(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT position FROM checkpoints WHERE source = $1`, []byte(source)).Scan(&p)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("checkpoint of %s: %w", source, err)
	}
	return string(p), true, nil
}

// Checkpoints implements store.Store.
func (s *Store) Checkpoints(ctx context.Context) ([]store.Checkpoint, error) {
	var out []store.Checkpoint
	err := s.conn(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT source, position, updated_ns FROM checkpoints ORDER BY source`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var cp store.Checkpoint
			var src, pos []byte
			var u int64
			if err := rows.Scan(&src, &pos, &u); err != nil {
				return err
			}
			cp.Source, cp.Position, cp.Updated = string(src), string(pos), store.FromUnixNano(u)
			out = append(out, cp)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("checkpoints: %w", err)
	}
	return out, nil
}

// IsProcessed implements store.Store.
func (s *Store) IsProcessed(ctx context.Context, o store.Object) (bool, error) {
	var n int
	err := s.conn(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT count(*) FROM processed WHERE source = $1 AND key = $2 AND version = $3`,
			[]byte(o.Source), []byte(o.Key), []byte(o.Version)).Scan(&n)
	})
	if err != nil {
		return false, fmt.Errorf("is %s/%s processed: %w", o.Source, o.Key, err)
	}
	return n > 0, nil
}

// AlarmState implements store.Store.
func (s *Store) AlarmState(ctx context.Context, ruleID string) ([]byte, bool, error) {
	var st []byte
	err := s.conn(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT state FROM alarm_states WHERE rule_id = $1 AND (updated_ns <> 0 OR state <> ''::bytea)`, ruleID).Scan(&st)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("alarm state of %s: %w", ruleID, err)
	}
	if st == nil {
		st = []byte{}
	}
	return st, true, nil
}

// AlarmStates implements store.Store. A placeholder row of an update in progress (see update)
// is not a state.
func (s *Store) AlarmStates(ctx context.Context) ([]store.AlarmState, error) {
	var out []store.AlarmState
	err := s.conn(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT rule_id, state, updated_ns FROM alarm_states
			WHERE updated_ns <> 0 OR state <> ''::bytea ORDER BY rule_id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a store.AlarmState
			var u int64
			if err := rows.Scan(&a.RuleID, &a.State, &u); err != nil {
				return err
			}
			if a.State == nil {
				a.State = []byte{}
			}
			a.Updated = store.FromUnixNano(u)
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("alarm states: %w", err)
	}
	return out, nil
}

// Heartbeat implements store.Store.
func (s *Store) Heartbeat(ctx context.Context, workerID string, at time.Time) error {
	if workerID == "" {
		return errors.New("heartbeat: empty worker id")
	}
	err := s.conn(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO workers (id, started_ns, seen_ns) VALUES ($1, $2, $2)
			ON CONFLICT (id) DO UPDATE SET seen_ns = GREATEST(workers.seen_ns, excluded.seen_ns)`, text(workerID), store.UnixNano(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("heartbeat of %s: %w", workerID, err)
	}
	return nil
}

// Workers implements store.Store.
func (s *Store) Workers(ctx context.Context) ([]store.Worker, error) {
	var out []store.Worker
	err := s.conn(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT id, started_ns, seen_ns FROM workers ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var w store.Worker
			var st, se int64
			if err := rows.Scan(&w.ID, &st, &se); err != nil {
				return err
			}
			w.Started, w.Seen = store.FromUnixNano(st), store.FromUnixNano(se)
			out = append(out, w)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("workers: %w", err)
	}
	return out, nil
}
