package rules

import (
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/trailalarm/trailalarm/filterpattern"
)

// Defaults for what a rule file may leave out.
const (
	DefaultNamespace = "TrailAlarm" // metric namespace of rules without metric.namespace
	defaultValue     = "1"          // metricValue: count matches
	defaultUnit      = "None"
	defaultSeverity  = SeverityMedium
	maxDimensions    = 3   // CloudWatch Logs' limit per metric filter
	maxNameLength    = 255 // metricName, metricNamespace, dimension names and values
	maxValueLength   = 100 // metricValue
	maxDepth         = 64  // nesting (and alias chains) beyond any sensible rule file
)

// The keys each mapping of a rule file accepts, for unknown-key errors and suggestions.
var (
	fileKeys       = []string{"pack", "description", "rules"}
	ruleKeys       = []string{"id", "title", "description", "severity", "pattern", "metric", "alarm", "references", "remediation", "notes", "falsePositives", "allowFields", "allow", "params"}
	paramKeys      = []string{"type", "description", "default"}
	metricKeys     = []string{"name", "namespace", "value", "defaultValue", "dimensions", "unit"}
	alarmKeys      = []string{"period", "statistic", "threshold", "comparisonOperator", "evaluationPeriods", "datapointsToAlarm", "treatMissingData"}
	referencesKeys = []string{"cis", "securityHub", "mitre", "stratus", "urls"}
	allowKeys      = []string{"field", "values", "pattern"}
)

// CloudWatch's standard units (PutMetricFilter's MetricTransformation.Unit).
var standardUnits = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
	"Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
	"Count/Second", "None",
}

