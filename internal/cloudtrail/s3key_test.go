package cloudtrail

import (
	"strings"
	"testing"
	"time"
)

func TestParseKey(t *testing.T) {
	tests := []struct {
		key  string
		want LogKey
		err  string
	}{
		{key: "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/218007301253_CloudTrail_us-east-1_20230710T1200Z_iLj9fb7yyUG9X4Bf.json.gz",
			want: LogKey{Account: "218007301253", Kind: KindLog, Region: "us-east-1", Time: time.Date(2023, 7, 10, 12, 0, 0, 0, time.UTC), Name: "218007301253_CloudTrail_us-east-1_20230710T1200Z_iLj9fb7yyUG9X4Bf.json.gz"}},
		{key: "trails/prod/AWSLogs/o-aa111bb222/111122223333/CloudTrail/eu-west-3/2024/02/29/111122223333_CloudTrail_eu-west-3_20240229T2355Z_abc.json.gz",
			want: LogKey{Prefix: "trails/prod", OrgID: "o-aa111bb222", Account: "111122223333", Kind: KindLog, Region: "eu-west-3", Time: time.Date(2024, 2, 29, 23, 55, 0, 0, time.UTC), Name: "111122223333_CloudTrail_eu-west-3_20240229T2355Z_abc.json.gz"}},
		{key: "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2023/07/10/111122223333_CloudTrail-Digest_us-east-1_my-trail_us-east-1_20230710T120512Z.json.gz",
			want: LogKey{Account: "111122223333", Kind: KindDigest, Region: "us-east-1", Time: time.Date(2023, 7, 10, 12, 5, 12, 0, time.UTC), Name: "111122223333_CloudTrail-Digest_us-east-1_my-trail_us-east-1_20230710T120512Z.json.gz"}},
		{key: "AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2023/07/10/111122223333_CloudTrail-Insight_us-east-1_20230710T1200Z_x.json.gz",
			want: LogKey{Account: "111122223333", Kind: KindInsight, Region: "us-east-1", Time: time.Date(2023, 7, 10, 12, 0, 0, 0, time.UTC), Name: "111122223333_CloudTrail-Insight_us-east-1_20230710T1200Z_x.json.gz"}},
		{key: "x/AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10/", err: "file name"},
		{key: "myAWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10/f", err: "whole key element"},
		{key: "logs/111122223333/CloudTrail/us-east-1/2023/07/10/f", err: "no AWSLogs"},
		{key: "AWSLogs/1111/CloudTrail/us-east-1/2023/07/10/1111_CloudTrail_us-east-1_20230710T1200Z_x.json.gz", err: "12 digits"},
		{key: "AWSLogs/111122223333/Config/us-east-1/2023/07/10/111122223333_Config_us-east-1_20230710T1200Z_x.json.gz", err: "unknown log kind"},
		{key: "AWSLogs/111122223333/CloudTrail/us-east-1/2023/7/10/111122223333_CloudTrail_us-east-1_20230710T1200Z_x.json.gz", err: "date folder"},
		{key: "AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10/111122223333_CloudTrail_us-west-2_20230710T1200Z_x.json.gz", err: "file name"},
		{key: "AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10/111122223333_CloudTrail_us-east-1_2023-07-10_x.json.gz", err: "timestamp"},
	}
	for _, tt := range tests {
		got, err := ParseKey(tt.key)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseKey(%q) error %v, want %q", tt.key, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseKey(%q): %v", tt.key, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseKey(%q)\n got %+v\nwant %+v", tt.key, got, tt.want)
		}
		if s := got.String(); s != tt.key && got.Kind != KindDigest {
			t.Errorf("String() = %q, want %q", s, tt.key)
		}
		if got.Digest() != (tt.want.Kind == KindDigest) || IsDigestPath(tt.key) != got.Digest() {
			t.Errorf("%q: Digest() = %v, IsDigestPath = %v", tt.key, got.Digest(), IsDigestPath(tt.key))
		}
	}
}

func TestLogDir(t *testing.T) {
	d := LogDir{Prefix: "trails/prod/", OrgID: "o-aa111bb222", Account: "111122223333", Region: "us-east-1"}
	day := time.Date(2023, 7, 10, 23, 59, 0, 0, time.FixedZone("x", -3600))
	for got, want := range map[string]string{
		d.Root():    "trails/prod/AWSLogs/o-aa111bb222/",
		d.Regions(): "trails/prod/AWSLogs/o-aa111bb222/111122223333/CloudTrail/",
		d.Day(day):  "trails/prod/AWSLogs/o-aa111bb222/111122223333/CloudTrail/us-east-1/2023/07/11/",
		LogDir{Account: "1", Kind: KindDigest}.Regions(): "AWSLogs/1/CloudTrail-Digest/",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	name := LogFileName("111122223333", "us-east-1", time.Date(2023, 7, 10, 12, 5, 59, 0, time.UTC), "abc")
	k, err := ParseKey(d.Day(time.Date(2023, 7, 10, 0, 0, 0, 0, time.UTC)) + name)
	if err != nil || k.Time != time.Date(2023, 7, 10, 12, 5, 0, 0, time.UTC) || k.OrgID != d.OrgID || k.Prefix != "trails/prod" {
		t.Errorf("round trip of %q: %+v, %v", name, k, err)
	}
}

func TestDays(t *testing.T) {
	since := time.Date(2023, 7, 10, 22, 0, 0, 0, time.UTC)
	until := time.Date(2023, 7, 12, 23, 30, 0, 0, time.UTC)
	days := Days(since, until, DefaultDeliveryLag)
	if len(days) != 4 || !days[0].Equal(time.Date(2023, 7, 10, 0, 0, 0, 0, time.UTC)) || !days[3].Equal(time.Date(2023, 7, 13, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Days = %v", days)
	}
	if days := Days(since, since, 0); len(days) != 1 {
		t.Errorf("one instant: %v", days)
	}
}

func TestMayContain(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2023, 7, 10, h, m, 0, 0, time.UTC) }
	k := LogKey{Time: at(12, 0)} // holds events from about 11:45 to 12:00
	lag := 30 * time.Minute
	tests := []struct {
		since, until time.Time
		want         bool
	}{
		{time.Time{}, time.Time{}, true},
		{at(11, 50), at(11, 55), true},
		{at(12, 0), at(13, 0), true},
		{at(12, 2), at(13, 0), false},  // file precedes the range
		{at(10, 0), at(11, 30), false}, // range ends before the file's lag window
		{at(10, 0), at(11, 31), true},
		{time.Time{}, at(11, 31), true},
		{at(11, 59), time.Time{}, true},
	}
	for _, tt := range tests {
		if got := k.MayContain(tt.since, tt.until, lag); got != tt.want {
			t.Errorf("MayContain(%v, %v) = %v, want %v", tt.since, tt.until, got, tt.want)
		}
	}
}
