package store

// SyncNormal switches the writer to synchronous=NORMAL, for benchmarks that show what FULL costs.
func SyncNormal(s *SQLite) error {
	_, err := s.w.Exec(`PRAGMA synchronous = NORMAL`)
	return err
}
