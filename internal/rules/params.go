package rules

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/trailalarm/trailalarm/filterpattern"
)

// AccountIDParam is the built-in value a pattern may use inside a quoted value: the account the
// rule is evaluated for. Offline (scan, run) it is the record's recipientAccountId; deployed as a
// metric filter it is the account of the log group. It expresses "another account" without
// comparing two fields, e.g. `$.requestParameters.policyDocument != "*${account_id}*"`.
const AccountIDParam = "${account_id}"

// UsesAccountID reports whether pattern uses ${account_id}.
func UsesAccountID(pattern string) bool { return strings.Contains(pattern, AccountIDParam) }

// UsesAccountID reports whether the rule's pattern uses ${account_id}.
func (r *Rule) UsesAccountID() bool { return UsesAccountID(r.Pattern) }

// BindAccountID fills ${account_id} in pattern with account. Characters other than letters,
// digits, '-', '_' and '.' are replaced by '_', so that an untrusted recipientAccountId cannot
// change the pattern's structure (account ids are 12 digits).
func BindAccountID(pattern, account string) string {
	if !UsesAccountID(pattern) {
		return pattern
	}
	clean := []byte(account)
	for i, c := range clean {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == '.') {
			clean[i] = '_'
		}
	}
	return strings.ReplaceAll(pattern, AccountIDParam, string(clean))
}

// ParamType is the type of a rule parameter.
type ParamType string

// The parameter types.
const (
	ParamString  ParamType = "string"  // one text; `${p}` alone becomes a quoted literal, inside quotes the text
	ParamStrings ParamType = "strings" // a list of texts; `SEL = ${p}` is true when SEL equals one of them, `!=` when none
	ParamCIDRs   ParamType = "cidrs"   // a list of IPv4/IPv6 ranges; `SEL = ${p}` is true when SEL is an address in one, `!=` when it is not
	ParamNumber  ParamType = "number"  // a number, written into the pattern as is
)

var paramTypes = []string{string(ParamString), string(ParamStrings), string(ParamCIDRs), string(ParamNumber)}

// Param is a parameter a rule declares: its pattern refers to it as ${name}.
type Param struct {
	Name        string
	Type        ParamType
	Description string
	Default     string // the default value as text (lists comma-separated); see HasDefault
	HasDefault  bool
}

var paramNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// paramRefRE finds ${name} in a pattern.
var paramRefRE = regexp.MustCompile(`\$\{([^}]*)\}`)

// paramValue is a parameter's value, checked against its type.
type paramValue struct {
	typ   ParamType
	text  string         // string, number
	list  []string       // strings
	cidrs []netip.Prefix // cidrs
}

// splitList splits a comma-separated list, trimming blanks and dropping empty entries.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

var numberRE = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// parseParamValue checks text (lists comma-separated) against the parameter's type.
func parseParamValue(p Param, text string) (paramValue, error) {
	v := paramValue{typ: p.Type}
	switch p.Type {
	case ParamString:
		v.text = text
	case ParamNumber:
		t := strings.TrimSpace(text)
		if _, err := strconv.ParseFloat(t, 64); err != nil || !numberRE.MatchString(t) {
			return v, fmt.Errorf("parameter %s: %q is not a number", p.Name, text)
		}
		v.text = t
	case ParamStrings:
		v.list = splitList(text)
		if len(v.list) == 0 {
			return v, fmt.Errorf("parameter %s: the list is empty (give values separated by commas)", p.Name)
		}
	case ParamCIDRs:
		items := splitList(text)
		if len(items) == 0 {
			return v, fmt.Errorf("parameter %s: the list of address ranges is empty (give CIDR ranges separated by commas)", p.Name)
		}
		for _, it := range items {
			pr, err := parseCIDR(it)
			if err != nil {
				return v, fmt.Errorf("parameter %s: %q is not a CIDR range such as 203.0.113.0/24 or 2001:db8::/32", p.Name, it)
			}
			v.cidrs = append(v.cidrs, pr)
		}
	default:
		return v, fmt.Errorf("parameter %s: unknown type %q", p.Name, p.Type)
	}
	return v, nil
}

// parseCIDR reads a range; a plain address is its /32 or /128. The host bits are cleared.
func parseCIDR(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, errors.New("bad address")
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	pr, err := netip.ParsePrefix(s)
	if err != nil {
		return pr, err
	}
	if pr.Addr().Is4In6() {
		a := pr.Addr().Unmap()
		bits := pr.Bits() - 96
		if bits < 0 {
			return netip.Prefix{}, errors.New("bad range")
		}
		pr = netip.PrefixFrom(a, bits)
	}
	return pr.Masked(), nil
}

// probeValue is a value of each type used to check a pattern when the rule file is read.
func probeValue(t ParamType) string {
	switch t {
	case ParamNumber:
		return "1"
	case ParamCIDRs:
		return "192.0.2.0/24,2001:db8::/32"
	case ParamStrings:
		return "a,b"
	}
	return "x"
}

