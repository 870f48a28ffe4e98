package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailalarm/trailalarm/internal/awsconf"
	"github.com/trailalarm/trailalarm/internal/testutil/moto"
	pgtest "github.com/trailalarm/trailalarm/internal/testutil/postgres"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	moto.Stop()
	pgtest.Stop()
	os.Exit(code)
}

const examples = "../../examples/cloudtrail"

var elapsed = regexp.MustCompile(` in [0-9.]+(ns|µs|ms|s|m[0-9.]+s)`)

func golden(t *testing.T, name string, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test ./cmd/trailalarm -run %s -update to accept):\n%s", name, t.Name(), firstDiff(got, string(want)))
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return "line " + itoa(i+1) + ":\n got " + al[i] + "\nwant " + bl[i]
		}
	}
	return "lengths differ: " + itoa(len(al)) + " and " + itoa(len(bl)) + " lines"
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestScanGoldenText(t *testing.T) {
	code, out, errOut := runCLI(t, "", "scan", "--format", "text", "--max-events", "5", examples)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "scan-examples.txt", elapsed.ReplaceAllString(out, " in X"))
}

func TestScanGoldenJSON(t *testing.T) {
	code, out, errOut := runCLI(t, "", "scan", "--pack", "cis-1.2", "--format", "json", examples)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Summary struct {
			Files, Records, Bytes, Skipped int64
			Errors                         []any
		}
		Rules []struct {
			ID      string
			Matches int
		}
		Matches []map[string]any
		Alarms  []any
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if doc.Summary.Files != 55 || doc.Summary.Records != 2900 || len(doc.Rules) != 14 || doc.Alarms == nil {
		t.Errorf("summary %+v, %d rules", doc.Summary, len(doc.Rules))
	}
	total := 0
	for _, r := range doc.Rules {
		total += r.Matches
	}
	if total != len(doc.Matches) || total == 0 {
		t.Errorf("rules count %d matches, the list has %d", total, len(doc.Matches))
	}
	for _, m := range doc.Matches {
		for _, k := range []string{"rule", "eventID", "eventTime", "eventName", "eventSource", "awsRegion", "recipientAccountId", "principal", "sourceIPAddress", "userAgent", "errorCode", "file", "record"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("match lacks %q: %v", k, m)
			}
		}
	}
	golden(t, "scan-examples-cis-1.2.json", out)
}

func TestScanJSONLAndExitCode(t *testing.T) {
	code, out, _ := runCLI(t, "", "scan", "--format", "jsonl", "--exit-code", "--pack", "cis-1.2", examples)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 1 || len(lines) < 100 {
		t.Fatalf("exit %d, %d lines", code, len(lines))
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("not JSON: %s", l)
		}
	}
	// Nothing matches in a window without events: exit 0 even with --exit-code.
	code, out, _ = runCLI(t, "", "scan", "--format", "jsonl", "--exit-code", "--since", "2020-01-01", "--until", "2020-01-02", examples)
	if code != 0 || out != "" {
		t.Errorf("exit %d, output %q", code, out)
	}
}

func TestScanStdinAndOutputFile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(examples, "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/218007301253_CloudTrail_us-east-1_20230710T1205Z_SjF3IkuNXJkoHyar.json"))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	out := filepath.Join(t.TempDir(), "report.json")
	code, stdout, errOut := runCLI(t, gz.String(), "scan", "--pack", "cis-1.2", "--output", out, "-")
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, stdout, errOut)
	}
	body, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(body), `"eventName":"StopLogging"`) || !strings.Contains(string(body), `"file":"-"`) {
		t.Errorf("report %s: %.300s", err, body)
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 1 {
		t.Errorf("temporary files left beside the report: %v", entries)
	}
}

