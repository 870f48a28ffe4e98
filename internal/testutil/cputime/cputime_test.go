package cputime

import (
	"errors"
	"testing"
)

// A variant that burns more CPU measures more; an error stops the rounds.
func TestBest(t *testing.T) {
	spin := func(n int) func() error {
		return func() error {
			x := 0
			for i := range n {
				x += i % 7
			}
			if x < 0 {
				return errors.New("impossible")
			}
			return nil
		}
	}
	best, err := Best(3, spin(1e6), spin(5e7))
	if err != nil || len(best) != 2 || best[1] <= best[0] {
		t.Fatalf("Best = %v, %v; want the second variant costlier", best, err)
	}
	calls := 0
	if _, err := Best(5, func() error { calls++; return errors.New("boom") }); err == nil || calls != 1 {
		t.Errorf("error after %d calls: %v", calls, err)
	}
}
