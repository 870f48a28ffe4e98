package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Commit implements Store.
func (s *SQLite) Commit(ctx context.Context, b Batch) (CommitResult, error) {
	if err := b.Validate(); err != nil {
		return CommitResult{}, fmt.Errorf("commit batch: %w", err)
	}
	// Encode before taking the write lock, which every other writer waits for.
	bodies, err := encodeAlerts(b.Alerts)
	if err != nil {
		return CommitResult{}, fmt.Errorf("commit batch: %w", err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return CommitResult{}, fmt.Errorf("commit batch: %w", err)
	}
	defer tx.Rollback()
	res, err := s.commit(ctx, tx, &b, bodies)
	if err == nil {
		err = s.step("commit")
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return CommitResult{}, fmt.Errorf("commit batch: %w", err)
	}
	return res, nil
}

// encodeAlerts turns alerts into the JSON bodies the alerts table holds.
func encodeAlerts(as []NewAlert) ([][]byte, error) {
	bodies := make([][]byte, len(as))
	for i, a := range as {
		var err error
		if bodies[i], err = json.Marshal(a.Alert); err != nil {
			return nil, fmt.Errorf("encode alert %s: %w", a.Alert.ID, err)
		}
		if a.Alert.ID == "" {
			return nil, fmt.Errorf("alert of rule %q has no ID (call Finish first)", a.Alert.Rule.ID)
		}
	}
	return bodies, nil
}

func (s *SQLite) step(name string) error {
	if s.hook != nil {
		return s.hook(name)
	}
	return nil
}

func (s *SQLite) commit(ctx context.Context, tx *sql.Tx, b *Batch, bodies [][]byte) (CommitResult, error) {
	var res CommitResult
	t := UnixNano(b.Time)
	if err := s.step("checkpoints"); err != nil {
		return res, err
	}
	for _, c := range b.Checkpoints {
		if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoints (source, position, updated_ns) VALUES (?, ?, ?)
			ON CONFLICT (source) DO UPDATE SET position = excluded.position, updated_ns = excluded.updated_ns`,
			c.Source, c.Position, t); err != nil {
			return res, fmt.Errorf("checkpoint %s: %w", c.Source, err)
		}
	}

	if err := s.step("objects"); err != nil {
		return res, err
	}
	seen := make(map[Object]bool, len(b.Objects))
	for _, o := range b.Objects {
		if seen[o] { // S3 notifications may name an object twice in one batch
			continue
		}
		seen[o] = true
		r, err := tx.ExecContext(ctx, `INSERT INTO processed (source, key, version, processed_ns) VALUES (?, ?, ?, ?)
			ON CONFLICT (source, key, version) DO NOTHING`, o.Source, o.Key, o.Version, t)
		if err != nil {
			return res, fmt.Errorf("processed object %s/%s: %w", o.Source, o.Key, err)
		}
		if n, err := r.RowsAffected(); err != nil {
			return res, err
		} else if n == 0 {
			return res, fmt.Errorf("%s/%s (version %s): %w", o.Source, o.Key, o.Version, ErrAlreadyProcessed)
		}
	}

	if err := s.step("alarm_states"); err != nil {
		return res, err
	}
	for _, a := range b.AlarmStates {
		st := a.State
		if st == nil {
			st = []byte{} // NOT NULL: an empty state is still a state
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO alarm_states (rule_id, state, updated_ns) VALUES (?, ?, ?)
			ON CONFLICT (rule_id) DO UPDATE SET state = excluded.state, updated_ns = excluded.updated_ns`,
			a.RuleID, st, t); err != nil {
			return res, fmt.Errorf("alarm state of %s: %w", a.RuleID, err)
		}
	}

	if err := s.step("alarm_updates"); err != nil {
		return res, err
	}
	// The single writer connection is the lock: no other commit runs between read and write.
	for _, u := range b.AlarmUpdates {
		var st []byte
		err := tx.QueryRowContext(ctx, `SELECT state FROM alarm_states WHERE rule_id = ?`, u.RuleID).Scan(&st)
		ok := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return res, fmt.Errorf("alarm state of %s: %w", u.RuleID, err)
		}
		if ok && st == nil {
			st = []byte{}
		}
		next, alerts, err := u.Apply(st, ok)
		if err != nil {
			return res, fmt.Errorf("alarm state of %s: %w", u.RuleID, err)
		}
		if next != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO alarm_states (rule_id, state, updated_ns) VALUES (?, ?, ?)
				ON CONFLICT (rule_id) DO UPDATE SET state = excluded.state, updated_ns = excluded.updated_ns`,
				u.RuleID, next, t); err != nil {
				return res, fmt.Errorf("alarm state of %s: %w", u.RuleID, err)
			}
		}
		if len(alerts) > 0 {
			more, err := encodeAlerts(alerts)
			if err != nil {
				return res, err
			}
			b.Alerts = append(b.Alerts[:len(b.Alerts):len(b.Alerts)], alerts...)
			bodies = append(bodies, more...)
		}
	}

	if err := s.step("match_counts"); err != nil {
		return res, err
	}
	for _, m := range b.Matches {
		if m.Count == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO match_counts (rule_id, account, region, minute_ns, count) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (rule_id, account, region, minute_ns) DO UPDATE SET count = count + excluded.count`,
			m.Rule, m.Account, m.Region, UnixNano(m.Minute), m.Count); err != nil {
			return res, fmt.Errorf("match count of %s: %w", m.Rule, err)
		}
	}

	if err := s.step("alerts"); err != nil {
		return res, err
	}
	for i, na := range b.Alerts {
		a := &na.Alert
		principal := ""
		if len(a.Evidence) > 0 {
			principal = a.Evidence[0].Principal
		}
		r, err := tx.ExecContext(ctx, `INSERT INTO alerts (id, rule_id, severity, from_state, to_state, time_ns, principal, created_ns, body)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			a.ID, a.Rule.ID, a.Rule.Severity, a.From, a.To, UnixNano(a.Time), principal, t, string(bodies[i]))
		if err != nil {
			return res, fmt.Errorf("alert %s: %w", a.ID, err)
		}
		n, err := r.RowsAffected()
		if err != nil {
			return res, err
		}
		if n > 0 {
			res.Inserted = append(res.Inserted, a.ID)
			for _, acct := range a.Accounts {
				if _, err := tx.ExecContext(ctx, `INSERT INTO alert_accounts (account, alert_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, acct, a.ID); err != nil {
					return res, fmt.Errorf("alert %s: account: %w", a.ID, err)
				}
			}
			for _, reg := range a.Regions {
				if _, err := tx.ExecContext(ctx, `INSERT INTO alert_regions (region, alert_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, reg, a.ID); err != nil {
					return res, fmt.Errorf("alert %s: region: %w", a.ID, err)
				}
			}
		}
		// Per (alert, notifier), not per alert: an alert produced again after a restart with
		// a notifier added to the configuration goes to that notifier, and only to it.
		for _, nf := range na.Notifiers {
			r, err := tx.ExecContext(ctx, `INSERT INTO outbox (alert_id, notifier, alert_time_ns, state, next_attempt_ns, updated_ns)
				VALUES (?, ?, ?, 'pending', ?, ?) ON CONFLICT (alert_id, notifier) DO NOTHING`, a.ID, nf, UnixNano(a.Time), t, t)
			if err != nil {
				return res, fmt.Errorf("alert %s: outbox %s: %w", a.ID, nf, err)
			}
			if n, err := r.RowsAffected(); err != nil {
				return res, err
			} else {
				res.Deliveries += int(n)
			}
		}
	}
	return res, nil
}

// Checkpoint implements Store.
func (s *SQLite) Checkpoint(ctx context.Context, source string) (string, bool, error) {
	var p string
	err := s.r.QueryRowContext(ctx, `SELECT position FROM checkpoints WHERE source = ?`, source).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("checkpoint of %s: %w", source, err)
	}
	return p, true, nil
}

// Checkpoints implements Store.
func (s *SQLite) Checkpoints(ctx context.Context) ([]Checkpoint, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT source, position, updated_ns FROM checkpoints ORDER BY source`)
	if err != nil {
		return nil, fmt.Errorf("checkpoints: %w", err)
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		var c Checkpoint
		var u int64
		if err := rows.Scan(&c.Source, &c.Position, &u); err != nil {
			return nil, fmt.Errorf("checkpoints: %w", err)
		}
		c.Updated = FromUnixNano(u)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("checkpoints: %w", err)
	}
	return out, nil
}

// IsProcessed implements Store.
func (s *SQLite) IsProcessed(ctx context.Context, o Object) (bool, error) {
	var one int
	err := s.r.QueryRowContext(ctx, `SELECT 1 FROM processed WHERE source = ? AND key = ? AND version = ?`,
		o.Source, o.Key, o.Version).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("is %s/%s processed: %w", o.Source, o.Key, err)
	}
	return true, nil
}

