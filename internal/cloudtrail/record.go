package cloudtrail

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/trailalarm/trailalarm/internal/jsonstr"
)

// Record is one CloudTrail event: its JSON exactly as it appears in the input
// and the few fields every later stage needs, read once.
//
// A Record handed to a callback is owned by the reader and reused for the next
// event: Raw and EventID point into the reader's buffers and are valid only
// during the callback. Use Clone to keep a record. The string fields are
// interned and may be kept as they are.
type Record struct {
	// Raw is the event object, byte for byte as in the input. For a CloudWatch
	// Logs event it is the unescaped message; for an EventBridge envelope it is
	// the "detail" object.
	Raw []byte

	EventTime          time.Time // "eventTime", always UTC
	EventName          string    // "eventName"
	EventSource        string    // "eventSource", such as "iam.amazonaws.com"
	RecipientAccountID string    // "recipientAccountId"
	AWSRegion          string    // "awsRegion"
	EventID            []byte    // "eventID"; a view like Raw, string(r.EventID) to keep it
	ErrorCode          string    // "errorCode": "" when the call succeeded
	// UserAgent and SourceIPAddress are views like Raw, for matchers; Clone does not keep them
	// (cloudtrail.Summarize reads them from the record).
	UserAgent, SourceIPAddress []byte

	// Exact says which of EventName, EventSource, RecipientAccountID, AWSRegion and ErrorCode
	// are the record's one string value of that key (present once, as a string), and Missing
	// which of those keys the record does not have at all, so that a matcher may rely on them
	// instead of reading the record again.
	Exact, Missing Fields

	File   string // input name, "-" for standard input
	Offset int64  // byte offset of the event in the decompressed input
	Index  int    // 0-based position of the event among the file's delivered records
}

// Fields is a set of the Record's string fields.
type Fields uint8

// The string fields of a Record.
const (
	FieldEventName Fields = 1 << iota
	FieldEventSource
	FieldRecipientAccountID
	FieldAWSRegion
	FieldErrorCode
	FieldUserAgent
	FieldSourceIPAddress
)

// Clone returns a copy of r that does not share memory with the reader.
func (r *Record) Clone() Record {
	c := *r
	c.UserAgent, c.SourceIPAddress = nil, nil
	buf := make([]byte, len(r.Raw)+len(r.EventID))
	n := copy(buf, r.Raw)
	copy(buf[n:], r.EventID)
	c.Raw = buf[:n:n]
	c.EventID = buf[n:]
	if r.EventID == nil {
		c.EventID = nil
	}
	return c
}

// Record-level errors: the JSON is well formed but is not a usable event.
var (
	ErrNoEventTime   = errors.New("record has no eventTime")
	ErrBadEventTime  = errors.New("record has an invalid eventTime")
	ErrNotCloudTrail = errors.New("not a CloudTrail record")
	ErrInvalidUTF8   = errors.New("invalid UTF-8 in record")
	ErrNotObject     = errors.New("record is not a JSON object")
	ErrSyntax        = errors.New("malformed JSON")
	ErrTruncated     = errors.New("truncated input")
	ErrTooLarge      = errors.New("record too large")
	ErrEmpty         = errors.New("no JSON in input")
	ErrRead          = errors.New("read failed")
)

// ParseRecord reads the fields of a single bare CloudTrail event into rec.
// rec.Raw is set to raw; the caller owns raw. String fields are not interned,
// so this allocates; readers use their own interning path.
func ParseRecord(raw []byte, rec *Record) error {
	var p parser
	return p.parseRecord(raw, rec)
}

// parser extracts record fields; it is embedded in Reader so that its
// buffers and intern table live as long as the reader.
type parser struct {
	sc     scanner
	intern map[string]string
	tmp    []byte // unescaped string values before interning
	id     []byte // unescaped eventID
	ua, ip []byte // unescaped userAgent and sourceIPAddress
}

// parseRecord validates raw as a single object and fills rec from it.
func (p *parser) parseRecord(raw []byte, rec *Record) error {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return ErrNotObject
	}
	end, st := p.sc.scan(raw, i, false)
	switch st {
	case stShort:
		return fmt.Errorf("%w: unexpected end of record", ErrSyntax)
	case stSyntax:
		return fmt.Errorf("%w at byte %d: %s", ErrSyntax, p.sc.errOff, p.sc.errMsg)
	}
	if j := skipSpace(raw, end); j != len(raw) {
		return fmt.Errorf("%w at byte %d: data after the record", ErrSyntax, j)
	}
	if p.sc.badUTF8 >= 0 {
		return fmt.Errorf("%w at byte %d", ErrInvalidUTF8, p.sc.badUTF8)
	}
	return p.fields(raw[i:end], raw, rec)
}

