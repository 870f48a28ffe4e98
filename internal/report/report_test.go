package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trailalarm/trailalarm/internal/cloudtrail"
	"github.com/trailalarm/trailalarm/internal/detect"
	"github.com/trailalarm/trailalarm/internal/rules"
)

func TestClean(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"plain", 100, "plain"},
		{"line\nbreak\x1b[31mred\x7f", 100, `line\x0abreak\x1b[31mred\x7f`},
		{"é日本", 100, "é日本"},
		{"\u0085C1 control", 100, `\x85C1 control`},
		{strings.Repeat("x", 20), 10, strings.Repeat("x", 9) + "…"},
	}
	for _, tt := range tests {
		if got := clean(tt.in, tt.max); got != tt.want {
			t.Errorf("clean(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestCounterTop(t *testing.T) {
	c := counter{}
	for _, k := range []string{"b", "a", "b", "", "c", "b", "a"} {
		c.add(k)
	}
	if got := c.top(2); got != "b (3), a (2), … 2 more" {
		t.Errorf("top = %q", got)
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{512: "512 B", 2048: "2.0 KiB", 3 << 20: "3.0 MiB", 5 << 30: "5.0 GiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// A pretty-printed record is written as one JSON line; a compact one is copied as it is.
func TestJSONLRecords(t *testing.T) {
	r := &rules.Rule{ID: "t:x", Title: "X"}
	var out bytes.Buffer
	rep, err := New([]*rules.Rule{r}, &out, Options{Format: JSONL})
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{"{\n  \"eventName\": \"A\",\n  \"eventTime\": \"2024-01-01T00:00:00Z\"\n}", `{"eventName":"B","eventTime":"2024-01-01T00:00:01Z"}`} {
		rec := cloudtrail.Record{Raw: []byte(raw), EventTime: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), EventName: "A"}
		if err := rep.Add(&detect.FileResult{Matches: []detect.Match{{Rule: 0, Record: rec, Value: 1, HasValue: true}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := rep.Finish(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || rep.Matches() != 2 {
		t.Fatalf("%d lines: %q", len(lines), out.String())
	}
	for _, l := range lines {
		var m MatchEntry
		if err := json.Unmarshal([]byte(l), &m); err != nil || m.Rule != "t:x" || len(m.Record) == 0 {
			t.Errorf("line %q: %v", l, err)
		}
	}
	if !strings.Contains(lines[1], `"record":{"eventName":"B","eventTime":"2024-01-01T00:00:01Z"}`) {
		t.Errorf("compact record not copied verbatim: %s", lines[1])
	}
}

func TestParseFormat(t *testing.T) {
	if _, err := ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), "text, json or jsonl") {
		t.Errorf("xml: %v", err)
	}
	if f, err := ParseFormat("jsonl"); err != nil || f != JSONL {
		t.Errorf("jsonl: %v %v", f, err)
	}
}
