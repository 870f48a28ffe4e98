package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the command line in-process and returns exit code, stdout and stderr.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

const sampleFile = "../../examples/cloudtrail/AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/218007301253_CloudTrail_us-east-1_20230710T1205Z_SjF3IkuNXJkoHyar.json"

// The example of awscli/examples/logs/test-metric-filter.rst, output byte for byte.
func TestTestMetricFilterAWSCLIExample(t *testing.T) {
	code, out, errOut := runCLI(t, "", "test-metric-filter", "--filter-pattern", "ERROR",
		"--log-event-messages", "[ERROR] 400 BAD REQUEST", "[ERROR] 400 BAD REQUEST", "[INFO] 200 OK")
	want := `{
    "matches": [
        {
            "eventNumber": 1,
            "eventMessage": "[ERROR] 400 BAD REQUEST",
            "extractedValues": {}
        },
        {
            "eventNumber": 2,
            "eventMessage": "[ERROR] 400 BAD REQUEST",
            "extractedValues": {}
        }
    ]
}
`
	if code != 0 || out != want || errOut != "" {
		t.Errorf("exit %d, stderr %q, stdout\n%s\nwant\n%s", code, errOut, out, want)
	}
}

// The TestMetricFilter API reference example with extracted values, in the CLI's format.
func TestTestMetricFilterExtractedValues(t *testing.T) {
	code, out, _ := runCLI(t, "", "test-metric-filter",
		"--filter-pattern", "[..., status_code=200, size]",
		"--log-event-messages",
		`127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534`,
		`127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324`)
	want := `{
    "matches": [
        {
            "eventNumber": 1,
            "eventMessage": "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 1534",
            "extractedValues": {
                "$1": "127.0.0.1",
                "$2": "-",
                "$3": "frank",
                "$4": "10/Oct/2000:13:25:15 -0700",
                "$5": "GET /apache_pb.gif HTTP/1.0",
                "$status_code": "200",
                "$size": "1534"
            }
        }
    ]
}
`
	if code != 0 || out != want {
		t.Errorf("exit %d, stdout\n%s\nwant\n%s", code, out, want)
	}
}

func TestTestMetricFilterNoMatches(t *testing.T) {
	code, out, _ := runCLI(t, "", "test-metric-filter", "--filter-pattern", "FATAL", "--log-event-messages", "ok")
	if code != 0 || out != "{\n    \"matches\": []\n}\n" {
		t.Errorf("exit %d, stdout %q", code, out)
	}
}

func TestTestMetricFilterCloudTrailFile(t *testing.T) {
	pattern := `{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }`
	code, out, errOut := runCLI(t, "", "test-metric-filter", "--filter-pattern", pattern, "--log-events-file", sampleFile)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		Matches []struct {
			EventNumber     int               `json:"eventNumber"`
			EventMessage    string            `json:"eventMessage"`
			ExtractedValues map[string]string `json:"extractedValues"`
		} `json:"matches"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, m := range res.Matches {
		names[m.ExtractedValues["$.eventName"]] = true
		if !json.Valid([]byte(m.EventMessage)) || strings.Contains(m.EventMessage, "\n") {
			t.Errorf("event %d is not one compact JSON record", m.EventNumber)
		}
	}
	if !names["StopLogging"] {
		t.Errorf("StopLogging not among the matches: %v", names)
	}

	// The same file gzipped, from stdin.
	data, err := os.ReadFile(sampleFile)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	code, out2, _ := runCLI(t, gz.String(), "test-metric-filter", "--filter-pattern", pattern, "--log-events-file", "-")
	if code != 0 || out2 != out {
		t.Errorf("gzip from stdin: exit %d, output differs", code)
	}
}

func TestTestMetricFilterLinesFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "events.txt")
	os.WriteFile(f, []byte("[ERROR] one\r\n\n[INFO] two\n[ERROR] three"), 0o644)
	code, out, _ := runCLI(t, "", "test-metric-filter", "--filter-pattern", `"[ERROR]"`, "--log-events-file", f)
	if code != 0 || !strings.Contains(out, `"eventNumber": 3`) || !strings.Contains(out, `"eventMessage": "[ERROR] three"`) || strings.Contains(out, "two") {
		t.Errorf("exit %d, stdout %s", code, out)
	}
}

func TestTestMetricFilterExplain(t *testing.T) {
	code, out, _ := runCLI(t, "", "test-metric-filter", "--explain",
		"--filter-pattern", `{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }`,
		"--log-event-messages", `{"eventName":"ConsoleLogin"}`, `{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"No"}}`)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"event 1: no match", "is missing", "event 2: match", `MFAUsed is "No"`} {
		if !strings.Contains(out, want) {
			t.Errorf("explain output lacks %q:\n%s", want, out)
		}
	}
}

func TestTestMetricFilterErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"invalid pattern", []string{"test-metric-filter", "--filter-pattern", "{ $.a = && $.b = 1 }", "--log-event-messages", "x"},
			`trailalarm: filter pattern: column 9: expected a value after "=", found "&&"`},
		{"no pattern", []string{"test-metric-filter", "--log-event-messages", "x"}, "--filter-pattern is required"},
		{"no events", []string{"test-metric-filter", "--filter-pattern", "x"}, "no log events"},
		{"unknown flag", []string{"test-metric-filter", "--filter", "x"}, "unknown flag: --filter"},
		{"stray argument", []string{"test-metric-filter", "--filter-pattern", "x", "y"}, `unexpected argument "y"`},
		{"missing file", []string{"test-metric-filter", "--filter-pattern", "x", "--log-events-file", "/nonexistent/file"}, "no such file or directory"},
		{"empty file", []string{"test-metric-filter", "--filter-pattern", "x", "--log-events-file", os.DevNull}, "no log events in the file"},
		{"unknown command", []string{"tset-metric-filter"}, `unknown command "tset-metric-filter"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tt.args...)
			if code != 2 || !strings.Contains(errOut, tt.wantErr) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, out, errOut, tt.wantErr)
			}
		})
	}
}

func TestTestMetricFilterCorruptGzip(t *testing.T) {
	f := filepath.Join(t.TempDir(), "bad.json.gz")
	os.WriteFile(f, []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3}, 0o644)
	code, _, errOut := runCLI(t, "", "test-metric-filter", "--filter-pattern", "x", "--log-events-file", f)
	if code != 2 || !strings.Contains(errOut, "bad.json.gz") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestVersionAndHelp(t *testing.T) {
	code, out, _ := runCLI(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "trailalarm ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
	code, out, _ = runCLI(t, "", "test-metric-filter", "--help")
	if code != 0 || !strings.Contains(out, "--log-events-file") || !strings.Contains(out, "Exit status") {
		t.Errorf("help: exit %d, %q", code, out)
	}
}
