package generate

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// corpus is a generated corpus held in memory.
type corpus struct {
	sum   *Summary
	files []File // Data copied
}

func gen1(t testing.TB, o Options) *corpus {
	t.Helper()
	c := &corpus{}
	sum, err := Generate(context.Background(), o, func(f *File) error {
		g := *f
		g.Data = bytes.Clone(f.Data)
		c.files = append(c.files, g)
		return nil
	})
	if err != nil {
		t.Fatalf("Generate(%+v): %v", o, err)
	}
	c.sum = sum
	return c
}

func (c *corpus) digest() [32]byte {
	h := sha256.New()
	for _, f := range c.files {
		io.WriteString(h, f.Path)
		h.Write(f.Data)
	}
	var d [32]byte
	copy(d[:], h.Sum(nil))
	return d
}

// records decompresses every file with the standard library (not the
// compressor that wrote it) and returns its records.
func (c *corpus) records(t testing.TB, f File) []json.RawMessage {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(f.Data))
	if err != nil {
		t.Fatalf("%s: not gzip: %v", f.Path, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: bad gzip: %v", f.Path, err)
	}
	if int64(len(raw)) != f.RawSize {
		t.Errorf("%s: %d bytes uncompressed, File.RawSize says %d", f.Path, len(raw), f.RawSize)
	}
	var doc struct {
		Records []json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: invalid JSON: %v", f.Path, err)
	}
	if len(doc.Records) != f.Records {
		t.Errorf("%s: %d records, File.Records says %d", f.Path, len(doc.Records), f.Records)
	}
	return doc.Records
}

func TestDeterminism(t *testing.T) {
	base := Options{Size: 512 << 10, Seed: 7, EventsPerFile: 150}
	with := func(f func(*Options)) Options { o := base; f(&o); return o }
	tests := []struct {
		name string
		a, b Options
		same bool
	}{
		{"same seed", base, base, true},
		{"workers do not matter", with(func(o *Options) { o.Workers = 1 }), with(func(o *Options) { o.Workers = 5 }), true},
		{"different seed", base, with(func(o *Options) { o.Seed = 8 }), false},
		{"different start", base, with(func(o *Options) { o.Start = DefaultStart.Add(time.Hour) }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := gen1(t, tt.a), gen1(t, tt.b)
			if same := a.digest() == b.digest(); same != tt.same {
				t.Errorf("identical output = %v, want %v", same, tt.same)
			}
		})
	}
}

func TestSize(t *testing.T) {
	tests := []struct {
		size    int64
		perFile int
	}{
		{MinSize, 0},
		{100_000, 0},
		{1_000_000, 0},
		{1_500_000, 10},
		{1_200_000, 5000},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%d", tt.size, tt.perFile), func(t *testing.T) {
			c := gen1(t, Options{Size: tt.size, Seed: 1, EventsPerFile: tt.perFile})
			var sum int64
			for _, f := range c.files {
				sum += f.RawSize
			}
			if sum != c.sum.Bytes {
				t.Errorf("files hold %d bytes, summary says %d", sum, c.sum.Bytes)
			}
			if c.sum.Bytes > tt.size || float64(c.sum.Bytes) < 0.9*float64(tt.size) {
				t.Errorf("wrote %d bytes, asked for %d", c.sum.Bytes, tt.size)
			}
		})
	}
}

