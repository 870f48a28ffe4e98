package run

import (
	"sort"
	"time"

	"github.com/trailalarm/trailalarm/internal/detect"
	"github.com/trailalarm/trailalarm/internal/rules"
	"github.com/trailalarm/trailalarm/internal/store"
)

// matchCounts sums a unit's matches per rule, account, region and minute of event time, for
// the dashboard's charts. Every match counts, with or without a metric value: the chart shows
// what the filter pattern matched.
func matchCounts(rs []*rules.Rule, ms []detect.Match) []store.MatchCount {
	if len(ms) == 0 {
		return nil
	}
	type key struct {
		rule            int
		account, region string
		minute          int64
	}
	n := map[key]int64{}
	for i := range ms {
		r := &ms[i].Record
		n[key{ms[i].Rule, r.RecipientAccountID, r.AWSRegion, r.EventTime.Unix() / 60}]++
	}
	out := make([]store.MatchCount, 0, len(n))
	for k, c := range n {
		out = append(out, store.MatchCount{Rule: rs[k.rule].ID, Account: k.account, Region: k.region,
			Minute: time.Unix(k.minute*60, 0).UTC(), Count: c})
	}
	// A stable order: the same unit commits the same rows in the same order.
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		return a.Minute.Before(b.Minute)
	})
	return out
}
