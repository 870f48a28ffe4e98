package filterpattern

import (
	"errors"
	"net/netip"
	"strconv"
)

// valCIDR is a value kind that pattern text cannot express: a set of IP address ranges, put in
// place of a string literal by BindCIDRs.
const valCIDR valueKind = 100

// BindCIDRs returns a copy of p in which every JSON comparison `selector = "placeholder"` and
// `selector != "placeholder"` (the placeholder a plain quoted string, without wildcards) compares
// the selected value as an IP address against prefixes instead of as text: `=` holds when the
// value is an IPv4 or IPv6 address inside one of the ranges (IPv4-mapped IPv6 addresses count as
// IPv4), `!=` when it is not (a value that is not an address included). As for every comparison,
// both are false when the field is missing or not a scalar.
//
// The CloudWatch Logs pattern language has no such comparison; this is for callers (rule
// parameters) that bind a list of ranges to a pattern offline. The copy's String() shows the
// placeholder, so it parses back to the unbound pattern. BindCIDRs fails when the placeholder is
// not used, is used with another operator or in a non-JSON pattern, or prefixes is empty.
// Matching a bound pattern allocates nothing.
func (p *Pattern) BindCIDRs(placeholder string, prefixes []netip.Prefix) (*Pattern, error) {
	if len(prefixes) == 0 {
		return nil, errors.New("filter pattern: no address ranges to bind")
	}
	if p.kind != KindJSON {
		return nil, errors.New("filter pattern: address ranges can only be bound in JSON patterns")
	}
	ranges := make([]netip.Prefix, len(prefixes))
	for i, pr := range prefixes {
		if !pr.IsValid() {
			return nil, errors.New("filter pattern: invalid address range " + strconv.Quote(pr.String()))
		}
		ranges[i] = pr.Masked()
	}
	n := 0
	var bad error
	e := cloneExpr(p.expr, func(c *condition) *condition {
		if c.val.kind != valString || c.val.text != placeholder {
			return c
		}
		if c.op != opEq && c.op != opNe || c.val.wild != wildExact {
			bad = errors.New("filter pattern: " + strconv.Quote(placeholder) + " stands for address ranges and can only be compared with = or !=")
			return c
		}
		n++
		cc := *c
		cc.val = value{kind: valCIDR, text: c.val.text, quoted: true, core: c.val.core, cidrs: ranges}
		return &cc
	})
	if bad != nil {
		return nil, bad
	}
	if n == 0 {
		return nil, errors.New("filter pattern: " + strconv.Quote(placeholder) + " is not compared with = or != in the pattern")
	}
	q := &Pattern{src: p.src, kind: p.kind, expr: e, sels: p.sels}
	q.single = newSet([]*Pattern{q})
	return q, nil
}

// cloneExpr copies e, passing each condition through f.
func cloneExpr(e *expr, f func(*condition) *condition) *expr {
	c := &expr{op: e.op}
	if e.cond != nil {
		c.cond = f(e.cond)
	}
	if len(e.kids) > 0 {
		c.kids = make([]*expr, len(e.kids))
		for i, k := range e.kids {
			c.kids[i] = cloneExpr(k, f)
		}
	}
	return c
}

// inRanges reports whether text is an IP address inside one of ranges.
func inRanges(ranges []netip.Prefix, text []byte) bool {
	a, ok := parseIP(text)
	if !ok {
		return false
	}
	for _, r := range ranges {
		if r.Contains(a) {
			return true
		}
	}
	return false
}

// parseIP reads an IPv4 or IPv6 address (IPv4-mapped IPv6 as IPv4) without allocating: a
// failed netip.ParseAddr allocates its error, so IPv4 is parsed here and text that cannot be an
// IPv6 address is turned away before netip sees it.
func parseIP(text []byte) (netip.Addr, bool) {
	if len(text) == 0 || len(text) > 45 {
		return netip.Addr{}, false
	}
	colon := false
	for _, c := range text {
		switch {
		case c >= '0' && c <= '9', c == '.':
		case c == ':':
			colon = true
		case c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
			if !colon && !hexOnlyV6(text) {
				return netip.Addr{}, false
			}
		default:
			return netip.Addr{}, false
		}
	}
	if !colon {
		var b [4]byte
		n, v, digits := 0, 0, 0
		for i, c := range text {
			if c == '.' {
				if digits == 0 || n == 3 {
					return netip.Addr{}, false
				}
				b[n], n, v, digits = byte(v), n+1, 0, 0
				continue
			}
			if c < '0' || c > '9' || digits > 0 && v == 0 { // no leading zeros, as netip
				return netip.Addr{}, false
			}
			v, digits = v*10+int(c-'0'), digits+1
			if v > 255 {
				return netip.Addr{}, false
			}
			if i == len(text)-1 {
				if n != 3 {
					return netip.Addr{}, false
				}
				b[3] = byte(v)
			}
		}
		if digits == 0 {
			return netip.Addr{}, false
		}
		return netip.AddrFrom4(b), true
	}
	a, err := netip.ParseAddr(bstr(text))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// hexOnlyV6 reports whether text has a ':' (hex letters are then IPv6 digits).
func hexOnlyV6(text []byte) bool {
	for _, c := range text {
		if c == ':' {
			return true
		}
	}
	return false
}
