package rules

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/trailalarm/trailalarm/filterpattern"
)

// Allow is one allow-list entry of a rule: a record it matches does not match the rule, however
// well it matches the rule's pattern. It is either a field with values or a filter pattern.
// Allow-lists silence known, legitimate activity (the role infrastructure-as-code runs as, a
// scanner's user agent) without editing the rule.
type Allow struct {
	Field   string   // a JSON selector such as $.userIdentity.arn; with Values
	Values  []string // values of Field that exempt a record; * wildcards as in filter patterns
	Pattern string   // or: a filter pattern; the records it matches are exempt

	// Compiled is the entry as filter patterns, any of which exempts a record: one per value
	// (`{ Field = "value" }`), or Pattern.
	Compiled []*filterpattern.Pattern
}

// String returns the entry as a user would write it on the command line.
func (a Allow) String() string {
	if a.Pattern != "" {
		return a.Pattern
	}
	return a.Field + " in [" + strings.Join(a.Values, ", ") + "]"
}

// Exempts reports whether the entry exempts the record event (its raw JSON).
func (a Allow) Exempts(event []byte) bool {
	for _, p := range a.Compiled {
		if p.Match(event) {
			return true
		}
	}
	return false
}

// NewAllowPattern returns an allow-list entry that exempts the records a filter pattern matches.
func NewAllowPattern(pattern string) (Allow, error) {
	p, err := filterpattern.Parse(pattern)
	if err != nil {
		return Allow{}, fmt.Errorf("allow-list pattern %q: %w", pattern, err)
	}
	return Allow{Pattern: pattern, Compiled: []*filterpattern.Pattern{p}}, nil
}

// NewAllowValues returns an allow-list entry that exempts the records whose field (a JSON
// selector such as $.userIdentity.arn) has one of values. Values may use * wildcards at either
// end, as filter pattern values do.
func NewAllowValues(field string, values []string) (Allow, error) {
	if err := checkSelector(field); err != nil {
		return Allow{}, fmt.Errorf("allow-list field: %w", err)
	}
	if len(values) == 0 {
		return Allow{}, fmt.Errorf("allow-list field %s has no values", field)
	}
	a := Allow{Field: field, Values: values}
	for _, v := range values {
		p, err := filterpattern.Parse("{ " + field + " = " + quote(v) + " }")
		if err != nil {
			return Allow{}, fmt.Errorf("allow-list value %q of %s: %w", v, field, err)
		}
		a.Compiled = append(a.Compiled, p)
	}
	return a, nil
}

// quote writes s as a filter pattern string in double quotes.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// checkSelector checks that s is a JSON selector of a filter pattern, such as $.userIdentity.arn.
func checkSelector(s string) error {
	if !strings.HasPrefix(s, "$.") {
		return fmt.Errorf("%q is not a JSON selector such as $.userIdentity.arn", s)
	}
	if _, err := filterpattern.Parse("{ " + s + " NOT EXISTS }"); err != nil {
		return fmt.Errorf("%q is not a JSON selector such as $.userIdentity.arn: %v", s, err)
	}
	return nil
}

// ParseAllowFlag reads a `--allow RULE=PATTERN` value: a rule id (or a glob over ids such as
// threat:*) and a filter pattern.
func ParseAllowFlag(s string) (rule string, a Allow, err error) {
	rule, pattern, ok := strings.Cut(s, "=")
	rule, pattern = strings.TrimSpace(rule), strings.TrimSpace(pattern)
	if !ok || rule == "" || pattern == "" {
		return "", Allow{}, fmt.Errorf("--allow %q: expected RULE=PATTERN, such as threat:iam-user-created='{ $.userAgent = \"*Terraform*\" }'", s)
	}
	a, err = NewAllowPattern(pattern)
	if err != nil {
		return "", Allow{}, fmt.Errorf("--allow %s: %w", rule, err)
	}
	return rule, a, nil
}

// AddAllow adds an allow-list entry to the rules whose id is rule, or matches it as a glob
// (path.Match syntax, e.g. "threat:*"). It is an error when no rule matches. The rules are
// changed in place; their other allow-list entries are kept (and not shared with other copies
// of the rule).
func AddAllow(rs []*Rule, rule string, a Allow) error {
	n := 0
	for _, r := range rs {
		if ok, _ := path.Match(rule, r.ID); ok || r.ID == rule {
			r.Allow = append(slices.Clip(r.Allow), a)
			n++
		}
	}
	if n == 0 {
		ids := make([]string, len(rs))
		for i, r := range rs {
			ids[i] = r.ID
		}
		msg := fmt.Sprintf("allow-list for %q: no selected rule has that id", rule)
		if s := suggest(rule, ids); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return fmt.Errorf("%s", msg)
	}
	return nil
}

// decodeAllow reads a rule's allow list: entries {field, values} or {pattern}.
func (d *decoder) decodeAllow(n ast.Node) []Allow {
	at := nodePos(n)
	n = d.resolve(n)
	var entries []ast.Node
	switch v := n.(type) {
	case nil, *ast.NullNode:
		return nil
	case *ast.SequenceNode:
		entries = v.Values
	default:
		d.errorAt(at, "allow must be a list of entries such as {field: $.userIdentity.arn, values: [...]} or {pattern: '{ ... }'}, found %s", describeNode(n))
		return nil
	}
	var out []Allow
	for _, e := range entries {
		ep := nodePos(e)
		var (
			field, pattern            string
			values                    []string
			hasField, hasVals, hasPat bool
			patNode                   ast.Node
		)
		ok := d.mapping(e, "an allow entry", allowKeys, func(key string, k, v ast.Node) {
			switch key {
			case "field":
				hasField = true
				field = strings.TrimSpace(d.text(v, "allow field"))
			case "values":
				hasVals = true
				values, _ = d.textList(v, "allow values")
			case "pattern":
				hasPat, patNode = true, v
				pattern = d.text(v, "allow pattern")
			}
		})
		if !ok {
			d.errorAt(ep, "empty allow entry: give field and values, or pattern")
			continue
		}
		switch {
		case hasPat && (hasField || hasVals):
			d.errorAt(ep, "an allow entry has either a pattern or a field with values, not both")
		case hasPat:
			p, err := filterpattern.Parse(pattern)
			if err != nil {
				d.patternError(patNode, pattern, err)
				continue
			}
			out = append(out, Allow{Pattern: pattern, Compiled: []*filterpattern.Pattern{p}})
		case hasField && hasVals:
			a, err := NewAllowValues(field, values)
			if err != nil {
				d.errorAt(ep, "%v", err)
				continue
			}
			out = append(out, a)
		default:
			d.errorAt(ep, "an allow entry needs field and values, or pattern")
		}
	}
	return out
}