func TestScanBadInput(t *testing.T) {
	dir := t.TempDir()
	good := []byte(`{"Records":[{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com","awsRegion":"us-east-1","recipientAccountId":"111111111111","userIdentity":{"type":"Root"}}]}`)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(good)
	zw.Close()
	os.WriteFile(filepath.Join(dir, "a-good.json"), good, 0o644)
	os.WriteFile(filepath.Join(dir, "b-truncated.json.gz"), gz.Bytes()[:gz.Len()/2], 0o644)
	os.WriteFile(filepath.Join(dir, "c-half.json"), good[:80], 0o644)
	os.WriteFile(filepath.Join(dir, "d-other.json"), []byte(`{"hello":"world"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "e-notime.json"), []byte(`{"Records":[{"eventName":"StopLogging"}]}`), 0o644)
	os.WriteFile(filepath.Join(dir, "f-utf8.json"), []byte("{\"Records\":[{\"eventTime\":\"2024-01-01T00:00:00Z\",\"eventName\":\"\xff\"}]}"), 0o644)
	code, out, errOut := runCLI(t, "", "scan", "--pack", "cis-1.2", "--format", "json", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Summary struct {
			Files, Records, Skipped int
			Errors                  []struct {
				File   string
				Offset int64
				Error  string
			}
		}
		Matches []struct{ EventName string }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Summary.Files != 6 || len(doc.Matches) != 1 || doc.Matches[0].EventName != "StopLogging" {
		t.Errorf("summary %+v, matches %+v", doc.Summary, doc.Matches)
	}
	files := map[string]bool{}
	for _, e := range doc.Summary.Errors {
		files[filepath.Base(e.File)] = true
		if e.Error == "" {
			t.Errorf("error without text: %+v", e)
		}
	}
	for _, f := range []string{"b-truncated.json.gz", "c-half.json", "d-other.json", "e-notime.json", "f-utf8.json"} {
		if !files[f] {
			t.Errorf("no error listed for %s: %+v", f, doc.Summary.Errors)
		}
	}
	code, _, errOut = runCLI(t, "", "scan", "--strict", "--format", "json", dir)
	if code != 2 || !strings.Contains(errOut, "b-truncated.json.gz") {
		t.Errorf("strict: exit %d, %s", code, errOut)
	}
}

func TestScanUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"scan"}, "give at least one SOURCE"},
		{[]string{"scan", "--pack", "nope", examples}, `unknown pack "nope"`},
		{[]string{"scan", "--rules", "/nonexistent.yaml", examples}, "nonexistent.yaml"},
		{[]string{"scan", "/nonexistent"}, "no such file or directory"},
		{[]string{"scan", "--format", "xml", examples}, `unknown format "xml"`},
		{[]string{"scan", "--since", "yesterday", examples}, `--since "yesterday"`},
		{[]string{"scan", "--since", "2024-02-01", "--until", "2024-01-01", examples}, "--since must be before --until"},
		{[]string{"scan", "--account", "123", examples}, "12-digit"},
		{[]string{"scan", "--workers", "-1", examples}, "--workers"},
		{[]string{"scan", "--bogus", examples}, "unknown flag: --bogus"},
		{[]string{"scan", "s3:/bucket"}, "no such file"},
		{[]string{"scan", "s3://"}, "not an S3 location"},
	}
	for _, tt := range tests {
		code, out, errOut := runCLI(t, "", tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) || out != "" {
			t.Errorf("%v: exit %d, stdout %.100q, stderr %q; want exit 2 and %q", tt.args, code, out, errOut, tt.want)
		}
	}
}

// TestScanS3 reads the sample data from moto server's S3 in the CloudTrail layout.
func TestScanS3(t *testing.T) {
	endpoint := moto.Endpoint(t)
	ctx := context.Background()
	cfg, err := awsconf.Load(ctx, awsconf.Options{EndpointURL: endpoint, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true; o.DisableLogOutputChecksumValidationSkipped = true })
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trail")}); err != nil {
		t.Fatal(err)
	}
	err = filepath.Walk(examples, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		data, _ := os.ReadFile(p)
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(data)
		zw.Close()
		key := strings.TrimPrefix(filepath.ToSlash(p), examples+"/") + ".gz"
		_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("trail"), Key: &key, Body: bytes.NewReader(gz.Bytes())})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	code, s3Out, errOut := runCLI(t, "", "scan", "--endpoint-url", endpoint, "--pack", "cis-1.2", "--format", "jsonl", "s3://trail/")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	_, localOut, _ := runCLI(t, "", "scan", "--pack", "cis-1.2", "--format", "jsonl", examples)
	if n, m := strings.Count(s3Out, "\n"), strings.Count(localOut, "\n"); n != m || n == 0 {
		t.Errorf("S3 scan found %d matches, local scan %d", n, m)
	}
	// Pruned to a window: only the 12:05 files' events.
	code, out, errOut := runCLI(t, "", "scan", "--endpoint-url", endpoint, "--pack", "cis-1.2", "--format", "json",
		"--since", "2023-07-10T12:00:00Z", "--until", "2023-07-10T12:05:00Z", "--region", "us-east-1", "--account", "218007301253", "s3://trail/")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Summary struct{ Files, Records, Filtered int }
	}
	json.Unmarshal([]byte(out), &doc)
	if doc.Summary.Files == 0 || doc.Summary.Files >= 55 {
		t.Errorf("pruned scan read %d files", doc.Summary.Files)
	}
	// A bucket that does not exist: one sentence.
	code, _, errOut = runCLI(t, "", "scan", "--endpoint-url", endpoint, "s3://no-such-bucket/")
	if code != 2 || !strings.Contains(errOut, "bucket does not exist") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("missing bucket: exit %d, %q", code, errOut)
	}
}

func TestScanProgress(t *testing.T) {
	code, _, errOut := runCLI(t, "", "scan", "--progress", "always", "--format", "jsonl", examples)
	if code != 0 || !strings.Contains(errOut, "files") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "", "scan", "--format", "jsonl", examples)
	if code != 0 || errOut != "" {
		t.Errorf("progress drawn on a non-terminal: %q", errOut)
	}
	if code, _, errOut = runCLI(t, "", "scan", "--progress", "sometimes", examples); code != 2 || !strings.Contains(errOut, "--progress") {
		t.Errorf("bad --progress: exit %d, %q", code, errOut)
	}
}

// TestScanAlarmOverrides backtests the same data with other alarm settings: a higher threshold
// fires less, an invalid period is refused with the rule named.
func TestScanAlarmOverrides(t *testing.T) {
	count := func(args ...string) int {
		t.Helper()
		code, out, errOut := runCLI(t, "", append([]string{"scan", "--pack", "cis-1.2", "--format", "json"}, append(args, examples)...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var doc struct{ Alarms []struct{ Rule, To string } }
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, a := range doc.Alarms {
			if a.To == "ALARM" {
				n++
			}
		}
		return n
	}
	base := count()
	high := count("--threshold", "20")
	if base == 0 || high >= base {
		t.Errorf("ALARMs: %d with the rules' settings, %d with threshold 20", base, high)
	}
	if n := count("--period", "60", "--evaluation-periods", "3", "--datapoints-to-alarm", "2", "--treat-missing-data", "missing", "--statistic", "SampleCount"); n == 0 {
		t.Error("no ALARM with 2 of 3 one-minute periods")
	}
	if n := count("--no-alarms"); n != 0 {
		t.Errorf("--no-alarms still has %d alarms", n)
	}
	code, _, errOut := runCLI(t, "", "scan", "--pack", "cis-1.2", "--period", "7", examples)
	if code != 2 || !strings.Contains(errOut, "rule cis-1.2:3.1") || !strings.Contains(errOut, "Period") {
		t.Errorf("invalid period: exit %d, %s", code, errOut)
	}
}

func TestScanRunbookParams(t *testing.T) {
	code, out, errOut := runCLI(t, "", "scan", "--format", "jsonl", "--exit-code", "--pack", "runbook", "--param", "home_cidrs=203.0.113.0/24", examples)
	if code != 1 {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	var ips []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m struct {
			Rule            string `json:"rule"`
			EventName       string `json:"eventName"`
			SourceIPAddress string `json:"sourceIPAddress"`
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		if m.Rule != "runbook:console-login-outside-home" || m.EventName != "ConsoleLogin" {
			t.Errorf("unexpected match %s", l)
		}
		ips = append(ips, m.SourceIPAddress)
	}
	if strings.Join(ips, ",") != "192.168.10.20,10.8.8.10" {
		t.Errorf("sign-ins from %v", ips)
	}
	// The two rules without values are reported, one line each, and skipped.
	for _, p := range []string{"allowed_regions", "break_glass_principals"} {
		if !strings.Contains(errOut, "skipped: parameter "+p+" has no value") {
			t.Errorf("stderr lacks %s:\n%s", p, errOut)
		}
	}
	if n := strings.Count(errOut, "\n"); n != 2 {
		t.Errorf("stderr has %d lines:\n%s", n, errOut)
	}
	// Both sign-ins are inside these ranges: nothing matches.
	code, out, _ = runCLI(t, "", "scan", "--format", "jsonl", "--exit-code", "--pack", "runbook", "--param", "home_cidrs=192.168.0.0/16,10.8.0.0/13,2001:db8::/32", examples)
	if code != 0 || out != "" {
		t.Errorf("exit %d, output %q", code, out)
	}
}

func TestScanParamErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"scan", "--pack", "runbook", examples}, "skipped: parameter home_cidrs has no value"},
		{[]string{"scan", "--pack", "runbook", "--param", "home_cidrs=203.0.113.0/33", examples}, `parameter home_cidrs: "203.0.113.0/33" is not a CIDR range`},
		{[]string{"scan", "--pack", "runbook", "--param", "home_cidrs=office", examples}, `parameter home_cidrs: "office" is not a CIDR range`},
		{[]string{"scan", "--pack", "runbook", "--param", "home_cidrs", examples}, "use NAME=VALUE"},
	}
	for _, tt := range tests {
		code, out, errOut := runCLI(t, "", tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) || out != "" {
			t.Errorf("%v: exit %d, stdout %.100q, stderr %q; want exit 2 and %q", tt.args, code, out, errOut, tt.want)
		}
	}
}

// The README's first command scans the whole examples/ folder, deployment examples and notes
// included: every CloudTrail file is read and nothing is reported as bad input.
func TestQuickStartScanOfExamples(t *testing.T) {
	code, out, errOut := runCLI(t, "", "scan", "--format", "json", "--no-alarms", "../../examples")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Summary struct {
			Files, Records, Skipped int
			Errors                  []json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Files != 55 || rep.Summary.Records != 2900 || rep.Summary.Skipped != 0 || len(rep.Summary.Errors) != 0 {
		t.Errorf("summary %+v, want 55 files, 2900 records, nothing skipped", rep.Summary)
	}
}
