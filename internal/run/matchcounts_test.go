package run

import (
	"reflect"
	"testing"
	"time"

	"github.com/trailalarm/trailalarm/internal/cloudtrail"
	"github.com/trailalarm/trailalarm/internal/detect"
	"github.com/trailalarm/trailalarm/internal/rules"
	"github.com/trailalarm/trailalarm/internal/store"
)

func TestMatchCounts(t *testing.T) {
	rs := []*rules.Rule{{ID: "a"}, {ID: "b"}}
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	m := func(rule int, acct, region string, at time.Duration, hasValue bool) detect.Match {
		return detect.Match{Rule: rule, HasValue: hasValue, Record: cloudtrail.Record{RecipientAccountID: acct, AWSRegion: region, EventTime: t0.Add(at)}}
	}
	got := matchCounts(rs, []detect.Match{
		m(1, "2", "eu-west-1", 90*time.Second, true),
		m(0, "1", "us-east-1", 5*time.Second, true),
		m(0, "1", "us-east-1", 59*time.Second, false), // no metric value: still a match
		m(0, "1", "us-east-1", 60*time.Second, true),
		m(0, "", "", 0, true),
	})
	want := []store.MatchCount{
		{Rule: "a", Minute: t0, Count: 1},
		{Rule: "a", Account: "1", Region: "us-east-1", Minute: t0, Count: 2},
		{Rule: "a", Account: "1", Region: "us-east-1", Minute: t0.Add(time.Minute), Count: 1},
		{Rule: "b", Account: "2", Region: "eu-west-1", Minute: t0.Add(time.Minute), Count: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("matchCounts = %+v\nwant %+v", got, want)
	}
	b := store.Batch{Time: t0, Matches: got}
	if err := b.Validate(); err != nil {
		t.Errorf("the counts do not validate: %v", err)
	}
	if matchCounts(rs, nil) != nil {
		t.Error("no matches: want no counts")
	}
}
