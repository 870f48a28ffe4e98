package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/jackc/pgx/v5"

	"github.com/trailalarm/trailalarm/internal/alarm"
	"github.com/trailalarm/trailalarm/internal/awsconf"
	"github.com/trailalarm/trailalarm/internal/generate"
	"github.com/trailalarm/trailalarm/internal/store"
	"github.com/trailalarm/trailalarm/internal/store/postgres"
	"github.com/trailalarm/trailalarm/internal/testutil/moto"
	pgtest "github.com/trailalarm/trailalarm/internal/testutil/postgres"
)

// lateness is the allowed lateness of the workers' test configuration: how far out of event-time
// order they may commit files (three workers, each with up to ten messages in hand, and the
// messages of a killed worker coming back after the visibility timeout).
const lateness = 4 * time.Hour

// seriesKey names a rule's metric series in comparisons: the rule and its dimensions, sorted.
func seriesKey(rule string, dims map[string]string) string {
	var kv []string
	for k, v := range dims {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return rule + "[" + strings.Join(kv, ",") + "]"
}

// seriesStart is the INSUFFICIENT_DATA -> OK with which a scan starts every series (from the
// first record) and a run does not (it starts a series at its first datapoint): comparisons of
// the two leave it out, and from-states too.
func seriesStart(from, to string) bool { return from == "INSUFFICIENT_DATA" && to == "OK" }

// TestRunWorkersShareQueue runs three `trailalarm run` processes on one SQS queue of S3
// notifications and one PostgreSQL store, kills one with SIGKILL midway and starts another:
// every object is processed, every alert is delivered exactly once, and the alarm transitions
// are those of one `trailalarm scan` of the same files.
func TestRunWorkersShareQueue(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs four workers for a minute or two")
	}
	ctx := context.Background()
	bin := filepath.Join(t.TempDir(), "trailalarm")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	endpoint := moto.Endpoint(t)
	dsn := pgtest.DSN(t)

	// A few hundred files in which the CIS alarms go in and out of ALARM.
	corpus := t.TempDir()
	sum, err := generate.WriteDir(ctx, corpus, generate.Options{Size: 15_000_000, Seed: 8, EventsPerFile: 40, InjectRate: 40,
		Accounts: []string{"111111111111", "222222222222"}, Regions: []string{"us-east-1"}})
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	filepath.Walk(corpus, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.HasSuffix(p, ".json.gz") {
			files = append(files, p)
		}
		return nil
	})
	// In delivery order: by the time in the name, then account.
	stamp := func(p string) string { b := filepath.Base(p); return b[strings.Index(b, "_us-east-1_")+11:] + b[:12] }
	sort.Slice(files, func(i, j int) bool { return stamp(files[i]) < stamp(files[j]) })
	if len(files) < 200 {
		t.Fatalf("%d files generated", len(files))
	}

	// The rules: the built-in CIS v1.4 pack as users deploy it (Sum >= 1), whose ALARMs `run`
	// raises early, at the event that makes the breach certain.
	const pack = "cis-1.4"

	// The expected transitions: one scan of the same files.
	code, out, errOut := runCLI(t, "", "scan", "--format", "json", "--pack", pack, corpus)
	if code != 0 && code != 1 {
		t.Fatalf("scan: exit %d: %s", code, errOut)
	}
	var report struct {
		Alarms []struct {
			Rule       string
			Dimensions map[string]string
			Time       time.Time
			From, To   string
		}
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatal(err)
	}

	// S3 → SQS notifications, as a CloudTrail bucket is set up.
	awsCfg, err := awsconf.Load(ctx, awsconf.Options{EndpointURL: endpoint, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	s3c := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = true; o.DisableLogOutputChecksumValidationSkipped = true })
	sqsc := sqs.NewFromConfig(awsCfg)
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("trail-events")})
	if err != nil {
		t.Fatal(err)
	}
	qa, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	bucket := "org-trail"
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: &bucket,
		NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{{
			QueueArn: aws.String(qa.Attributes["QueueArn"]), Events: []s3types.Event{"s3:ObjectCreated:*"}}}},
	}); err != nil {
		t.Fatal(err)
	}
	etags := map[string]string{} // key → ETag
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		key := strings.TrimPrefix(filepath.ToSlash(f), filepath.ToSlash(corpus)+"/")
		put, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(data)})
		if err != nil {
			t.Fatal(err)
		}
		etags[key] = aws.ToString(put.ETag)
	}

	dir := t.TempDir()
	const secret = "workers-test-webhook-secret"
	rcv := newReceiver(t, secret)
	cfg := filepath.Join(dir, "trailalarm.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `sources:
  - sqs: %s
    visibilityTimeout: 6s
store: %s
aws:
  region: us-east-1
  endpointURL: %s
rules:
  packs: [%s]
alarm:
  allowedLateness: %s
notifiers:
  - type: webhook
    url: %s
    secret: ${TA_WORKERS_SECRET}
server:
  listen: off
log:
  format: json
`, *q.QueueUrl, dsn, endpoint, pack, lateness, rcv.srv.URL), 0o644); err != nil {
		t.Fatal(err)
	}
	env := "TA_WORKERS_SECRET=" + secret
	logs, _ := os.Create(filepath.Join(dir, "log"))
	defer logs.Close()
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Logf("workers' log:\n%s", lastLines(string(out), 60))
		}
	})

	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	processedCount := func() int {
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM processed`).Scan(&n); err != nil {
			return -1 // not migrated yet
		}
		return n
	}

	// One worker starts the streams on the first files (every CIS control has an event in the
	// first megabyte); two more join; one of them is killed midway and another starts.
	w1 := startRun(t, bin, cfg, env, logs)
	waitFor(t, 60*time.Second, func() bool { return processedCount() >= 30 })
	w2 := startRun(t, bin, cfg, env, logs)
	w3 := startRun(t, bin, cfg, env, logs)
	waitFor(t, 5*time.Minute, func() bool { return processedCount() >= len(files)/2 })
	w2.Process.Kill()
	w2.Wait()
	killedAt := processedCount()
	w4 := startRun(t, bin, cfg, env, logs)

	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	queueEmpty := func() bool {
		a, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"All"}})
		return err == nil && a.Attributes["ApproximateNumberOfMessages"] == "0" && a.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
	}
	allDelivered := func() bool {
		counts, err := st.OutboxCounts(ctx)
		if err != nil {
			return false
		}
		for _, c := range counts {
			if c.State != store.Delivered {
				return false
			}
		}
		return len(counts) > 0
	}
	// The machine may be shared: what fails the test is no progress for a long time, not slowness.
	for last, stalled := -1, time.Now(); !(processedCount() == len(files) && queueEmpty() && allDelivered()); {
		n := processedCount()
		if n != last {
			last, stalled = n, time.Now()
		}
		if time.Since(stalled) > 2*time.Minute {
			counts, _ := st.OutboxCounts(ctx)
			a, _ := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"All"}})
			var attrs map[string]string
			if a != nil {
				attrs = a.Attributes
			}
			t.Fatalf("stuck for 2 minutes: %d of %d files processed, outbox %+v, queue %v", n, len(files), counts, attrs)
		}
		time.Sleep(250 * time.Millisecond)
	}
	for _, w := range []*exec.Cmd{w1, w3, w4} {
		w.Process.Signal(syscall.SIGTERM)
	}
	for _, w := range []*exec.Cmd{w1, w3, w4} {
		if err := w.Wait(); err != nil {
			t.Errorf("worker stopped with %v", err)
		}
	}
	t.Logf("%d files; worker killed after %d were processed", len(files), killedAt)

	// Every object was processed once, by bucket, key and ETag.
	for key, etag := range etags {
		o := store.Object{Source: "sqs:" + *q.QueueUrl, Key: "s3://" + bucket + "/" + key + "#" + etag}
		if ok, err := st.IsProcessed(ctx, o); err != nil || !ok {
			t.Errorf("%s not processed (%v)", key, err)
		}
	}
	// Every alert delivered exactly once, and nothing else.
	page, err := st.Alerts(ctx, store.AlertFilter{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	got, bad := rcv.snapshot()
	if bad > 0 {
		t.Errorf("%d deliveries with a bad signature", bad)
	}
	deliveries := 0
	for _, a := range page.Alerts {
		ds, err := st.Deliveries(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		deliveries += len(ds) // routes may send an alert nowhere (OK alerts, by default)
		if got[a.ID] != len(ds) {
			t.Errorf("alert %s (%s %s->%s) delivered %d times, want %d", a.ID, a.Rule.ID, a.From, a.To, got[a.ID], len(ds))
		}
		delete(got, a.ID)
	}
	if deliveries < 50 {
		t.Errorf("only %d deliveries", deliveries)
	}
	for id, n := range got {
		t.Errorf("delivered %d times an alert the store does not have: %s", n, id)
	}

	// The transitions are the scan's, up to the last evaluation each rule's shared state says is
	// done: a rule's alarm is evaluated up to its newest event minus the allowed lateness, while
	// the scan evaluates to the end of the files.
	states, err := st.AlarmStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	evaluated := map[string]time.Time{}
	for _, s := range states {
		var blob struct{ Stream struct{ Evaluated time.Time } }
		if err := json.Unmarshal(s.State, &blob); err != nil {
			t.Fatalf("alarm state of %s: %v", s.RuleID, err)
		}
		evaluated[s.RuleID] = blob.Stream.Evaluated
	}
	// An early ALARM stands for the scan's transition at the evaluation it anticipates, or, when files arrived out of order, for none while the scan is in
	// ALARM then (alarm.CompareWithBatch); from-states are left out (see seriesStart).
	final := func(rule string, at time.Time) bool { return !at.After(evaluated[rule]) }
	cutoff := sum.Last.Add(-lateness)
	var want, have []alarm.SeriesTransition
	for _, a := range report.Alarms {
		if !seriesStart(a.From, a.To) && final(a.Rule, a.Time) {
			want = append(want, seriesTransition(t, seriesKey(a.Rule, a.Dimensions), a.To, a.Time, false, time.Time{}))
		}
	}
	early := 0
	for _, a := range page.Alerts {
		tr := seriesTransition(t, seriesKey(a.Rule.ID, a.Dimensions), a.To, a.Time, a.Early, a.Anticipates)
		if a.Early {
			early++
		}
		at := a.Time
		if a.Early {
			at = tr.Anticipates
		}
		if !seriesStart(a.From, a.To) && final(a.Rule.ID, at) {
			have = append(have, tr)
		}
	}
	if len(want) < 150 {
		t.Fatalf("only %d transitions to compare (evaluated: %v)", len(want), evaluated)
	}
	if early < 20 {
		t.Errorf("only %d early ALARMs: the CIS alarms should raise most of theirs early", early)
	}
	c := alarm.CompareWithBatch(have, want)
	if !c.Equal() {
		t.Errorf("transitions differ from the scan's:\n%s\nfalse early ALARMs:\n%s", diffLines(seriesLines(c.Missing), seriesLines(c.Extra)), strings.Join(seriesLines(c.False), "\n"))
		if d := os.Getenv("TA_WORKERS_DEBUG"); d != "" {
			os.WriteFile(filepath.Join(d, "scan.json"), []byte(out), 0o644)
			b, _ := json.MarshalIndent(page.Alerts, "", " ")
			os.WriteFile(filepath.Join(d, "alerts.json"), b, 0o644)
		}
	} else {
		t.Logf("%d alerts, %d deliveries, each once; the %d transitions evaluated (up to about %s) are the scan's; %d early ALARMs: %d anticipate a scan transition, %d redundant (files out of order)",
			len(page.Alerts), deliveries, len(want), cutoff.Format("15:04"), early, c.Anticipated, len(c.Redundant))
	}
}

// seriesTransition is an alert or a scan's transition as alarm.CompareWithBatch takes it, with
// every from-state INSUFFICIENT_DATA (see seriesStart) and, for an early ALARM, the evaluation
// it anticipates.
func seriesTransition(t *testing.T, key, to string, at time.Time, early bool, anticipates time.Time) alarm.SeriesTransition {
	t.Helper()
	st, err := alarm.ParseState(to)
	if err != nil {
		t.Fatal(err)
	}
	if early && anticipates.IsZero() {
		t.Fatalf("early ALARM of %s at %v without the evaluation it anticipates", key, at)
	}
	return alarm.SeriesTransition{Key: key, Transition: alarm.Transition{Time: at.UTC(), To: st, Early: early, Anticipates: anticipates.UTC()}}
}

// seriesLines formats transitions for diffLines.
func seriesLines(ts []alarm.SeriesTransition) []string {
	var out []string
	for _, tr := range ts {
		out = append(out, fmt.Sprintf("%s ->%v %s", tr.Key, tr.To, tr.Time.Format("15:04")))
	}
	return out
}

// diffLines lists what only want has (-) and what only have has (+).
func diffLines(want, have []string) string {
	count := map[string]int{}
	for _, w := range want {
		count[w]++
	}
	for _, h := range have {
		count[h]--
	}
	var out []string
	for k, n := range count {
		switch {
		case n > 0:
			out = append(out, fmt.Sprintf("- %s (×%d)", k, n))
		case n < 0:
			out = append(out, fmt.Sprintf("+ %s (×%d)", k, -n))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// A PostgreSQL store that cannot be reached stops `run` with one sentence that says what to
// check, and never shows the password.
func TestRunPostgresUnreachable(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "trailalarm.yaml")
	os.WriteFile(cfg, fmt.Appendf(nil, "sources:\n  - folder: %s\nstore: postgres://trailalarm:${TA_PG_PASSWORD}@127.0.0.1:1/trailalarm\nserver:\n  listen: off\n", dir), 0o644)
	t.Setenv("TA_PG_PASSWORD", "hunter2-secret")
	code, _, errOut := runCLI(t, "", "run", "--config", cfg)
	if code != 2 || !strings.Contains(errOut, "is PostgreSQL running") || strings.Contains(errOut, "hunter2-secret") {
		t.Errorf("exit %d, stderr %q; want exit 2, the advice and no password", code, errOut)
	}
	code, _, errOut = runCLI(t, "", "serve", "--store", "postgres://trailalarm:hunter2-secret@127.0.0.1:1/trailalarm")
	if code != 2 || !strings.Contains(errOut, "is PostgreSQL running") || strings.Contains(errOut, "hunter2-secret") {
		t.Errorf("serve: exit %d, stderr %q", code, errOut)
	}
}
