// Package config reads trailalarm.yaml, the configuration of `trailalarm run`: where CloudTrail
// comes from, which rules run, where state is kept, who is told and when. Every problem is
// reported with the file, line and column, and secrets come from the environment through
// ${NAME}, never from the file itself.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Config is the whole configuration.
type Config struct {
	Sources []Source `yaml:"sources"`
	AWS     AWS      `yaml:"aws"`
	Rules   Rules    `yaml:"rules"`
	// Params are the values of rule parameters (name → a value or a list), for rules whose
	// patterns refer to ${name}; ${ENV} is expanded in them as everywhere.
	Params    map[string]ParamValue `yaml:"params"`
	Store     string                `yaml:"store"`     // a SQLite file path (default ./trailalarm.db) or a postgres:// URL
	Retention Duration              `yaml:"retention"` // delivered alerts older than this are deleted (default 90 days)
	Alarm     Alarm                 `yaml:"alarm"`
	Notifiers []Notifier            `yaml:"notifiers"`
	Routes    []Route               `yaml:"routes"`
	Suppress  []Suppress            `yaml:"suppress"`
	Server    Server                `yaml:"server"`
	Log       Log                   `yaml:"log"`

	File string `yaml:"-"` // where it was read from; "" for the defaults
}

// Source is one input; exactly one of Folder, S3, SQS and CloudWatchLogs is set.
type Source struct {
	Name           string   `yaml:"name"`           // used in checkpoints and metrics; default: derived
	Folder         string   `yaml:"folder"`         // a local folder, watched
	S3             string   `yaml:"s3"`             // s3://bucket/prefix, polled
	SQS            string   `yaml:"sqs"`            // a queue URL of S3 (or CloudTrail SNS) notifications
	CloudWatchLogs string   `yaml:"cloudwatchLogs"` // a log group name
	Accounts       []string `yaml:"accounts"`       // S3: only these accounts
	Regions        []string `yaml:"regions"`        // S3: only these regions
	PollInterval   Duration `yaml:"pollInterval"`   // S3, CloudWatch Logs and folder rescans (default 1m, 1m, 30s)
	// VisibilityTimeout (SQS) hides a received message from other workers while it is
	// processed, renewed every third of it; a worker that dies gives its messages back after
	// it (default 5m).
	VisibilityTimeout Duration `yaml:"visibilityTimeout"`
}

// Kind names which input a source is.
func (s Source) Kind() string {
	switch {
	case s.Folder != "":
		return "folder"
	case s.S3 != "":
		return "s3"
	case s.SQS != "":
		return "sqs"
	case s.CloudWatchLogs != "":
		return "cloudwatchLogs"
	}
	return ""
}

// AWS holds the settings of AWS clients.
type AWS struct {
	Region      string `yaml:"region"`
	Profile     string `yaml:"profile"`
	EndpointURL string `yaml:"endpointURL"` // for emulators and S3-compatible stores
}

// Rules selects the rules that run.
type Rules struct {
	Packs []string `yaml:"packs"` // default: the default selection
	Files []string `yaml:"files"`
	// Allow exempts records from rules: rule id → filter patterns; a record matching one of a
	// rule's patterns does not count for that rule (a known scanner role, say).
	Allow map[string][]string `yaml:"allow"`
}

// Alarm tunes the live alarm evaluation.
type Alarm struct {
	// AllowedLateness is how long after newer events a late event may still arrive and count
	// (default 15m: CloudTrail delivers to S3 in about 5 minutes, sometimes later).
	AllowedLateness Duration `yaml:"allowedLateness"`
}

// Notifier is one destination of alerts.
type Notifier struct {
	Name string `yaml:"name"` // used by routes; default: the type
	Type string `yaml:"type"` // stdout, file, sns, slack, webhook, email, securityhub

	Path     string `yaml:"path"`     // file
	TopicARN string `yaml:"topicArn"` // sns
	URL      string `yaml:"url"`      // slack, webhook
	Secret   string `yaml:"secret"`   // webhook: the HMAC key, as ${ENV}
	Region   string `yaml:"region"`   // sns, securityhub: overrides aws.region

	// email
	SMTP     string   `yaml:"smtp"` // host:port
	Username string   `yaml:"username"`
	Password string   `yaml:"password"` // as ${ENV}
	From     string   `yaml:"from"`
	To       []string `yaml:"to"`
	Insecure bool     `yaml:"insecureSkipStartTLS"` // tests only: allow a server without STARTTLS
}