// fields fills rec from the spans of the last scan over buf; obj is the
// record's bytes within buf.
func (p *parser) fields(obj, buf []byte, rec *Record) error {
	f := &p.sc.fields
	if !f[kEventTime].set && !f[kEventName].set && !f[kEventSource].set && !f[kEventVersion].set {
		return fmt.Errorf("%w: no eventTime, eventName or eventSource", ErrNotCloudTrail)
	}
	t := f[kEventTime]
	if !t.set {
		return ErrNoEventTime
	}
	if !t.str {
		return fmt.Errorf("%w: not a string", ErrBadEventTime)
	}
	tb := buf[t.start:t.end]
	if t.esc {
		p.tmp = jsonstr.Unescape(p.tmp[:0], tb)
		tb = p.tmp
	}
	ts, ok := parseTime(tb)
	if !ok {
		return fmt.Errorf("%w: %q", ErrBadEventTime, tb)
	}
	rec.Raw = obj
	rec.EventTime = ts
	rec.EventName = p.str(buf, f[kEventName])
	rec.EventSource = p.str(buf, f[kEventSource])
	rec.RecipientAccountID = p.str(buf, f[kRecipientAccountID])
	rec.AWSRegion = p.str(buf, f[kAWSRegion])
	rec.ErrorCode = p.str(buf, f[kErrorCode])
	rec.Exact, rec.Missing = 0, 0
	for _, x := range [...]struct {
		k    key
		flag Fields
	}{{kEventName, FieldEventName}, {kEventSource, FieldEventSource}, {kRecipientAccountID, FieldRecipientAccountID}, {kAWSRegion, FieldAWSRegion}, {kErrorCode, FieldErrorCode},
		{kUserAgent, FieldUserAgent}, {kSourceIPAddress, FieldSourceIPAddress}} {
		switch s := f[x.k]; {
		case !s.set:
			rec.Missing |= x.flag
		case s.str && !s.dup:
			rec.Exact |= x.flag
		}
	}
	rec.UserAgent, p.ua = p.view(buf, f[kUserAgent], p.ua)
	rec.SourceIPAddress, p.ip = p.view(buf, f[kSourceIPAddress], p.ip)
	rec.EventID = nil
	if s := f[kEventID]; s.set && s.str {
		rec.EventID = buf[s.start:s.end]
		if s.esc {
			p.id = jsonstr.Unescape(p.id[:0], rec.EventID)
			rec.EventID = p.id
		}
	}
	return nil
}

// view returns a string value's bytes, unescaped into scratch when needed, without copying
// otherwise; nil for a missing or non-string value.
func (p *parser) view(buf []byte, s span, scratch []byte) ([]byte, []byte) {
	if !s.set || !s.str {
		return nil, scratch
	}
	b := buf[s.start:s.end]
	if s.esc {
		scratch = jsonstr.Unescape(scratch[:0], b)
		return scratch, scratch
	}
	if b == nil {
		b = []byte{}
	}
	return b, scratch
}

// maxIntern bounds the intern table: these fields have few distinct values,
// and a hostile input with many must not grow memory without limit.
const maxIntern = 4096

// str returns the string value at s, interned when the parser has a table.
// Non-string values give "".
func (p *parser) str(buf []byte, s span) string {
	if !s.set || !s.str {
		return ""
	}
	b := buf[s.start:s.end]
	if s.esc {
		p.tmp = jsonstr.Unescape(p.tmp[:0], b)
		b = p.tmp
	}
	if p.intern == nil {
		return string(b)
	}
	if v, ok := p.intern[string(b)]; ok {
		return v
	}
	if len(p.intern) >= maxIntern {
		clear(p.intern)
	}
	v := string(b)
	p.intern[v] = v
	return v
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// parseTime reads the eventTime formats CloudTrail writes,
// "2006-01-02T15:04:05Z" and with fractional seconds, without allocating;
// anything else goes through time.Parse as RFC 3339.
func parseTime(b []byte) (time.Time, bool) {
	if len(b) >= 20 && b[4] == '-' && b[7] == '-' && b[10] == 'T' && b[13] == ':' && b[16] == ':' && b[len(b)-1] == 'Z' {
		year, ok1 := digits(b[0:4])
		month, ok2 := digits(b[5:7])
		day, ok3 := digits(b[8:10])
		hour, ok4 := digits(b[11:13])
		minute, ok5 := digits(b[14:16])
		sec, ok6 := digits(b[17:19])
		nsec, ok7 := 0, true
		if len(b) > 20 {
			frac := b[19 : len(b)-1]
			if len(frac) < 2 || len(frac) > 10 || frac[0] != '.' {
				ok7 = false
			} else {
				nsec, ok7 = digits(frac[1:])
				for k := len(frac) - 1; k < 9; k++ {
					nsec *= 10
				}
			}
		}
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 &&
			month >= 1 && month <= 12 && day >= 1 && day <= daysIn(month, year) &&
			hour < 24 && minute < 60 && sec < 60 {
			return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
		}
		if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) {
			return time.Time{}, false
		}
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

func digits(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// isCloudTrailDetailType reports whether an EventBridge detail-type carries a
// CloudTrail event ("AWS API Call via CloudTrail", "AWS Console Sign In via
// CloudTrail", "AWS Service Event via CloudTrail", ...).
func isCloudTrailDetailType(b []byte) bool {
	return bytes.HasSuffix(b, []byte("via CloudTrail"))
}