var (
	keyRE  = regexp.MustCompile(`^AWSLogs/(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$`)
	uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

// event holds the fields every record must have.
type event struct {
	EventVersion string          `json:"eventVersion"`
	UserIdentity json.RawMessage `json:"userIdentity"`
	EventTime    string          `json:"eventTime"`
	EventSource  string          `json:"eventSource"`
	EventName    string          `json:"eventName"`
	AWSRegion    string          `json:"awsRegion"`
	SourceIP     string          `json:"sourceIPAddress"`
	UserAgent    string          `json:"userAgent"`
	EventID      string          `json:"eventID"`
	ReadOnly     *bool           `json:"readOnly"`
	EventType    string          `json:"eventType"`
	Management   *bool           `json:"managementEvent"`
	Recipient    string          `json:"recipientAccountId"`
	Category     string          `json:"eventCategory"`
	ErrorCode    string          `json:"errorCode"`
}

func TestLayoutAndRecords(t *testing.T) {
	tests := []Options{
		{Size: 1 << 20, Seed: 3},
		{Size: 1 << 20, Seed: 4, Accounts: []string{"111122223333", "444455556666"}, Regions: []string{"eu-west-1", "us-east-1", "ap-southeast-2"}, EventsPerFile: 120},
		{Size: 1 << 20, Seed: 5, Start: time.Date(2024, 2, 28, 23, 47, 13, 0, time.UTC), EventsPerFile: 50, NumAccounts: 1, Regions: []string{"eu-central-1"}},
	}
	for i, o := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			c := gen1(t, o)
			ids := map[string]bool{}
			idTypes := map[string]int{}
			eventTypes := map[string]int{}
			for _, f := range c.files {
				m := keyRE.FindStringSubmatch(f.Path)
				if m == nil {
					t.Fatalf("key %q does not follow the CloudTrail layout", f.Path)
				}
				stamp, err := time.Parse("20060102T1504Z", m[8])
				if err != nil || m[1] != m[6] || m[2] != m[7] || m[1] != f.Account || m[2] != f.Region ||
					stamp.Format("2006/01/02") != m[3]+"/"+m[4]+"/"+m[5] || !stamp.Equal(f.Stamp) {
					t.Fatalf("key %q: parts disagree with each other or with %+v", f.Path, f)
				}
				recs := c.records(t, f)
				var prev time.Time
				for j, raw := range recs {
					var e event
					if err := json.Unmarshal(raw, &e); err != nil {
						t.Fatalf("%s record %d: %v\n%s", f.Path, j, err, raw)
					}
					var ui struct {
						Type string `json:"type"`
					}
					if err := json.Unmarshal(e.UserIdentity, &ui); err != nil {
						t.Fatalf("%s record %d: userIdentity: %v", f.Path, j, err)
					}
					idTypes[ui.Type]++
					eventTypes[e.EventType]++
					tm, err := time.Parse(time.RFC3339, e.EventTime)
					if err != nil || !strings.HasSuffix(e.EventTime, "Z") {
						t.Fatalf("%s record %d: eventTime %q", f.Path, j, e.EventTime)
					}
					if tm.Before(prev) {
						t.Errorf("%s record %d: %s before the previous record's %s", f.Path, j, tm, prev)
					}
					prev = tm
					if tm.Before(f.Stamp.Add(-Window)) || !tm.Before(f.Stamp) {
						t.Errorf("%s record %d: %s outside the file's window", f.Path, j, tm)
					}
					if tm.Before(o.Start.Truncate(Window)) {
						t.Errorf("%s record %d: %s before --start", f.Path, j, tm)
					}
					if e.AWSRegion != f.Region || e.Recipient != f.Account {
						t.Errorf("%s record %d: region %s account %s", f.Path, j, e.AWSRegion, e.Recipient)
					}
					if !uuidRE.MatchString(e.EventID) || ids[e.EventID] {
						t.Errorf("%s record %d: eventID %q not a fresh UUID", f.Path, j, e.EventID)
					}
					ids[e.EventID] = true
					if e.EventVersion == "" || e.EventSource == "" || e.EventName == "" || e.SourceIP == "" || e.UserAgent == "" ||
						e.ReadOnly == nil || e.Management == nil || e.EventType == "" || e.Category == "" {
						t.Errorf("%s record %d: a required field is missing:\n%s", f.Path, j, raw)
					}
				}
			}
			for _, want := range []string{"IAMUser", "AssumedRole", "AWSService", "FederatedUser", "Root"} {
				if idTypes[want] == 0 {
					t.Errorf("no userIdentity of type %s (have %v)", want, idTypes)
				}
			}
			for _, want := range []string{"AwsApiCall", "AwsConsoleSignIn"} {
				if eventTypes[want] == 0 {
					t.Errorf("no eventType %s (have %v)", want, eventTypes)
				}
			}
		})
	}
}

func TestEveryControlInjected(t *testing.T) {
	for _, o := range []Options{
		{Size: 1 << 20, Seed: 11},
		{Size: 2 << 20, Seed: 12, NumAccounts: 5, Regions: []string{"eu-west-1", "eu-west-2"}},
		{Size: 1 << 20, Seed: 13, EventsPerFile: 10},
	} {
		t.Run(fmt.Sprint(o.Seed), func(t *testing.T) {
			c := gen1(t, o)
			hits, near := map[string]int{}, map[string]int{}
			for _, e := range c.sum.Injected {
				if e.NearMiss {
					near[e.Control]++
				} else {
					hits[e.Control]++
				}
			}
			for _, ctl := range Controls {
				if hits[ctl.ID] == 0 || near[ctl.ID] == 0 {
					t.Errorf("control %s %s: %d hits, %d near-misses", ctl.CIS, ctl.ID, hits[ctl.ID], near[ctl.ID])
				}
			}
			// The list points at the records.
			byFile := map[string]File{}
			for _, f := range c.files {
				byFile[f.Path] = f
			}
			cache := map[string][]json.RawMessage{}
			for _, e := range c.sum.Injected {
				recs, ok := cache[e.File]
				if !ok {
					recs = c.records(t, byFile[e.File])
					cache[e.File] = recs
				}
				var got event
				if e.Index >= len(recs) || json.Unmarshal(recs[e.Index], &got) != nil ||
					got.EventID != e.EventID || got.EventName != e.EventName || got.EventTime != e.Time.Format(time.RFC3339) {
					t.Errorf("injected %+v is not record %d of its file", e, e.Index)
				}
			}
		})
	}
}