// AlarmState implements Store.
func (s *SQLite) AlarmState(ctx context.Context, ruleID string) ([]byte, bool, error) {
	var st []byte
	err := s.r.QueryRowContext(ctx, `SELECT state FROM alarm_states WHERE rule_id = ?`, ruleID).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
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

// AlarmStates implements Store.
func (s *SQLite) AlarmStates(ctx context.Context) ([]AlarmState, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT rule_id, state, updated_ns FROM alarm_states ORDER BY rule_id`)
	if err != nil {
		return nil, fmt.Errorf("alarm states: %w", err)
	}
	defer rows.Close()
	var out []AlarmState
	for rows.Next() {
		var a AlarmState
		var u int64
		if err := rows.Scan(&a.RuleID, &a.State, &u); err != nil {
			return nil, fmt.Errorf("alarm states: %w", err)
		}
		if a.State == nil {
			a.State = []byte{}
		}
		a.Updated = FromUnixNano(u)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alarm states: %w", err)
	}
	return out, nil
}

// Heartbeat implements Store.
func (s *SQLite) Heartbeat(ctx context.Context, workerID string, at time.Time) error {
	if workerID == "" {
		return errors.New("heartbeat: empty worker id")
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO workers (id, started_ns, seen_ns) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET seen_ns = MAX(seen_ns, excluded.seen_ns)`, workerID, UnixNano(at), UnixNano(at)); err != nil {
		return fmt.Errorf("heartbeat of %s: %w", workerID, err)
	}
	return nil
}

// Workers implements Store.
func (s *SQLite) Workers(ctx context.Context) ([]Worker, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, started_ns, seen_ns FROM workers ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("workers: %w", err)
	}
	defer rows.Close()
	var out []Worker
	for rows.Next() {
		var w Worker
		var st, se int64
		if err := rows.Scan(&w.ID, &st, &se); err != nil {
			return nil, fmt.Errorf("workers: %w", err)
		}
		w.Started, w.Seen = FromUnixNano(st), FromUnixNano(se)
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("workers: %w", err)
	}
	return out, nil
}
