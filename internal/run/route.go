package run

import (
	"slices"
	"strings"
	"time"

	"github.com/trailalarm/trailalarm/filterpattern"
	"github.com/trailalarm/trailalarm/internal/alert"
	"github.com/trailalarm/trailalarm/internal/config"
	"github.com/trailalarm/trailalarm/internal/rules"
)

// router decides which notifiers an alert goes to, and keeps suppressed alerts from going
// anywhere. It is not safe for concurrent use; the runner calls it under its lock.
type router struct {
	routes    []config.Route
	notifiers []string // every notifier, for a configuration without routes
	suppress  []suppression
	last      map[string]time.Time // suppression key → time of the last alert sent
}

type suppression struct {
	rules  []string
	window time.Duration
	keys   []*filterpattern.Ref // values of the evidence record that make alerts "the same"
}

func newRouter(c *config.Config) (*router, error) {
	r := &router{routes: c.Routes, last: map[string]time.Time{}}
	for _, n := range c.Notifiers {
		r.notifiers = append(r.notifiers, n.Name)
	}
	// A pattern that every JSON record matches gives references to any selector.
	any := filterpattern.MustParse(`{ $.eventVersion = * || $.eventVersion NOT EXISTS }`)
	for _, s := range c.Suppress {
		sp := suppression{rules: s.RuleIDs, window: s.Window.D()}
		for _, k := range s.Keys {
			ref, err := any.Ref(k)
			if err != nil {
				return nil, err
			}
			sp.keys = append(sp.keys, ref)
		}
		r.suppress = append(r.suppress, sp)
	}
	return r, nil
}

// targets returns the notifiers a, of rule ru, goes to: none when it is suppressed.
func (r *router) targets(a *alert.Alert, ru *rules.Rule) []string {
	var out []string
	if len(r.routes) == 0 {
		if a.To != "ALARM" {
			return nil // without routes, people are told when alarms fire
		}
		out = slices.Clone(r.notifiers)
	}
	for _, rt := range r.routes {
		if !routeSelects(rt, a, ru) {
			continue
		}
		for _, n := range rt.Notifiers {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	if len(out) == 0 || r.suppressed(a) {
		return nil
	}
	return out
}

func routeSelects(rt config.Route, a *alert.Alert, ru *rules.Rule) bool {
	if !slices.Contains(rt.States, a.To) {
		return false
	}
	if rt.MinSeverity != "" {
		min, err := rules.ParseSeverity(rt.MinSeverity)
		if err == nil && ru.Severity < min {
			return false
		}
	}
	if len(rt.Packs) > 0 && !slices.Contains(rt.Packs, ru.Pack) {
		return false
	}
	if len(rt.RuleIDs) > 0 && !slices.Contains(rt.RuleIDs, ru.ID) {
		return false
	}
	return true
}

// suppressed reports whether an alert of the same rule and key values went out within a
// suppression's window, and if not, remembers this one. Only ALARM alerts are suppressed: the
// return to OK of an alarm people were told about is always worth telling.
func (r *router) suppressed(a *alert.Alert) bool {
	if a.To != "ALARM" {
		return false
	}
	for _, s := range r.suppress {
		if len(s.rules) > 0 && !slices.Contains(s.rules, a.Rule.ID) {
			continue
		}
		var key strings.Builder
		key.WriteString(a.Rule.ID)
		for k, v := range a.Dimensions {
			key.WriteString("\x00" + k + "=" + v)
		}
		var raw []byte
		if len(a.Evidence) > 0 {
			raw = a.Evidence[0].Record
		}
		for _, ref := range s.keys {
			v, _ := ref.Text(raw)
			key.WriteString("\x00" + v)
		}
		k := key.String()
		if t, ok := r.last[k]; ok && a.Time.Sub(t) < s.window && !a.Time.Before(t) {
			return true
		}
		r.last[k] = a.Time
	}
	return false
}