var (
	statistics          = []string{"SampleCount", "Average", "Sum", "Minimum", "Maximum"}
	comparisonOperators = []string{"GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"}
	missingDataValues   = []string{"missing", "notBreaching", "breaching", "ignore"}

	idRE          = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]*$`)
	percentileRE  = regexp.MustCompile(`^p(100|[0-9]{1,2})(\.[0-9]{1,10})?$`)
	mitreRE       = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)
	stratusRE     = regexp.MustCompile(`^[a-z0-9]+\.[a-z-]+\.[a-z0-9-]+$`)
	securityHubRE = regexp.MustCompile(`^[A-Za-z0-9]+\.[0-9]+$`)
)

// ruleFile is a parsed rule file.
type ruleFile struct {
	Pack        string
	Description string
	Rules       []*Rule
}

// LoadFile reads and validates the rule file at path. Problems in the file come back as Errors.
func LoadFile(path string) ([]*Rule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rule file: %w", err)
	}
	return Parse(path, data)
}

// Parse validates the rule file data, named name in messages, and compiles its rules. When the
// file has problems it returns no rules and all the problems as Errors, in file order.
func Parse(name string, data []byte) ([]*Rule, error) {
	f, err := parseFile(name, data)
	if err != nil {
		return nil, err
	}
	return f.Rules, nil
}

func parseFile(name string, data []byte) (*ruleFile, error) {
	d := &decoder{file: name, src: data, anchors: map[string]ast.Node{}}
	d.index()
	f := d.decodeFile()
	if len(d.errs) > 0 {
		slices.SortStableFunc(d.errs, func(a, b *Error) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Column - b.Column
		})
		return nil, d.errs
	}
	return f, nil
}

// decoder walks the YAML tree of one file, collecting every problem.
type decoder struct {
	file       string
	src        []byte
	lineStarts []int // byte offset of each line's start
	errs       Errors
	anchors    map[string]ast.Node
}

func (d *decoder) index() {
	d.lineStarts = []int{0}
	for i, c := range d.src {
		if c == '\n' {
			d.lineStarts = append(d.lineStarts, i+1)
		}
	}
}

func (d *decoder) errorAt(p pos, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: p.line, Column: p.col, Msg: fmt.Sprintf(format, args...)})
}

// pos is a position in the file: 1-based line, 1-based column in characters.
type pos struct{ line, col int }

// nodePos is where a node starts, as a reader would point at it.
func nodePos(n ast.Node) pos {
	switch n := n.(type) {
	case nil:
		return pos{}
	case *ast.MappingNode:
		if !n.IsFlowStyle && len(n.Values) > 0 {
			return nodePos(n.Values[0])
		}
		return tokenPos(n.Start)
	case *ast.MappingValueNode:
		return nodePos(n.Key)
	case *ast.SequenceNode:
		return tokenPos(n.Start)
	case *ast.LiteralNode:
		return tokenPos(n.Start)
	case *ast.AnchorNode:
		return tokenPos(n.Start)
	case *ast.AliasNode:
		return tokenPos(n.Start)
	case *ast.TagNode:
		return tokenPos(n.Start)
	}
	return tokenPos(n.GetToken())
}

func tokenPos(t *token.Token) pos {
	if t == nil || t.Position == nil {
		return pos{}
	}
	return pos{t.Position.Line, max(t.Position.Column, 1)}
}

// decodeFile decodes the top level: pack, description, rules.
func (d *decoder) decodeFile() (f *ruleFile) {
	f = &ruleFile{}
	defer func() {
		// The YAML parser is third-party code; a panic in it must not take the caller down.
		if r := recover(); r != nil {
			d.errorAt(pos{}, "cannot read the file as YAML (%v)", r)
		}
	}()
	file, err := parser.ParseBytes(d.src, 0, parser.AllowDuplicateMapKey())
	if err != nil {
		d.yamlError(err)
		return f
	}
	var body ast.Node
	for _, doc := range file.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if body != nil {
			d.errorAt(nodePos(doc.Body), "a rule file holds one YAML document; put all rules under one `rules:` list (remove the `---`)")
			break
		}
		body = doc.Body
	}
	if body == nil {
		d.errorAt(pos{1, 1}, "the file has no rules: it needs a top-level `rules:` list")
		return f
	}
	body = d.resolve(body)
	if _, ok := body.(*ast.SequenceNode); ok {
		d.errorAt(nodePos(body), "expected `rules:` at the top of the file, found a list: put the list under `rules:` (and indent it)")
		return f
	}
	var rulesNode, rulesKey ast.Node
	d.mapping(body, "the top level of a rule file", fileKeys, func(key string, k, v ast.Node) {
		switch key {
		case "pack":
			f.Pack = d.text(v, "pack")
			if f.Pack != "" && !idRE.MatchString(f.Pack) {
				d.errorAt(nodePos(v), "pack name %q: use letters, digits and . _ : - only", f.Pack)
			}
		case "description":
			f.Description = d.text(v, "description")
		case "rules":
			rulesNode, rulesKey = v, k
		}
	})
	if rulesKey == nil {
		if _, ok := body.(*ast.MappingNode); ok {
			d.errorAt(nodePos(body), "the file has no `rules:` list")
		}
		return f
	}
	seq, ok := d.resolve(rulesNode).(*ast.SequenceNode)
	if !ok {
		d.errorAt(nodePos(rulesKey), "`rules:` must be a list of rules, each starting with `- id: ...`")
		return f
	}
	first := map[string]*Rule{}
	for _, entry := range seq.Values {
		r := d.decodeRule(entry, f.Pack)
		if r == nil || r.ID == "" {
			continue
		}
		if prev, dup := first[r.ID]; dup {
			d.errorAt(pos{r.Line, r.Column}, "duplicate rule id %q: it is already defined at line %d; ids must be unique", r.ID, prev.Line)
			continue
		}
		first[r.ID] = r
		f.Rules = append(f.Rules, r)
	}
	if len(seq.Values) == 0 {
		d.errorAt(nodePos(rulesKey), "`rules:` is empty: add at least one rule")
	}
	return f
}

// yamlError reports a syntax error of the YAML parser at its position.
func (d *decoder) yamlError(err error) {
	var ye yaml.Error
	if errors.As(err, &ye) {
		p := tokenPos(ye.GetToken())
		d.errorAt(p, "invalid YAML: %s", ye.GetMessage())
		return
	}
	d.errorAt(pos{}, "invalid YAML: %v", err)
}

// resolve follows anchors, aliases and tags to the node that holds the value.
func (d *decoder) resolve(n ast.Node) ast.Node {
	for range maxDepth {
		switch m := n.(type) {
		case *ast.AnchorNode:
			if name, ok := m.Name.(*ast.StringNode); ok {
				d.anchors[name.Value] = m.Value
			}
			n = m.Value
		case *ast.AliasNode:
			name := ""
			if s, ok := m.Value.(*ast.StringNode); ok {
				name = s.Value
			}
			target, ok := d.anchors[name]
			if !ok {
				d.errorAt(nodePos(m), "unknown alias *%s: define the anchor &%s before using it", name, name)
				return nil
			}
			n = target
		case *ast.TagNode:
			n = m.Value
		default:
			return n
		}
	}
	d.errorAt(nodePos(n), "aliases nested too deeply")
	return nil
}

// mapping walks a mapping node, reporting unknown and repeated keys; fn gets each known key.
func (d *decoder) mapping(n ast.Node, what string, known []string, fn func(key string, k, v ast.Node)) bool {
	at := nodePos(n)
	n = d.resolve(n)
	var values []*ast.MappingValueNode
	switch m := n.(type) {
	case *ast.MappingNode:
		values = m.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{m}
	case nil:
		return false
	case *ast.NullNode:
		return false
	default:
		d.errorAt(at, "%s must be a mapping of keys (%s), found %s", what, strings.Join(known, ", "), describeNode(n))
		return false
	}
	seen := map[string]pos{}
	for _, mv := range values {
		if mv == nil || mv.Key == nil {
			continue
		}
		if _, merge := mv.Key.(*ast.MergeKeyNode); merge {
			d.errorAt(nodePos(mv.Key), "merge keys (<<) are not supported in rule files: write the keys out")
			continue
		}
		kp := nodePos(mv.Key)
		key, ok := scalarText(mv.Key)
		if !ok {
			d.errorAt(kp, "keys must be plain words, found %s", describeNode(mv.Key))
			continue
		}
		if !slices.Contains(known, key) {
			msg := fmt.Sprintf("unknown key %q in %s", key, what)
			if s := suggest(key, known); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			} else {
				msg += fmt.Sprintf(" (known keys: %s)", strings.Join(known, ", "))
			}
			d.errorAt(kp, "%s", msg)
			continue
		}
		if first, dup := seen[key]; dup {
			d.errorAt(kp, "key %q is given twice in %s (first at line %d): keep one", key, what, first.line)
			continue
		}
		seen[key] = kp
		fn(key, mv.Key, mv.Value)
	}
	return true
}

// describeNode names a node's type for messages.
func describeNode(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.NullNode, nil:
		return "nothing"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a number"
	case *ast.BoolNode:
		return "true/false"
	}
	return "text"
}

// scalarText returns the text of a scalar node: a string's value, or a number's or boolean's
// text as written (so that `id: 3.10` stays "3.10").
func scalarText(n ast.Node) (string, bool) {
	switch n := n.(type) {
	case *ast.StringNode:
		return n.Value, true
	case *ast.LiteralNode:
		if n.Value == nil {
			return "", true
		}
		return n.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		if tk := n.GetToken(); tk != nil {
			return tk.Value, true
		}
	}
	return "", false
}

// text decodes a text value; nothing (a key without a value) is "".
func (d *decoder) text(n ast.Node, what string) string {
	at := nodePos(n)
	n = d.resolve(n)
	if n == nil {
		return ""
	}
	if _, ok := n.(*ast.NullNode); ok {
		return ""
	}
	s, ok := scalarText(n)
	if !ok {
		d.errorAt(at, "%s must be text, found %s", what, describeNode(n))
	}
	return s
}

// number decodes a number; ok is false (and the problem reported) when it is not one.
func (d *decoder) number(n ast.Node, what string) (float64, bool) {
	at := nodePos(n)
	n = d.resolve(n)
	switch v := n.(type) {
	case *ast.IntegerNode:
		switch x := v.Value.(type) {
		case int64:
			return float64(x), true
		case uint64:
			return float64(x), true
		}
	case *ast.FloatNode:
		return v.Value, true
	case *ast.StringNode:
		if f, err := strconv.ParseFloat(strings.TrimSpace(v.Value), 64); err == nil {
			return f, true
		}
	}
	d.errorAt(at, "%s must be a number, found %s", what, describeNode(n))
	return 0, false
}

// integer decodes a whole number.
func (d *decoder) integer(n ast.Node, what string) (int, bool) {
	at := nodePos(n)
	f, ok := d.number(n, what)
	if !ok {
		return 0, false
	}
	if f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		d.errorAt(at, "%s must be a whole number, found %v", what, f)
		return 0, false
	}
	return int(f), true
}

// textList decodes a list of texts; a single text is accepted as a list of one.
func (d *decoder) textList(n ast.Node, what string) ([]string, []pos) {
	at := nodePos(n)
	n = d.resolve(n)
	switch v := n.(type) {
	case nil, *ast.NullNode:
		return nil, nil
	case *ast.SequenceNode:
		var out []string
		var ps []pos
		for _, e := range v.Values {
			s := d.text(e, what+" entries")
			out = append(out, s)
			ps = append(ps, nodePos(e))
		}
		return out, ps
	}
	if s, ok := scalarText(n); ok {
		return []string{s}, []pos{at}
	}
	d.errorAt(at, "%s must be a list of text, found %s", what, describeNode(n))
	return nil, nil
}

// decodeRule decodes and validates one rule; it returns nil when the entry is not a mapping.
func (d *decoder) decodeRule(n ast.Node, pack string) *Rule {
	at := nodePos(n)
	r := &Rule{Pack: pack, File: d.file, Line: at.line, Column: at.col, Severity: defaultSeverity, Alarm: DefaultAlarm()}
	var (
		patternNode, metricNode, alarmNode, idNode, paramsNode ast.Node
		hasID, hasTitle, hasPattern                            bool
	)
	ok := d.mapping(n, "a rule", ruleKeys, func(key string, k, v ast.Node) {
		switch key {
		case "id":
			hasID, idNode = true, v
			r.ID = strings.TrimSpace(d.text(v, "id"))
		case "title":
			hasTitle = true
			r.Title = strings.TrimSpace(d.text(v, "title"))
		case "description":
			r.Description = d.text(v, "description")
		case "severity":
			s := d.text(v, "severity")
			sev, err := ParseSeverity(s)
			if err != nil {
				d.errorAt(nodePos(v), "%v", err)
			}
			r.Severity = sev
		case "pattern":
			hasPattern, patternNode = true, v
			r.Pattern = d.text(v, "pattern")
		case "metric":
			metricNode = v
		case "alarm":
			alarmNode = v
		case "references":
			d.decodeReferences(v, &r.References)
		case "remediation":
			r.Remediation = d.text(v, "remediation")
		case "notes":
			r.Notes = d.text(v, "notes")
		case "falsePositives":
			r.FalsePositives = d.text(v, "falsePositives")
		case "allowFields":
			list, ps := d.textList(v, "allowFields")
			for i, f := range list {
				if err := checkSelector(f); err != nil {
					d.errorAt(ps[i], "allowFields: %v", err)
				}
			}
			r.AllowFields = list
		case "allow":
			r.Allow = d.decodeAllow(v)
		case "params":
			paramsNode = v
			r.Params = d.decodeParams(v)
		}
	})
	if !ok {
		if _, isNull := d.resolve(n).(*ast.NullNode); isNull || n == nil {
			d.errorAt(at, "empty rule: a rule needs at least id, title and pattern")
		}
		return nil
	}
	switch {
	case !hasID || r.ID == "":
		d.errorAt(at, "rule has no id: add `id:` with a unique name such as my-org:root-login")
	case !idRE.MatchString(r.ID):
		d.errorAt(nodePos(idNode), "id %q: use letters, digits and . _ : - only, starting with a letter or digit", r.ID)
	}
	name := r.ID
	if name == "" {
		name = "rule"
	}
	if !hasTitle || r.Title == "" {
		d.errorAt(at, "%s has no title: add `title:` with a one-line summary", name)
	}
	if !hasPattern || strings.TrimSpace(r.Pattern) == "" {
		d.errorAt(at, "%s has no pattern: add `pattern:` with a CloudWatch Logs filter pattern", name)
	} else {
		p, err := d.checkParams(r, patternNode, paramsNode)
		if err != nil {
			d.patternError(patternNode, r.Pattern, err)
		} else if p != nil && UsesAccountID(r.Pattern) && len(r.Params) == 0 {
			// The pattern must stay valid once the account is filled in, as it is per account
			// offline and per log group when deployed.
			if _, err := filterpattern.Parse(BindAccountID(r.Pattern, "123456789012")); err != nil {
				d.errorAt(nodePos(patternNode), "invalid pattern once %s is filled in: %v; use %s inside a quoted value", AccountIDParam, err, AccountIDParam)
			}
		}
		r.Compiled = p
	}
	d.decodeMetric(metricNode, r)
	d.decodeAlarm(alarmNode, &r.Alarm)
	return r
}

// patternError reports an invalid pattern at the file position of the column it names.
func (d *decoder) patternError(n ast.Node, pattern string, err error) {
	start := nodePos(n)
	var se *filterpattern.SyntaxError
	if !errors.As(err, &se) {
		d.errorAt(start, "invalid pattern: %v", err)
		return
	}
	if se.Column <= 0 {
		d.errorAt(start, "invalid pattern: %s", se.Msg)
		return
	}
	if p, ok := d.charPos(d.resolve(n), pattern, se.Column); ok {
		d.errorAt(p, "invalid pattern: %s", se.Msg)
		return
	}
	d.errorAt(start, "invalid pattern: column %d of the pattern: %s", se.Column, se.Msg)
}

func (d *decoder) decodeMetric(n ast.Node, r *Rule) {
	m := &r.Metric
	m.Value, m.Unit, m.Namespace = defaultValue, defaultUnit, DefaultNamespace
	var (
		dimsNode, defaultNode, valueNode ast.Node
		hasName                          bool
		dimPos                           []pos
	)
	metricPos := nodePos(n)
	d.mapping(n, "metric", metricKeys, func(key string, k, v ast.Node) {
		switch key {
		case "name":
			hasName = true
			m.Name = d.text(v, "metric name")
			d.checkMetricName(nodePos(v), "metric name", m.Name)
		case "namespace":
			m.Namespace = d.text(v, "metric namespace")
			d.checkMetricName(nodePos(v), "metric namespace", m.Namespace)
			if strings.HasPrefix(m.Namespace, "AWS/") {
				d.errorAt(nodePos(v), "metric namespace %q: namespaces starting with AWS/ are reserved for AWS services", m.Namespace)
			}
		case "value":
			valueNode = v
			m.Value = strings.TrimSpace(d.text(v, "metric value"))
		case "defaultValue":
			defaultNode = k
			if f, ok := d.number(v, "metric defaultValue"); ok {
				m.DefaultValue = &f
			}
		case "dimensions":
			dimsNode = k
			dimPos = d.decodeDimensions(v, m)
		case "unit":
			m.Unit = d.text(v, "metric unit")
			if !slices.Contains(standardUnits, m.Unit) {
				msg := fmt.Sprintf("metric unit %q is not a CloudWatch standard unit", m.Unit)
				if s := suggest(m.Unit, standardUnits); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				} else {
					msg += " (use Count, Seconds, Bytes, … or None)"
				}
				d.errorAt(nodePos(v), "%s", msg)
			}
		}
	})
	if !hasName {
		m.Name = defaultMetricName(r.ID)
	}
	valuePos := nodePos(valueNode)
	if valuePos.line == 0 {
		valuePos = metricPos
	}
	if valuePos.line == 0 {
		valuePos = pos{r.Line, r.Column}
	}
	switch {
	case m.Value == "":
		d.errorAt(valuePos, "metric value is empty: use 1 to count matches, or a reference such as $.bytes")
	case utf8.RuneCountInString(m.Value) > maxValueLength:
		d.errorAt(valuePos, "metric value is longer than %d characters", maxValueLength)
	case r.Compiled != nil:
		ref, err := r.Compiled.Ref(m.Value)
		if err != nil {
			d.errorAt(valuePos, "metric value: %s", refMessage(err))
		}
		m.ValueRef = ref
	}
	if len(m.Dimensions) > 0 {
		if m.DefaultValue != nil {
			d.errorAt(nodePos(defaultNode), "metric defaultValue cannot be used together with dimensions (CloudWatch Logs rejects it): remove one of them")
		}
		if r.Compiled != nil {
			if k := r.Compiled.Kind(); k != filterpattern.KindJSON && k != filterpattern.KindSpace {
				d.errorAt(nodePos(dimsNode), "metric dimensions need a JSON or space-delimited pattern; this is a %s pattern, which has no fields to refer to", k)
				return
			}
			for i := range m.Dimensions {
				dim := &m.Dimensions[i]
				ref, err := r.Compiled.Ref(dim.Value)
				if err != nil {
					d.errorAt(dimPos[i], "dimension %q: %s", dim.Name, refMessage(err))
					continue
				}
				dim.Ref = ref
			}
		}
	}
}

// refMessage is the reason of a value reference error, without the "filter pattern:" prefix.
func refMessage(err error) string {
	var se *filterpattern.SyntaxError
	if errors.As(err, &se) {
		return se.Msg
	}
	return err.Error()
}

// mappingValues returns the entries of a mapping node; an empty node gives none, and anything
// else is reported as what (a sentence saying what was expected) and gives ok false.
func (d *decoder) mappingValues(n ast.Node, what string) ([]*ast.MappingValueNode, bool) {
	at := nodePos(n)
	n = d.resolve(n)
	switch v := n.(type) {
	case nil, *ast.NullNode:
		return nil, false
	case *ast.MappingNode:
		return v.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{v}, true
	}
	d.errorAt(at, "%s, found %s", what, describeNode(n))
	return nil, false
}

// decodeDimensions reads the name → reference mapping; it returns each value's position.
func (d *decoder) decodeDimensions(n ast.Node, m *Metric) []pos {
	values, ok := d.mappingValues(n, "metric dimensions must be a mapping of dimension name to a reference such as $.eventName")
	if !ok {
		return nil
	}
	var ps []pos
	seen := map[string]bool{}
	for i, mv := range values {
		kp := nodePos(mv.Key)
		name, ok := scalarText(mv.Key)
		if !ok {
			d.errorAt(kp, "dimension names must be text, found %s", describeNode(mv.Key))
			continue
		}
		if i == maxDimensions {
			d.errorAt(kp, "more than %d metric dimensions: CloudWatch Logs accepts at most %d per metric filter", maxDimensions, maxDimensions)
		}
		switch {
		case strings.TrimSpace(name) == "":
			d.errorAt(kp, "dimension name is empty")
		case utf8.RuneCountInString(name) > maxNameLength:
			d.errorAt(kp, "dimension name is longer than %d characters", maxNameLength)
		case strings.HasPrefix(name, ":"):
			d.errorAt(kp, "dimension name %q must not start with ':'", name)
		case !isASCII(name):
			d.errorAt(kp, "dimension name %q must be ASCII", name)
		case seen[name]:
			d.errorAt(kp, "dimension %q is given twice", name)
		}
		seen[name] = true
		vp := nodePos(mv.Value)
		if vp.line == 0 {
			vp = kp
		}
		value := strings.TrimSpace(d.text(mv.Value, "dimension "+strconv.Quote(name)))
		if !strings.HasPrefix(value, "$") {
			d.errorAt(vp, "dimension %q: the value must refer to a field of the event, such as $.eventName or $user, found %q", name, value)
			continue
		}
		if utf8.RuneCountInString(value) > maxNameLength {
			d.errorAt(vp, "dimension %q: the value is longer than %d characters", name, maxNameLength)
			continue
		}
		m.Dimensions = append(m.Dimensions, Dimension{Name: name, Value: value})
		ps = append(ps, vp)
	}
	return ps
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// checkMetricName applies PutMetricFilter's rules for metric names and namespaces.
func (d *decoder) checkMetricName(p pos, what, s string) {
	switch {
	case strings.TrimSpace(s) == "":
		d.errorAt(p, "%s is empty", what)
	case utf8.RuneCountInString(s) > maxNameLength:
		d.errorAt(p, "%s is longer than %d characters", what, maxNameLength)
	case strings.ContainsAny(s, ":*$"):
		d.errorAt(p, "%s %q must not contain ':', '*' or '$'", what, s)
	}
}

// defaultMetricName derives a metric name from a rule id, for rules that do not name one.
func defaultMetricName(id string) string {
	return strings.NewReplacer(":", "-", "*", "-", "$", "-").Replace(id)
}

func (d *decoder) decodeAlarm(n ast.Node, a *AlarmSettings) {
	var (
		dpNode                        ast.Node
		hasDatapoints, hasEvalPeriods bool
	)
	d.mapping(n, "alarm", alarmKeys, func(key string, k, v ast.Node) {
		p := nodePos(v)
		if p.line == 0 {
			p = nodePos(k)
		}
		switch key {
		case "period":
			if i, ok := d.integer(v, "alarm period"); ok {
				a.Period = i
				if i <= 0 {
					d.errorAt(p, "alarm period (%d) must be a positive number of seconds, such as 300", i)
				}
			}
		case "statistic":
			a.Statistic = d.text(v, "alarm statistic")
			if !slices.Contains(statistics, a.Statistic) && !percentileRE.MatchString(a.Statistic) {
				d.errorAt(p, "%s", oneOf("alarm statistic", a.Statistic, append(slices.Clone(statistics), "a percentile such as p99")))
			}
		case "threshold":
			if f, ok := d.number(v, "alarm threshold"); ok {
				a.Threshold = f
				if math.IsNaN(f) || math.IsInf(f, 0) {
					d.errorAt(p, "alarm threshold must be a finite number")
				}
			}
		case "comparisonOperator":
			a.ComparisonOperator = d.text(v, "alarm comparisonOperator")
			if !slices.Contains(comparisonOperators, a.ComparisonOperator) {
				d.errorAt(p, "%s", oneOf("alarm comparisonOperator", a.ComparisonOperator, comparisonOperators))
			}
		case "evaluationPeriods":
			hasEvalPeriods = true
			if i, ok := d.integer(v, "alarm evaluationPeriods"); ok {
				a.EvaluationPeriods = i
				if i < 1 {
					d.errorAt(p, "alarm evaluationPeriods (%d) must be at least 1", i)
				}
			}
		case "datapointsToAlarm":
			hasDatapoints, dpNode = true, v
			if i, ok := d.integer(v, "alarm datapointsToAlarm"); ok {
				a.DatapointsToAlarm = i
				if i < 1 {
					d.errorAt(p, "alarm datapointsToAlarm (%d) must be at least 1", i)
				}
			}
		case "treatMissingData":
			a.TreatMissingData = d.text(v, "alarm treatMissingData")
			if !slices.Contains(missingDataValues, a.TreatMissingData) {
				d.errorAt(p, "%s", oneOf("alarm treatMissingData", a.TreatMissingData, missingDataValues))
			}
		}
	})
	// As in PutMetricAlarm, leaving DatapointsToAlarm out means "all N periods".
	if hasEvalPeriods && !hasDatapoints {
		a.DatapointsToAlarm = a.EvaluationPeriods
	}
	if hasDatapoints && a.DatapointsToAlarm > a.EvaluationPeriods && a.EvaluationPeriods >= 1 {
		d.errorAt(nodePos(dpNode), "alarm datapointsToAlarm (%d) must not exceed evaluationPeriods (%d)", a.DatapointsToAlarm, a.EvaluationPeriods)
	}
}

// oneOf words an "x is not one of …" error, with a suggestion when a value is close.
func oneOf(what, got string, allowed []string) string {
	msg := fmt.Sprintf("%s %q is not one of %s", what, got, strings.Join(allowed, ", "))
	if s := suggest(got, allowed); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return msg
}

func (d *decoder) decodeReferences(n ast.Node, refs *References) {
	d.mapping(n, "references", referencesKeys, func(key string, k, v ast.Node) {
		list, ps := d.textList(v, "references."+key)
		check := func(ok func(string) bool, format string) {
			for i, s := range list {
				if !ok(s) {
					d.errorAt(ps[i], format, s)
				}
			}
		}
		switch key {
		case "cis":
			refs.CIS = list
			check(func(s string) bool { return strings.TrimSpace(s) != "" }, "references.cis: empty entry %q")
		case "securityHub":
			refs.SecurityHub = list
			check(securityHubRE.MatchString, "references.securityHub: %q is not a Security Hub control id such as CloudWatch.1")
		case "mitre":
			refs.MITRE = list
			check(mitreRE.MatchString, "references.mitre: %q is not a MITRE ATT&CK technique id such as T1078 or T1078.004")
		case "stratus":
			refs.Stratus = list
			check(stratusRE.MatchString, "references.stratus: %q is not a Stratus Red Team technique id such as aws.defense-evasion.cloudtrail-stop")
		case "urls":
			refs.URLs = list
			check(func(s string) bool { return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") }, "references.urls: %q is not an http(s) URL")
		}
	})
}

// suggest returns the known word closest to s when it is close enough to be a typo.
func suggest(s string, known []string) string {
	best, bestDist := "", 0
	for _, k := range known {
		if strings.EqualFold(s, k) {
			return k
		}
		dist := editDistance(strings.ToLower(s), strings.ToLower(k))
		limit := 2
		if len(k) <= 4 {
			limit = 1
		}
		if dist <= limit && (best == "" || dist < bestDist) {
			best, bestDist = k, dist
		}
	}
	return best
}

// editDistance counts the insertions, deletions, substitutions and swaps of adjacent bytes that
// turn a into b (optimal string alignment), so that "nmae" is one typo away from "name".
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// decodeParams reads a rule's `params:` mapping: name → type, description, default.
func (d *decoder) decodeParams(n ast.Node) []Param {
	values, ok := d.mappingValues(n, "params must be a mapping of parameter name to its type, description and default")
	if !ok {
		return nil
	}
	var out []Param
	seen := map[string]bool{}
	for _, mv := range values {
		kp := nodePos(mv.Key)
		name, ok := scalarText(mv.Key)
		if !ok || !paramNameRE.MatchString(name) {
			d.errorAt(kp, "parameter name %q: use letters, digits and _ only, starting with a letter or _", name)
			continue
		}
		if "${"+name+"}" == AccountIDParam {
			d.errorAt(kp, "parameter %s is built in (the account the rule is evaluated for): do not declare it", name)
			continue
		}
		if seen[name] {
			d.errorAt(kp, "parameter %s is declared twice", name)
			continue
		}
		seen[name] = true
		p := Param{Name: name}
		var typePos, defaultPos pos
		hasType := false
		d.mapping(mv.Value, "parameter "+name, paramKeys, func(key string, k, v ast.Node) {
			switch key {
			case "type":
				hasType, typePos = true, nodePos(v)
				t := strings.TrimSpace(d.text(v, "parameter type"))
				switch t {
				case "list of strings":
					t = string(ParamStrings)
				case "cidr list":
					t = string(ParamCIDRs)
				}
				if !slices.Contains(paramTypes, t) {
					d.errorAt(typePos, "%s", oneOf("parameter "+name+": type", t, paramTypes))
				}
				p.Type = ParamType(t)
			case "description":
				p.Description = d.text(v, "parameter description")
			case "default":
				defaultPos = nodePos(v)
				list, _ := d.textList(v, "parameter default")
				p.Default, p.HasDefault = strings.Join(list, ","), true
			}
		})
		if !hasType {
			d.errorAt(kp, "parameter %s has no type: add `type:` (one of %s)", name, strings.Join(paramTypes, ", "))
			continue
		}
		if p.HasDefault && slices.Contains(paramTypes, string(p.Type)) {
			if _, err := parseParamValue(p, p.Default); err != nil {
				d.errorAt(defaultPos, "default of %v", err)
			}
		}
		out = append(out, p)
	}
	return out
}

// checkParams compiles the rule's pattern; with parameters, with example values of each type
// (and the defaults where given), reporting parameters that are declared but not used and ${…}
// that are used but not declared. It returns nil and no error when it reported a problem itself.
func (d *decoder) checkParams(r *Rule, patternNode, paramsNode ast.Node) (*filterpattern.Pattern, error) {
	if len(r.Params) == 0 {
		for _, m := range paramRefRE.FindAllStringSubmatch(r.Pattern, -1) {
			if "${"+m[1]+"}" != AccountIDParam {
				d.errorAt(nodePos(patternNode), "the pattern uses ${%s}, which the rule does not declare: add it under `params:`", m[1])
				return nil, nil
			}
		}
		return filterpattern.Parse(r.Pattern)
	}
	used := map[string]bool{}
	for _, m := range paramRefRE.FindAllStringSubmatch(r.Pattern, -1) {
		used[m[1]] = true
	}
	vals := map[string]paramValue{}
	for _, p := range r.Params {
		if !used[p.Name] {
			d.errorAt(nodePos(paramsNode), "parameter %s is declared but the pattern does not use ${%s}", p.Name, p.Name)
		}
		text := probeValue(p.Type)
		if p.HasDefault {
			text = p.Default
		}
		v, err := parseParamValue(p, text)
		if err != nil {
			if v, err = parseParamValue(p, probeValue(p.Type)); err != nil {
				return nil, nil // the type is reported already
			}
		}
		vals[p.Name] = v
	}
	bd, err := r.bind(vals)
	if err != nil {
		d.errorAt(nodePos(patternNode), "invalid pattern: %v", err)
		return nil, nil
	}
	p, err := bd.compile("")
	if err == nil && r.UsesAccountID() {
		_, err = bd.compile("123456789012")
	}
	if err != nil {
		d.errorAt(nodePos(patternNode), "invalid pattern once the parameters are filled in: %v", refMessage(err))
		return nil, nil
	}
	return p, nil
}
