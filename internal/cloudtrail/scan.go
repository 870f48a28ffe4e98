package cloudtrail

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"

	"github.com/trailalarm/trailalarm/internal/jsonstr"
)

// This file holds the byte-level JSON scanner. It validates a whole value in
// one pass and, for the outermost object, notes where the values of the
// top-level keys we care about are. Nothing is decoded and nothing allocates
// once the depth stack has grown to the deepest nesting seen.

// status is the outcome of a scan over a possibly incomplete buffer.
type status uint8

const (
	stOK        status = iota // value complete
	stShort                   // buffer ended inside the value: read more and retry
	stSyntax                  // not valid JSON at scanner.errOff
	stContainer               // top-level "Records"/"events" array found at scanner.end
)

// key identifies a top-level key whose value the reader needs.
type key uint8

const (
	kNone key = iota
	kEventTime
	kEventName
	kEventSource
	kRecipientAccountID
	kAWSRegion
	kEventID
	kErrorCode
	kUserAgent
	kSourceIPAddress
	kEventVersion
	kRecords
	kEvents
	kMessage
	kLookupEvents    // "Events" of `aws cloudtrail lookup-events` output
	kCloudTrailEvent // the record string in a lookup-events element
	kDetailType
	kDetail
	kDigestStart
	kDigestS3Object
	nKeys
)

func lookupKey(b []byte) key {
	// switch on string(b) compiles to comparisons without allocating.
	switch string(b) {
	case "eventTime":
		return kEventTime
	case "eventName":
		return kEventName
	case "eventSource":
		return kEventSource
	case "recipientAccountId":
		return kRecipientAccountID
	case "awsRegion":
		return kAWSRegion
	case "eventID":
		return kEventID
	case "errorCode":
		return kErrorCode
	case "userAgent":
		return kUserAgent
	case "sourceIPAddress":
		return kSourceIPAddress
	case "eventVersion":
		return kEventVersion
	case "Records":
		return kRecords
	case "events":
		return kEvents
	case "message":
		return kMessage
	case "Events":
		return kLookupEvents
	case "CloudTrailEvent":
		return kCloudTrailEvent
	case "detail-type":
		return kDetailType
	case "detail":
		return kDetail
	case "digestStartTime":
		return kDigestStart
	case "digestS3Object":
		return kDigestS3Object
	}
	return kNone
}

// span is where a top-level value lies in the scanned buffer. For strings it
// is the content between the quotes.
type span struct {
	start, end int
	str        bool // the value is a string
	esc        bool // the string contains a backslash and needs unescaping
	set        bool
	dup        bool // the key appeared more than once
}

// maxDepth bounds nesting, as encoding/json does, so hostile input cannot
// grow the stack without limit.
const maxDepth = 10000

type scanner struct {
	stack   []bool // true for object, false for array
	fields  [nKeys]span
	end     int    // after stOK: index after the value; after stContainer: index of '['
	errOff  int    // after stSyntax: index of the offending byte
	errMsg  string // after stSyntax: what was wrong
	badUTF8 int    // index of the first invalid UTF-8 byte in a string, or -1
	keyBuf  []byte // unescaped key, for the rare key with escapes
}

func (s *scanner) fail(i int, msg string) (int, status) {
	s.errOff, s.errMsg = i, msg
	return i, stSyntax
}

