package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/trailalarm/trailalarm/internal/alert"
)

// TLS modes of the email notifier.
const (
	TLSStartTLS      = "starttls"      // STARTTLS, required: refuse a server that does not offer it (default)
	TLSImplicit      = "implicit"      // TLS from the first byte (SMTPS, port 465)
	TLSOpportunistic = "opportunistic" // STARTTLS when offered, plaintext otherwise: local relays and tests only
)

// EmailConfig configures the SMTP notifier.
type EmailConfig struct {
	Name     string   `yaml:"name"`     // default "email"
	Host     string   `yaml:"host"`     // required
	Port     int      `yaml:"port"`     // default 587 (465 with tls: implicit)
	From     string   `yaml:"from"`     // required, an address ("trailalarm <alerts@example.com>")
	To       []string `yaml:"to"`       // required, one or more addresses
	Username string   `yaml:"username"` // AUTH PLAIN when set; only over TLS (or to localhost)
	Password string   `yaml:"password"` // a secret: from the environment
	TLS      string   `yaml:"tls"`      // starttls (default), implicit or opportunistic
	CAFile   string   `yaml:"ca_file"`  // PEM roots for the server's certificate; default the system's
	HeloName string   `yaml:"helo"`     // name in EHLO; default "localhost"
	// Timeout bounds one whole delivery; default DefaultTimeout.
	Timeout time.Duration `yaml:"timeout"`
	// Now is the clock for the Date header; default time.Now. Not part of the YAML.
	Now func() time.Time `yaml:"-"`
}

// Email sends each alert as one message (text and HTML alternatives) over SMTP.
type Email struct {
	name    string
	c       EmailConfig
	from    *mail.Address
	to      []*mail.Address
	tls     *tls.Config
	timeout time.Duration
	now     func() time.Time
}

// NewEmail checks c.
func NewEmail(c EmailConfig) (*Email, error) {
	fail := func(f string, a ...any) (*Email, error) {
		return nil, fmt.Errorf("email notifier: "+f, a...)
	}
	if c.Host == "" {
		return fail("host is required")
	}
	switch c.TLS {
	case "":
		c.TLS = TLSStartTLS
	case TLSStartTLS, TLSImplicit, TLSOpportunistic:
	default:
		return fail("tls must be %s, %s or %s, not %q", TLSStartTLS, TLSImplicit, TLSOpportunistic, c.TLS)
	}
	if c.Port == 0 {
		c.Port = 587
		if c.TLS == TLSImplicit {
			c.Port = 465
		}
	}
	if c.Port < 1 || c.Port > 65535 {
		return fail("port %d is out of range", c.Port)
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return fail("from %q is not an email address: %v", c.From, err)
	}
	if len(c.To) == 0 {
		return fail("to needs at least one address")
	}
	var to []*mail.Address
	for _, s := range c.To {
		a, err := mail.ParseAddress(s)
		if err != nil {
			return fail("to %q is not an email address: %v", s, err)
		}
		to = append(to, a)
	}
	if c.Password != "" && c.Username == "" {
		return fail("password is set but username is not")
	}
	tc := &tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return fail("ca_file: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fail("ca_file %s holds no PEM certificate", c.CAFile)
		}
		tc.RootCAs = pool
	}
	now := c.Now
	if now == nil {
		now = time.Now
	}
	return &Email{name: or(c.Name, "email"), c: c, from: from, to: to, tls: tc, timeout: c.Timeout, now: now}, nil
}

func (e *Email) Name() string { return e.name }

// Notify sends the message. SMTP 5xx replies and a server without the required STARTTLS are
// permanent errors; 4xx replies and network errors are retryable.
func (e *Email) Notify(ctx context.Context, a *alert.Alert) error {
	msg, err := e.message(a)
	if err != nil {
		return Permanent(fmt.Errorf("%s: %w", e.name, err))
	}
	ctx, cancel := withTimeout(ctx, e.timeout)
	defer cancel()
	if err := e.send(ctx, msg); err != nil {
		var tp *textproto.Error
		if errors.As(err, &tp) && tp.Code >= 500 {
			err = Permanent(err)
		}
		return fmt.Errorf("%s: %w", e.name, err)
	}
	return nil
}

func (e *Email) send(ctx context.Context, msg []byte) error {
	addr := net.JoinHostPort(e.c.Host, strconv.Itoa(e.c.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", addr, err)
	}
	defer conn.Close()
	// net/smtp has no context: the deadline bounds every read and write, and closing the
	// connection on cancel ends a blocked one.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if e.c.TLS == TLSImplicit {
		tc := tls.Client(conn, e.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("TLS with %s: %w", addr, err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, e.c.Host)
	if err != nil {
		return fmt.Errorf("SMTP greeting from %s: %w", addr, err)
	}
	defer c.Close()
	if err := c.Hello(or(e.c.HeloName, "localhost")); err != nil {
		return fmt.Errorf("EHLO to %s: %w", addr, err)
	}
	if e.c.TLS != TLSImplicit {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(e.tls); err != nil {
				return fmt.Errorf("STARTTLS with %s: %w", addr, err)
			}
		} else if e.c.TLS == TLSStartTLS {
			return Permanent(fmt.Errorf("%s does not offer STARTTLS; refusing to send in the clear (set tls: implicit for port 465)", addr))
		}
	}
	if e.c.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return Permanent(fmt.Errorf("%s does not offer AUTH, but a username is configured", addr))
		}
		// PlainAuth itself refuses to send the password without TLS, except to localhost.
		if err := c.Auth(smtp.PlainAuth("", e.c.Username, e.c.Password, e.c.Host)); err != nil {
			var tp *textproto.Error
			if !errors.As(err, &tp) {
				err = Permanent(err)
			}
			return fmt.Errorf("AUTH with %s: %w", addr, err)
		}
	}
	if err := c.Mail(e.from.Address); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, t := range e.to {
		if err := c.Rcpt(t.Address); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", t.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("end of DATA: %w", err)
	}
	_ = c.Quit() // the message is accepted once DATA ends with 250
	return nil
}