func TestNoInject(t *testing.T) {
	c := gen1(t, Options{Size: 1 << 20, Seed: 1, NoInject: true})
	if len(c.sum.Injected) != 0 {
		t.Errorf("NoInject: %d injected events", len(c.sum.Injected))
	}
}

func TestInjectRate(t *testing.T) {
	// 1 account, 1 region, 4 records a file: 1 MB is about 3.5 days.
	o := Options{Size: 1 << 20, Seed: 1, NumAccounts: 1, Regions: []string{"us-east-1"}, EventsPerFile: 4, InjectRate: 10}
	c := gen1(t, o)
	days := c.sum.Last.Sub(c.sum.First).Hours() / 24
	want := o.InjectRate * days * float64(len(Controls))
	got := float64(c.sum.Hits() - len(Controls)) // less the guaranteed first ones
	if got < 0.7*want || got > 1.3*want {
		t.Errorf("%.0f hits over %.1f days, want about %.0f", got, days, want)
	}
}

func TestOptionErrors(t *testing.T) {
	tests := []struct {
		o    Options
		want string
	}{
		{Options{Size: 100}, "too small"},
		{Options{Size: 1 << 20, EventsPerFile: -1}, "events per file"},
		{Options{Size: 1 << 20, EventsPerFile: MaxEventsPerFile + 1}, "events per file"},
		{Options{Size: 1 << 20, InjectRate: -1}, "inject rate"},
		{Options{Size: 1 << 20, Regions: []string{"US-EAST-1"}}, "invalid region"},
		{Options{Size: 1 << 20, Regions: []string{"us-east-1", "us-east-1"}}, "twice"},
		{Options{Size: 1 << 20, Accounts: []string{"1234"}}, "invalid account"},
		{Options{Size: 1 << 20, Accounts: []string{"12345678901x"}}, "invalid account"},
		{Options{Size: 1 << 20, Accounts: []string{"123456789012", "123456789012"}}, "twice"},
		{Options{Size: 1 << 20, NumAccounts: -2}, "number of accounts"},
	}
	for _, tt := range tests {
		_, err := Generate(context.Background(), tt.o, func(*File) error { return nil })
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Generate(%+v) = %v, want an error with %q", tt.o, err, tt.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"500KB", 500_000, false},
		{"10MB", 10_000_000, false},
		{"2GB", 2_000_000_000, false},
		{"20GB", 20_000_000_000, false},
		{"1.5GiB", 1610612736, false},
		{"64KiB", 65536, false},
		{"4096", 4096, false},
		{"100b", 100, false},
		{" 3 mb ", 3_000_000, false},
		{"1T", 1e12, false},
		{"", 0, true},
		{"MB", 0, true},
		{"-5MB", 0, true},
		{"0", 0, true},
		{"10XB", 0, true},
		{"NaNMB", 0, true},
		{"1e30", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestWriteDir(t *testing.T) {
	dir := t.TempDir()
	sum, err := WriteDir(context.Background(), dir, Options{Size: 300_000, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
			rel, _ := filepath.Rel(dir, p)
			if !keyRE.MatchString(filepath.ToSlash(rel)) {
				t.Errorf("file %s outside the layout", rel)
			}
		}
		return err
	})
	if err != nil || n != sum.Files {
		t.Errorf("%d files on disk (%v), summary says %d", n, err, sum.Files)
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, err := Generate(ctx, Options{Size: 1 << 30, Seed: 1, EventsPerFile: 50}, func(*File) error {
		if n++; n == 3 {
			cancel()
		}
		return nil
	})
	if err != context.Canceled {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestAppendTime(t *testing.T) {
	for _, ts := range []int64{0, 951782400, 1704067199, 1709164800, 4102444799, 1234567890} {
		want := time.Unix(ts, 0).UTC().Format(time.RFC3339)
		if got := string(appendTime(nil, ts)); got != want {
			t.Errorf("appendTime(%d) = %s, want %s", ts, got, want)
		}
	}
}
