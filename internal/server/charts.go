package server

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/trailalarm/trailalarm/internal/rules"
	"github.com/trailalarm/trailalarm/internal/store"
)

// Charts are SVG drawn here, on the server, from numbers only: the templates place rects and
// lines at the coordinates computed below, and every text (rule ids, accounts, times) goes
// through html/template's escaping like the rest of the page. No script draws anything.

// The overview's window: the last 24 hours in sparkBuckets bars.
const (
	sparkWindow  = 24 * time.Hour
	sparkStep    = 30 * time.Minute
	sparkBuckets = int(sparkWindow / sparkStep)
	maxColumns   = 24 // account/region columns of the grid; more are summed up in a note
)

// bar is one bucket of a chart: its place in the SVG and what it stands for.
type bar struct {
	X, Y, W, H float64
	Start      time.Time
	Count      int64
}

// sparkline is a rule's matches per bucket over the overview's window.
type sparkline struct {
	W, H  int
	Bars  []bar
	Total int64
	Max   int64
}

func makeSparkline(counts []int64, start time.Time, step time.Duration) *sparkline {
	const w, h = 144, 24
	sp := &sparkline{W: w, H: h}
	for _, c := range counts {
		sp.Total += c
		sp.Max = max(sp.Max, c)
	}
	bw := float64(w) / float64(len(counts))
	for i, c := range counts {
		if c == 0 {
			continue
		}
		// Square-root scale: one match stays visible next to a burst of thousands.
		bh := math.Max(1, float64(h-1)*math.Sqrt(float64(c))/math.Sqrt(float64(sp.Max)))
		sp.Bars = append(sp.Bars, bar{X: round1(float64(i) * bw), Y: round1(float64(h) - bh), W: round1(math.Max(bw-0.5, 0.5)), H: round1(bh),
			Start: start.Add(time.Duration(i) * step), Count: c})
	}
	return sp
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// cell is one rule's state in one account and region.
type cell struct {
	State   string
	Count   int64  // matches over the window
	AlertID string // the alert that entered ALARM, for a firing cell
}

// column is an account and region of the grid.
type column struct{ Account, Region string }

// gridCells derives every rule's state per account and region:
//   - ALARM where a series of the rule is in ALARM and that series names the account and region
//     (its dimensions) or the alert that entered ALARM cites a record from them (its evidence);
//   - otherwise the rule's state outside its firing series: OK when any series of it is
//     evaluated (OK or ALARM), INSUFFICIENT_DATA when none is;
//
// and each cell carries the rule's matches there over the window (the match counts).
func gridCells(rows []gridRow, as []Alarm, counts map[string]map[column]int64, cols []column) {
	firing := map[string]map[column]string{} // rule → cell → alert id
	for _, a := range as {
		if a.State != "ALARM" {
			continue
		}
		m := firing[a.RuleID]
		if m == nil {
			m = map[column]string{}
			firing[a.RuleID] = m
		}
		acct, reg := dimValue(a.Dimensions, "account", "recipientAccountId", "AccountId"), dimValue(a.Dimensions, "region", "awsRegion", "Region")
		for _, c := range cols {
			if (acct != "" && acct != c.Account) || (reg != "" && reg != c.Region) {
				continue
			}
			if acct != "" && reg != "" {
				m[c] = a.AlertID
				continue
			}
			for _, e := range a.cells {
				if e == c {
					m[c] = a.AlertID
				}
			}
		}
	}
	for i := range rows {
		r := &rows[i]
		base := "INSUFFICIENT_DATA"
		if r.Alarm+r.OK > 0 {
			base = "OK"
		}
		r.Cells = make([]cell, len(cols))
		for j, c := range cols {
			cl := cell{State: base, Count: counts[r.RuleID][c]}
			if id, ok := firing[r.RuleID][c]; ok {
				cl.State, cl.AlertID = "ALARM", id
			}
			r.Cells[j] = cl
		}
	}
}

func dimValue(d map[string]string, names ...string) string {
	for _, n := range names {
		if v, ok := d[n]; ok {
			return v
		}
	}
	return ""
}

// window returns the overview's 24 hours: up to now when the store has matches in them, else
// up to the newest matched minute, so that a store filled from an archive (`run` over last
// month's files) still shows its last day.
func (s *Server) window(ctx context.Context, now time.Time) (time.Time, []store.MatchCount, error) {
	end := now.Truncate(sparkStep).Add(sparkStep)
	mc, err := s.o.Store.MatchCounts(ctx, store.MatchFilter{Since: end.Add(-sparkWindow), Until: end, Step: sparkStep})
	if err != nil || len(mc) > 0 {
		return end, mc, err
	}
	days, err := s.o.Store.MatchCounts(ctx, store.MatchFilter{Step: 24 * time.Hour})
	if err != nil || len(days) == 0 {
		return end, nil, err
	}
	newest := days[0].Minute
	for _, d := range days {
		if d.Minute.After(newest) {
			newest = d.Minute
		}
	}
	// The newest day bucket holds the newest minute; look at that day and the one before.
	exact, err := s.o.Store.MatchCounts(ctx, store.MatchFilter{Since: newest, Until: newest.Add(24 * time.Hour), Step: sparkStep})
	if err != nil {
		return end, nil, err
	}
	for _, m := range exact {
		if m.Minute.After(newest) {
			newest = m.Minute
		}
	}
	end = newest.Add(sparkStep)
	mc, err = s.o.Store.MatchCounts(ctx, store.MatchFilter{Since: end.Add(-sparkWindow), Until: end, Step: sparkStep})
	return end, mc, err
}

// overviewCharts fills the grid's sparklines and cells from the match counts of the window.
func (s *Server) overviewCharts(ctx context.Context, v *overviewView, as []Alarm) error {
	end, mc, err := s.window(ctx, v.Now)
	if err != nil {
		return err
	}
	start := end.Add(-sparkWindow)
	v.WindowStart, v.WindowEnd = start, end
	perRule := map[string][]int64{}
	perCell := map[string]map[column]int64{}
	colTotal := map[column]int64{}
	for _, m := range mc {
		i := int(m.Minute.Sub(start) / sparkStep)
		if i < 0 || i >= sparkBuckets {
			continue
		}
		b := perRule[m.Rule]
		if b == nil {
			b = make([]int64, sparkBuckets)
			perRule[m.Rule] = b
		}
		b[i] += m.Count
		c := column{m.Account, m.Region}
		if perCell[m.Rule] == nil {
			perCell[m.Rule] = map[column]int64{}
		}
		perCell[m.Rule][c] += m.Count
		colTotal[c] += m.Count
		if v.Newest.Before(m.Minute) {
			v.Newest = m.Minute
		}
	}
	if !v.Newest.IsZero() {
		// The newest bucket's minutes say which minute was the newest.
		last, err := s.o.Store.MatchCounts(ctx, store.MatchFilter{Since: v.Newest, Until: v.Newest.Add(sparkStep)})
		if err != nil {
			return err
		}
		for _, m := range last {
			if m.Minute.After(v.Newest) {
				v.Newest = m.Minute
			}
		}
	}
	// Columns: every account and region with matches in the window or in a firing alarm.
	for _, a := range as {
		if a.State == "ALARM" {
			for _, c := range a.cells {
				if _, ok := colTotal[c]; !ok {
					colTotal[c] = 0
				}
			}
		}
	}
	cols := make([]column, 0, len(colTotal))
	for c := range colTotal {
		cols = append(cols, c)
	}
	sort.Slice(cols, func(i, j int) bool {
		if cols[i].Account != cols[j].Account {
			return cols[i].Account < cols[j].Account
		}
		return cols[i].Region < cols[j].Region
	})
	if len(cols) > maxColumns {
		// Keep the busiest; say how many are left out.
		sort.SliceStable(cols, func(i, j int) bool { return colTotal[cols[i]] > colTotal[cols[j]] })
		v.MoreColumns = len(cols) - maxColumns
		cols = cols[:maxColumns]
		sort.Slice(cols, func(i, j int) bool {
			if cols[i].Account != cols[j].Account {
				return cols[i].Account < cols[j].Account
			}
			return cols[i].Region < cols[j].Region
		})
	}
	v.Columns = cols
	for i := range v.Grid {
		r := &v.Grid[i]
		b := perRule[r.RuleID]
		if b == nil {
			b = make([]int64, sparkBuckets)
		}
		r.Spark = makeSparkline(b, start, sparkStep)
	}
	gridCells(v.Grid, as, perCell, cols)
	return nil
}

// The alert page's chart: the datapoints that decided the transition (read back from its
// reason, which lists them as CloudWatch's StateReason does), the threshold, and the rule's
// matches per period around the alert from the match counts.

var (
	reasonPoint     = regexp.MustCompile(`(-?[0-9][0-9.]*(?:E-?[0-9]+)?|NaN|-?Infinity) \(([0-9]{2}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2})\)`)
	reasonThreshold = regexp.MustCompile(`the threshold \((-?[0-9][0-9.]*(?:E-?[0-9]+)?)\)`)
)

// reasonTimeLayout is CloudWatch's datapoint time in StateReason (dd/MM/yy HH:mm:ss, UTC).
const reasonTimeLayout = "02/01/06 15:04:05"

type datapoint struct {
	Time  time.Time
	Value float64
}

// parseReason reads the datapoints and the threshold a reason lists; ok is false for reasons
// that list none (insufficient data, all missing).
func parseReason(reason string) (pts []datapoint, threshold float64, hasThreshold bool) {
	for _, m := range reasonPoint.FindAllStringSubmatch(reason, -1) {
		v, err := strconv.ParseFloat(m[1], 64)
		t, err2 := time.Parse(reasonTimeLayout, m[2])
		if err != nil || err2 != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		pts = append(pts, datapoint{Time: t, Value: v})
	}
	if m := reasonThreshold.FindStringSubmatch(reason); m != nil {
		if f, err := strconv.ParseFloat(m[1], 64); err == nil {
			threshold, hasThreshold = f, true
		}
	}
	return pts, threshold, hasThreshold
}

// metricChart is the alert page's chart.
type metricChart struct {
	W, H, Left, Bottom int // size and the plot area's left and bottom edges
	Bars               []bar
	Points             []point
	Threshold          float64
	HasThreshold       bool
	ThresholdY         float64
	AlertX             float64
	YMax               float64
	Start, End         time.Time
	Step               time.Duration
	Scope              string // which matches the bars count
	Statistic          string
}

type point struct {
	X, Y  float64
	Time  time.Time
	Value float64
}

// alertChart draws the alert's datapoints and threshold over the rule's matches per period,
// from 24 periods before the alert to 6 after.
func (s *Server) alertChart(ctx context.Context, a store.StoredAlert, ru *rules.Rule) (*metricChart, error) {
	pts, thr, hasThr := parseReason(a.Reason)
	step := 5 * time.Minute
	stat := ""
	if ru != nil {
		if p := time.Duration(ru.Alarm.Period) * time.Second; p >= time.Minute {
			step = p.Truncate(time.Minute)
		}
		stat = ru.Alarm.Statistic
		if !hasThr {
			thr, hasThr = ru.Alarm.Threshold, true
		}
	}
	start := a.Time.Truncate(step).Add(-24 * step)
	end := a.Time.Truncate(step).Add(7 * step)
	f := store.MatchFilter{Rule: a.Rule.ID, Since: start, Until: end, Step: step}
	var scope []string
	if len(a.Accounts) == 1 {
		f.Account = a.Accounts[0]
		scope = append(scope, "account "+f.Account)
	}
	if len(a.Regions) == 1 {
		f.Region = a.Regions[0]
		scope = append(scope, "region "+f.Region)
	}
	mc, err := s.o.Store.MatchCounts(ctx, f)
	if err != nil {
		return nil, err
	}
	n := int(end.Sub(start) / step)
	counts := make([]int64, n)
	for _, m := range mc {
		if i := int(m.Minute.Sub(start) / step); i >= 0 && i < n {
			counts[i] += m.Count
		}
	}
	c := &metricChart{W: 640, H: 200, Left: 40, Bottom: 176, Start: start, End: end, Step: step, Statistic: stat,
		Threshold: thr, HasThreshold: hasThr, Scope: "all accounts and regions"}
	if len(scope) > 0 {
		c.Scope = strings.Join(scope, ", ")
	}
	yMax := 1.0
	for _, x := range counts {
		yMax = math.Max(yMax, float64(x))
	}
	for _, p := range pts {
		yMax = math.Max(yMax, p.Value)
	}
	if hasThr {
		yMax = math.Max(yMax, thr)
	}
	yMax = niceCeil(yMax * 1.15)
	c.YMax = yMax
	plotW, plotH := float64(c.W-c.Left-8), float64(c.Bottom-8)
	x := func(t time.Time) float64 {
		return round1(float64(c.Left) + plotW*float64(t.Sub(start))/float64(end.Sub(start)))
	}
	y := func(v float64) float64 { return round1(float64(c.Bottom) - plotH*math.Max(v, 0)/yMax) }
	bw := plotW / float64(n)
	for i, cnt := range counts {
		if cnt == 0 {
			continue
		}
		t := start.Add(time.Duration(i) * step)
		c.Bars = append(c.Bars, bar{X: x(t), Y: y(float64(cnt)), W: round1(math.Max(bw-1, 1)), H: round1(float64(c.Bottom) - y(float64(cnt))), Start: t, Count: cnt})
	}
	for _, p := range pts {
		if p.Time.Before(start) || !p.Time.Before(end) {
			continue
		}
		// A datapoint stands for its period: place it at the period's middle.
		c.Points = append(c.Points, point{X: x(p.Time.Add(step / 2)), Y: y(p.Value), Time: p.Time, Value: p.Value})
	}
	c.ThresholdY = y(thr)
	c.AlertX = x(a.Time)
	return c, nil
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten, for an axis maximum.
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// The match-count API.

// MatchCountView is one bucket of match counts as the API returns it.
type MatchCountView struct {
	Rule    string    `json:"rule"`
	Account string    `json:"account"`
	Region  string    `json:"region"`
	Start   time.Time `json:"start"`
	Count   int64     `json:"count"`
}

// maxMatchBuckets bounds one answer: two weeks of minutes for one rule, account and region.
const maxMatchBuckets = 20_000

func (s *Server) apiMatches(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.MatchFilter{Rule: q.Get("rule"), Account: q.Get("account"), Region: q.Get("region")}
	var err error
	since := q.Get("since")
	if since == "" {
		since = "24h"
	}
	if f.Since, err = s.parseTime("since", since); err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), 0)
		return
	}
	if f.Until, err = s.parseTime("until", q.Get("until")); err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), 0)
		return
	}
	if f.Until.IsZero() {
		// Up to now (and the current minute): a range with both ends reads the time index.
		f.Until = s.o.Now().Truncate(time.Minute).Add(time.Minute)
	}
	if st := q.Get("step"); st != "" {
		d, err := time.ParseDuration(st)
		if err != nil || d < time.Minute || d%time.Minute != 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("step %q: give a whole number of minutes (1m, 5m, 1h)", st), 0)
			return
		}
		f.Step = d
	}
	mc, err := s.o.Store.MatchCounts(r.Context(), f)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error(), 0)
		return
	}
	if len(mc) > maxMatchBuckets {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%d buckets: narrow the time range or take a larger step", len(mc)), 0)
		return
	}
	out := make([]MatchCountView, len(mc))
	for i, m := range mc {
		out[i] = MatchCountView{Rule: m.Rule, Account: m.Account, Region: m.Region, Start: m.Minute, Count: m.Count}
	}
	step := f.Step
	if step == 0 {
		step = time.Minute
	}
	writeJSON(w, http.StatusOK, map[string]any{"step": step.String(), "since": f.Since.UTC(), "until": f.Until.UTC(), "counts": out})
}
