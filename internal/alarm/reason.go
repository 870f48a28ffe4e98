package alarm

import (
	"bytes"
	"math"
	"strconv"
)

// reasonTimeLayout is how CloudWatch prints datapoint times in StateReason: dd/MM/yy HH:mm:ss, UTC.
const reasonTimeLayout = "02/01/06 15:04:05"

// longListFrom is the count of listed datapoints from which CloudWatch switches to the form that
// shows only the 5 newest. Seen for 5 and 30, not for 1–3; 4 is unknown (spec §10.1, U8).
const longListFrom = 5

// explanation is why an evaluation gave its state: the reason text and the datapoints behind it.
type explanation struct {
	reason    string
	evaluated []int // indexes into the range, newest first: the points the decision used
	listed    []int // indexes the reason lists: breaching ones for ALARM, others for OK
}

// explainer holds the scratch space of explanations, so that explaining a transition allocates
// only its reason (and nothing for the reasons that are the same for every transition).
type explainer struct {
	real, missing []int // newest first
	explanation
	buf []byte
}

// explain words the decision of Decide(rng) = to like CloudWatch's StateReason (spec §10.1).
func (a *Alarm) explain(rng []Datapoint, to State) explanation {
	var x explainer
	a.explainInto(&x, rng, to)
	return x.explanation
}

// explainInto is explain with x's scratch space: x.explanation is valid until the next call.
func (a *Alarm) explainInto(x *explainer, rng []Datapoint, to State) {
	x.real, x.missing = x.real[:0], x.missing[:0]
	for i := len(rng) - 1; i >= 0; i-- {
		if rng[i].SampleCount == 0 {
			x.missing = append(x.missing, i)
		} else {
			x.real = append(x.real, i)
		}
	}
	real, missing := x.real, x.missing
	ex := &x.explanation
	ex.evaluated, ex.listed = ex.evaluated[:0], ex.listed[:0]
	if len(real) == 0 {
		ex.evaluated = append(ex.evaluated, missing[:min(a.n, len(missing))]...)
		switch {
		case to == StateAlarm:
			ex.reason = a.texts.fillAllBreaching
		case to == StateOK:
			ex.reason = a.texts.fillAllNonBreaching
		default:
			ex.reason = a.texts.insufficient
		}
		return
	}

	considered, fills := real, 0
	if len(real) >= a.n {
		considered = real[:a.n]
	} else {
		fills = a.n - len(real)
	}
	wantBreach := to == StateAlarm
	for _, i := range considered {
		if a.breaches(rng[i].Value) == wantBreach {
			ex.listed = append(ex.listed, i)
		}
	}
	ex.evaluated = append(ex.evaluated, considered...)
	if fills > 0 {
		ex.evaluated = append(ex.evaluated, missing[:min(fills, len(missing))]...)
		sortNewestFirst(ex.evaluated)
	}

	// With breaching or notBreaching the fills may be what decided; say so unless the real
	// points alone suffice. Under missing and ignore the real points are listed (spec §10.1).
	k := len(ex.listed)
	enough := k >= a.m
	if !wantBreach {
		enough = k >= a.n-a.m+1
	}
	b := x.buf[:0]
	if k == 0 || (fills > 0 && !enough && (a.tmd == Breaching || a.tmd == NotBreaching)) {
		as := "NonBreaching"
		if wantBreach {
			as = "Breaching"
		}
		b = append(b, "Threshold Crossed: "...)
		b = appendCount(b, len(real), "datapoint")
		b = append(b, ' ')
		b = append(b, wasWere(len(real))...)
		b = append(b, " received for "...)
		b = appendCount(b, a.n, "period")
		b = append(b, " and "...)
		b = appendCount(b, fills, "missing datapoint")
		b = append(b, ' ')
		b = append(b, wasWere(fills)...)
		b = append(b, " treated as "...)
		b = append(b, as...)
		b = append(b, '.')
	} else {
		b = a.appendThresholdReason(b, rng, ex.listed, wantBreach)
	}
	x.buf = b
	ex.reason = string(b)
}

// reasonTexts are the parts of reasons that depend only on the settings, made once by New.
type reasonTexts struct {
	insufficient        string // "Insufficient Data: N datapoints were unknown."
	fillAllBreaching    string // no real point, missing ones treated as Breaching
	fillAllNonBreaching string // the same, as NonBreaching
	threshold           string // the threshold as CloudWatch prints it
	relAlarm, relOK     string // " was/were " follows; "greater than", "not greater than", …
}

func (a *Alarm) makeTexts() {
	a.texts = reasonTexts{
		insufficient:        "Insufficient Data: " + count(a.n, "datapoint") + " " + wasWere(a.n) + " unknown.",
		fillAllBreaching:    fillAllReason(a.n, "Breaching"),
		fillAllNonBreaching: fillAllReason(a.n, "NonBreaching"),
		threshold:           javaDouble(a.s.Threshold),
		relAlarm:            a.relation(true),
		relOK:               a.relation(false),
	}
}

