package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/trailalarm/trailalarm/internal/alert"
)

// Slack Block Kit limits: 50 blocks, 3000 characters in a section's text, 2000 in a field,
// 10 fields, 150 in a header.
const (
	slackMaxSection  = 3000
	slackMaxField    = 2000
	slackMaxHeader   = 150
	slackMaxEvidence = 10 // records shown; a message is read, not searched
)

// SlackConfig configures the Slack incoming-webhook notifier.
type SlackConfig struct {
	Name       string        `yaml:"name"`        // default "slack"
	WebhookURL string        `yaml:"webhook_url"` // required; a secret: take it from the environment
	Timeout    time.Duration `yaml:"timeout"`     // per attempt; default DefaultTimeout
	// HTTPClient replaces the default client (tests, proxies); not part of the YAML.
	HTTPClient *http.Client `yaml:"-"`
}

// Slack posts alerts to a Slack incoming webhook as Block Kit messages.
type Slack struct {
	name    string
	u       *url.URL
	timeout time.Duration
	client  *http.Client
}

// NewSlack checks c: the webhook URL must be https (http only to localhost).
func NewSlack(c SlackConfig) (*Slack, error) {
	u, err := checkURL("webhook_url", c.WebhookURL)
	if err != nil {
		return nil, fmt.Errorf("slack notifier: %w", err)
	}
	return &Slack{name: or(c.Name, "slack"), u: u, timeout: c.Timeout, client: httpClient(c.HTTPClient)}, nil
}

func httpClient(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	// No redirects: a webhook that moved is a configuration problem, and following it could
	// send the body somewhere the operator did not choose.
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (s *Slack) Name() string { return s.name }

// Notify posts the message. Slack answers 400 (invalid_payload), 403, 404 (no_service) and 410
// for requests that will never succeed, 429 with Retry-After when rate limited.
func (s *Slack) Notify(ctx context.Context, a *alert.Alert) error {
	body, err := json.Marshal(slackMessage(a))
	if err != nil {
		return Permanent(fmt.Errorf("%s: encode: %w", s.name, err))
	}
	ctx, cancel := withTimeout(ctx, s.timeout)
	defer cancel()
	h := http.Header{"Content-Type": {"application/json; charset=utf-8"}, "User-Agent": {"trailalarm"}}
	if err := post(ctx, s.client, s.u, h, body); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	return nil
}

// mrkdwnReplacer escapes what Slack's mrkdwn gives meaning to. &, < and > are the three that
// Slack documents (so "<!channel>" or "<https://x|y>" arrive as text); the formatting
// characters have no escape, so a zero-width space on each side keeps them from pairing up
// into bold, italics, strike or code.
var mrkdwnReplacer = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;",
	"*", "\u200b*\u200b", "_", "\u200b_\u200b", "~", "\u200b~\u200b", "`", "\u200b`\u200b",
)

// mrkdwn escapes an untrusted value (already cleaned of line breaks) for a mrkdwn text.
func mrkdwn(s string) string { return mrkdwnReplacer.Replace(s) }

type slackText struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Emoji    *bool  `json:"emoji,omitempty"`
	Verbatim bool   `json:"verbatim,omitempty"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackPayload struct {
	Text   string       `json:"text"` // the notification's fallback
	Blocks []slackBlock `json:"blocks"`
}

// md is a mrkdwn text object; verbatim stops Slack from turning bare URLs, #channels and
// @mentions in it into links.
func md(s string, max int) slackText {
	return slackText{Type: "mrkdwn", Text: cut(s, max), Verbatim: true}
}

func slackMessage(a *alert.Alert) slackPayload {
	v := newView(a, slackMaxEvidence)
	no := false
	// The header is plain text, which Slack does not parse; it holds the rule's own words only,
	// no CloudTrail value.
	header := fmt.Sprintf("[%s] %s: %s", v.Severity, v.To, v.Title)
	p := slackPayload{Text: mrkdwn(v.Subject)}
	p.Blocks = append(p.Blocks, slackBlock{Type: "header", Text: &slackText{Type: "plain_text", Text: cut(header, slackMaxHeader), Emoji: &no}})

	field := func(k, val string) slackText { return md("*"+k+"*\n"+mrkdwn(val), slackMaxField) }
	fields := []slackText{
		field("Rule", v.RuleID),
		field("Severity", v.Severity),
		field("State", v.From+" → "+v.To),
		field("Time", v.Time),
	}
	if v.Accounts != "" {
		fields = append(fields, field("Accounts", v.Accounts))
	}
	if v.Regions != "" {
		fields = append(fields, field("Regions", v.Regions))
	}
	if len(v.Evidence) > 0 {
		fields = append(fields, field("Principal", v.Evidence[0].Principal))
	}
	if v.Series != "" {
		fields = append(fields, field("Series", v.Series))
	}
	p.Blocks = append(p.Blocks, slackBlock{Type: "section", Fields: fields})
	if v.Reason != "" {
		p.Blocks = append(p.Blocks, slackBlock{Type: "section", Text: ptr(md("*Reason*\n"+mrkdwn(v.Reason), slackMaxSection))})
	}
	if len(v.Evidence) > 0 {
		p.Blocks = append(p.Blocks, slackBlock{Type: "divider"})
		p.Blocks = append(p.Blocks, slackBlock{Type: "section", Text: ptr(md(fmt.Sprintf("*Evidence* (%d of %d records)", len(v.Evidence), v.Total), slackMaxSection))})
		for _, e := range v.Evidence {
			var b strings.Builder
			b.WriteString("• " + mrkdwn(e.Line()))
			for _, d := range e.Details() {
				b.WriteString("\n      " + mrkdwn(d))
			}
			p.Blocks = append(p.Blocks, slackBlock{Type: "section", Text: ptr(md(b.String(), slackMaxSection))})
		}
		if v.More > 0 {
			p.Blocks = append(p.Blocks, slackBlock{Type: "context", Elements: []slackText{md(fmt.Sprintf("… and %d more records", v.More), slackMaxSection)}})
		}
	}
	if v.Remediation != "" {
		p.Blocks = append(p.Blocks, slackBlock{Type: "section", Text: ptr(md("*Remediation*\n"+mrkdwn(v.Remediation), slackMaxSection))})
	}
	p.Blocks = append(p.Blocks, slackBlock{Type: "context", Elements: []slackText{md("alert "+mrkdwn(v.ID), 300)}})
	return p
}

func ptr[T any](v T) *T { return &v }
