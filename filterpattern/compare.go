package filterpattern

import (
	"strconv"
	"strings"
)

// compareScalar applies a condition's operator and value to the text of a scalar: a JSON
// string (unescaped), number or boolean, or a space-delimited field. isNumber says the text is
// a JSON number, which may use an exponent; numeric-looking strings may not ("strings don't
// support scientific notation").
func compareScalar(op compareOp, v *value, text []byte, isNumber bool) bool {
	switch v.kind {
	case valCIDR:
		in := inRanges(v.cidrs, text)
		if op == opNe {
			return !in
		}
		return in
	case valRegex:
		m := v.re.Match(text)
		if op == opNe {
			return !m
		}
		return m
	case valString:
		eq := wildMatch(v, bstr(text))
		if op == opNe {
			return !eq
		}
		return eq
	}
	// A number literal.
	if op == opEq || op == opNe {
		eq := bstr(text) == v.text
		if !eq {
			if n, ok := numericValue(text, isNumber); ok {
				eq = n == v.num
			}
		}
		if op == opNe {
			return !eq
		}
		return eq
	}
	n, ok := numericValue(text, isNumber)
	if !ok {
		return false
	}
	switch op {
	case opLt:
		return n < v.num
	case opLe:
		return n <= v.num
	case opGt:
		return n > v.num
	default:
		return n >= v.num
	}
}

func wildMatch(v *value, s string) bool {
	switch v.wild {
	case wildAny:
		return true
	case wildPrefix:
		return strings.HasPrefix(s, v.core)
	case wildSuffix:
		return strings.HasSuffix(s, v.core)
	case wildContains:
		return strings.Contains(s, v.core)
	default:
		return s == v.core
	}
}

// numericValue parses a JSON number, or a string holding a plain decimal number.
func numericValue(text []byte, isNumber bool) (float64, bool) {
	if !isNumber && !isPlainDecimal(text) {
		return 0, false
	}
	n, err := strconv.ParseFloat(bstr(text), 64)
	return n, err == nil
}

func isPlainDecimal(b []byte) bool {
	i := 0
	if i < len(b) && (b[i] == '-' || b[i] == '+') {
		i++
	}
	digits, dot := 0, false
	for ; i < len(b); i++ {
		switch {
		case isDigit(b[i]):
			digits++
		case b[i] == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}