// appendThresholdReason appends the "Threshold Crossed: k … datapoints [v (t), …] were …" form:
// R-MN when DatapointsToAlarm was set, R-SHORT otherwise, each with its long-list variant (U8).
func (a *Alarm) appendThresholdReason(b []byte, rng []Datapoint, listed []int, alarm bool) []byte {
	k := len(listed)
	b = append(b, "Threshold Crossed: "...)
	if a.explicitM {
		b = strconv.AppendInt(b, int64(k), 10)
		b = append(b, " out of the last "...)
		b = strconv.AppendInt(b, int64(a.n), 10)
		b = append(b, " datapoints"...)
	} else {
		b = appendCount(b, k, "datapoint")
	}
	appendRelation := func(b []byte) []byte {
		b = append(b, ' ')
		b = append(b, wasWere(k)...)
		b = append(b, ' ')
		if alarm {
			b = append(b, a.texts.relAlarm...)
		} else {
			b = append(b, a.texts.relOK...)
		}
		b = append(b, " the threshold ("...)
		b = append(b, a.texts.threshold...)
		return append(b, ')')
	}
	if k >= longListFrom {
		b = appendRelation(b)
		b = append(b, ". "...)
		if alarm {
			b = append(b, "The most recent datapoints which crossed the threshold: "...)
		} else {
			b = append(b, "The most recent datapoints: "...)
		}
		b = appendList(b, rng, listed[:5])
	} else {
		b = append(b, ' ')
		b = appendList(b, rng, listed)
		b = appendRelation(b)
	}
	if a.explicitM {
		m, dir := a.m, "OK -> ALARM"
		if !alarm {
			m, dir = a.n-a.m+1, "ALARM -> OK"
		}
		b = append(b, " (minimum "...)
		b = appendCount(b, m, "datapoint")
		b = append(b, " for "...)
		b = append(b, dir...)
		b = append(b, " transition)"...)
	}
	return append(b, '.')
}

// relation is the comparison in words; OK reasons negate it.
func (a *Alarm) relation(alarm bool) string {
	var op string
	switch a.s.ComparisonOperator {
	case GreaterThanOrEqualToThreshold:
		op = "greater than or equal to"
	case GreaterThanThreshold:
		op = "greater than"
	case LessThanThreshold:
		op = "less than"
	case LessThanOrEqualToThreshold:
		op = "less than or equal to"
	}
	if !alarm {
		return "not " + op
	}
	return op
}

func appendList(b []byte, rng []Datapoint, idx []int) []byte {
	b = append(b, '[')
	for j, i := range idx {
		if j > 0 {
			b = append(b, ", "...)
		}
		b = appendJavaDouble(b, rng[i].Value)
		b = append(b, " ("...)
		b = rng[i].Time.UTC().AppendFormat(b, reasonTimeLayout)
		b = append(b, ')')
	}
	return append(b, ']')
}

func fillAllReason(n int, as string) string {
	return "Threshold Crossed: no datapoints were received for " + count(n, "period") + " and " +
		count(n, "missing datapoint") + " " + wasWere(n) + " treated as " + as + "."
}

// count is "1 datapoint" or "3 datapoints".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// appendCount appends count(n, noun).
func appendCount(b []byte, n int, noun string) []byte {
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, ' ')
	b = append(b, noun...)
	if n != 1 {
		b = append(b, 's')
	}
	return b
}

func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

// sortNewestFirst sorts range indexes descending; the slices are short, so insertion sort.
func sortNewestFirst(idx []int) {
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && idx[j] > idx[j-1]; j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
}

// javaDouble formats v as Java's Double.toString does, which is how CloudWatch prints values
// and thresholds: "1.0", "99.7027322404378", "1.0E7", "1.0E-4".
func javaDouble(v float64) string { return string(appendJavaDouble(nil, v)) }

// appendJavaDouble appends javaDouble(v).
func appendJavaDouble(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, 1):
		return append(b, "Infinity"...)
	case math.IsInf(v, -1):
		return append(b, "-Infinity"...)
	}
	if abs := math.Abs(v); abs == 0 || (abs >= 1e-3 && abs < 1e7) {
		start := len(b)
		b = strconv.AppendFloat(b, v, 'f', -1, 64)
		if !bytes.ContainsRune(b[start:], '.') {
			b = append(b, ".0"...)
		}
		return b
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], v, 'e', -1, 64) // like 1.2345e+07
	i := bytes.IndexByte(e, 'e')
	mant, exp := e[:i], e[i+1:]
	b = append(b, mant...)
	if !bytes.ContainsRune(mant, '.') {
		b = append(b, ".0"...)
	}
	b = append(b, 'E')
	n, _ := strconv.Atoi(string(exp))
	return strconv.AppendInt(b, int64(n), 10)
}
