package rules

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/trailalarm/trailalarm/filterpattern"
)

// maxRegexes is CloudWatch Logs' quota of regular expressions per filter pattern.
const maxRegexes = 2

// Render writes the rule, with its parameters given values (name → text, lists
// comma-separated; missing ones take their defaults), as the CloudWatch Logs filter pattern
// closest to what trailalarm evaluates: for a metric filter (plan, apply, export). Rules without
// parameters come back as written. ${account_id} is left in place.
//
// A cidrs parameter compared with = or != becomes one comparison per range, joined by || (=) or
// && (!=): an IPv4 /8, /16 or /24 as a wildcard ("10.*", "192.168.*", "203.0.113.*"), a /32 or
// /128 as the address, the other IPv4 ranges as one %regex% per parameter use, exact over the
// octet that the prefix splits (CloudWatch allows 2 regexes per pattern; beyond that a range is
// widened to the enclosing octet boundary), an IPv6 range as a wildcard on its leading groups.
// exact is false when the pattern does not match exactly the records the rule matches, for IPv4
// addresses in dotted decimal as CloudTrail writes them: always for IPv6 (text matching sees one
// of an address's several spellings), for ranges widened or written as *. why then says which
// range was written how, and why, in one line. The pattern is checked with
// filterpattern.Parse and CloudWatch's 1024-character limit.
func Render(r *Rule, values map[string]string) (pattern string, exact bool, why string, err error) {
	if len(r.Params) == 0 {
		return r.Pattern, true, "", nil
	}
	vals, _, missing, err := r.resolveValues(values)
	if err != nil {
		return "", false, "", err
	}
	if missing != "" {
		return "", false, "", fmt.Errorf("rule %s: parameter %s has no value and no default", r.ID, missing)
	}
	var lastErr error
	for budget := maxRegexes; budget >= 0; budget-- {
		rd := &renderer{budget: budget}
		text, err := substitute(r.Pattern, r.Params, vals, rd.cidrs)
		if err != nil {
			return "", false, "", fmt.Errorf("rule %s: %w", r.ID, err)
		}
		if n := utf8.RuneCountInString(text); n > filterpattern.MaxLength {
			lastErr = fmt.Errorf("rule %s: the rendered pattern is %d characters long; CloudWatch Logs accepts at most %d", r.ID, n, filterpattern.MaxLength)
			continue
		}
		check := text
		if r.UsesAccountID() {
			check = BindAccountID(text, "123456789012")
		}
		if _, err := filterpattern.Parse(check); err != nil {
			lastErr = fmt.Errorf("rule %s: the rendered pattern is not valid: %w", r.ID, err)
			continue
		}
		if budget < maxRegexes && rd.wanted > budget {
			rd.why = append(rd.why, fmt.Sprintf("the pattern has room for %d more regular expression(s) (CloudWatch allows %d per pattern)", budget, maxRegexes))
		}
		return text, len(rd.why) == 0, strings.Join(rd.why, "; "), nil
	}
	return "", false, "", lastErr
}

// renderer writes cidrs comparisons, counting the regexes it may still use.
type renderer struct {
	budget int      // regexes left
	wanted int      // regexes an exact rendering needs
	why    []string // the inexact parts
}

