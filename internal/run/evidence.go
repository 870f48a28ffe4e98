package run

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/trailalarm/trailalarm/internal/alarm"
	"github.com/trailalarm/trailalarm/internal/alert"
	"github.com/trailalarm/trailalarm/internal/rules"
)

// ruleState is what the runner keeps per rule between batches, and persists in the store as
// one blob: the alarm evaluator's snapshot and the records it may still cite as evidence.
type ruleState struct {
	Stream   alarm.StreamSnapshot `json:"stream"`
	Evidence []cachedRecord       `json:"evidence,omitempty"`
}

type cachedRecord struct {
	ID     string          `json:"id"`
	Time   time.Time       `json:"time"`
	Series string          `json:"series"`
	Record json.RawMessage `json:"record"`
}

// evidence holds the matched records an alarm transition may cite: per series and minute the
// first few (the alarm keeps the first 20 IDs of each minute), dropped once their minute can no
// longer enter an evaluation range.
type evidence struct {
	byID     map[string]cachedRecord
	perMin   map[string]int // series + minute → records kept
	capacity int
}

func newEvidence() *evidence {
	return &evidence{byID: map[string]cachedRecord{}, perMin: map[string]int{}, capacity: 2 * alarm.MaxEvidence}
}

func minuteKey(series string, t time.Time) string {
	return series + "\x00" + t.UTC().Truncate(time.Minute).Format(time.RFC3339)
}

func (e *evidence) add(id, series string, t time.Time, raw []byte) {
	if id == "" {
		return
	}
	if _, ok := e.byID[id]; ok {
		return
	}
	k := minuteKey(series, t)
	if e.perMin[k] >= e.capacity {
		return
	}
	e.perMin[k]++
	e.byID[id] = cachedRecord{ID: id, Time: t, Series: series, Record: append(json.RawMessage(nil), raw...)}
}

// prune forgets records from before t.
func (e *evidence) prune(t time.Time) {
	for id, r := range e.byID {
		if r.Time.Before(t) {
			delete(e.byID, id)
			k := minuteKey(r.Series, r.Time)
			if e.perMin[k]--; e.perMin[k] <= 0 {
				delete(e.perMin, k)
			}
		}
	}
}

func (e *evidence) list() []cachedRecord {
	out := make([]cachedRecord, 0, len(e.byID))
	for _, r := range e.byID {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (e *evidence) restore(rs []cachedRecord) {
	for _, r := range rs {
		e.add(r.ID, r.Series, r.Time, r.Record)
	}
}

// newAlert turns a state change into the alert people receive.
func newAlert(r *rules.Rule, t alarm.SeriesTransition, ev *evidence) alert.Alert {
	a := alert.Alert{
		Rule: alert.Rule{ID: r.ID, Title: r.Title, Severity: r.Severity.String(), Pack: r.Pack,
			Description: r.Description, Remediation: r.Remediation, References: references(r)},
		Dimensions: alarm.SeriesDimensions(t.Key), Time: t.Time, From: t.From.String(), To: t.To.String(),
		Reason: t.Reason, EvidenceCount: t.EvidenceCount, Early: t.Early, Anticipates: t.Anticipates,
	}
	for _, id := range t.Evidence {
		if c, ok := ev.byID[id]; ok {
			a.Evidence = append(a.Evidence, alert.NewEvidence(c.Record))
		}
	}
	if a.Evidence == nil {
		a.Evidence = []alert.Evidence{}
	}
	a.Finish()
	return a
}

func references(r *rules.Rule) []string {
	var out []string
	for _, c := range r.References.CIS {
		out = append(out, "CIS "+c)
	}
	for _, c := range r.References.SecurityHub {
		out = append(out, "Security Hub "+c)
	}
	for _, c := range r.References.MITRE {
		out = append(out, "MITRE ATT&CK "+c)
	}
	return append(out, r.References.URLs...)
}
