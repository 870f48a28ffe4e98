package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/trailalarm/trailalarm/internal/alert"
	"github.com/trailalarm/trailalarm/internal/cloudtrail"
)

// TestMemberOfBothForms: an account or region filter gives the same pages whether the value is
// rare (its alerts listed, then sorted) or common (checked alert by alert along the time index).
func TestMemberOfBothForms(t *testing.T) {
	s := openInternal(t)
	ctx := context.Background()
	b := Batch{Time: t0}
	for i := range 40 {
		a := testAlert("r", t0.Add(time.Duration(i)*time.Minute))
		ev := func(acct string) alert.Evidence {
			return alert.Evidence{Summary: cloudtrail.Summary{RecipientAccountID: acct,
				AWSRegion: []string{"us-east-1", "eu-west-1", "eu-west-1", "ap-south-1"}[i%4]}}
		}
		a.Evidence = []alert.Evidence{ev([]string{"111111111111", "222222222222"}[i%2])}
		if i == 7 {
			a.Evidence = append(a.Evidence, ev("999999999999"))
		}
		a.Finish()
		b.Alerts = append(b.Alerts, NewAlert{Alert: a})
	}
	if _, err := s.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	filters := []AlertFilter{
		{Account: "111111111111", Limit: 7},
		{Account: "999999999999"},
		{Account: "000000000000"},
		{Region: "eu-west-1", Limit: 5},
		{Account: "222222222222", Region: "ap-south-1"},
		{Account: "111111111111", Region: "eu-west-1", Since: t0.Add(10 * time.Minute), Until: t0.Add(30 * time.Minute)},
	}
	list := func(f AlertFilter) [][]string {
		var pages [][]string
		for {
			p, err := s.Alerts(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, a := range p.Alerts {
				ids = append(ids, a.ID)
			}
			pages = append(pages, ids)
			if p.Next == "" {
				return pages
			}
			f.Cursor = p.Next
		}
	}
	defer func(n int) { rareMember = n }(rareMember)
	for _, f := range filters {
		rareMember = 1000 // every value is rare here: the list form
		rare := list(f)
		rareMember = 1 // every value with an alert is common: the per-alert form
		common := list(f)
		if !reflect.DeepEqual(rare, common) {
			t.Errorf("%+v: pages differ:\nrare   %v\ncommon %v", f, rare, common)
		}
		n := 0
		for _, p := range rare {
			n += len(p)
		}
		want := map[string]int{"111111111111": 20, "999999999999": 1, "000000000000": 0}[f.Account]
		if f.Region != "" {
			want = map[string]int{"eu-west-1": 20, "ap-south-1": 10}[f.Region]
			if f.Account == "111111111111" {
				want = 5 // even minutes 10..28 with i%4 in {1,2}: 10, 14, 18, 22, 26
			}
		}
		if n != want {
			t.Errorf("%+v: %d alerts, want %d", f, n, want)
		}
	}
}
