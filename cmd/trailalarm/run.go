package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/spf13/cobra"

	"github.com/trailalarm/trailalarm/internal/awsconf"
	"github.com/trailalarm/trailalarm/internal/config"
	"github.com/trailalarm/trailalarm/internal/notify"
	"github.com/trailalarm/trailalarm/internal/rules"
	runner "github.com/trailalarm/trailalarm/internal/run"
	"github.com/trailalarm/trailalarm/internal/server"
	"github.com/trailalarm/trailalarm/internal/source"
)

func newRunCmd() *cobra.Command {
	var configPath, logFormat string
	cmd := &cobra.Command{
		Use:   "run [--config trailalarm.yaml]",
		Short: "Watch CloudTrail as it arrives and alert, with evidence, when a rule's alarm fires",
		Long: `Run trailalarm as a service: read CloudTrail as it arrives (a folder, S3, SQS notifications,
a CloudWatch Logs log group), evaluate the rules and their CloudWatch alarms as event time
advances, and tell people — who did what, when, from where — through the configured notifiers.

Every file or batch is committed to the store together with its checkpoint, the alarm state and
the alerts it raised, and alerts are delivered from the store's outbox with retries: killing
trailalarm at any moment and starting it again loses nothing and delivers no alert twice to a
receiver that acknowledged it. SIGTERM or Ctrl-C finish the file in hand and stop.

Without --config, ./trailalarm.yaml is used if it exists; otherwise trailalarm watches
./cloudtrail/, stores its state in ./trailalarm.db, prints alerts to stdout as JSON lines and
serves /healthz and /metrics on 127.0.0.1:8089. See 'trailalarm config validate' and the README
for the configuration.`,
		Example: `  trailalarm run
  trailalarm run --config /etc/trailalarm/trailalarm.yaml --log-format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadRunConfig(configPath, cmd.ErrOrStderr())
			if err != nil {
				return &exitCodeError{code: exitError, err: err}
			}
			if logFormat != "" {
				if logFormat != "json" && logFormat != "text" {
					return usageError(cmd, fmt.Sprintf("--log-format %q: use json or text", logFormat))
				}
				cfg.Log.Format = logFormat
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if err := runService(ctx, cfg, cmd.OutOrStdout(), cmd.ErrOrStderr()); err != nil {
				return &exitCodeError{code: exitError, err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "the configuration `FILE` (default ./trailalarm.yaml if it exists)")
	cmd.Flags().StringVar(&logFormat, "log-format", "", "log format on stderr: json or text (overrides the configuration)")
	return cmd
}

func loadRunConfig(path string, stderr io.Writer) (*config.Config, error) {
	if path == "" {
		if _, err := os.Stat("trailalarm.yaml"); err != nil {
			return config.Default(), nil
		}
		path = "trailalarm.yaml"
	}
	return config.Load(path)
}

// runService builds the runner from the configuration and runs it until ctx ends.
func runService(ctx context.Context, cfg *config.Config, stdout, stderr io.Writer) error {
	log := newLogger(cfg.Log, stderr)
	selected, err := selectRules(cfg.Rules.Packs, cfg.Rules.Files)
	if err != nil {
		return err
	}
	if len(cfg.Rules.Allow) > 0 {
		if selected, err = applyAllowLists(selected, cfg.Rules.Allow); err != nil {
			return err
		}
	}
	if selected, err = bindParams(stderr, selected, cfg.ParamValues(), "params:"); err != nil {
		return err
	}
	st, err := openStore(ctx, cfg.Store)
	if err != nil {
		return err
	}
	defer st.Close()

	awsCfg := func() (aws.Config, error) {
		c, err := awsconf.Load(ctx, awsconf.Options{Region: cfg.AWS.Region, Profile: cfg.AWS.Profile, EndpointURL: cfg.AWS.EndpointURL})
		return c, awsconf.Explain(err)
	}
	// Sources report problems to the runner's metrics once it exists; it is built after them.
	var r *runner.Runner
	onError := func(p *source.Problem) {
		if r != nil {
			r.Problem(p)
			return
		}
		log.Warn("source problem", "source", p.Source, "kind", p.Kind, "input", p.Input, "err", p.Err)
	}
	var sources []source.Live
	defer func() {
		for _, s := range sources {
			s.Close()
		}
	}()
	for _, sc := range cfg.Sources {
		s, err := newLiveSource(ctx, sc, cfg, awsCfg, onError)
		if err != nil {
			return fmt.Errorf("source %s: %w", sc.Name, err)
		}
		sources = append(sources, s)
	}
	var notifiers []notify.Notifier
	for _, nc := range cfg.Notifiers {
		n, err := newNotifier(ctx, nc, cfg, stdout)
		if err != nil {
			return fmt.Errorf("notifier %s: %w", nc.Name, err)
		}
		notifiers = append(notifiers, n)
	}
	r, err = runner.New(ctx, runner.Options{Config: cfg, Rules: selected, Store: st, Sources: sources, Notifiers: notifiers, Log: log})
	if err != nil {
		return err
	}
	if cfg.Server.Listen != "off" {
		// The dashboard and API; the runner's /metrics and /healthz are mounted in it, and it
		// checks the token itself (Bearer header or login cookie).
		h := server.New(server.Options{Store: st, Rules: selected, Token: cfg.Server.Token, Metrics: r.Handler(), Health: r.Handler()})
		srv, err := serve(cfg.Server, h, log)
		if err != nil {
			return err
		}
		defer srv.Shutdown(context.Background())
	}
	log.Info("trailalarm run started", "rules", len(selected), "sources", len(sources), "notifiers", len(notifiers), "store", storeName(cfg.Store))
	err = r.Run(ctx)
	log.Info("trailalarm run stopped")
	return err
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func newLiveSource(ctx context.Context, sc config.Source, cfg *config.Config, awsCfg func() (aws.Config, error), onError func(*source.Problem)) (source.Live, error) {
	switch sc.Kind() {
	case "folder":
		return source.NewFolder(source.FolderConfig{Path: sc.Folder, Rescan: sc.PollInterval.D(), OnError: onError})
	case "s3":
		loc, err := source.ParseS3URL(sc.S3)
		if err != nil {
			return nil, err
		}
		c, err := awsCfg()
		if err != nil {
			return nil, err
		}
		return source.NewS3Poll(source.S3PollConfig{Client: s3Client(c, cfg.AWS.EndpointURL), Location: loc, Accounts: set(sc.Accounts),
			Regions: set(sc.Regions), Interval: sc.PollInterval.D(), OnError: onError}), nil
	case "sqs":
		c, err := awsCfg()
		if err != nil {
			return nil, err
		}
		return source.NewSQS(source.SQSConfig{SQS: sqs.NewFromConfig(c), S3: s3Client(c, cfg.AWS.EndpointURL), QueueURL: sc.SQS, Visibility: sc.VisibilityTimeout.D(), OnError: onError}), nil
	case "cloudwatchLogs":
		c, err := awsCfg()
		if err != nil {
			return nil, err
		}
		return source.NewLogs(source.LogsConfig{Client: cloudwatchlogs.NewFromConfig(c), Group: sc.CloudWatchLogs, Interval: sc.PollInterval.D(), OnError: onError}), nil
	}
	return nil, errors.New("no input given")
}

func s3Client(c aws.Config, endpoint string) *s3.Client {
	return s3.NewFromConfig(c, func(o *s3.Options) {
		o.UsePathStyle = endpoint != ""
		o.DisableLogOutputChecksumValidationSkipped = true
	})
}

func newNotifier(ctx context.Context, nc config.Notifier, cfg *config.Config, stdout io.Writer) (notify.Notifier, error) {
	awsc := notify.AWSConfig{Region: firstSet(nc.Region, cfg.AWS.Region), Profile: cfg.AWS.Profile, EndpointURL: cfg.AWS.EndpointURL}
	switch nc.Type {
	case "stdout":
		return notify.NewWriter(nc.Name, stdout), nil
	case "file":
		return notify.NewFile(notify.FileConfig{Name: nc.Name, Path: nc.Path})
	case "sns":
		return notify.NewSNS(ctx, notify.SNSConfig{Name: nc.Name, TopicARN: nc.TopicARN, AWS: awsc})
	case "slack":
		return notify.NewSlack(notify.SlackConfig{Name: nc.Name, WebhookURL: nc.URL})
	case "webhook":
		return notify.NewWebhook(notify.WebhookConfig{Name: nc.Name, URL: nc.URL, Secret: nc.Secret})
	case "email":
		host, portText, err := net.SplitHostPort(nc.SMTP)
		if err != nil {
			return nil, fmt.Errorf("smtp %q: write HOST:PORT", nc.SMTP)
		}
		port, err := strconv.Atoi(portText)
		if err != nil {
			return nil, fmt.Errorf("smtp %q: the port is not a number", nc.SMTP)
		}
		tlsMode := "starttls"
		if nc.Insecure {
			tlsMode = "opportunistic"
		}
		return notify.NewEmail(notify.EmailConfig{Name: nc.Name, Host: host, Port: port, From: nc.From, To: nc.To,
			Username: nc.Username, Password: nc.Password, TLS: tlsMode})
	case "securityhub":
		return notify.NewSecurityHub(ctx, notify.SecurityHubConfig{Name: nc.Name, AWS: awsc})
	}
	return nil, fmt.Errorf("unknown notifier type %q", nc.Type)
}

func firstSet(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// serve starts the HTTP server. Anything but /healthz needs the token when one is set; without
// a token the server only listens on a loopback address.
func serve(c config.Server, h http.Handler, log *slog.Logger) (*http.Server, error) {
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return nil, fmt.Errorf("server.listen %q: %w", c.Listen, err)
	}
	if ip := net.ParseIP(host); c.Token == "" && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("server.listen %s is not a loopback address: set server.token (from ${ENV}) to protect it, or listen on 127.0.0.1", c.Listen)
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w (set server.listen to another address, or off)", c.Listen, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second} // h checks the token (server.New)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("server stopped", "err", err)
		}
	}()
	log.Info("serving the dashboard, /api/v1/, /healthz and /metrics", "address", ln.Addr().String())
	return srv, nil
}

func requireToken(token string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != "" && r.URL.Path != "/healthz" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || !constantTimeEqual(got, token) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="trailalarm"`)
				http.Error(w, "a bearer token is required", http.StatusUnauthorized)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// applyAllowLists adds the configuration's allow-lists (rule id → filter patterns) to the rules.
func applyAllowLists(rs []*rules.Rule, allow map[string][]string) ([]*rules.Rule, error) {
	for id, patterns := range allow {
		for _, p := range patterns {
			a, err := rules.NewAllowPattern(p)
			if err != nil {
				return nil, fmt.Errorf("rules.allow[%q]: %w", id, err)
			}
			if err := rules.AddAllow(rs, id, a); err != nil {
				return nil, fmt.Errorf("rules.allow: %w", err)
			}
		}
	}
	return rs, nil
}