// Route sends the alerts it selects to notifiers. An alert goes to every notifier of every
// route that selects it; with no routes, every alert goes to every notifier.
type Route struct {
	Notifiers   []string `yaml:"notifiers"`
	MinSeverity string   `yaml:"minSeverity"` // info, low, medium, high, critical
	Packs       []string `yaml:"packs"`
	RuleIDs     []string `yaml:"rules"`
	States      []string `yaml:"states"` // ALARM, OK, INSUFFICIENT_DATA; default ALARM
}

// Suppress keeps an alert of the same rule and key fields from being sent again within Window.
type Suppress struct {
	RuleIDs []string `yaml:"rules"` // default: every rule
	Window  Duration `yaml:"window"`
	Keys    []string `yaml:"keys"` // selectors such as $.userIdentity.arn; default: the rule and series
}

// Server is the dashboard, API, /metrics and /healthz.
type Server struct {
	Listen string `yaml:"listen"` // default 127.0.0.1:8089; "off" disables it
	Token  string `yaml:"token"`  // as ${ENV}; required for anything but /healthz
}

// Log configures logging.
type Log struct {
	Format string `yaml:"format"` // json or text (default text)
	Level  string `yaml:"level"`  // debug, info, warn, error (default info)
}

// Duration is a time.Duration written as "15m", "1h30m" or "90d". A value that is not a
// duration is kept and reported, with its position, by the checks after decoding.
type Duration struct {
	d   time.Duration
	bad string // the text, when it is not a duration
}

// UnmarshalYAML reads a duration; "d" means 24 hours.
func (d *Duration) UnmarshalYAML(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"'`)
	v, err := parseDuration(s)
	if err != nil {
		*d = Duration{bad: s}
		return nil
	}
	*d = Duration{d: v}
	return nil
}

// ParamValue is the value of a rule parameter: one text, or a list written as a YAML list or
// comma-separated. String gives it comma-separated, as rule parameters take it.
type ParamValue struct{ list []string }

// UnmarshalYAML reads a scalar or a list of scalars.
func (p *ParamValue) UnmarshalYAML(unmarshal func(any) error) error {
	var list []string
	if err := unmarshal(&list); err == nil {
		p.list = list
		return nil
	}
	var s string
	if err := unmarshal(&s); err != nil {
		return fmt.Errorf("a parameter value must be text or a list of text")
	}
	p.list = []string{s}
	return nil
}

// String returns the value, a list comma-separated.
func (p ParamValue) String() string { return strings.Join(p.list, ",") }

// ParamValues returns Params as rule parameters take them: name → text, lists comma-separated.
func (c *Config) ParamValues() map[string]string {
	out := make(map[string]string, len(c.Params))
	for k, v := range c.Params {
		out[k] = v.String()
	}
	return out
}

// Dur makes a Duration.
func Dur(d time.Duration) Duration { return Duration{d: d} }

func parseDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err == nil && fmt.Sprint(days) == n && days >= 0 {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a duration: write 30s, 15m, 1h or 90d", s)
	}
	return v, nil
}

// D returns the duration.
func (d Duration) D() time.Duration { return d.d }

func (d Duration) unset() bool { return d.d == 0 && d.bad == "" }

// Default is the configuration used without a file: watch ./cloudtrail, store in
// ./trailalarm.db, print alerts to stdout, serve on 127.0.0.1:8089.
func Default() *Config {
	c := &Config{}
	c.fill()
	return c
}