// scan validates the JSON value starting at b[i] (after whitespace) and
// records the top-level fields if it is an object. With stopAtContainer, a
// top-level "Records", "events" or "Events" key whose value is an array stops the scan
// with stContainer so that the caller can stream the array's elements.
func (s *scanner) scan(b []byte, i int, stopAtContainer bool) (int, status) {
	s.stack = s.stack[:0]
	s.fields = [nKeys]span{}
	s.badUTF8 = -1
	n := len(b)
	cur := kNone  // top-level key whose value is being scanned
	valStart := 0 // start of that value
	var end int
	var ok bool
	var c byte

value:
	for i < n && isSpace(b[i]) {
		i++
	}
	if i >= n {
		return i, stShort
	}
	if len(s.stack) == 1 && cur != kNone {
		valStart = i
		if stopAtContainer && (cur == kRecords || cur == kEvents || cur == kLookupEvents) && b[i] == '[' {
			s.end = i
			return i, stContainer
		}
	}
	c = b[i]
	switch {
	case c == '{':
		if len(s.stack) >= maxDepth {
			return s.fail(i, "nesting too deep")
		}
		s.stack = append(s.stack, true)
		i++
		for i < n && isSpace(b[i]) {
			i++
		}
		if i >= n {
			return i, stShort
		}
		if b[i] == '}' {
			i++
			s.stack = s.stack[:len(s.stack)-1]
			goto after
		}
		goto key
	case c == '[':
		if len(s.stack) >= maxDepth {
			return s.fail(i, "nesting too deep")
		}
		s.stack = append(s.stack, false)
		i++
		for i < n && isSpace(b[i]) {
			i++
		}
		if i >= n {
			return i, stShort
		}
		if b[i] == ']' {
			i++
			s.stack = s.stack[:len(s.stack)-1]
			goto after
		}
		goto value
	case c == '"':
		end, esc, st := s.str(b, i)
		if st != stOK {
			return end, st
		}
		if len(s.stack) == 1 && cur != kNone {
			s.fields[cur] = span{start: i + 1, end: end - 1, str: true, esc: esc, set: true, dup: s.fields[cur].set}
			cur = kNone
		}
		i = end
		goto after
	case c == '-' || c >= '0' && c <= '9':
		end, ok = number(b, i)
		if !ok {
			if end >= n {
				return end, stShort
			}
			return s.fail(end, "invalid number")
		}
		i = end
	case c == 't':
		i, ok = literal(b, i, "true")
	case c == 'f':
		i, ok = literal(b, i, "false")
	case c == 'n':
		i, ok = literal(b, i, "null")
	default:
		return s.fail(i, "invalid character "+quoteByte(c)+" looking for a value")
	}
	if c == 't' || c == 'f' || c == 'n' {
		if !ok {
			if i >= n {
				return i, stShort
			}
			return s.fail(i, "invalid literal")
		}
	}

after:
	if len(s.stack) == 1 && cur != kNone {
		s.fields[cur] = span{start: valStart, end: i, set: true, dup: s.fields[cur].set}
		cur = kNone
	}
	if len(s.stack) == 0 {
		s.end = i
		return i, stOK
	}
	for i < n && isSpace(b[i]) {
		i++
	}
	if i >= n {
		return i, stShort
	}
	c = b[i]
	if s.stack[len(s.stack)-1] {
		switch c {
		case ',':
			i++
			for i < n && isSpace(b[i]) {
				i++
			}
			if i >= n {
				return i, stShort
			}
			goto key
		case '}':
			i++
			s.stack = s.stack[:len(s.stack)-1]
			goto after
		}
		return s.fail(i, "invalid character "+quoteByte(c)+" after object value")
	}
	switch c {
	case ',':
		i++
		goto value
	case ']':
		i++
		s.stack = s.stack[:len(s.stack)-1]
		goto after
	}
	return s.fail(i, "invalid character "+quoteByte(c)+" after array element")

key:
	// b[i] is the first byte after '{' or ',' and whitespace.
	if b[i] != '"' {
		return s.fail(i, "invalid character "+quoteByte(b[i])+" looking for an object key")
	}
	{
		end, esc, st := s.str(b, i)
		if st != stOK {
			return end, st
		}
		if len(s.stack) == 1 {
			k := b[i+1 : end-1]
			if esc {
				s.keyBuf = jsonstr.Unescape(s.keyBuf[:0], k)
				k = s.keyBuf
			}
			cur = lookupKey(k)
		}
		i = end
	}
	for i < n && isSpace(b[i]) {
		i++
	}
	if i >= n {
		return i, stShort
	}
	if b[i] != ':' {
		return s.fail(i, "invalid character "+quoteByte(b[i])+" after object key")
	}
	i++
	goto value
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '\r'
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	const hex = "0123456789abcdef"
	return "0x" + string([]byte{hex[c>>4], hex[c&15]})
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// special8 flags (with 0x80) the bytes of x that need attention inside a
// JSON string: control characters, '"', '\\' and non-ASCII bytes. Borrows
// can flag bytes above a real match but never below it, so the lowest flag
// is exact, which is all the caller uses.
func special8(x uint64) uint64 {
	q := x ^ ('"' * lsb)
	bs := x ^ ('\\' * lsb)
	m := (x - 0x20*lsb) & ^x // bytes < 0x20
	m |= (q - lsb) & ^q      // '"'
	m |= (bs - lsb) & ^bs    // '\\'
	m |= x                   // bytes >= 0x80
	return m & msb
}

// str scans the string starting with the quote at b[i]. It returns the index
// after the closing quote and whether the string holds escapes. Invalid UTF-8
// is noted in s.badUTF8 rather than failing, so the value's extent is still
// known and the caller can report and skip it.
func (s *scanner) str(b []byte, i int) (int, bool, status) {
	n := len(b)
	i++
	esc := false
	for {
		for i+8 <= n {
			if m := special8(binary.LittleEndian.Uint64(b[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= n {
			return i, esc, stShort
		}
		c := b[i]
		switch {
		case c == '"':
			return i + 1, esc, stOK
		case c == '\\':
			esc = true
			if i+1 >= n {
				return i, esc, stShort
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > n {
					return i, esc, stShort
				}
				for _, h := range b[i+2 : i+6] {
					if jsonstr.Unhex(h) < 0 {
						_, st := s.fail(i, "invalid \\u escape in string")
						return i, esc, st
					}
				}
				i += 6
			default:
				_, st := s.fail(i, "invalid escape in string")
				return i, esc, st
			}
		case c < 0x20:
			_, st := s.fail(i, "control character "+quoteByte(c)+" in string")
			return i, esc, st
		case c < utf8.RuneSelf:
			i++
		default:
			if !utf8.FullRune(b[i:]) {
				// Could be cut by the buffer end; at the true end of input the
				// caller reports truncation.
				return i, esc, stShort
			}
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				if s.badUTF8 < 0 {
					s.badUTF8 = i
				}
			}
			i += size
		}
	}
}

// number scans a JSON number. On failure it returns the offending index.
func number(b []byte, i int) (int, bool) {
	n := len(b)
	if b[i] == '-' {
		i++
	}
	if i >= n {
		return i, false
	}
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i < n && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return i, false
	}
	if i < n && b[i] == '.' {
		i++
		if i >= n || b[i] < '0' || b[i] > '9' {
			return i, false
		}
		for i < n && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < n && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < n && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= n || b[i] < '0' || b[i] > '9' {
			return i, false
		}
		for i < n && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	// A number is only known to be complete once a delimiter follows it.
	if i >= n {
		return i, false
	}
	return i, true
}

func literal(b []byte, i int, lit string) (int, bool) {
	for j := 0; j < len(lit); j++ {
		if i+j >= len(b) {
			return i + j, false
		}
		if b[i+j] != lit[j] {
			return i + j, false
		}
	}
	return i + len(lit), true
}
