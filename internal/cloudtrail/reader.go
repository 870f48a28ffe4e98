// Package cloudtrail turns bytes into CloudTrail records.
//
// It reads CloudTrail S3 delivery files ({"Records":[…]}), plain JSON arrays
// of records, NDJSON or concatenated records, CloudWatch Logs exports (the
// record is the "message" string of a log event) and EventBridge envelopes
// (the record is "detail"), `aws cloudtrail lookup-events` output (the
// record is the "CloudTrailEvent" string), each possibly gzip-compressed, which is
// recognised by its magic bytes. CloudTrail digest files are recognised and
// skipped.
//
// Input is split into records by scanning bytes, never by decoding: a
// streaming reader holds at most one record (plus a read window) in memory,
// validates each record as JSON in one pass and reads only the top-level
// fields every stage needs. Bad input (truncated gzip, half a record, a
// malformed or oversized record, invalid UTF-8, a record without eventTime,
// a file that is not CloudTrail) is reported as a *ReadError with the file
// and byte offset, counted, and skipped; Options.Strict makes it fatal.
package cloudtrail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"

	"github.com/trailalarm/trailalarm/internal/jsonstr"
)

// DefaultMaxRecordSize is the default limit on one record's size. CloudTrail
// events are at most 256 KB; anything far larger is corrupt or hostile.
const DefaultMaxRecordSize = 4 << 20

const defaultBufSize = 256 << 10

// Options controls how input is read.
type Options struct {
	// Strict makes the first bad input fatal: Read returns its *ReadError.
	Strict bool
	// MaxRecordSize limits a single record (or envelope) in bytes; larger
	// ones are reported and skipped without being held in memory. 0 means
	// DefaultMaxRecordSize.
	MaxRecordSize int
	// OnError, if set, is called with each bad-input error, in input order,
	// on the goroutine that calls Read.
	OnError func(*ReadError)
}

// Stats counts what one Read saw.
type Stats struct {
	Records int64 // records delivered to the callback
	Errors  int64 // bad-input errors reported and skipped
	Digests int64 // CloudTrail digest objects skipped
	Bytes   int64 // bytes of decompressed input read
}

// Add adds o to s, for callers that sum over files.
func (s *Stats) Add(o Stats) {
	s.Records += o.Records
	s.Errors += o.Errors
	s.Digests += o.Digests
	s.Bytes += o.Bytes
}

// ReadError is bad input at a place in a file. Err wraps one of the Err*
// values of this package. Offset is where the problem was found: the
// offending byte for malformed JSON and invalid UTF-8, the start of the
// record (or of the log event holding it) otherwise.
type ReadError struct {
	File   string // input name as given to Read
	Offset int64  // byte offset in the decompressed input
	Err    error
}

func (e *ReadError) Error() string {
	return fmt.Sprintf("%s: offset %d: %v", e.File, e.Offset, e.Err)
}

func (e *ReadError) Unwrap() error { return e.Err }

type state uint8

const (
	sTop      state = iota // between top-level values
	sArray                 // inside an array of records, log events or envelopes
	sObjRest               // in a container object after its records array
	sSkip                  // discarding one value by depth counting
	sSkipLine              // discarding up to a line that starts a new value
	sDone
)

// Reader reads records from one input at a time. It keeps its buffers
// between inputs, so reusing one Reader per goroutine avoids allocation.
// A Reader is not safe for concurrent use.
type Reader struct {
	parser

	opts Options
	max  int
	name string
	fn   func(*Record) error

	src  io.Reader
	pr   prefixReader
	gz   *gzip.Reader
	buf  []byte
	pos  int   // next unread byte in buf
	end  int   // end of valid data in buf
	base int64 // input offset of buf[0]

	eof      bool // src is exhausted
	readErr  bool // src ended with an error that was reported
	sawValue bool // some JSON value started

	state     state
	inRecords bool  // sArray: the array is the value of a container's key
	needSep   bool  // sArray: an element was read, ',' or ']' comes next
	needElem  bool  // sArray: a ',' was read, an element comes next
	needValue bool  // sObjRest: key and ':' were read
	lineStart bool  // sSkipLine: pos is at the start of a line
	after     state // state after sSkip
	sk        skipState

	msg   []byte // unescaped log message
	rec   Record
	index int
	stats Stats
}

type skipState struct {
	depth int
	inStr bool
	esc   bool
}

