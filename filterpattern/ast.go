package filterpattern

import (
	"net/netip"
	"regexp"
)

// Kind is the kind of a filter pattern, decided by its first non-blank character.
type Kind uint8

const (
	KindTerm  Kind = iota // words and quoted phrases; also the empty pattern
	KindJSON              // { ... }
	KindSpace             // [ ... ]
	KindRegex             // %...%
)

func (k Kind) String() string {
	switch k {
	case KindJSON:
		return "json"
	case KindSpace:
		return "space-delimited"
	case KindRegex:
		return "regex"
	default:
		return "term"
	}
}

// termMode says how a term takes part in a term pattern.
type termMode uint8

const (
	termRequired termMode = iota // must occur
	termOptional                 // ?term: at least one must occur, and only when no other terms exist
	termExcluded                 // -term: must not occur
)

type term struct {
	text   string
	mode   termMode
	blank  bool // a quoted, whitespace-only term: documented as "match everything"
	quoted bool
}

// valueKind is the type of a literal on the right of a comparison.
type valueKind uint8

const (
	valString valueKind = iota
	valNumber
	valRegex
)

// wildMode is how a string literal with '*' at its ends matches.
type wildMode uint8

const (
	wildExact    wildMode = iota
	wildPrefix            // "abc*"
	wildSuffix            // "*abc"
	wildContains          // "*abc*"
	wildAny               // "*"
)

type value struct {
	kind   valueKind
	text   string // the literal as written, quotes removed and escapes resolved; the regex source
	quoted bool   // a string literal written in double quotes
	wild   wildMode
	core   string  // for strings: text without the wildcard stars at its ends
	num    float64 // for numbers
	re     *regexp.Regexp
	cidrs  []netip.Prefix // valCIDR: the address ranges (see BindCIDRs)
}

// compareOp is a comparison or test in a condition.
type compareOp uint8

const (
	opEq compareOp = iota
	opNe
	opLt
	opLe
	opGt
	opGe
	opIsNull
	opIsTrue
	opIsFalse
	opNotExists
)

var compareOpText = [...]string{"=", "!=", "<", "<=", ">", ">=", "IS NULL", "IS TRUE", "IS FALSE", "NOT EXISTS"}

func (o compareOp) String() string { return compareOpText[o] }

func (o compareOp) relational() bool { return o >= opLt && o <= opGe }

// exprOp is the operator of an expression node.
type exprOp uint8

const (
	exprCond exprOp = iota
	exprAnd
	exprOr
)

// expr is a boolean expression over conditions. And and Or nodes are n-ary and flattened, so
// that the tree of "a && (b && c)" equals that of "a && b && c".
type expr struct {
	op   exprOp
	kids []*expr
	cond *condition
}

// condition is one comparison: a JSON selector (JSON patterns) or a field (space-delimited
// patterns) against a value.
type condition struct {
	sel   *selector // JSON patterns
	field string    // space-delimited patterns: the field's name
	op    compareOp
	val   value
}

type stepKind uint8

const (
	stepKey      stepKind = iota // .name or ['name']
	stepIndex                    // [N]
	stepAnyKey                   // .*
	stepAnyIndex                 // [*]
)

type step struct {
	kind  stepKind
	key   string
	index int
}

// selector is a JSON path such as $.userIdentity.sessionContext.attributes.mfaAuthenticated.
type selector struct {
	steps []step
	text  string // canonical text, also the key under which a Set shares it between patterns
}

func (s *selector) wildcards() int {
	n := 0
	for _, st := range s.steps {
		if st.kind == stepAnyKey || st.kind == stepAnyIndex {
			n++
		}
	}
	return n
}

// spaceField is one entry of a space-delimited pattern.
type spaceField struct {
	name     string // "" for an unnamed field
	ellipsis bool   // "..."
	cond     *expr  // nil: no condition
}

type spacePattern struct {
	fields   []spaceField
	ellipsis int // index of the "..." entry, or -1
}
