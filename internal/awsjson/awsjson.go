// Package awsjson writes JSON exactly as the AWS CLI prints it (Python's json.dumps with an
// indent of 4 and ensure_ascii off), so that trailalarm's drop-in commands produce output
// byte-compatible with the aws command they replace.
package awsjson

import (
	"bytes"
	"fmt"
	"strconv"
)

// Object is a JSON object whose keys keep their order, as the service returned them.
type Object []Field

// Field is one key of an Object.
type Field struct {
	Key   string
	Value any
}

// Marshal renders v — an Object, a []any, a string, an int, a bool or nil — followed by the
// newline the CLI prints.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := write(&b, v, 0); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

func indent(b *bytes.Buffer, depth int) {
	b.WriteByte('\n')
	for i := 0; i < depth; i++ {
		b.WriteString("    ")
	}
}

func write(b *bytes.Buffer, v any, depth int) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case string:
		writeString(b, x)
	case Object:
		if len(x) == 0 {
			b.WriteString("{}")
			return nil
		}
		b.WriteByte('{')
		for i, f := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			indent(b, depth+1)
			writeString(b, f.Key)
			b.WriteString(": ")
			if err := write(b, f.Value, depth+1); err != nil {
				return err
			}
		}
		indent(b, depth)
		b.WriteByte('}')
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			indent(b, depth+1)
			if err := write(b, e, depth+1); err != nil {
				return err
			}
		}
		indent(b, depth)
		b.WriteByte(']')
	default:
		return fmt.Errorf("awsjson: cannot encode %T", v)
	}
	return nil
}

// writeString escapes as Python's json module does with ensure_ascii off: quotes, backslashes
// and control characters only; everything else is written as it is.
func writeString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if c < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&15])
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
}