// NewReader returns a Reader with its buffers allocated.
func NewReader() *Reader {
	r := &Reader{buf: make([]byte, defaultBufSize)}
	r.intern = make(map[string]string)
	return r
}

var readerPool = sync.Pool{New: func() any { return NewReader() }}

// Read reads all records from src, decompressing it first if it starts with
// the gzip magic bytes, and calls fn for each. See Reader.Read.
func Read(src io.Reader, name string, opts Options, fn func(*Record) error) (Stats, error) {
	r := readerPool.Get().(*Reader)
	defer readerPool.Put(r)
	return r.Read(src, name, opts, fn)
}

// Read reads all records from src and calls fn for each, in input order.
// name labels records and errors. The *Record passed to fn, its Raw and its
// EventID are reused after fn returns; see Record.
//
// Bad input is reported to opts.OnError and counted in Stats.Errors; reading
// goes on after it unless opts.Strict is set, in which case the *ReadError
// is returned. An error returned by fn stops reading and is returned as is.
func (r *Reader) Read(src io.Reader, name string, opts Options, fn func(*Record) error) (Stats, error) {
	r.reset(name, opts, fn)
	err := r.open(src)
	if err == nil {
		err = r.run()
	}
	st := r.stats
	r.release()
	return st, err
}

func (r *Reader) reset(name string, opts Options, fn func(*Record) error) {
	r.opts, r.name, r.fn = opts, name, fn
	r.max = opts.MaxRecordSize
	if r.max <= 0 {
		r.max = DefaultMaxRecordSize
	}
	r.pos, r.end, r.base = 0, 0, 0
	r.eof, r.readErr, r.sawValue = false, false, false
	r.state = sTop
	r.index = 0
	r.stats = Stats{}
	r.rec = Record{}
}

// release drops references to the caller's data and gives back memory that
// one huge record made the buffer grow to.
func (r *Reader) release() {
	r.src, r.fn, r.opts.OnError = nil, nil, nil
	r.pr = prefixReader{}
	r.rec = Record{}
	if len(r.buf) > 4*defaultBufSize {
		r.buf = make([]byte, defaultBufSize)
	}
	if cap(r.msg) > 4*defaultBufSize {
		r.msg = nil
	}
}

// open sniffs the gzip magic bytes and sets r.src to the decompressed input.
func (r *Reader) open(src io.Reader) error {
	n, err := io.ReadFull(src, r.pr.head[:2])
	r.pr.p = r.pr.head[:n]
	r.pr.r = src
	r.src = &r.pr
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		r.eof, r.readErr = true, true
		return r.report(0, fmt.Errorf("%w: %w", ErrRead, err))
	}
	if n == 2 && r.pr.head[0] == 0x1f && r.pr.head[1] == 0x8b {
		if r.gz == nil {
			r.gz, err = gzip.NewReader(&r.pr)
		} else {
			err = r.gz.Reset(&r.pr)
		}
		if err != nil {
			r.eof, r.readErr = true, true
			return r.report(0, gzipErr(err))
		}
		r.src = r.gz
	}
	return nil
}

func gzipErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: gzip stream ends early: %w", ErrTruncated, err)
	}
	return fmt.Errorf("%w: gzip: %w", ErrRead, err)
}

// prefixReader gives back the sniffed bytes before the rest of the input.
type prefixReader struct {
	head [2]byte
	p    []byte
	r    io.Reader
}

func (p *prefixReader) Read(b []byte) (int, error) {
	if len(p.p) > 0 {
		n := copy(b, p.p)
		p.p = p.p[n:]
		return n, nil
	}
	return p.r.Read(b)
}

// report counts and passes on a bad-input error; in strict mode it is fatal.
func (r *Reader) report(off int64, err error) error {
	r.stats.Errors++
	e := &ReadError{File: r.name, Offset: off, Err: err}
	if r.opts.OnError != nil {
		r.opts.OnError(e)
	}
	if r.opts.Strict {
		return e
	}
	return nil
}

