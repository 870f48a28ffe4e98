package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

const full = `# every section
sources:
  - folder: ./logs
  - name: org-trail
    s3: s3://my-trail-bucket/AWSLogs/
    accounts: ["111111111111"]
    regions: [us-east-1, eu-west-1]
    pollInterval: 2m
  - sqs: https://sqs.us-east-1.amazonaws.com/111111111111/cloudtrail-notifications
  - cloudwatchLogs: CloudTrail/DefaultLogGroup
aws:
  region: us-east-1
rules:
  packs: [cis-5.0, securityhub]
  files: [./my-rules.yaml]
  allow:
    "cis-5.0:4.1": ['{ $.userIdentity.arn = "arn:aws:iam::111111111111:role/Scanner" }']
store: /var/lib/trailalarm/trailalarm.db
retention: 30d
alarm:
  allowedLateness: 20m
notifiers:
  - name: ops
    type: slack
    url: ${SLACK_URL}
  - type: webhook
    url: https://hooks.example.com/trailalarm
    secret: ${HOOK_SECRET}
  - type: stdout
routes:
  - notifiers: [ops]
    minSeverity: high
  - notifiers: [webhook, stdout]
    states: [ALARM, OK]
suppress:
  - window: 1h
    keys: [$.userIdentity.arn]
server:
  listen: 127.0.0.1:9000
  token: ${TOKEN}
log:
  format: json
`

func TestParseFull(t *testing.T) {
	c, err := Parse("t.yaml", []byte(full), env(map[string]string{"SLACK_URL": "https://hooks.slack.com/x", "HOOK_SECRET": "s3cr3t", "TOKEN": "tok"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Sources) != 4 || c.Sources[1].Name != "org-trail" || c.Sources[1].PollInterval.D() != 2*time.Minute ||
		c.Sources[0].Name != "folder:./logs" || c.Sources[2].Kind() != "sqs" || c.Sources[3].PollInterval.D() != time.Minute {
		t.Errorf("sources %+v", c.Sources)
	}
	if c.Retention.D() != 30*24*time.Hour || c.Alarm.AllowedLateness.D() != 20*time.Minute || c.Store != "/var/lib/trailalarm/trailalarm.db" {
		t.Errorf("retention %v lateness %v store %s", c.Retention.D(), c.Alarm.AllowedLateness.D(), c.Store)
	}
	if c.Notifiers[0].URL != "https://hooks.slack.com/x" || c.Notifiers[1].Secret != "s3cr3t" || c.Notifiers[1].Name != "webhook" || c.Server.Token != "tok" {
		t.Errorf("notifiers %+v, token %q", c.Notifiers, c.Server.Token)
	}
	if c.Routes[0].States[0] != "ALARM" || len(c.Routes[1].States) != 2 || c.Rules.Allow["cis-5.0:4.1"][0] == "" {
		t.Errorf("routes %+v", c.Routes)
	}
}

func TestDefault(t *testing.T) {
	c := Default()
	if c.Sources[0].Folder != "./cloudtrail" || c.Store != "./trailalarm.db" || c.Notifiers[0].Type != "stdout" || c.Server.Listen != "127.0.0.1:8089" || c.Alarm.AllowedLateness.D() != 15*time.Minute {
		t.Errorf("default %+v", c)
	}
	c, err := Parse("empty.yaml", []byte("# nothing\n"), env(nil))
	if err != nil || c.Sources[0].Folder != "./cloudtrail" {
		t.Errorf("empty file: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		yaml string
		want []string
	}{
		{"sources:\n  - folder: x\n    s3: s3://b/\n", []string{"t.yaml:2:11: a source needs exactly one of folder, s3, sqs or cloudwatchLogs"}},
		{"sources:\n  - fodler: x\n", []string{"t.yaml:2:5:", `unknown field "fodler"`}},
		{"sources:\n  - s3: bucket/x\n", []string{"t.yaml:2:9: s3 must look like s3://BUCKET/PREFIX"}},
		{"notifiers:\n  - type: slack\n    url: ${NOPE}\n", []string{"t.yaml:3:10: ${NOPE} is not set in the environment"}},
		{"notifiers:\n  - type: pager\n", []string{"t.yaml:2:11: unknown notifier type \"pager\""}},
		{"notifiers:\n  - type: webhook\n    url: https://x\n", []string{"needs secret"}},
		{"notifiers:\n  - type: email\n    smtp: h:25\n    from: a@b\n", []string{"needs to"}},
		{"notifiers:\n  - type: stdout\nroutes:\n  - notifiers: [slack]\n", []string{"t.yaml:4:16: route names notifier \"slack\", which is not defined (defined: stdout)"}},
		{"routes:\n  - notifiers: [stdout]\n    minSeverity: urgent\n", []string{"unknown severity \"urgent\""}},
		{"retention: forever\n", []string{"t.yaml:1:12:", "not a duration"}},
		{"suppress:\n  - keys: [userIdentity.arn]\n", []string{"needs a window", "must be a selector"}},
		{"store: postgres://db\n", []string{"t.yaml:1:8: a PostgreSQL store must look like postgres://USER@HOST:PORT/DATABASE"}},
		{"store: postgres://u:secret@/x\n", []string{"must look like postgres://"}},
		{"log:\n  format: xml\n", []string{"log format \"xml\""}},
		{"sources:\n  - folder: x\n    visibilityTimeout: 1m\n", []string{"visibilityTimeout applies only to sqs sources"}},
		{"sources:\n  - sqs: https://q\n    visibilityTimeout: 1s\n", []string{"from 3s to 12h"}},
		{"sources: [\n", []string{"t.yaml:"}},
		{"server:\n  listen: 8089\n", []string{"must be HOST:PORT"}},
	}
	for _, tt := range tests {
		_, err := Parse("t.yaml", []byte(tt.yaml), env(nil))
		var errs Errors
		if !errors.As(err, &errs) {
			t.Errorf("%q: error %v, want Errors", tt.yaml, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q:\n got %s\nwant it to contain %s", tt.yaml, err, w)
			}
		}
	}
}

func TestLoad(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte("store: x.db\n"), 0o644)
	if c, err := Load(p); err != nil || c.Store != "x.db" || c.File != p {
		t.Errorf("load: %v %+v", err, c)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(full))
	f.Add([]byte("sources: [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		Parse("f.yaml", data, env(map[string]string{"SLACK_URL": "u", "HOOK_SECRET": "s", "TOKEN": "t"}))
	})
}