// cidrPlaceholder is the quoted literal a cidrs parameter becomes before BindCIDRs.
func cidrPlaceholder(name string) string { return "${" + name + "}" }

// comparisonRE finds the selector and operator right before a list parameter.
var comparisonRE = regexp.MustCompile(`(\$[A-Za-z0-9_.\[\]*'@-]*)\s*(!=|=)\s*$`)

// substitute fills the parameters into the pattern text. cidrs parameters become the quoted
// placeholder ${name} (for filterpattern's BindCIDRs) unless render is given, which then writes
// out each `SEL op ${name}` comparison itself. Unknown ${…} (other than ${account_id}) are errors.
func substitute(pattern string, params []Param, vals map[string]paramValue, render func(sel, op string, v paramValue) string) (string, error) {
	var b strings.Builder
	inQuote := false
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if inQuote && c == '\\' && i+1 < len(pattern) {
			b.WriteByte(c)
			b.WriteByte(pattern[i+1])
			i++
			continue
		}
		if c == '"' {
			inQuote = !inQuote
			b.WriteByte(c)
			continue
		}
		if c != '$' || i+1 >= len(pattern) || pattern[i+1] != '{' {
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(pattern[i:], '}')
		if end < 0 {
			b.WriteByte(c)
			continue
		}
		name := pattern[i+2 : i+end]
		next := i + end + 1
		if "${"+name+"}" == AccountIDParam {
			b.WriteString(AccountIDParam)
			i = next - 1
			continue
		}
		v, ok := vals[name]
		if !ok {
			return "", fmt.Errorf("the pattern uses ${%s}, which the rule does not declare under `params:`", name)
		}
		// "${name}" exactly: the quotes belong to the parameter.
		wrapped := inQuote && i > 0 && pattern[i-1] == '"' && next < len(pattern) && pattern[next] == '"'
		switch v.typ {
		case ParamString, ParamNumber:
			if inQuote || v.typ == ParamNumber {
				b.WriteString(escapeQuoted(v.text))
			} else {
				b.WriteString(`"` + escapeQuoted(v.text) + `"`)
			}
			i = next - 1
			continue
		}
		// A list: it must be the right side of `SEL = ` or `SEL != `.
		out := b.String()
		if wrapped {
			out = out[:len(out)-1]
			next++
			inQuote = false
		} else if inQuote {
			return "", fmt.Errorf("${%s} is a list (%s) and cannot be used inside a quoted value", name, v.typ)
		}
		m := comparisonRE.FindStringSubmatchIndex(out)
		if m == nil {
			return "", fmt.Errorf("${%s} is a list (%s): use it as the value of a comparison, `$.field = ${%s}` or `$.field != ${%s}`", name, v.typ, name, name)
		}
		sel, op := out[m[2]:m[3]], out[m[4]:m[5]]
		b.Reset()
		b.WriteString(out[:m[0]])
		switch {
		case v.typ == ParamStrings:
			b.WriteString(joinComparisons(sel, op, quotedAll(v.list)))
		case render != nil:
			b.WriteString(render(sel, op, v))
		default:
			b.WriteString(sel + " " + op + " " + `"` + cidrPlaceholder(name) + `"`)
		}
		i = next - 1
	}
	return b.String(), nil
}

func quotedAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = `"` + escapeQuoted(s) + `"`
	}
	return out
}

// joinComparisons writes SEL op v for each value: joined by || for =, by && for !=.
func joinComparisons(sel, op string, values []string) string {
	if len(values) == 1 {
		return sel + " " + op + " " + values[0]
	}
	join := " || "
	if op == "!=" {
		join = " && "
	}
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = sel + " " + op + " " + v
	}
	return "(" + strings.Join(parts, join) + ")"
}

func escapeQuoted(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// binding is a rule's parameters with their values.
type binding struct {
	text  string                    // the pattern with values filled in; cidrs as placeholders
	cidrs map[string][]netip.Prefix // cidrs parameter → its ranges
}

// bind fills vals into the rule's pattern text.
func (r *Rule) bind(vals map[string]paramValue) (*binding, error) {
	text, err := substitute(r.Pattern, r.Params, vals, nil)
	if err != nil {
		return nil, err
	}
	bd := &binding{text: text}
	for name, v := range vals {
		if v.typ == ParamCIDRs {
			if bd.cidrs == nil {
				bd.cidrs = map[string][]netip.Prefix{}
			}
			bd.cidrs[name] = v.cidrs
		}
	}
	return bd, nil
}

// compile parses the bound text for account (when the pattern uses ${account_id}) and binds the
// address ranges.
func (bd *binding) compile(account string) (*filterpattern.Pattern, error) {
	text := bd.text
	if account != "" {
		text = BindAccountID(text, account)
	}
	p, err := filterpattern.Parse(text)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(bd.cidrs))
	for n := range bd.cidrs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if p, err = p.BindCIDRs(cidrPlaceholder(n), bd.cidrs[n]); err != nil {
			return nil, fmt.Errorf("${%s}: %w", n, err)
		}
	}
	return p, nil
}