// fill sets the defaults of everything left out.
func (c *Config) fill() {
	if len(c.Sources) == 0 {
		c.Sources = []Source{{Folder: "./cloudtrail"}}
	}
	for i := range c.Sources {
		s := &c.Sources[i]
		if s.Name == "" {
			s.Name = s.Kind() + ":" + firstNonEmpty(s.Folder, s.S3, s.SQS, s.CloudWatchLogs)
		}
		if s.PollInterval.unset() {
			s.PollInterval = Dur(time.Minute)
			if s.Folder != "" {
				s.PollInterval = Dur(30 * time.Second)
			}
		}
	}
	if c.Store == "" {
		c.Store = "./trailalarm.db"
	}
	if c.Retention.unset() {
		c.Retention = Dur(90 * 24 * time.Hour)
	}
	if c.Alarm.AllowedLateness.unset() {
		c.Alarm.AllowedLateness = Dur(15 * time.Minute)
	}
	if len(c.Notifiers) == 0 {
		c.Notifiers = []Notifier{{Type: "stdout"}}
	}
	for i := range c.Notifiers {
		if c.Notifiers[i].Name == "" {
			c.Notifiers[i].Name = c.Notifiers[i].Type
		}
	}
	for i := range c.Routes {
		if len(c.Routes[i].States) == 0 {
			c.Routes[i].States = []string{"ALARM"}
		}
	}
	if c.Server.Listen == "" {
		c.Server.Listen = "127.0.0.1:8089"
	}
	if c.Log.Format == "" {
		c.Log.Format = "text"
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// Error is one problem in a configuration file.
type Error struct {
	File         string
	Line, Column int // 0 when unknown
	Msg          string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// Errors is every problem found in a file, one per line.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Load reads and checks a configuration file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return Parse(path, data, os.LookupEnv)
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// Parse reads a configuration; lookup resolves ${NAME} references (os.LookupEnv in Load).
func Parse(name string, data []byte, lookup func(string) (string, bool)) (*Config, error) {
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, Errors{yamlError(name, err)}
	}
	var errs Errors
	// Expand ${NAME} in every string value, so that a secret never has to be in the file; an
	// unset variable is an error at its place.
	for _, doc := range file.Docs {
		ast.Walk(visitor(func(n ast.Node) {
			s, ok := n.(*ast.StringNode)
			if !ok || !strings.Contains(s.Value, "${") {
				return
			}
			s.Value = envRef.ReplaceAllStringFunc(s.Value, func(ref string) string {
				v, ok := lookup(ref[2 : len(ref)-1])
				if !ok {
					tk := s.GetToken()
					errs = append(errs, &Error{File: name, Line: tk.Position.Line, Column: tk.Position.Column,
						Msg: ref + " is not set in the environment"})
				}
				return v
			})
		}), doc)
	}
	c := &Config{File: name}
	if len(file.Docs) > 0 && file.Docs[0].Body != nil {
		if err := yaml.NodeToValue(file.Docs[0].Body, c, yaml.DisallowUnknownField()); err != nil {
			errs = append(errs, yamlError(name, err))
			sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
			return nil, errs
		}
	}
	errs = append(errs, c.check(name, file)...)
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool {
			return errs[i].Line < errs[j].Line || errs[i].Line == errs[j].Line && errs[i].Column < errs[j].Column
		})
		return nil, errs
	}
	c.fill()
	return c, nil
}

type visitor func(ast.Node)

func (v visitor) Visit(n ast.Node) ast.Visitor {
	v(n)
	return v
}

func yamlError(name string, err error) *Error {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		tk := ye.GetToken()
		msg := ye.GetMessage()
		if strings.Contains(msg, "unknown field") {
			msg += " (see the configuration reference in the README)"
		}
		return &Error{File: name, Line: tk.Position.Line, Column: tk.Position.Column, Msg: msg}
	}
	return &Error{File: name, Msg: err.Error()}
}

