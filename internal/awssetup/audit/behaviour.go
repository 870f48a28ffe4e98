package audit

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/trailalarm/trailalarm/filterpattern"
	"github.com/trailalarm/trailalarm/internal/rules"
)

// Event names one record of the case bank in a report: enough to find it (eventID) and to see
// what it is (eventName, eventSource, the bank's note).
type Event struct {
	EventName   string `json:"eventName"`
	EventSource string `json:"eventSource"`
	EventID     string `json:"eventID,omitempty"`
	Note        string `json:"note,omitempty"` // why the record is in the bank
}

func (e Event) String() string {
	s := e.EventName + " (" + e.EventSource
	if e.EventID != "" {
		s += ", eventID " + e.EventID
	}
	return s + ")"
}

// Verdict is the behavioural comparison of a filter pattern with a control's reference pattern
// over the control's case bank.
type Verdict struct {
	OK       bool    `json:"ok"`                // the pattern matches every event the reference matches
	Required int     `json:"required"`          // how many bank events the reference matches
	Missed   []Event `json:"missed,omitempty"`  // events the reference matches and the pattern does not
	Noisier  []Event `json:"noisier,omitempty"` // near-misses the pattern matches and the reference does not
	Broader  []Event `json:"broader,omitempty"` // events the control is meant to catch that only the pattern catches
	Error    string  `json:"error,omitempty"`   // the pattern does not parse
	Matched  int     `json:"matched"`           // how many of the Required events the pattern matches
}

// Bank is a control's reference: its rule and the case-bank records, labelled.
type Bank struct {
	Rule  *rules.Rule
	Topic string
	cases []bankCase
}

type bankCase struct {
	rules.Case
	event Event
	ref   bool // the reference pattern matches the record
}

// banks caches NewBank by rule id and pattern: a Bank is immutable once built.
var banks sync.Map

// NewBank loads the case bank of a built-in CIS or Security Hub rule.
func NewBank(r *rules.Rule) (*Bank, error) {
	key := r.ID + "\x00" + r.Pattern
	if b, ok := banks.Load(key); ok {
		return b.(*Bank), nil
	}
	b, err := newBank(r)
	if err != nil {
		return nil, err
	}
	banks.Store(key, b)
	return b, nil
}

func newBank(r *rules.Rule) (*Bank, error) {
	topic, ok := rules.TopicOf(r.ID)
	if !ok {
		return nil, fmt.Errorf("rule %s is not a CIS monitoring control (no case bank)", r.ID)
	}
	cs, err := rules.Cases(topic)
	if err != nil {
		return nil, err
	}
	b := &Bank{Rule: r, Topic: topic}
	for _, c := range cs {
		b.cases = append(b.cases, bankCase{Case: c, event: eventOf(c), ref: r.Compiled.Match(c.Record)})
	}
	return b, nil
}

// Required returns the events the reference pattern matches among the bank's positives: what a
// filter must catch to satisfy the control.
func (b *Bank) Required() []Event {
	var out []Event
	for _, c := range b.cases {
		if c.Expect && c.ref {
			out = append(out, c.event)
		}
	}
	return out
}

// Check evaluates pattern on the bank. The pattern is behaviourally at least as strict as the
// reference when it matches every positive record the reference matches: how it is written
// (spacing, quoting, clause order, parentheses) does not matter. Positives the reference itself
// misses (documented quirks of a benchmark version) are not required. Near-misses the pattern
// matches and the reference does not make it noisier, not wrong.
func (b *Bank) Check(pattern string) Verdict {
	p, err := filterpattern.Parse(pattern)
	if err != nil {
		return Verdict{Error: err.Error()}
	}
	return b.CheckCompiled(p)
}

// CheckCompiled is Check for a compiled pattern.
func (b *Bank) CheckCompiled(p *filterpattern.Pattern) Verdict {
	var v Verdict
	for _, c := range b.cases {
		got := p.Match(c.Record)
		switch {
		case c.Expect && c.ref:
			v.Required++
			if got {
				v.Matched++
			} else {
				v.Missed = append(v.Missed, c.event)
			}
		case c.Expect && got:
			v.Broader = append(v.Broader, c.event)
		case !c.Expect && got && !c.ref:
			v.Noisier = append(v.Noisier, c.event)
		}
	}
	v.OK = v.Required > 0 && len(v.Missed) == 0
	return v
}

// Summary says in one line what the verdict means.
func (v Verdict) Summary() string {
	switch {
	case v.Error != "":
		return "the pattern does not parse: " + v.Error
	case !v.OK:
		names := make([]string, 0, 3)
		for i, e := range v.Missed {
			if i == 3 {
				names = append(names, fmt.Sprintf("and %d more", len(v.Missed)-3))
				break
			}
			names = append(names, e.String())
		}
		return fmt.Sprintf("misses %d of the %d CIS events: %s", len(v.Missed), v.Required, strings.Join(names, ", "))
	}
	s := fmt.Sprintf("catches all %d CIS events", v.Required)
	if len(v.Noisier) > 0 {
		s += fmt.Sprintf("; noisier than the CIS pattern: also matches %d near-miss(es) such as %s", len(v.Noisier), v.Noisier[0])
	}
	if len(v.Broader) > 0 {
		s += fmt.Sprintf("; also catches %d event(s) the CIS pattern misses, such as %s", len(v.Broader), v.Broader[0])
	}
	return s
}

func eventOf(c rules.Case) Event {
	var r struct {
		EventName   string `json:"eventName"`
		EventSource string `json:"eventSource"`
		EventID     string `json:"eventID"`
	}
	_ = json.Unmarshal(c.Record, &r) // the bank's tests guarantee these fields
	return Event{EventName: r.EventName, EventSource: r.EventSource, EventID: r.EventID, Note: c.Note}
}
