package notify

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// mailpitVersion is the SMTP server of the tests. Its SMTP code is internal to its module, so
// the tests build its binary from the module cache (about 1.5 minutes the first time, cached
// by the Go build cache afterwards) and run it on loopback ports.
const mailpitVersion = "v1.33.1"

var (
	mailpitOnce sync.Once
	mailpitBin  string
	mailpitErr  error
	mailpitMu   sync.Mutex
	mailpitCmds []*exec.Cmd
)

func buildMailpit() {
	dir, err := os.MkdirTemp("", "trailalarm-mailpit-")
	if err != nil {
		mailpitErr = err
		return
	}
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/axllent/mailpit@"+mailpitVersion).Output()
	if err != nil {
		mailpitErr = fmt.Errorf("go mod download mailpit: %v", err)
		return
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		mailpitErr = fmt.Errorf("go mod download mailpit: %s", out)
		return
	}
	bin := filepath.Join(dir, "mailpit")
	// Build inside the module so that its own go.mod and go.sum choose its dependencies.
	cmd := exec.Command("go", "-C", mod.Dir, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		mailpitErr = fmt.Errorf("build mailpit: %v\n%s", err, out)
		return
	}
	mailpitBin = bin
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// mailpit is one running server: SMTP on smtpPort, its API on api.
type mailpit struct {
	smtpPort int
	api      string
	caFile   string
}

// startMailpit runs a mailpit. With tls, it offers STARTTLS with a certificate for 127.0.0.1
// (signed by caFile), requires it, and requires AUTH as user "alerts", password "s3cret".
func startMailpit(t *testing.T, tls bool) *mailpit {
	t.Helper()
	mailpitOnce.Do(buildMailpit)
	if mailpitErr != nil {
		if testing.Short() {
			t.Skip(mailpitErr)
		}
		t.Fatal(mailpitErr)
	}
	dir := t.TempDir()
	m := &mailpit{smtpPort: freePort(t)}
	httpPort := freePort(t)
	m.api = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	args := []string{
		"--smtp", fmt.Sprintf("127.0.0.1:%d", m.smtpPort), "--listen", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--database", filepath.Join(dir, "mailpit.db"), "--disable-version-check", "--smtp-disable-rdns", "--quiet",
	}
	if tls {
		cert, key := selfSigned(t, dir)
		m.caFile = cert
		auth := filepath.Join(dir, "auth")
		os.WriteFile(auth, []byte("alerts:s3cret\n"), 0o600)
		args = append(args, "--smtp-tls-cert", cert, "--smtp-tls-key", key, "--smtp-require-starttls", "--smtp-auth-file", auth)
	} else {
		args = append(args, "--smtp-auth-accept-any", "--smtp-auth-allow-insecure")
	}
	var logs bytes.Buffer
	cmd := exec.Command(mailpitBin, args...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	mailpitMu.Lock()
	mailpitCmds = append(mailpitCmds, cmd)
	mailpitMu.Unlock()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(m.api + "/api/v1/messages")
		if err == nil {
			resp.Body.Close()
			if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", m.smtpPort)); err == nil {
				c.Close()
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit did not start:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return m
}

func stopMailpits() {
	mailpitMu.Lock()
	defer mailpitMu.Unlock()
	for _, c := range mailpitCmds {
		syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		c.Wait()
	}
	if mailpitBin != "" {
		os.RemoveAll(filepath.Dir(mailpitBin))
	}
}

func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "trailalarm test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

// received is a message as mailpit stored it, parsed from its raw source.
type received struct {
	header      mail.Header
	text, html  string
	contentType string
}

func (m *mailpit) messages(t *testing.T) []received {
	t.Helper()
	var list struct {
		Messages []struct{ ID string } `json:"messages"`
	}
	getJSON(t, m.api+"/api/v1/messages", &list)
	var out []received
	for _, msg := range list.Messages {
		resp, err := http.Get(m.api + "/api/v1/message/" + msg.ID + "/raw")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		pm, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("parse message: %v\n%s", err, raw)
		}
		r := received{header: pm.Header, contentType: pm.Header.Get("Content-Type")}
		mt, params, err := mime.ParseMediaType(r.contentType)
		if err != nil || mt != "multipart/alternative" {
			t.Fatalf("content type %q", r.contentType)
		}
		mr := multipart.NewReader(pm.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(p) // multipart decodes quoted-printable
			switch ct := p.Header.Get("Content-Type"); ct {
			case "text/plain; charset=utf-8":
				r.text = string(b)
			case "text/html; charset=utf-8":
				r.html = string(b)
			default:
				t.Errorf("part %q", ct)
			}
		}
		// Raw lines must respect SMTP's limit whatever the values.
		for _, l := range strings.Split(string(raw), "\n") {
			if len(l) > 998 {
				t.Errorf("raw line of %d bytes", len(l))
			}
		}
		out = append(out, r)
	}
	return out
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestEmail(t *testing.T) {
	m := startMailpit(t, true)
	now := time.Date(2026, 1, 1, 0, 6, 0, 0, time.UTC)
	e, err := NewEmail(EmailConfig{
		Host: "127.0.0.1", Port: m.smtpPort, From: "trailalarm <alerts@example.com>", To: []string{"sec@example.com", "Ops <ops@example.com>"},
		Username: "alerts", Password: "s3cret", CAFile: m.caFile, Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	a := hostileAlert(25)
	if err := e.Notify(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	msgs := m.messages(t)
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	r := msgs[0]
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(r.header.Get("Subject"))
	h := r.header
	if subject != a.Subject(200) || h.Get("Message-Id") != "<"+a.ID+"@example.com>" || h.Get("X-Trailalarm-Id") != a.ID ||
		h.Get("From") != `"trailalarm" <alerts@example.com>` || h.Get("To") != `<sec@example.com>, "Ops" <ops@example.com>` ||
		h.Get("Auto-Submitted") != "auto-generated" || h.Get("Date") != "Thu, 01 Jan 2026 00:06:00 +0000" {
		t.Errorf("headers: subject %q\n%v", subject, h)
	}
	// The injected header line stayed inside the subject or body, never a header of its own.
	if h.Get("Injected") != "" {
		t.Error("header injection")
	}
	for _, want := range []string{"Evidence (20 of 25 records):", "eve<!here>*x* called StopLogging", "<script>alert(1)</script>", "Remediation: Check who"} {
		if !strings.Contains(r.text, want) {
			t.Errorf("text part lacks %q", want)
		}
	}
	for _, bad := range []string{"<script>", "<!channel>", "<!here>", "<https://", "<@U123>"} {
		if strings.Contains(r.html, bad) {
			t.Errorf("HTML part carries %q unescaped", bad)
		}
	}
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt;", "eve&lt;!here&gt;*x*", "&amp;amp;",
		"CloudTrail configuration changes &amp; more", "Evidence (20 of 25 records)", "and 5 more records", a.ID,
	} {
		if !strings.Contains(r.html, want) {
			t.Errorf("HTML part lacks %q", want)
		}
	}

	// Wrong password: the server's 535 is permanent.
	bad, _ := NewEmail(EmailConfig{Host: "127.0.0.1", Port: m.smtpPort, From: "a@example.com", To: []string{"b@example.com"}, Username: "alerts", Password: "wrong", CAFile: m.caFile})
	err = bad.Notify(context.Background(), a)
	mustPermanent(t, err, true)
	if strings.Contains(err.Error(), "wrong") && !strings.Contains(err.Error(), "535") {
		t.Errorf("error %v", err)
	}
	// An untrusted certificate (no ca_file): refused, never sent in the clear.
	untrusted, _ := NewEmail(EmailConfig{Host: "127.0.0.1", Port: m.smtpPort, From: "a@example.com", To: []string{"b@example.com"}})
	if err := untrusted.Notify(context.Background(), a); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted certificate: %v", err)
	}
	if n := len(m.messages(t)); n != 1 {
		t.Errorf("%d messages after the failures, want 1", n)
	}
}

func TestEmailPlaintextServer(t *testing.T) {
	m := startMailpit(t, false)
	a := hostileAlert(1)
	// STARTTLS is required by default: a server without it gets nothing.
	strict, _ := NewEmail(EmailConfig{Host: "127.0.0.1", Port: m.smtpPort, From: "a@example.com", To: []string{"b@example.com"}})
	err := strict.Notify(context.Background(), a)
	mustPermanent(t, err, true)
	if !strings.Contains(err.Error(), "does not offer STARTTLS") {
		t.Error(err)
	}
	// Opportunistic (tests, local relays) sends in the clear; AUTH over plaintext goes only to localhost.
	loose, _ := NewEmail(EmailConfig{Host: "127.0.0.1", Port: m.smtpPort, From: "a@example.com", To: []string{"b@example.com"}, TLS: TLSOpportunistic, Username: "u", Password: "p"})
	if err := loose.Notify(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if n := len(m.messages(t)); n != 1 {
		t.Errorf("%d messages", n)
	}
}

func TestEmailErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  EmailConfig
		want string
	}{
		{EmailConfig{}, "host is required"},
		{EmailConfig{Host: "h", From: "not an address", To: []string{"b@example.com"}}, "from"},
		{EmailConfig{Host: "h", From: "a@example.com"}, "to needs at least one address"},
		{EmailConfig{Host: "h", From: "a@example.com", To: []string{"b@example.com", "x"}}, `to "x"`},
		{EmailConfig{Host: "h", From: "a@example.com", To: []string{"b@example.com"}, TLS: "none"}, "tls must be"},
		{EmailConfig{Host: "h", Port: 70000, From: "a@example.com", To: []string{"b@example.com"}}, "port 70000"},
		{EmailConfig{Host: "h", From: "a@example.com", To: []string{"b@example.com"}, Password: "p"}, "username is not"},
		{EmailConfig{Host: "h", From: "a@example.com", To: []string{"b@example.com"}, CAFile: "/nonexistent"}, "ca_file"},
	} {
		_, err := NewEmail(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
	// Nothing listening: retryable.
	port := freePort(t)
	e, _ := NewEmail(EmailConfig{Host: "127.0.0.1", Port: port, From: "a@example.com", To: []string{"b@example.com"}})
	err := e.Notify(context.Background(), hostileAlert(1))
	mustPermanent(t, err, false)
	// A server that greets and then says nothing: the timeout ends the attempt.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	e, _ = NewEmail(EmailConfig{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, From: "a@example.com", To: []string{"b@example.com"}, Timeout: 200 * time.Millisecond})
	start := time.Now()
	mustPermanent(t, e.Notify(context.Background(), hostileAlert(1)), false)
	if time.Since(start) > 5*time.Second {
		t.Error("timeout not applied")
	}
}