// check validates what the YAML types alone do not.
func (c *Config) check(name string, file *ast.File) Errors {
	var errs Errors
	at := func(path, format string, args ...any) {
		e := &Error{File: name, Msg: fmt.Sprintf(format, args...)}
		if p, err := yaml.PathString(path); err == nil {
			if n, err := p.FilterFile(file); err == nil && n != nil {
				tk := n.GetToken()
				e.Line, e.Column = tk.Position.Line, tk.Position.Column
			}
		}
		errs = append(errs, e)
	}
	names := map[string]bool{}
	for i, s := range c.Sources {
		path := fmt.Sprintf("$.sources[%d]", i)
		set := 0
		for _, v := range []string{s.Folder, s.S3, s.SQS, s.CloudWatchLogs} {
			if v != "" {
				set++
			}
		}
		if set != 1 {
			at(path, "a source needs exactly one of folder, s3, sqs or cloudwatchLogs")
		}
		if s.S3 != "" && !strings.HasPrefix(s.S3, "s3://") {
			at(path+".s3", "s3 must look like s3://BUCKET/PREFIX")
		}
		if s.SQS != "" && !strings.HasPrefix(s.SQS, "https://") && !strings.HasPrefix(s.SQS, "http://") {
			at(path+".sqs", "sqs must be a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)")
		}
		if (len(s.Accounts) > 0 || len(s.Regions) > 0) && s.S3 == "" {
			at(path, "accounts and regions apply only to s3 sources")
		}
		if v := s.VisibilityTimeout.D(); !s.VisibilityTimeout.unset() && (s.SQS == "" || v < 3*time.Second || v > 12*time.Hour) {
			at(path+".visibilityTimeout", "visibilityTimeout applies only to sqs sources, from 3s to 12h")
		}
		if s.Name != "" {
			if names[s.Name] {
				at(path+".name", "source name %q is used twice", s.Name)
			}
			names[s.Name] = true
		}
	}
	notifiers := map[string]bool{}
	for i, n := range c.Notifiers {
		path := fmt.Sprintf("$.notifiers[%d]", i)
		nm := n.Name
		if nm == "" {
			nm = n.Type
		}
		if notifiers[nm] {
			at(path, "notifier name %q is used twice: give each a name", nm)
		}
		notifiers[nm] = true
		need := func(field, value string) {
			if value == "" {
				at(path, "a %s notifier needs %s", n.Type, field)
			}
		}
		switch n.Type {
		case "stdout":
		case "file":
			need("path", n.Path)
		case "sns":
			need("topicArn", n.TopicARN)
		case "slack":
			need("url", n.URL)
		case "webhook":
			need("url", n.URL)
			need("secret (as ${ENV}, to sign the requests)", n.Secret)
		case "email":
			need("smtp (host:port)", n.SMTP)
			need("from", n.From)
			if len(n.To) == 0 {
				at(path, "an email notifier needs to (a list of addresses)")
			}
		case "securityhub":
		case "":
			at(path, "a notifier needs a type: stdout, file, sns, slack, webhook, email or securityhub")
		default:
			at(path+".type", "unknown notifier type %q: use stdout, file, sns, slack, webhook, email or securityhub", n.Type)
		}
	}
	for i, r := range c.Routes {
		path := fmt.Sprintf("$.routes[%d]", i)
		if len(r.Notifiers) == 0 {
			at(path, "a route needs notifiers")
		}
		for _, n := range r.Notifiers {
			if !notifiers[n] && !(len(c.Notifiers) == 0 && n == "stdout") {
				at(path+".notifiers", "route names notifier %q, which is not defined (defined: %s)", n, keys(notifiers))
			}
		}
		if r.MinSeverity != "" && !oneOf(r.MinSeverity, "info", "low", "medium", "high", "critical") {
			at(path+".minSeverity", "unknown severity %q: use info, low, medium, high or critical", r.MinSeverity)
		}
		for _, s := range r.States {
			if !oneOf(s, "ALARM", "OK", "INSUFFICIENT_DATA") {
				at(path+".states", "unknown state %q: use ALARM, OK or INSUFFICIENT_DATA", s)
			}
		}
	}
	duration := func(path string, d Duration) {
		if d.bad != "" {
			at(path, "%q is not a duration: write 30s, 15m, 1h or 90d", d.bad)
		}
	}
	duration("$.retention", c.Retention)
	duration("$.alarm.allowedLateness", c.Alarm.AllowedLateness)
	for i, s := range c.Sources {
		duration(fmt.Sprintf("$.sources[%d].pollInterval", i), s.PollInterval)
	}
	for i, s := range c.Suppress {
		duration(fmt.Sprintf("$.suppress[%d].window", i), s.Window)
		if s.Window.d <= 0 && s.Window.bad == "" {
			at(fmt.Sprintf("$.suppress[%d]", i), "a suppression needs a window, such as 1h")
		}
		for _, k := range s.Keys {
			if !strings.HasPrefix(k, "$.") {
				at(fmt.Sprintf("$.suppress[%d].keys", i), "key %q must be a selector such as $.userIdentity.arn", k)
			}
		}
	}
	if c.Log.Format != "" && !oneOf(c.Log.Format, "json", "text") {
		at("$.log.format", "log format %q: use json or text", c.Log.Format)
	}
	if c.Log.Level != "" && !oneOf(c.Log.Level, "debug", "info", "warn", "error") {
		at("$.log.level", "log level %q: use debug, info, warn or error", c.Log.Level)
	}
	if c.Server.Listen != "" && c.Server.Listen != "off" && !strings.Contains(c.Server.Listen, ":") {
		at("$.server.listen", "listen %q must be HOST:PORT (or off)", c.Server.Listen)
	}
	if strings.HasPrefix(c.Store, "postgres://") || strings.HasPrefix(c.Store, "postgresql://") {
		// The password is not shown: it may be in the URL, expanded from ${ENV}.
		if u, err := url.Parse(c.Store); err != nil || u.Host == "" || strings.Trim(u.Path, "/") == "" {
			at("$.store", "a PostgreSQL store must look like postgres://USER@HOST:PORT/DATABASE (the password from PGPASSWORD or ${ENV})")
		}
	}
	return errs
}

func oneOf(s string, options ...string) bool {
	for _, o := range options {
		if s == o {
			return true
		}
	}
	return false
}

func keys(m map[string]bool) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
