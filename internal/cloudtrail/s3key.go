package cloudtrail

import (
	"fmt"
	"strings"
	"time"
)

// CloudTrail writes its files to S3 under
//
//	[PREFIX/]AWSLogs/[o-ORGID/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_UNIQUE.json.gz
//
// (organization trails add o-ORGID; digest files use CloudTrail-Digest and
// Insights events CloudTrail-Insight in both places). The functions here
// parse and build such keys so that listings can be pruned by account,
// region and time before anything is downloaded.

// Kinds of CloudTrail log files, as they appear in keys.
const (
	KindLog     = "CloudTrail"
	KindDigest  = "CloudTrail-Digest"
	KindInsight = "CloudTrail-Insight"
)

// DefaultDeliveryLag bounds how long after an event CloudTrail delivers the
// file that holds it: a file stamped T holds events from roughly T-15m to T.
// AWS documents "about 5 minutes" on average; we allow more.
const DefaultDeliveryLag = time.Hour

// LogKey is a parsed CloudTrail S3 key.
type LogKey struct {
	Prefix  string    // the trail's key prefix before "AWSLogs/", without the slash; "" if none
	OrgID   string    // "o-…" for an organization trail, else ""
	Account string    // the account the events are from
	Kind    string    // KindLog, KindDigest or KindInsight
	Region  string    // such as "us-east-1"
	Time    time.Time // the file's UTC timestamp (minute precision; seconds for digests)
	Name    string    // the file name, the key's last element
}

// Digest reports whether the key names a digest file.
func (k LogKey) Digest() bool { return k.Kind == KindDigest }

// String rebuilds the key.
func (k LogKey) String() string {
	return LogDir{Prefix: k.Prefix, OrgID: k.OrgID, Account: k.Account, Kind: k.Kind, Region: k.Region}.Day(k.Time) + k.Name
}

// MayContain reports whether the file can hold events with eventTime in
// [since, until), given that files are delivered at most lag after their
// events. A zero since or until leaves that side open.
func (k LogKey) MayContain(since, until time.Time, lag time.Duration) bool {
	// Events precede the file's timestamp, by at most lag.
	if !since.IsZero() && k.Time.Add(time.Minute).Before(since) {
		return false
	}
	if !until.IsZero() && !k.Time.Add(-lag).Before(until) {
		return false
	}
	return true
}

// ParseKey parses an S3 key of a CloudTrail log, digest or Insights file.
func ParseKey(key string) (LogKey, error) {
	var k LogKey
	bad := func(why string) (LogKey, error) {
		return LogKey{}, fmt.Errorf("parse CloudTrail key %q: %s", key, why)
	}
	i := strings.Index(key, "AWSLogs/")
	if i < 0 {
		return bad("no AWSLogs/ element")
	}
	if i > 0 {
		if key[i-1] != '/' {
			return bad("AWSLogs is not a whole key element")
		}
		k.Prefix = key[:i-1]
	}
	parts := strings.Split(key[i+len("AWSLogs/"):], "/")
	if len(parts) > 0 && strings.HasPrefix(parts[0], "o-") {
		k.OrgID, parts = parts[0], parts[1:]
	}
	// ACCOUNT KIND REGION YYYY MM DD NAME
	if len(parts) != 7 {
		return bad("want ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/FILE after AWSLogs/")
	}
	k.Account, k.Kind, k.Region, k.Name = parts[0], parts[1], parts[2], parts[6]
	if !isAccountID(k.Account) {
		return bad("account " + quote(k.Account) + " is not 12 digits")
	}
	switch k.Kind {
	case KindLog, KindDigest, KindInsight:
	default:
		return bad("unknown log kind " + quote(k.Kind))
	}
	if k.Region == "" {
		return bad("empty region")
	}
	// The folder's day is not cross-checked with the file's timestamp:
	// nothing documents that they always agree, and a key must not be
	// dropped on a guess.
	_, err := time.Parse("2006/01/02", parts[3]+"/"+parts[4]+"/"+parts[5])
	if err != nil || len(parts[3]) != 4 || len(parts[4]) != 2 || len(parts[5]) != 2 {
		return bad("bad date folder " + quote(strings.Join(parts[3:6], "/")))
	}
	// ACCOUNT_KIND_REGION_[TRAIL_REGION_]STAMP[_UNIQUE].json.gz
	fields := strings.Split(strings.TrimSuffix(strings.TrimSuffix(k.Name, ".gz"), ".json"), "_")
	if len(fields) < 4 || fields[0] != k.Account || fields[1] != k.Kind || fields[2] != k.Region {
		return bad("file name does not start with ACCOUNT_" + k.Kind + "_REGION_")
	}
	stampAt := 3
	if k.Kind == KindDigest {
		stampAt = len(fields) - 1 // ..._TRAIL_REGION_YYYYMMDDTHHMMSSZ
	}
	stamp := fields[stampAt]
	switch len(stamp) {
	case len("20060102T1504Z"):
		k.Time, err = time.Parse("20060102T1504Z", stamp)
	case len("20060102T150405Z"):
		k.Time, err = time.Parse("20060102T150405Z", stamp)
	default:
		err = fmt.Errorf("length %d", len(stamp))
	}
	if err != nil {
		return bad("bad timestamp " + quote(stamp) + " in file name")
	}
	return k, nil
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// LogFileName builds the name CloudTrail gives a log file delivered at t.
func LogFileName(account, region string, t time.Time, unique string) string {
	return account + "_" + KindLog + "_" + region + "_" + t.UTC().Format("20060102T1504Z") + "_" + unique + ".json.gz"
}

// LogDir is the folder of one trail's files for an account and region;
// empty trailing fields give the shorter prefixes used to list the level
// below (accounts, regions).
type LogDir struct {
	Prefix  string // the trail's key prefix, without a trailing slash; "" if none
	OrgID   string // "o-…" for an organization trail
	Account string
	Kind    string // "" means KindLog
	Region  string
}

// Root is the prefix under which accounts are listed:
// "[PREFIX/]AWSLogs/[o-ORGID/]".
func (d LogDir) Root() string {
	var b strings.Builder
	if d.Prefix != "" {
		b.WriteString(strings.TrimSuffix(d.Prefix, "/"))
		b.WriteByte('/')
	}
	b.WriteString("AWSLogs/")
	if d.OrgID != "" {
		b.WriteString(d.OrgID)
		b.WriteByte('/')
	}
	return b.String()
}

// Regions is the prefix under which an account's regions are listed:
// ".../ACCOUNT/CloudTrail/".
func (d LogDir) Regions() string {
	kind := d.Kind
	if kind == "" {
		kind = KindLog
	}
	return d.Root() + d.Account + "/" + kind + "/"
}

// Day is the prefix of one day's files: ".../REGION/YYYY/MM/DD/".
func (d LogDir) Day(day time.Time) string {
	return d.Regions() + d.Region + "/" + day.UTC().Format("2006/01/02") + "/"
}

// Days returns the UTC days whose folders can hold files with events in
// [since, until), given the delivery lag: from since's day to the day of
// until+lag. Both bounds must be set.
func Days(since, until time.Time, lag time.Duration) []time.Time {
	first := truncDay(since)
	last := truncDay(until.Add(lag))
	var days []time.Time
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		days = append(days, d)
	}
	return days
}

func truncDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
