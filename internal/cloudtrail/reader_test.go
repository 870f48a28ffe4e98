package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

const (
	invictusFile = "testdata/218007301253_CloudTrail_us-east-1_20230710T1200Z_iLj9fb7yyUG9X4Bf.json"
	stratusFile  = "testdata/aws.credential-access.secretsmanager-retrieve-secrets.json"
	awsdocsFile  = "testdata/awsdocs_cloudtrail_examples.jsonl"
	otrfFile     = "testdata/otrf_ec2_proxy_s3_exfiltration_head3.jsonl"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// invictusRecords returns the records of the Invictus file, byte for byte.
func invictusRecords(t testing.TB) [][]byte {
	var f struct{ Records []json.RawMessage }
	if err := json.Unmarshal(readTestdata(t, invictusFile), &f); err != nil {
		t.Fatal(err)
	}
	return raws(f.Records)
}

func stratusRecords(t testing.TB) [][]byte {
	var f []json.RawMessage
	if err := json.Unmarshal(readTestdata(t, stratusFile), &f); err != nil {
		t.Fatal(err)
	}
	return raws(f)
}

// awsdocsRecords unwraps the dataset's {source_doc, event} lines.
func awsdocsRecords(t testing.TB) [][]byte {
	var out [][]byte
	for _, line := range bytes.Split(bytes.TrimSpace(readTestdata(t, awsdocsFile)), []byte("\n")) {
		var l struct{ Event json.RawMessage }
		if err := json.Unmarshal(line, &l); err != nil {
			t.Fatal(err)
		}
		out = append(out, l.Event)
	}
	return out
}

func raws(m []json.RawMessage) [][]byte {
	out := make([][]byte, len(m))
	for i, r := range m {
		out[i] = r
	}
	return out
}

func compact(t testing.TB, raw []byte) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func compactAll(t testing.TB, recs [][]byte) [][]byte {
	out := make([][]byte, len(recs))
	for i, r := range recs {
		out[i] = compact(t, r)
	}
	return out
}

// Shapes the tests build from real records.

func recordsFile(recs [][]byte) []byte {
	return append(append([]byte(`{"Records":[`), bytes.Join(recs, []byte(","))...), "]}"...)
}

func jsonArray(recs [][]byte) []byte {
	return append(append([]byte("[\n"), bytes.Join(recs, []byte(",\n"))...), "\n]\n"...)
}

func ndjson(recs [][]byte) []byte {
	return append(bytes.Join(recs, []byte("\n")), '\n')
}

func gz(t testing.TB, b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

type logEvent struct {
	LogStreamName string `json:"logStreamName"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId"`
}

func logEvents(recs [][]byte) []logEvent {
	evs := make([]logEvent, len(recs))
	for i, r := range recs {
		evs[i] = logEvent{"218007301253_CloudTrail_us-east-1", 1688990000000 + int64(i), string(r), 1688990100000, fmt.Sprint(370000 + i)}
	}
	return evs
}

// logsExport is `aws logs filter-log-events` output.
func logsExport(t testing.TB, recs [][]byte) []byte {
	b, err := json.MarshalIndent(struct {
		Events             []logEvent `json:"events"`
		SearchedLogStreams []any      `json:"searchedLogStreams"`
		NextToken          *string    `json:"nextToken"`
	}{logEvents(recs), []any{map[string]any{"logStreamName": "x", "searchedCompletely": true}}, nil}, "", "    ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// logsNDJSON is one log event per line, as CloudWatch Logs exports hold them.
func logsNDJSON(t testing.TB, recs [][]byte) []byte {
	var out []byte
	for _, ev := range logEvents(recs) {
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		out = append(append(out, b...), '\n')
	}
	return out
}

// lookupEvents is `aws cloudtrail lookup-events` output.
func lookupEvents(t testing.TB, recs [][]byte) []byte {
	type event struct {
		EventID, EventName, CloudTrailEvent string
		Resources                           []any
	}
	var out struct{ Events []event }
	for i, r := range recs {
		out.Events = append(out.Events, event{fmt.Sprint(i), "X", string(r), []any{}})
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// eventBridge wraps compact records in EventBridge envelopes, one per line.
func eventBridge(recs [][]byte) []byte {
	var out []byte
	for i, r := range recs {
		out = fmt.Appendf(out, `{"version":"0","id":"%08d-0000-0000-0000-000000000000","detail-type":"AWS API Call via CloudTrail","source":"aws.iam","account":"218007301253","time":"2023-07-10T12:00:00Z","region":"us-east-1","resources":[],"detail":%s}`+"\n", i, r)
	}
	return out
}

// fields is what encoding/json says a record's fields are.
type fields struct {
	EventTime          string `json:"eventTime"`
	EventName          string `json:"eventName"`
	EventSource        string `json:"eventSource"`
	RecipientAccountID string `json:"recipientAccountId"`
	AWSRegion          string `json:"awsRegion"`
	EventID            string `json:"eventID"`
}

func checkRecord(t *testing.T, got Record, want []byte) {
	t.Helper()
	if !bytes.Equal(got.Raw, want) {
		t.Fatalf("record %d at %d: Raw differs:\n got %.200s\nwant %.200s", got.Index, got.Offset, got.Raw, want)
	}
	var f fields
	if err := json.Unmarshal(want, &f); err != nil {
		t.Fatal(err)
	}
	wt, err := time.Parse(time.RFC3339Nano, f.EventTime)
	if err != nil {
		t.Fatal(err)
	}
	if !got.EventTime.Equal(wt) || got.EventTime.Location() != time.UTC {
		t.Errorf("record %d: EventTime = %v, want %v", got.Index, got.EventTime, wt)
	}
	g := fields{f.EventTime, got.EventName, got.EventSource, got.RecipientAccountID, got.AWSRegion, string(got.EventID)}
	if g != f {
		t.Errorf("record %d: fields\n got %+v\nwant %+v", got.Index, g, f)
	}
}

type result struct {
	recs  []Record
	errs  []*ReadError
	stats Stats
	err   error
}

func read(in []byte, opts Options) result {
	var res result
	opts.OnError = func(e *ReadError) { res.errs = append(res.errs, e) }
	res.stats, res.err = Read(bytes.NewReader(in), "test", opts, func(r *Record) error {
		res.recs = append(res.recs, r.Clone())
		return nil
	})
	return res
}

func TestFormats(t *testing.T) {
	inv := invictusRecords(t)
	invC := compactAll(t, inv)
	str := stratusRecords(t)
	strC := compactAll(t, str)
	docs := compactAll(t, awsdocsRecords(t))

	half := len(inv) / 2
	multiMember := append(gz(t, recordsFile(inv[:half])), gz(t, recordsFile(inv[half:]))...)
	notFirst := append(append([]byte(`{"note":{"Records":"not this","x":[1,{"Records":[]}]},"Records":[`),
		bytes.Join(inv[:20], []byte(", "))...), `],"trailer":[{"a":"]"}]}`...)

	tests := []struct {
		name     string
		in       []byte
		want     [][]byte // records as Raw must be
		verbatim bool     // records appear as is in the (decompressed) input
		digests  int64
	}{
		{"S3 file", readTestdata(t, invictusFile), inv, true, 0},
		{"S3 file gzip", gz(t, readTestdata(t, invictusFile)), inv, true, 0},
		{"S3 file multi-member gzip", multiMember, inv, true, 0},
		{"Records key not first", notFirst, inv[:20], true, 0},
		{"concatenated S3 files", append(recordsFile(inv[:3]), recordsFile(inv[3:5])...), inv[:5], true, 0},
		{"JSON array pretty", readTestdata(t, stratusFile), str, true, 0},
		{"JSON array gzip", gz(t, readTestdata(t, stratusFile)), str, true, 0},
		{"JSON array compact", jsonArray(invC[:50]), invC[:50], true, 0},
		{"empty S3 file", []byte(`{"Records":[]}`), nil, true, 0},
		{"NDJSON", ndjson(invC), invC, true, 0},
		{"NDJSON gzip", gz(t, ndjson(invC)), invC, true, 0},
		{"NDJSON CRLF", bytes.ReplaceAll(ndjson(invC[:30]), []byte("\n"), []byte("\r\n")), invC[:30], true, 0},
		{"NDJSON with BOM", append([]byte("\xef\xbb\xbf"), ndjson(invC[:3])...), invC[:3], true, 0},
		{"concatenated objects", bytes.Join(invC[:40], nil), invC[:40], true, 0},
		{"concatenated pretty objects", bytes.Join(str, []byte("\n")), str, true, 0},
		{"awsdocs NDJSON", ndjson(docs), docs, true, 0},
		{"logs export", logsExport(t, invC), invC, false, 0},
		{"logs export gzip", gz(t, logsExport(t, strC)), strC, false, 0},
		{"logs NDJSON", logsNDJSON(t, invC), invC, false, 0},
		{"logs event array", func() []byte { b, _ := json.Marshal(logEvents(docs)); return b }(), docs, false, 0},
		{"lookup-events output", lookupEvents(t, docs), docs, false, 0},
		{"EventBridge NDJSON", eventBridge(invC), invC, true, 0},
		{"EventBridge array gzip", gz(t, jsonArray(bytes.Split(bytes.TrimSpace(eventBridge(strC)), []byte("\n")))), strC, true, 0},
		{"EventBridge in logs", logsNDJSON(t, bytes.Split(bytes.TrimSpace(eventBridge(docs)), []byte("\n"))), docs, false, 0},
		{"digest file", []byte(`{"awsAccountId":"218007301253","digestStartTime":"2023-07-10T11:00:00Z","digestEndTime":"2023-07-10T12:00:00Z","digestS3Bucket":"b","digestS3Object":"AWSLogs/218007301253/CloudTrail-Digest/us-east-1/2023/07/10/x.json.gz","logFiles":[{"s3Object":"k","hashValue":"aa"}]}`), nil, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := read(tt.in, Options{Strict: true})
			if res.err != nil {
				t.Fatalf("Read: %v", res.err)
			}
			if len(res.recs) != len(tt.want) || res.stats.Records != int64(len(tt.want)) {
				t.Fatalf("got %d records (stats %+v), want %d", len(res.recs), res.stats, len(tt.want))
			}
			if res.stats.Errors != 0 || res.stats.Digests != tt.digests {
				t.Errorf("stats %+v, want 0 errors, %d digests", res.stats, tt.digests)
			}
			plain := tt.in
			if len(plain) > 2 && plain[0] == 0x1f && plain[1] == 0x8b {
				zr, err := gzip.NewReader(bytes.NewReader(plain))
				if err != nil {
					t.Fatal(err)
				}
				if plain, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if res.stats.Bytes != int64(len(plain)) {
				t.Errorf("Bytes = %d, want %d", res.stats.Bytes, len(plain))
			}
			for i, r := range res.recs {
				if r.Index != i || r.File != "test" {
					t.Errorf("record %d: Index %d File %q", i, r.Index, r.File)
				}
				checkRecord(t, r, tt.want[i])
				at := plain[r.Offset:]
				if tt.verbatim && !bytes.HasPrefix(at, r.Raw) {
					t.Errorf("record %d: input at offset %d is %.40q, not the record", i, r.Offset, at)
				}
				if !tt.verbatim && at[0] != '{' {
					t.Errorf("record %d: input at offset %d is %.40q, not an object", i, r.Offset, at)
				}
			}
		})
	}
}

// TestSmallReads feeds input one byte at a time so that every value is
// split across reads.
func TestSmallReads(t *testing.T) {
	invC := compactAll(t, invictusRecords(t)[:40])
	for name, in := range map[string][]byte{
		"S3 file":     recordsFile(invC),
		"logs export": logsExport(t, invC),
		"EventBridge": eventBridge(invC),
	} {
		t.Run(name, func(t *testing.T) {
			var n int
			_, err := Read(io.LimitReader(oneByteReader{bytes.NewReader(in)}, int64(len(in))), "test", Options{Strict: true}, func(r *Record) error {
				checkRecord(t, *r, invC[n])
				n++
				return nil
			})
			if err != nil || n != len(invC) {
				t.Fatalf("got %d records, err %v; want %d", n, err, len(invC))
			}
		})
	}
}

type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}

func TestFields(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Record
	}{
		{"escapes", `{"eventTime":"2023-07-10T11:47:39Z","eventName":"Stop\u004cogging","eventSource":"cloudtrail.amazonaws.com","awsRegion":"us\/east-1","eventID":"a\"b\u00e9","recipientAccountId":"123"}`,
			Record{EventTime: time.Date(2023, 7, 10, 11, 47, 39, 0, time.UTC), EventName: "StopLogging", EventSource: "cloudtrail.amazonaws.com", AWSRegion: "us/east-1", EventID: []byte("a\"bé"), RecipientAccountID: "123"}},
		{"fraction", `{"eventTime":"2024-02-29T23:59:59.123Z","eventName":"X"}`,
			Record{EventTime: time.Date(2024, 2, 29, 23, 59, 59, 123e6, time.UTC), EventName: "X"}},
		{"offset", `{"eventTime":"2023-07-10T13:47:39+02:00","eventName":"X"}`,
			Record{EventTime: time.Date(2023, 7, 10, 11, 47, 39, 0, time.UTC), EventName: "X"}},
		{"non-string fields", `{"eventTime":"2023-07-10T11:47:39Z","eventName":5,"eventSource":null,"awsRegion":{"a":"b"},"eventID":["x"]}`,
			Record{EventTime: time.Date(2023, 7, 10, 11, 47, 39, 0, time.UTC)}},
		{"nested keys ignored", `{"requestParameters":{"eventName":"Nested","eventTime":"2000-01-01T00:00:00Z"},"eventTime":"2023-07-10T11:47:39Z","eventName":"Top"}`,
			Record{EventTime: time.Date(2023, 7, 10, 11, 47, 39, 0, time.UTC), EventName: "Top"}},
		{"escaped key", `{"event\u0054ime":"2023-07-10T11:47:39Z","eventName":"K"}`,
			Record{EventTime: time.Date(2023, 7, 10, 11, 47, 39, 0, time.UTC), EventName: "K"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Record
			if err := ParseRecord([]byte(tt.in), &got); err != nil {
				t.Fatal(err)
			}
			res := read([]byte(tt.in), Options{Strict: true})
			if res.err != nil || len(res.recs) != 1 {
				t.Fatalf("Read: %d records, %v", len(res.recs), res.err)
			}
			for _, g := range []Record{got, res.recs[0]} {
				g.Raw, g.File, g.Offset, g.Index, g.Exact, g.Missing, g.UserAgent, g.SourceIPAddress = nil, "", 0, 0, 0, 0, nil, nil // TestExactFields
				if fmt.Sprint(g) != fmt.Sprint(tt.want) || !g.EventTime.Equal(tt.want.EventTime) {
					t.Errorf("got  %+v\nwant %+v", g, tt.want)
				}
			}
		})
	}
}

func TestParseRecordErrors(t *testing.T) {
	for in, want := range map[string]error{
		`[1]`:                                  ErrNotObject,
		`{"eventTime":"x"`:                     ErrSyntax,
		`{"eventTime":"x"} {}`:                 ErrSyntax,
		`{"eventName":"A"}`:                    ErrNoEventTime,
		`{"eventTime":"yesterday"}`:            ErrBadEventTime,
		`{"eventTime":1}`:                      ErrBadEventTime,
		`{"eventTime":"2023-13-01T00:00:00Z"}`: ErrBadEventTime,
		`{"foo":"bar"}`:                        ErrNotCloudTrail,
		"{\"eventName\":\"\xff\"}":             ErrInvalidUTF8,
	} {
		var r Record
		if err := ParseRecord([]byte(in), &r); !errors.Is(err, want) {
			t.Errorf("ParseRecord(%q) = %v, want %v", in, err, want)
		}
	}
}

func TestBadInput(t *testing.T) {
	inv := invictusRecords(t)
	invC := compactAll(t, inv)
	file := readTestdata(t, invictusFile)
	gzFile := gz(t, file)

	// A record with invalid UTF-8 in a string, and one with bad syntax, in
	// the middle of a Records array.
	badUTF8 := bytes.Replace(inv[1], []byte(`"eventName":"`), []byte("\"eventName\":\"\xff\xfe"), 1)
	badSyntax := bytes.Replace(inv[1], []byte(`"eventName":"`), []byte(`"eventName":tru"`), 1)
	noTime := bytes.Replace(inv[1], []byte(`"eventTime"`), []byte(`"eventTimeX"`), 1)

	// A 20 MB record between two good ones.
	big := append([]byte(`{"eventTime":"2023-07-10T12:00:00Z","eventName":"Big","requestParameters":{"blob":"`),
		bytes.Repeat([]byte("x\\\"[{"), 5<<20)...)
	big = append(big, `"}}`...)

	otrf := readTestdata(t, otrfFile)

	type errAt struct {
		err error
		off int64 // -1: any
	}
	tests := []struct {
		name    string
		in      []byte
		opts    Options
		records int
		errs    []errAt
	}{
		{"empty file", nil, Options{}, 0, []errAt{{ErrEmpty, 0}}},
		{"only whitespace", []byte(" \n\t\r\n"), Options{}, 0, []errAt{{ErrEmpty, 5}}},
		{"empty gzip", gz(t, nil), Options{}, 0, []errAt{{ErrEmpty, 0}}},
		{"truncated gzip", gzFile[:len(gzFile)/2], Options{}, -1, []errAt{{ErrTruncated, -1}}},
		{"gzip without trailer", gzFile[:len(gzFile)-4], Options{}, len(inv), []errAt{{ErrTruncated, int64(len(file))}}},
		{"gzip magic only", []byte{0x1f, 0x8b}, Options{}, 0, []errAt{{ErrTruncated, 0}}},
		{"half a record at the end", file[:bytes.Index(file, inv[10])+len(inv[10])/2], Options{}, 10, []errAt{{ErrTruncated, int64(bytes.Index(file, inv[10]))}}},
		{"S3 file without closing", file[:len(file)-2], Options{}, len(inv), []errAt{{ErrTruncated, int64(len(file) - 2)}}},
		{"half a line in NDJSON", ndjson([][]byte{invC[0], invC[1][:300], invC[2], invC[3]}), Options{}, 3, []errAt{{ErrSyntax, int64(len(invC[0]) + 1 + 300)}}},
		{"malformed record in array", recordsFile([][]byte{inv[0], badSyntax, inv[2]}), Options{}, 2, []errAt{{ErrSyntax, -1}}},
		{"malformed record in NDJSON", ndjson([][]byte{invC[0], compact(t, inv[2])[:50], []byte(`{"a" 1}`), invC[3]}), Options{}, 2, []errAt{{ErrSyntax, -1}, {ErrSyntax, -1}}},
		{"missing comma", []byte(`{"Records":[` + string(invC[0]) + string(invC[1]) + `]}`), Options{}, 2, []errAt{{ErrSyntax, int64(12 + len(invC[0]))}}},
		{"trailing comma", []byte(`[` + string(invC[0]) + `,]`), Options{}, 1, []errAt{{ErrSyntax, -1}}},
		{"invalid UTF-8", recordsFile([][]byte{inv[0], badUTF8, inv[2]}), Options{}, 2, []errAt{{ErrInvalidUTF8, int64(12 + len(inv[0]) + 1 + bytes.IndexByte(badUTF8, 0xff))}}},
		{"record without eventTime", recordsFile([][]byte{inv[0], noTime, inv[2]}), Options{}, 2, []errAt{{ErrNoEventTime, int64(12 + len(inv[0]) + 1)}}},
		{"OTRF Logstash records", otrf, Options{}, 0, []errAt{{ErrNoEventTime, 0}, {ErrNoEventTime, -1}, {ErrNoEventTime, -1}}},
		{"20 MB record", recordsFile([][]byte{inv[0], big, inv[1]}), Options{}, 2, []errAt{{ErrTooLarge, int64(12 + len(inv[0]) + 1)}}},
		{"20 MB record allowed", recordsFile([][]byte{inv[0], big, inv[1]}), Options{MaxRecordSize: 32 << 20}, 3, nil},
		{"20 MB record NDJSON", ndjson([][]byte{invC[0], big, invC[1]}), Options{}, 2, []errAt{{ErrTooLarge, int64(len(invC[0]) + 1)}}},
		{"record over small limit", ndjson(invC[:3]), Options{MaxRecordSize: 100}, 0, []errAt{{ErrTooLarge, 0}, {ErrTooLarge, -1}, {ErrTooLarge, -1}}},
		{"non-CloudTrail object", []byte(`{"foo":"bar","n":[1,2]}`), Options{}, 0, []errAt{{ErrNotCloudTrail, 0}}},
		{"non-CloudTrail array", []byte(`[1, "two", {"three":3}]`), Options{}, 0, []errAt{{ErrNotObject, 1}, {ErrNotObject, 4}, {ErrNotCloudTrail, 11}}},
		{"not JSON", []byte("eventTime,eventName\n2023-07-10,StopLogging\n"), Options{}, 0, []errAt{{ErrSyntax, 0}}},
		{"garbage between records", []byte(string(invC[0]) + "\nxx yy\n" + string(invC[1]) + "\n"), Options{}, 2, []errAt{{ErrSyntax, int64(len(invC[0]) + 1)}}},
		{"other EventBridge event", []byte(`{"detail-type":"EC2 Instance State-change Notification","detail":{"state":"running"}}`), Options{}, 0, []errAt{{ErrNotCloudTrail, 0}}},
		{"log message not JSON", []byte(`{"timestamp":1,"message":"START RequestId: 1"}`), Options{}, 0, []errAt{{ErrNotCloudTrail, 0}}},
		{"log message bad JSON", []byte(`{"timestamp":1,"message":"{\"eventTime\": nope}"}`), Options{}, 0, []errAt{{ErrSyntax, 0}}},
		{"deep nesting", []byte(strings.Repeat("[", 20000)), Options{}, 0, []errAt{{ErrSyntax, -1}}},
		{"strict stops", recordsFile([][]byte{inv[0], noTime, inv[2]}), Options{Strict: true}, 1, []errAt{{ErrNoEventTime, int64(12 + len(inv[0]) + 1)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := read(tt.in, tt.opts)
			if tt.opts.Strict {
				var re *ReadError
				if !errors.As(res.err, &re) || !errors.Is(res.err, tt.errs[0].err) {
					t.Fatalf("strict Read error = %v, want %v", res.err, tt.errs[0].err)
				}
			} else if res.err != nil {
				t.Fatalf("Read: %v", res.err)
			}
			if tt.records >= 0 && len(res.recs) != tt.records {
				t.Errorf("got %d records, want %d", len(res.recs), tt.records)
			}
			for _, r := range res.recs {
				if !json.Valid(r.Raw) {
					t.Errorf("record at %d is not valid JSON", r.Offset)
				}
			}
			if len(res.errs) != len(tt.errs) || res.stats.Errors != int64(len(tt.errs)) {
				t.Fatalf("got %d errors (stats %d): %v; want %d", len(res.errs), res.stats.Errors, res.errs, len(tt.errs))
			}
			for i, e := range res.errs {
				if !errors.Is(e, tt.errs[i].err) || (tt.errs[i].off >= 0 && e.Offset != tt.errs[i].off) {
					t.Errorf("error %d = %v (offset %d), want %v at %d", i, e, e.Offset, tt.errs[i].err, tt.errs[i].off)
				}
				if e.File != "test" {
					t.Errorf("error %d: File %q", i, e.File)
				}
			}
		})
	}
}

// TestCorruptGzip: damaged deflate data may decode to garbage before the
// checksum fails; the garbage is reported as such and the checksum failure
// ends the file.
func TestCorruptGzip(t *testing.T) {
	in := gz(t, readTestdata(t, invictusFile))
	copy(in[len(in)/2:], bytes.Repeat([]byte{0x55}, 100))
	res := read(in, Options{})
	if res.err != nil || len(res.errs) == 0 {
		t.Fatalf("err %v, errs %v", res.err, res.errs)
	}
	if last := res.errs[len(res.errs)-1]; !errors.Is(last, ErrRead) || !errors.Is(last, gzip.ErrChecksum) {
		t.Errorf("last error %v, want a checksum error", last)
	}
	if len(res.recs) < 50 {
		t.Errorf("only %d records before the damage", len(res.recs))
	}
	for _, r := range res.recs {
		if !json.Valid(r.Raw) {
			t.Errorf("record at %d is not valid JSON", r.Offset)
		}
	}
}

func TestCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	st, err := Read(bytes.NewReader(readTestdata(t, invictusFile)), "x", Options{}, func(*Record) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if err != stop || n != 3 || st.Records != 3 {
		t.Fatalf("err %v, n %d, stats %+v", err, n, st)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestReadFailure(t *testing.T) {
	var errs []*ReadError
	st, err := Read(errReader{}, "x", Options{OnError: func(e *ReadError) { errs = append(errs, e) }}, func(*Record) error { return nil })
	if err != nil || st.Errors != 1 || len(errs) != 1 || !errors.Is(errs[0], ErrRead) {
		t.Fatalf("err %v, stats %+v, errs %v", err, st, errs)
	}
}

// TestNoAllocsPerRecord checks the steady state: reading a file with a reused
// Reader allocates a fixed amount, independent of how many records it holds.
func TestNoAllocsPerRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation count")
	}
	for name, in := range map[string][]byte{
		"plain":       readTestdata(t, invictusFile),
		"gzip":        gz(t, readTestdata(t, invictusFile)),
		"logs export": logsExport(t, compactAll(t, invictusRecords(t))),
	} {
		t.Run(name, func(t *testing.T) {
			r := NewReader()
			br := bytes.NewReader(in)
			var n int
			fn := func(*Record) error { n++; return nil }
			read := func() {
				br.Reset(in)
				if _, err := r.Read(br, "x", Options{}, fn); err != nil {
					t.Fatal(err)
				}
			}
			read()
			allocs := testing.AllocsPerRun(20, read)
			if allocs > 8 { // gzip.Reader.Reset allocates a bufio.Reader
				t.Errorf("%v allocations per file of %d records", allocs, n/21)
			}
		})
	}
}