// message builds the RFC 5322 message: multipart/alternative with a quoted-printable text part
// and an HTML part in which html/template has escaped every value.
func (e *Email) message(a *alert.Alert) ([]byte, error) {
	v := newView(a, alert.MaxEvidence)
	var htmlBody bytes.Buffer
	if err := emailHTML.Execute(&htmlBody, v); err != nil {
		return nil, fmt.Errorf("render HTML: %w", err)
	}
	var b bytes.Buffer
	to := make([]string, len(e.to))
	for i, t := range e.to {
		to[i] = t.String()
	}
	domain := "trailalarm.invalid"
	if i := strings.LastIndexByte(e.from.Address, '@'); i >= 0 {
		domain = e.from.Address[i+1:]
	}
	hdr := func(k, val string) { fmt.Fprintf(&b, "%s: %s\r\n", k, val) }
	hdr("From", e.from.String())
	hdr("To", strings.Join(to, ", "))
	// Subject maps control characters to spaces; Q-encoding keeps non-ASCII intact.
	hdr("Subject", mime.QEncoding.Encode("utf-8", a.Subject(200)))
	hdr("Date", e.now().Format(time.RFC1123Z))
	// The same alert gives the same Message-ID: mail clients and archives show a retry as one.
	hdr("Message-ID", "<"+a.ID+"@"+domain+">")
	hdr("MIME-Version", "1.0")
	hdr("Auto-Submitted", "auto-generated") // RFC 3834: no vacation replies
	hdr("X-Trailalarm-Id", a.ID)
	hdr("X-Trailalarm-Severity", mime.QEncoding.Encode("utf-8", clean(strings.ToLower(a.Rule.Severity), 20)))
	hdr("X-Trailalarm-Rule", mime.QEncoding.Encode("utf-8", clean(a.Rule.ID, 200)))
	mw := multipart.NewWriter(&b)
	hdr("Content-Type", `multipart/alternative; boundary="`+mw.Boundary()+`"`)
	b.WriteString("\r\n")
	for _, part := range []struct{ ctype, body string }{
		{"text/plain; charset=utf-8", plainText(v)},
		{"text/html; charset=utf-8", htmlBody.String()},
	} {
		pw, err := mw.CreatePart(map[string][]string{
			"Content-Type":              {part.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		// Quoted-printable keeps every line under SMTP's 998-octet limit whatever the values.
		qw := quotedprintable.NewWriter(pw)
		if _, err := qw.Write([]byte(strings.ReplaceAll(part.body, "\n", "\r\n"))); err != nil {
			return nil, err
		}
		if err := qw.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var emailHTML = template.Must(template.New("alert").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family: sans-serif">
<h2>[{{.Severity}}] {{.To}}: {{.Title}}</h2>
<table cellpadding="3">
<tr><th align="left">Rule</th><td>{{.RuleID}}{{with .Pack}} ({{.}}){{end}}</td></tr>
<tr><th align="left">State</th><td>{{.From}} &rarr; {{.To}} at {{.Time}}{{if .Early}} (raised early){{end}}</td></tr>
{{with .Accounts}}<tr><th align="left">Accounts</th><td>{{.}}</td></tr>{{end}}
{{with .Regions}}<tr><th align="left">Regions</th><td>{{.}}</td></tr>{{end}}
{{with .Series}}<tr><th align="left">Series</th><td>{{.}}</td></tr>{{end}}
<tr><th align="left">Alert ID</th><td><code>{{.ID}}</code></td></tr>
</table>
{{with .Reason}}<h3>Reason</h3><p>{{.}}</p>{{end}}
{{if .Evidence}}<h3>Evidence ({{len .Evidence}} of {{.Total}} records)</h3>
<ol>{{range .Evidence}}
<li><b>{{.Principal}}</b>{{with .SourceIdentity}} (source identity {{.}}){{end}} called <b>{{.Event}}</b>{{with .Source}} on {{.}}{{end}} at {{.Time}}
<ul>{{range .Details}}<li>{{.}}</li>{{end}}</ul></li>{{end}}
</ol>{{if .More}}<p>&hellip; and {{.More}} more records</p>{{end}}{{end}}
{{with .Description}}<h3>About the rule</h3><p>{{.}}</p>{{end}}
{{with .Remediation}}<h3>Remediation</h3><p>{{.}}</p>{{end}}
{{with .References}}<h3>References</h3><ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
</body></html>
`))
