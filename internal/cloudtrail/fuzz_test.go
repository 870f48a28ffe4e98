package cloudtrail

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/trailalarm/trailalarm/internal/jsonstr"
)

func addSeeds(f *testing.F) {
	inv := compactAll(f, invictusRecords(f)[:3])
	str := stratusRecords(f)[:2]
	for _, s := range [][]byte{
		recordsFile(inv),
		jsonArray(str),
		ndjson(inv),
		logsExport(f, inv[:2]),
		logsNDJSON(f, inv[:2]),
		eventBridge(inv[:2]),
		gz(f, ndjson(inv[:2])),
		recordsFile(inv)[:700],
		[]byte(`{"Records":[{"eventTime":"2023-07-10T11:47:39Z","eventName":"A\u0042","x":[1,-2.5e3,true,false,null,{"a":"\"]}"}]}]}`),
		[]byte(`{"digestStartTime":"x","digestS3Object":"y"}`),
		[]byte("{\"eventTime\":\"2023-07-10T11:47:39Z\",\"e\":\"\xff\"}\n[1,{\"a\" 2}]\n{"),
		[]byte(`{"detail-type":"AWS API Call via CloudTrail","detail":{"eventTime":"2023-07-10T11:47:39.5Z"}}`),
	} {
		f.Add(s)
	}
}

// FuzzSplit reads arbitrary input: no panic, no hang, and every record it
// delivers is a valid JSON object whose fields ParseRecord agrees with.
func FuzzSplit(f *testing.F) {
	addSeeds(f)
	r := NewReader()
	f.Fuzz(func(t *testing.T, in []byte) {
		var n int64
		st, err := r.Read(bytes.NewReader(in), "fuzz", Options{MaxRecordSize: 1 << 16}, func(rec *Record) error {
			n++
			if len(rec.Raw) == 0 || rec.Raw[0] != '{' || !json.Valid(rec.Raw) || !utf8.Valid(rec.Raw) {
				t.Fatalf("record at %d is not a valid JSON object: %q", rec.Offset, rec.Raw)
			}
			if rec.Offset < 0 || rec.Offset >= st0(in) {
				t.Fatalf("offset %d out of range", rec.Offset)
			}
			var again Record
			if err := ParseRecord(rec.Raw, &again); err != nil {
				t.Fatalf("ParseRecord of a delivered record: %v", err)
			}
			if again.EventName != rec.EventName || !again.EventTime.Equal(rec.EventTime) || !bytes.Equal(again.EventID, rec.EventID) {
				t.Fatalf("fields differ: %+v vs %+v", again, *rec)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("non-strict Read returned %v", err)
		}
		if st.Records != n {
			t.Fatalf("Stats.Records %d, delivered %d", st.Records, n)
		}
	})
}

// st0 bounds offsets: gzip input may decompress to more than its size, so
// only plain input gives a tight bound.
func st0(in []byte) int64 {
	if len(in) >= 2 && in[0] == 0x1f && in[1] == 0x8b {
		return 1 << 62
	}
	return int64(len(in))
}

// FuzzScan checks the validating scanner against encoding/json.
func FuzzScan(f *testing.F) {
	addSeeds(f)
	for _, s := range []string{`5`, `"a\ud83d\ude00b"`, `[1,]`, `{"a":01}`, `-`, `1e`, `"\u12"`, `"\x"`, "\"\x01\""} {
		f.Add([]byte(s))
	}
	var s scanner
	f.Fuzz(func(t *testing.T, b []byte) {
		in := append(bytes.Clone(b), ' ') // a number is complete only before a delimiter
		i := skipSpace(in, 0)
		if i == len(in) {
			return
		}
		end, st := s.scan(in, i, false)
		valid := json.Valid(b)
		whole := st == stOK && skipSpace(in, end) == len(in)
		if valid != whole {
			t.Fatalf("json.Valid = %v, scan = %v (end %d of %d, %s)", valid, st, end, len(in), s.errMsg)
		}
		if st == stOK && !json.Valid(in[i:end]) {
			t.Fatalf("scanned value %q is not valid", in[i:end])
		}
		if valid && in[i] == '"' && utf8.Valid(b) {
			var want string
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			if got := jsonstr.Unescape(nil, in[i+1:end-1]); string(got) != want {
				t.Fatalf("unescape = %q, want %q", got, want)
			}
		}
	})
}
