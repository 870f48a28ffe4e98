package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/trailalarm/trailalarm/internal/alert"
)

// The webhook signature scheme. The body is the alert JSON. With the shared secret:
//
//	X-Trailalarm-Id:        the alert id (the same on every retry: deduplicate on it)
//	X-Trailalarm-Timestamp: Unix seconds when this attempt was signed
//	X-Trailalarm-Signature: "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body))
//
// A receiver recomputes the HMAC over the raw body bytes, compares in constant time, and
// rejects timestamps too far from its clock (replays). VerifySignature does all three.
const (
	HeaderID        = "X-Trailalarm-Id"
	HeaderTimestamp = "X-Trailalarm-Timestamp"
	HeaderSignature = "X-Trailalarm-Signature"
)

// MinSecretLength is the shortest signing secret accepted, in bytes.
const MinSecretLength = 16

// WebhookConfig configures the generic webhook notifier.
type WebhookConfig struct {
	Name    string            `yaml:"name"`    // default "webhook"
	URL     string            `yaml:"url"`     // required; https (http only to localhost)
	Secret  string            `yaml:"secret"`  // required, at least MinSecretLength bytes; from the environment
	Headers map[string]string `yaml:"headers"` // extra request headers (e.g. an API key)
	Timeout time.Duration     `yaml:"timeout"` // per attempt; default DefaultTimeout
	// HTTPClient replaces the default client (tests, proxies); not part of the YAML.
	HTTPClient *http.Client `yaml:"-"`
	// Now is the clock for timestamps; default time.Now. Not part of the YAML.
	Now func() time.Time `yaml:"-"`
}

// Webhook POSTs the alert JSON, signed, to a URL.
type Webhook struct {
	name    string
	u       *url.URL
	secret  []byte
	header  http.Header
	timeout time.Duration
	client  *http.Client
	now     func() time.Time
}

// NewWebhook checks c.
func NewWebhook(c WebhookConfig) (*Webhook, error) {
	u, err := checkURL("url", c.URL)
	if err != nil {
		return nil, fmt.Errorf("webhook notifier: %w", err)
	}
	if len(c.Secret) < MinSecretLength {
		return nil, fmt.Errorf("webhook notifier: secret must be at least %d bytes (set it from the environment, e.g. secret: ${TRAILALARM_WEBHOOK_SECRET})", MinSecretLength)
	}
	h := http.Header{}
	for k, v := range c.Headers {
		ck := http.CanonicalHeaderKey(k)
		if strings.HasPrefix(ck, "X-Trailalarm-") || ck == "Content-Type" || ck == "Content-Length" || ck == "Host" {
			return nil, fmt.Errorf("webhook notifier: header %q is set by trailalarm", k)
		}
		if strings.ContainsAny(k+v, "\r\n") {
			return nil, fmt.Errorf("webhook notifier: header %q contains a line break", k)
		}
		h.Set(ck, v)
	}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "trailalarm")
	now := c.Now
	if now == nil {
		now = time.Now
	}
	return &Webhook{name: or(c.Name, "webhook"), u: u, secret: []byte(c.Secret), header: h, timeout: c.Timeout, client: httpClient(c.HTTPClient), now: now}, nil
}

func (w *Webhook) Name() string { return w.name }

// Notify posts the alert. 2xx is success; 408, 429 and 5xx are retryable; other 4xx permanent.
func (w *Webhook) Notify(ctx context.Context, a *alert.Alert) error {
	line, err := jsonLine(a)
	if err != nil {
		return err
	}
	body := line[:len(line)-1]
	ts := strconv.FormatInt(w.now().Unix(), 10)
	h := w.header.Clone()
	h.Set(HeaderID, a.ID)
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderSignature, Sign(w.secret, ts, body))
	ctx, cancel := withTimeout(ctx, w.timeout)
	defer cancel()
	if err := post(ctx, w.client, w.u, h, body); err != nil {
		return fmt.Errorf("%s: %w", w.name, err)
	}
	return nil
}

// Sign returns the X-Trailalarm-Signature value for a timestamp and body.
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Errors of VerifySignature.
var (
	ErrBadSignature = errors.New("webhook signature does not match")
	ErrStale        = errors.New("webhook timestamp outside the allowed window")
)

// VerifySignature checks a delivery for receivers: signature is the X-Trailalarm-Signature
// header, timestamp the X-Trailalarm-Timestamp header, body the raw request body; the
// timestamp must be within tolerance of now (5 minutes is usual; zero skips the check).
func VerifySignature(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not Unix seconds", ErrBadSignature, timestamp)
	}
	// Compare before the clock check so that a forged request learns nothing from the answer.
	if !hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature)) {
		return ErrBadSignature
	}
	if tolerance > 0 {
		if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
			return ErrStale
		}
	}
	return nil
}
