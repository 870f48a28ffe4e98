// Package notify delivers one alert to one destination: stdout, a file, SNS, Slack, a signed
// webhook, SMTP email or Security Hub. Each Notifier makes one attempt and says whether a
// failure is worth retrying; retries, backoff and the outbox belong to the caller.
//
// Every value that comes from CloudTrail is untrusted: it is escaped for the receiver's markup
// (HTML, Slack mrkdwn), stripped of control characters in plain text and headers, and cut to
// the receiver's limits. Secrets (webhook URLs, signing keys, SMTP passwords) never appear in
// errors.
package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trailalarm/trailalarm/internal/alert"
)

// Notifier delivers alerts to one destination.
type Notifier interface {
	// Name identifies the destination (the configured name, else the kind), for logs, metrics
	// and the outbox.
	Name() string
	// Notify makes one delivery attempt. A nil error means the receiver accepted the alert;
	// otherwise IsPermanent says whether trying again can help. Safe for concurrent use.
	Notify(ctx context.Context, a *alert.Alert) error
}

// PermanentError is a failure that retrying the same alert cannot fix: the receiver rejected
// the request itself (a 4xx other than 408/429, an SMTP 5xx reply, an invalid AWS parameter).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying; nil stays nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err says that retrying cannot help. Everything else — network
// errors, timeouts, 5xx, 429, throttling — is retryable.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// StatusError is an HTTP receiver's answer other than 2xx.
type StatusError struct {
	Code       int           // the HTTP status
	Body       string        // the start of the response body, for the operator
	RetryAfter time.Duration // from a Retry-After header, zero if none
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("HTTP %d %s", e.Code, http.StatusText(e.Code))
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// RetryAfter returns how long the receiver asked to wait (an HTTP 429's Retry-After), or zero.
func RetryAfter(err error) time.Duration {
	var s *StatusError
	if errors.As(err, &s) {
		return s.RetryAfter
	}
	return 0
}

// permanentStatus: a 4xx means the request itself is wrong, except a timeout or rate limit.
func permanentStatus(code int) bool {
	return code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests
}

// DefaultTimeout bounds one delivery attempt when the context has no earlier deadline.
const DefaultTimeout = 30 * time.Second

func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		d = DefaultTimeout
	}
	return context.WithTimeout(ctx, d)
}

// clean makes an untrusted value safe for one line of plain text: control characters (newlines
// included) and bidirectional overrides become spaces, and it is cut to max runes (0: no limit).
func clean(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
			return ' '
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x2028, r == 0x2029:
			return ' '
		}
		return r
	}, s)
	return cut(s, max)
}

// cut shortens s to at most max runes, marking the cut with an ellipsis.
func cut(s string, max int) string {
	if max <= 0 || utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}

// or returns s, or def when s is empty.
func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// checkURL validates a receiver URL: https, or http only to a loopback host (tests, local
// relays), so that a secret URL or a signed body never crosses a network in the clear.
func checkURL(field, raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("%s is required", field)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%s is not an absolute URL", field)
	}
	switch u.Scheme {
	case "https":
	case "http":
		h := u.Hostname()
		if h != "localhost" && !strings.HasPrefix(h, "127.") && h != "::1" {
			return nil, fmt.Errorf("%s must use https (http is allowed only to localhost)", field)
		}
	default:
		return nil, fmt.Errorf("%s must be an https URL, not %q", field, u.Scheme)
	}
	return u, nil
}

// redact is a URL as it may appear in errors and logs: scheme and host, never the path or
// query, which for Slack and many webhooks is the secret.
func redact(u *url.URL) string { return u.Scheme + "://" + u.Host }

// post sends body to u and classifies the outcome. Errors name the host only.
func post(ctx context.Context, client *http.Client, u *url.URL, header http.Header, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(string(body)))
	if err != nil {
		return Permanent(fmt.Errorf("build request to %s: %v", redact(u), err))
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		// *url.Error carries the full URL; keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("post to %s: %w", redact(u), err)
	}
	defer resp.Body.Close()
	var buf [512]byte
	n, _ := io.ReadFull(resp.Body, buf[:])
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	se := &StatusError{Code: resp.StatusCode, Body: clean(string(buf[:n]), 200)}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if secs, err := strconv.Atoi(s); err == nil && secs >= 0 {
			se.RetryAfter = time.Duration(secs) * time.Second
		} else if t, err := http.ParseTime(s); err == nil {
			se.RetryAfter = max(time.Until(t), 0)
		}
	}
	err = fmt.Errorf("post to %s: %w", redact(u), se)
	if permanentStatus(resp.StatusCode) {
		return Permanent(err)
	}
	return err
}

var (
	_ Notifier = (*Writer)(nil)
	_ Notifier = (*File)(nil)
	_ Notifier = (*SNS)(nil)
	_ Notifier = (*Slack)(nil)
	_ Notifier = (*Webhook)(nil)
	_ Notifier = (*Email)(nil)
	_ Notifier = (*SecurityHub)(nil)
)