func (rd *renderer) cidrs(sel, op string, v paramValue) string {
	var values, branches []string
	var widen []netip.Prefix
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			values = append(values, s)
		}
	}
	for _, p := range v.cidrs {
		a, bits := p.Addr(), p.Bits()
		switch {
		case a.Is4() && bits == 32:
			add(strconv.Quote(a.String()))
		case a.Is6() && bits == 128:
			add(strconv.Quote(a.String()))
			rd.why = append(rd.why, fmt.Sprintf("IPv6 address %s is written as its canonical text; the same address written otherwise (upper case, without ::) is missed", a))
		case a.Is4() && bits == 0, a.Is6() && bits < 16:
			add(`"*"`)
			rd.why = append(rd.why, fmt.Sprintf("%s is written as *, which also covers every other address and non-address value", p))
		case a.Is4() && bits%8 == 0:
			add(`"` + ipv4Prefix(a, bits/8) + `*"`)
		case a.Is4():
			branches = append(branches, ipv4Regex(p)...)
			widen = append(widen, p)
		default:
			w := bits / 16 * 16
			text := ipv6Prefix(a, w/16)
			add(`"` + text + `*"`)
			msg := fmt.Sprintf("IPv6 range %s is written as the text wildcard %s*, which matches only addresses in canonical form (lowercase, :: for the longest zero run)", p, text)
			if w != bits {
				msg += fmt.Sprintf(", widened to /%d (wildcards work on whole groups)", w)
			}
			if strings.Contains(":"+text, ":0:") {
				msg += "; addresses whose leading zero groups are written as :: are missed"
			}
			rd.why = append(rd.why, msg)
		}
	}
	if len(branches) > 0 {
		rd.wanted++
		if rd.budget > 0 {
			rd.budget--
			values = append(values, "%"+strings.Join(branches, "|")+"%")
		} else {
			for _, p := range widen {
				w := p.Bits() / 8
				if w == 0 {
					add(`"*"`)
					rd.why = append(rd.why, fmt.Sprintf("%s is written as *, a wider range, as no regular expression is left", p))
					continue
				}
				text := ipv4Prefix(p.Addr(), w) + "*"
				add(`"` + text + `"`)
				rd.why = append(rd.why, fmt.Sprintf("%s is written as %s, a wider range (/%d), as no regular expression is left", p, text, w*8))
			}
		}
	}
	return joinComparisons(sel, op, values)
}

// ipv4Prefix is the first n octets of a followed by dots: "203.0.113.".
func ipv4Prefix(a netip.Addr, n int) string {
	b := a.As4()
	var s strings.Builder
	for i := range n {
		s.WriteString(strconv.Itoa(int(b[i])))
		s.WriteByte('.')
	}
	return s.String()
}

// ipv6Prefix is the first n groups of a followed by colons: "2001:db8:".
func ipv6Prefix(a netip.Addr, n int) string {
	b := a.As16()
	var s strings.Builder
	for i := range n {
		s.WriteString(strconv.FormatUint(uint64(b[2*i])<<8|uint64(b[2*i+1]), 16))
		s.WriteByte(':')
	}
	return s.String()
}

// ipv4Regex writes an IPv4 range whose length is not a multiple of 8 as regex branches (CloudWatch
// regexes have no groups, so each branch is anchored on its own): the whole octets before the
// split one, then one branch per run of decimal values of the split octet.
func ipv4Regex(p netip.Prefix) []string {
	a, bits := p.Addr().As4(), p.Bits()
	k := bits / 8
	lo := int(a[k])
	hi := lo + 1<<(8-bits%8) - 1
	var head strings.Builder
	head.WriteByte('^')
	for i := range k {
		head.WriteString(strconv.Itoa(int(a[i])))
		head.WriteString(`\.`)
	}
	tail := `\.`
	if k == 3 {
		tail = "$"
	}
	var out []string
	for _, piece := range decimalRange(lo, hi) {
		out = append(out, head.String()+piece+tail)
	}
	return out
}

// decimalRange writes the decimal numbers lo..hi (0 ≤ lo ≤ hi ≤ 255, no leading zeros) as regex
// pieces without groups, each matching a run of them.
func decimalRange(lo, hi int) []string {
	digit := func(a, b int) string {
		if a == b {
			return strconv.Itoa(a)
		}
		return "[" + strconv.Itoa(a) + "-" + strconv.Itoa(b) + "]"
	}
	var out []string
	for v := lo; v <= hi; {
		switch {
		case v < 10:
			end := min(hi, 9)
			out = append(out, digit(v, end))
			v = end + 1
		case v%10 == 0 && v+9 <= hi:
			// Whole decades: as many as fit, within the same hundred.
			t := v / 10
			end := t
			for (end+1)*10+9 <= hi && (end+1)/10 == t/10 {
				end++
			}
			prefix := ""
			if v >= 100 {
				prefix = strconv.Itoa(v / 100)
			}
			out = append(out, prefix+digit(t%10, end%10)+"[0-9]")
			v = end*10 + 10
		default:
			end := min(hi, v/10*10+9)
			out = append(out, strconv.Itoa(v/10)+digit(v%10, end%10))
			v = end + 1
		}
	}
	return out
}