// HasParams reports whether the rule declares parameters.
func (r *Rule) HasParams() bool { return len(r.Params) > 0 }

// Bound reports whether the rule's parameters have values (always true without parameters).
// Only bound rules may be evaluated: see Bind.
func (r *Rule) Bound() bool { return len(r.Params) == 0 || r.binding != nil }

// CompileFor returns the rule's pattern for account: with ${account_id} filled in and the
// parameters bound. Rules without either return Compiled.
func (r *Rule) CompileFor(account string) (*filterpattern.Pattern, error) {
	if r.binding != nil {
		return r.binding.compile(account)
	}
	if !r.UsesAccountID() {
		return r.Compiled, nil
	}
	return filterpattern.Parse(BindAccountID(r.Pattern, account))
}

// Skipped is a rule left out by Bind because a parameter has no value and no default.
type Skipped struct {
	Rule  string // rule id
	Param string // the parameter without a value
}

func (s Skipped) String() string {
	return fmt.Sprintf("rule %s skipped: parameter %s has no value and no default (give --param %s=VALUE, or params: in the config file)", s.Rule, s.Param, s.Param)
}

// ParamError is a parameter value of the wrong type.
type ParamError struct {
	Rule  string
	Param string
	Err   error
}

func (e *ParamError) Error() string { return fmt.Sprintf("rule %s: %v", e.Rule, e.Err) }

func (e *ParamError) Unwrap() error { return e.Err }

// resolveValues picks each parameter's value: values[name], else the default. missing names the
// first parameter with neither.
func (r *Rule) resolveValues(values map[string]string) (vals map[string]paramValue, canon map[string]string, missing string, err error) {
	vals = map[string]paramValue{}
	canon = map[string]string{}
	for _, p := range r.Params {
		text, ok := values[p.Name]
		if !ok {
			if !p.HasDefault {
				return nil, nil, p.Name, nil
			}
			text = p.Default
		}
		v, err := parseParamValue(p, text)
		if err != nil {
			return nil, nil, "", &ParamError{Rule: r.ID, Param: p.Name, Err: err}
		}
		vals[p.Name] = v
		canon[p.Name] = text
	}
	return vals, canon, "", nil
}

// Bind returns the rules ready to evaluate: rules without parameters as they are, and copies of
// the others with values (name → text, lists comma-separated) from values or the defaults filled
// in, Compiled replaced and Values set. A rule with a parameter that has neither is left out and
// reported in skipped. A value of the wrong type (a bad CIDR, a non-number) is an error
// (*ParamError) naming the rule and the parameter. unused lists names in values that none of rs
// declares, sorted.
func Bind(rs []*Rule, values map[string]string) (bound []*Rule, skipped []Skipped, unused []string, err error) {
	declared := map[string]bool{}
	var errs []error
	for _, r := range rs {
		if len(r.Params) == 0 {
			bound = append(bound, r)
			continue
		}
		for _, p := range r.Params {
			declared[p.Name] = true
		}
		vals, canon, missing, err := r.resolveValues(values)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if missing != "" {
			skipped = append(skipped, Skipped{Rule: r.ID, Param: missing})
			continue
		}
		bd, err := r.bind(vals)
		if err == nil {
			var p *filterpattern.Pattern
			if p, err = bd.compile(""); err == nil && r.UsesAccountID() {
				_, err = bd.compile("123456789012")
			}
			if err == nil {
				c := *r
				c.binding, c.Values, c.Compiled = bd, canon, p
				bound = append(bound, &c)
				continue
			}
		}
		errs = append(errs, &ParamError{Rule: r.ID, Err: fmt.Errorf("pattern with the values filled in: %w", err)})
	}
	for name := range values {
		if !declared[name] {
			unused = append(unused, name)
		}
	}
	sort.Strings(unused)
	if len(errs) > 0 {
		return nil, nil, unused, errors.Join(errs...)
	}
	return bound, skipped, unused, nil
}

// ParseParamFlags reads NAME=VALUE flags (lists comma-separated) into a map; a name given twice
// is an error.
func ParseParamFlags(flags []string) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range flags {
		name, value, ok := strings.Cut(f, "=")
		name = strings.TrimSpace(name)
		if !ok || !paramNameRE.MatchString(name) {
			return nil, fmt.Errorf("--param %q: use NAME=VALUE, such as --param home_cidrs=203.0.113.0/24", f)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("--param %s is given twice: give a list as one comma-separated value", name)
		}
		out[name] = value
	}
	return out, nil
}