// more reads more input into the buffer, keeping buf[pos:end] and moving it
// to the front. It returns false when no more input will come.
func (r *Reader) more() (bool, error) {
	if r.eof {
		return false, nil
	}
	if r.pos > 0 {
		n := copy(r.buf, r.buf[r.pos:r.end])
		r.base += int64(r.pos)
		r.pos, r.end = 0, n
	}
	if len(r.buf)-r.end < len(r.buf)/4 {
		nb := make([]byte, 2*len(r.buf))
		copy(nb, r.buf[:r.end])
		r.buf = nb
	}
	for {
		n, err := r.src.Read(r.buf[r.end:])
		r.end += n
		r.stats.Bytes += int64(n)
		if err != nil {
			r.eof = true
			if err != io.EOF {
				r.readErr = true
				if r.src == r.gz {
					err = gzipErr(err)
				} else {
					err = fmt.Errorf("%w: %w", ErrRead, err)
				}
				if e := r.report(r.base+int64(r.end), err); e != nil {
					return false, e
				}
			}
			return n > 0, nil
		}
		if n > 0 {
			return true, nil
		}
	}
}

func (r *Reader) run() error {
	for {
		var err error
		switch r.state {
		case sTop:
			err = r.top()
		case sArray:
			err = r.array()
		case sObjRest:
			err = r.objRest()
		case sSkip:
			err = r.skip()
		case sSkipLine:
			err = r.skipLine()
		case sDone:
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// atEnd is called when a step needs input at r.pos that will not come. what
// says what was left open; nothing is reported when a read error already was.
func (r *Reader) atEnd(what string) error {
	r.state = sDone
	if r.readErr {
		return nil
	}
	return r.report(r.base+int64(r.pos), fmt.Errorf("%w: %s", ErrTruncated, what))
}

// short handles a value at r.pos that the buffer does not hold entirely:
// read more, or give up on it if it is too large or the input ends.
// after is the state to go on in once a too-large value is skipped.
func (r *Reader) short(after state) error {
	if r.end-r.pos >= r.max {
		off := r.base + int64(r.pos)
		r.skipValue(after)
		// Once skipped, the value counts as read.
		r.needSep, r.needElem, r.needValue = true, false, false
		return r.report(off, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, r.max))
	}
	ok, err := r.more()
	if err != nil || ok {
		return err
	}
	return r.atEnd("input ends inside a record")
}

// skipValue discards the value at r.pos by depth counting, then goes on in
// state after.
func (r *Reader) skipValue(after state) {
	r.state = sSkip
	r.after = after
	r.sk = skipState{}
}

func (r *Reader) top() error {
	i := skipSpace(r.buf[:r.end], r.pos)
	if r.base+int64(i) == 0 && r.end-i >= 3 && r.buf[i] == 0xef && r.buf[i+1] == 0xbb && r.buf[i+2] == 0xbf {
		i += 3 // UTF-8 byte order mark
	}
	r.pos = i
	if i >= r.end || (r.base+int64(i) == 0 && r.end-i < 3 && !r.eof) {
		ok, err := r.more()
		if err != nil || ok {
			return err
		}
		if r.pos < r.end {
			return nil // a short BOM-like prefix: look at it as data
		}
		r.state = sDone
		if !r.sawValue && !r.readErr {
			return r.report(r.base+int64(r.pos), ErrEmpty)
		}
		return nil
	}
	r.sawValue = true
	switch r.buf[i] {
	case '{':
		end, st := r.sc.scan(r.buf[:r.end], i, true)
		switch st {
		case stOK:
			r.pos = end
			return r.item(r.buf, i, end, r.base+int64(i), 0, false)
		case stContainer:
			// Stream the array's elements; the keys before it are not needed.
			r.pos = r.sc.end + 1
			r.state, r.inRecords, r.needSep, r.needElem = sArray, true, false, false
			return nil
		case stShort:
			r.pos = i
			return r.short(sTop)
		}
		r.pos = i
		r.state, r.lineStart = sSkipLine, false
		return r.syntax(i)
	case '[':
		r.pos = i + 1
		r.state, r.inRecords, r.needSep, r.needElem = sArray, false, false, false
		return nil
	}
	r.state, r.lineStart = sSkipLine, false
	return r.report(r.base+int64(i), fmt.Errorf("%w: invalid character %s at the start of a value (not JSON?)", ErrSyntax, quoteByte(r.buf[i])))
}

// syntax reports the scanner's last syntax error.
func (r *Reader) syntax(start int) error {
	off := r.sc.errOff
	if off < start {
		off = start
	}
	return r.report(r.base+int64(off), fmt.Errorf("%w: %s", ErrSyntax, r.sc.errMsg))
}

func (r *Reader) array() error {
	i := skipSpace(r.buf[:r.end], r.pos)
	r.pos = i
	if i >= r.end {
		ok, err := r.more()
		if err != nil || ok {
			return err
		}
		return r.atEnd("input ends inside an array")
	}
	c := r.buf[i]
	if r.needSep {
		switch c {
		case ',':
			r.pos++
			r.needSep, r.needElem = false, true
			return nil
		case ']':
			r.pos++
			r.closeArray()
			return nil
		case '{':
			// A missing comma between two records: report, and read on.
			r.needSep = false
			return r.report(r.base+int64(i), fmt.Errorf("%w: missing ',' between array elements", ErrSyntax))
		}
		r.state, r.lineStart = sSkipLine, false
		return r.report(r.base+int64(i), fmt.Errorf("%w: invalid character %s after array element", ErrSyntax, quoteByte(c)))
	}
	if c == ']' {
		r.pos++
		r.closeArray()
		if r.needElem {
			return r.report(r.base+int64(i), fmt.Errorf("%w: ',' before ']'", ErrSyntax))
		}
		return nil
	}
	end, st := r.sc.scan(r.buf[:r.end], i, false)
	switch st {
	case stOK:
		r.pos = end
		r.needSep, r.needElem = true, false
		return r.item(r.buf, i, end, r.base+int64(i), 0, false)
	case stShort:
		r.pos = i
		return r.short(sArray)
	}
	// Skip the bad element by depth counting: most damage (bad bytes,
	// a bad literal) leaves brackets balanced.
	r.pos = i
	r.needSep, r.needElem = true, false
	r.skipValue(sArray)
	return r.syntax(i)
}

func (r *Reader) closeArray() {
	if r.inRecords {
		r.state, r.needValue = sObjRest, false
	} else {
		r.state = sTop
	}
}

// objRest reads the keys that follow a container's records array.
func (r *Reader) objRest() error {
	b := r.buf[:r.end]
	i := skipSpace(b, r.pos)
	if i >= r.end {
		r.pos = i
		ok, err := r.more()
		if err != nil || ok {
			return err
		}
		return r.atEnd("input ends inside an object")
	}
	if r.needValue {
		end, st := r.sc.scan(b, i, false)
		switch st {
		case stOK:
			r.pos, r.needValue = end, false
			return nil
		case stShort:
			r.pos = i
			return r.short(sObjRest)
		}
		r.pos, r.state, r.lineStart = i, sSkipLine, false
		return r.syntax(i)
	}
	switch b[i] {
	case '}':
		r.pos, r.state = i+1, sTop
		return nil
	case ',':
		k, st := r.keyColon(b, i+1)
		switch st {
		case stOK:
			r.pos, r.needValue = k, true
			return nil
		case stShort:
			r.pos = i
			ok, err := r.more()
			if err != nil || ok {
				return err
			}
			return r.atEnd("input ends inside an object")
		}
		i = k
	}
	r.pos, r.state, r.lineStart = i, sSkipLine, false
	return r.report(r.base+int64(i), fmt.Errorf("%w: invalid character %s in object", ErrSyntax, quoteByte(b[i])))
}

// keyColon reads an object key and its colon starting at b[i] (after a
// comma) and returns the index after the colon, or where it went wrong.
func (r *Reader) keyColon(b []byte, i int) (int, status) {
	i = skipSpace(b, i)
	if i >= len(b) {
		return i, stShort
	}
	if b[i] != '"' {
		return i, stSyntax
	}
	end, _, st := r.sc.str(b, i)
	if st != stOK {
		return end, st
	}
	k := skipSpace(b, end)
	if k >= len(b) {
		return k, stShort
	}
	if b[k] != ':' {
		return k, stSyntax
	}
	return k + 1, stOK
}

// skip discards the value at r.pos by depth counting, honouring strings. It
// does not keep what it has passed, so any size can be skipped.
func (r *Reader) skip() error {
	b := r.buf[:r.end]
	k := &r.sk
	i := r.pos
	for ; i < len(b); i++ {
		c := b[i]
		if k.inStr {
			switch {
			case k.esc:
				k.esc = false
			case c == '\\':
				k.esc = true
			case c == '"':
				k.inStr = false
				if k.depth == 0 {
					r.pos, r.state = i+1, r.after
					return nil
				}
			}
			continue
		}
		switch c {
		case '"':
			k.inStr = true
		case '{', '[':
			k.depth++
		case '}', ']':
			if k.depth == 0 {
				r.pos, r.state = i, r.after
				return nil
			}
			k.depth--
			if k.depth == 0 {
				r.pos, r.state = i+1, r.after
				return nil
			}
		case ',', ' ', '\t', '\n', '\r':
			if k.depth == 0 && i > r.pos {
				r.pos, r.state = i, r.after
				return nil
			}
		}
	}
	r.pos = i
	ok, err := r.more()
	if err != nil || ok {
		return err
	}
	r.state = sDone // the skipped value was reported already
	return nil
}

// skipLine discards input up to a line that starts with '{' or '[', which
// is where the next record of NDJSON or concatenated JSON most likely is.
func (r *Reader) skipLine() error {
	for {
		if r.lineStart {
			if r.pos >= r.end {
				break
			}
			if c := r.buf[r.pos]; c == '{' || c == '[' {
				r.state = sTop
				return nil
			}
			r.lineStart = false
		}
		j := bytes.IndexByte(r.buf[r.pos:r.end], '\n')
		if j < 0 {
			r.pos = r.end
			break
		}
		r.pos += j + 1
		r.lineStart = true
	}
	ok, err := r.more()
	if err != nil || ok {
		return err
	}
	r.state = sDone
	return nil
}

// item handles one complete value b[start:end] that the scanner has just
// validated: a record, an EventBridge envelope, a CloudWatch Logs event or a
// digest. off is its input offset; nest counts the envelopes around it;
// inMsg says b is an unescaped log message, not the input, so offsets within
// it are not input offsets.
func (r *Reader) item(b []byte, start, end int, off int64, nest int, inMsg bool) error {
	if b[start] != '{' {
		return r.report(off, ErrNotObject)
	}
	if end-start > r.max {
		return r.report(off, fmt.Errorf("%w: %d bytes, more than %d", ErrTooLarge, end-start, r.max))
	}
	if r.sc.badUTF8 >= 0 {
		if !inMsg {
			off += int64(r.sc.badUTF8 - start)
		}
		return r.report(off, ErrInvalidUTF8)
	}
	f := &r.sc.fields
	switch {
	case f[kEventTime].set || f[kEventName].set || f[kEventSource].set || f[kEventVersion].set:
		if err := r.fields(b[start:end], b, &r.rec); err != nil {
			return r.report(off, err)
		}
		r.rec.File, r.rec.Offset, r.rec.Index = r.name, off, r.index
		r.index++
		r.stats.Records++
		return r.fn(&r.rec)

	case f[kDigestStart].set || f[kDigestS3Object].set:
		r.stats.Digests++
		return nil

	case f[kDetailType].set && f[kDetail].set && nest < 2:
		dt, d := f[kDetailType], f[kDetail]
		if !dt.str || !isCloudTrailDetailType(b[dt.start:dt.end]) {
			return r.report(off, fmt.Errorf("%w: EventBridge event with detail-type %.100q", ErrNotCloudTrail, b[dt.start:dt.end]))
		}
		if b[d.start] != '{' {
			return r.report(off, fmt.Errorf("%w: EventBridge detail is not an object", ErrNotCloudTrail))
		}
		// Validated with the envelope; this pass collects the detail's fields.
		if _, st := r.sc.scan(b[:d.end], d.start, false); st != stOK {
			return r.report(off, fmt.Errorf("%w: EventBridge detail: %s", ErrSyntax, r.sc.errMsg))
		}
		if !inMsg {
			off += int64(d.start - start)
		}
		return r.item(b, d.start, d.end, off, nest+1, inMsg)

	case (f[kMessage].str || f[kCloudTrailEvent].str) && nest == 0:
		m := f[kMessage]
		if !m.str {
			m = f[kCloudTrailEvent]
		}
		msg := b[m.start:m.end]
		if m.esc {
			r.msg = jsonstr.Unescape(r.msg[:0], msg)
			msg = r.msg
		}
		i := skipSpace(msg, 0)
		if i >= len(msg) || msg[i] != '{' {
			return r.report(off, fmt.Errorf("%w: log event message is not a JSON object", ErrNotCloudTrail))
		}
		e, st := r.sc.scan(msg, i, false)
		if st != stOK || skipSpace(msg, e) != len(msg) {
			what := r.sc.errMsg
			if st != stSyntax {
				what = "incomplete or trailing data"
			}
			return r.report(off, fmt.Errorf("%w in log event message: %s", ErrSyntax, what))
		}
		return r.item(msg, i, e, off, nest+1, true)
	}
	return r.report(off, fmt.Errorf("%w: no eventTime, eventName or eventSource", ErrNotCloudTrail))
}
