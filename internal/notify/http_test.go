package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailalarm/trailalarm/internal/alert"
)

// receiver is a local HTTP server that records requests and answers with the next status.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	bodies   [][]byte
	headers  []http.Header
	statuses []int // answered in turn; then 200
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, b)
		r.headers = append(r.headers, req.Header.Clone())
		code := 200
		if len(r.statuses) > 0 {
			code, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		if code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "7")
		}
		w.WriteHeader(code)
		if code == 200 {
			io.WriteString(w, "ok")
		} else {
			io.WriteString(w, "invalid_payload")
		}
	}))
	t.Cleanup(r.Close)
	return r
}

// closedURL is an address where nothing listens.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestSlack(t *testing.T) {
	r := newReceiver(t)
	s, err := NewSlack(SlackConfig{WebhookURL: r.URL + "/services/T000/B000/SECRETTOKEN"})
	if err != nil {
		t.Fatal(err)
	}
	a := hostileAlert(25)
	if err := s.Notify(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	body := r.bodies[0]
	if r.headers[0].Get("Content-Type") != "application/json; charset=utf-8" {
		t.Error("content type", r.headers[0])
	}
	var p struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type   string                       `json:"type"`
			Text   *struct{ Type, Text string } `json:"text"`
			Fields []struct {
				Type, Text string
				Verbatim   bool
			} `json:"fields"`
			Elements []struct{ Type, Text string } `json:"elements"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Blocks) > 50 || len(body) > 40000 {
		t.Errorf("%d blocks, %d bytes: over Slack's limits", len(p.Blocks), len(body))
	}
	if p.Blocks[0].Type != "header" || p.Blocks[0].Text.Type != "plain_text" || p.Blocks[0].Text.Text != "[HIGH] ALARM: CloudTrail configuration changes & more" {
		t.Errorf("header %+v", p.Blocks[0])
	}
	var all []string // every mrkdwn text
	all = append(all, p.Text)
	for _, b := range p.Blocks[1:] {
		if b.Text != nil {
			all = append(all, b.Text.Text)
			if len([]rune(b.Text.Text)) > slackMaxSection {
				t.Errorf("section of %d characters", len([]rune(b.Text.Text)))
			}
		}
		for _, f := range b.Fields {
			all = append(all, f.Text)
			if !f.Verbatim {
				t.Error("field not verbatim")
			}
		}
		for _, e := range b.Elements {
			all = append(all, e.Text)
		}
	}
	joined := strings.Join(all, "\n")
	for _, bad := range []string{"<script>", "<!channel>", "<!here>", "<@U123>", "<https://", "*bold*", "_it_", "~gone~", "`code`", "\nInjected:", "\n> quote", "\r"} {
		if strings.Contains(joined, bad) {
			t.Errorf("Slack message carries %q unescaped", bad)
		}
	}
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;!channel&gt;", "&amp;amp;", "eve&lt;!here&gt;\u200b*\u200bx\u200b*\u200b",
		"\u200b*\u200bbold\u200b*\u200b", "*Reason*\nThreshold Crossed", "*Evidence* (10 of 25 records)", "… and 15 more records",
		"*Remediation*", "alert " + a.ID, "*Rule*\ncis-1.2:3.5",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("Slack message lacks %q", want)
		}
	}
}

func TestSlackErrors(t *testing.T) {
	ctx := context.Background()
	a := hostileAlert(1)
	for _, c := range []struct {
		status    int
		permanent bool
	}{{400, true}, {403, true}, {404, true}, {410, true}, {429, false}, {500, false}, {503, false}} {
		r := newReceiver(t, c.status)
		s, _ := NewSlack(SlackConfig{WebhookURL: r.URL + "/services/SECRETTOKEN"})
		err := s.Notify(ctx, a)
		mustPermanent(t, err, c.permanent)
		var se *StatusError
		if !errors.As(err, &se) || se.Code != c.status {
			t.Errorf("%d: %v", c.status, err)
		}
		if c.status == 429 && RetryAfter(err) != 7*time.Second {
			t.Errorf("Retry-After %v", RetryAfter(err))
		}
		if strings.Contains(err.Error(), "SECRETTOKEN") {
			t.Errorf("error leaks the webhook URL: %v", err)
		}
	}
	// Nothing listening: retryable, and the secret path stays out of the error.
	s, _ := NewSlack(SlackConfig{WebhookURL: closedURL(t) + "/services/SECRETTOKEN"})
	err := s.Notify(ctx, a)
	mustPermanent(t, err, false)
	if strings.Contains(err.Error(), "SECRETTOKEN") || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("unreachable: %v", err)
	}
	// A slow receiver: the timeout ends the attempt, retryably.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(2 * time.Second) }))
	defer slow.Close()
	s, _ = NewSlack(SlackConfig{WebhookURL: slow.URL, Timeout: 100 * time.Millisecond})
	mustPermanent(t, s.Notify(ctx, a), false)
}

func TestHTTPConfig(t *testing.T) {
	for _, c := range []struct {
		url, want string
	}{
		{"", "webhook_url is required"},
		{"hooks.slack.com/services/x", "not an absolute URL"},
		{"http://hooks.slack.com/services/x", "must use https"},
		{"ftp://127.0.0.1/x", "must be an https URL"},
	} {
		if _, err := NewSlack(SlackConfig{WebhookURL: c.url}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("slack %q: %v, want %q", c.url, err, c.want)
		}
	}
	for _, c := range []struct {
		cfg  WebhookConfig
		want string
	}{
		{WebhookConfig{Secret: "0123456789abcdef"}, "url is required"},
		{WebhookConfig{URL: "https://example.com/hook", Secret: "short"}, "secret must be at least 16 bytes"},
		{WebhookConfig{URL: "https://example.com/hook", Secret: "0123456789abcdef", Headers: map[string]string{"x-trailalarm-signature": "x"}}, "set by trailalarm"},
		{WebhookConfig{URL: "https://example.com/hook", Secret: "0123456789abcdef", Headers: map[string]string{"X-Key": "a\r\nB: c"}}, "line break"},
	} {
		_, err := NewWebhook(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("webhook %+v: %v, want %q", c.cfg, err, c.want)
		}
		if err != nil && c.cfg.Secret != "" && strings.Contains(err.Error(), c.cfg.Secret) {
			t.Errorf("error shows the secret: %v", err)
		}
	}
	if _, err := NewSlack(SlackConfig{WebhookURL: "https://hooks.slack.com/services/T/B/x"}); err != nil {
		t.Error(err)
	}
}

func TestWebhook(t *testing.T) {
	secret := "a-secret-of-32-bytes-for-testing"
	now := time.Unix(1767225900, 0)
	var got struct {
		body []byte
		h    http.Header
	}
	// The receiver verifies the way the README tells users to.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got.body, got.h = body, r.Header.Clone()
		err := VerifySignature([]byte(secret), r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature), body, now.Add(time.Minute), 5*time.Minute)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	w, err := NewWebhook(WebhookConfig{URL: srv.URL + "/hook", Secret: secret, Headers: map[string]string{"Authorization": "Bearer t"}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	a := hostileAlert(2)
	if err := w.Notify(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if got.h.Get(HeaderID) != a.ID || got.h.Get(HeaderTimestamp) != "1767225900" || got.h.Get("Authorization") != "Bearer t" || got.h.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", got.h)
	}
	if !strings.HasPrefix(got.h.Get(HeaderSignature), "sha256=") || len(got.h.Get(HeaderSignature)) != 7+64 {
		t.Errorf("signature %q", got.h.Get(HeaderSignature))
	}
	var back alert.Alert
	if err := json.Unmarshal(got.body, &back); err != nil || back.ID != a.ID || back.Evidence[0].UserAgent != hostileUA {
		t.Errorf("body: %v %+v", err, back.ID)
	}
	if strings.Contains(string(got.body), "<script>") {
		t.Error("body carries raw markup; json.Marshal should escape it")
	}

	// A wrong secret, a changed body, a stale timestamp: the receiver rejects, permanently.
	ts, sig := got.h.Get(HeaderTimestamp), got.h.Get(HeaderSignature)
	if err := VerifySignature([]byte("another-secret-16b"), ts, sig, got.body, now, time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Errorf("wrong secret: %v", err)
	}
	if err := VerifySignature([]byte(secret), ts, sig, append(got.body, ' '), now, time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Errorf("changed body: %v", err)
	}
	if err := VerifySignature([]byte(secret), "1767225901", sig, got.body, now, time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Errorf("changed timestamp: %v", err)
	}
	if err := VerifySignature([]byte(secret), ts, sig, got.body, now.Add(10*time.Minute), 5*time.Minute); !errors.Is(err, ErrStale) {
		t.Errorf("stale: %v", err)
	}
	if err := VerifySignature([]byte(secret), "x", sig, got.body, now, 0); !errors.Is(err, ErrBadSignature) {
		t.Errorf("bad timestamp: %v", err)
	}
	// The scheme is exactly HMAC-SHA256(secret, "ts.body") in hex.
	if got := Sign([]byte("key"), "1", []byte("{}")); got != "sha256=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224" {
		t.Errorf("Sign = %s", got)
	}

	bad, _ := NewWebhook(WebhookConfig{URL: srv.URL, Secret: "wrong-secret-wrong-secret", Now: func() time.Time { return now }})
	mustPermanent(t, bad.Notify(context.Background(), a), true)

	for _, c := range []struct {
		status    int
		permanent bool
	}{{400, true}, {422, true}, {408, false}, {429, false}, {500, false}, {502, false}} {
		r := newReceiver(t, c.status)
		w, _ := NewWebhook(WebhookConfig{URL: r.URL, Secret: secret})
		mustPermanent(t, w.Notify(context.Background(), a), c.permanent)
	}
	w, _ = NewWebhook(WebhookConfig{URL: closedURL(t), Secret: secret})
	mustPermanent(t, w.Notify(context.Background(), a), false)
	// A redirect is not followed (the body would go where the operator did not choose).
	redir := httptest.NewServer(http.RedirectHandler("http://127.0.0.1:1/elsewhere", http.StatusFound))
	defer redir.Close()
	w, _ = NewWebhook(WebhookConfig{URL: redir.URL, Secret: secret})
	if err := w.Notify(context.Background(), a); err == nil {
		t.Error("a redirect counted as delivered")
	}
}
