package server

import (
	"net/url"
	"testing"
	"time"
)

// BenchmarkDashboard measures pages and API calls over a store of 100,000 alerts (the goal of
// issue 7: every page within 200 ms). The store is filled once, through store.Commit.
func BenchmarkDashboard(b *testing.B) {
	start := time.Now()
	f := newFixture(b, 100_000)
	b.Logf("filled the store with %d alerts in %v", len(f.ids), time.Since(start).Round(time.Millisecond))
	// A cursor deep into the list: the 500th page of 50.
	deep := ""
	{
		w := f.do(b, "GET", "/api/v1/alerts?limit=1000", "", bearer)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
		next := ""
		for range 25 {
			var p struct{ Next string }
			w := f.do(b, "GET", "/api/v1/alerts?limit=1000&cursor="+url.QueryEscape(next), "", bearer)
			if err := jsonUnmarshal(w.Body.Bytes(), &p); err != nil {
				b.Fatal(err)
			}
			next = p.Next
		}
		deep = url.QueryEscape(next)
	}
	for _, c := range []struct{ name, path string }{
		{"page/overview", "/"},
		{"page/alerts", "/alerts"},
		{"page/alerts-deep-cursor", "/alerts?cursor=" + deep},
		{"page/alerts-account", "/alerts?account=222222222222"},
		{"page/alerts-rare-account", "/alerts?account=999999999999"},
		{"page/alerts-principal-since", "/alerts?principal=root&since=" + url.QueryEscape(f.ids[0][:0]+"2026-03-10T00:00:00Z")},
		{"page/alert", "/alerts/" + f.ids[50_000]},
		{"page/rules", "/rules"},
		{"page/rule", "/rules/cis-1.2:3.3"},
		{"page/status", "/status"},
		{"api/alarms", "/api/v1/alarms"},
		{"api/alerts", "/api/v1/alerts"},
		{"api/alerts-1000", "/api/v1/alerts?limit=1000"},
		{"api/alerts-deep-cursor", "/api/v1/alerts?cursor=" + deep},
		{"api/alerts-account", "/api/v1/alerts?account=111111111111&region=us-east-1"},
		{"api/alert", "/api/v1/alerts/" + f.ids[50_000]},
		{"api/status", "/api/v1/status"},
		{"api/matches-24h", "/api/v1/matches"},
		{"api/matches-all-hourly", "/api/v1/matches?since=2026-01-01T00:00:00Z&step=1h"},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				w := f.do(b, "GET", c.path, "", bearer)
				if w.Code != 200 {
					b.Fatalf("%s: %d %s", c.path, w.Code, w.Body)
				}
			}
		})
	}
}
