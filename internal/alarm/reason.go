package alarm

import (
	"math"
	"strconv"
	"strings"
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

// explain words the decision of Decide(rng) = to like CloudWatch's StateReason (spec §10.1).
// It runs only on transitions, so it may allocate.
func (a *Alarm) explain(rng []Datapoint, to State) explanation {
	var real, missing []int // newest first
	for i := len(rng) - 1; i >= 0; i-- {
		if rng[i].SampleCount == 0 {
			missing = append(missing, i)
		} else {
			real = append(real, i)
		}
	}
	var ex explanation
	if len(real) == 0 {
		ex.evaluated = missing[:min(a.n, len(missing))]
		switch {
		case to == StateAlarm:
			ex.reason = fillAllReason(a.n, "Breaching")
		case to == StateOK:
			ex.reason = fillAllReason(a.n, "NonBreaching")
		default:
			ex.reason = "Insufficient Data: " + count(a.n, "datapoint") + " " + wasWere(a.n) + " unknown."
		}
		return ex
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
	if k == 0 || (fills > 0 && !enough && (a.tmd == Breaching || a.tmd == NotBreaching)) {
		as := "NonBreaching"
		if wantBreach {
			as = "Breaching"
		}
		ex.reason = "Threshold Crossed: " + count(len(real), "datapoint") + " " + wasWere(len(real)) +
			" received for " + count(a.n, "period") + " and " + count(fills, "missing datapoint") + " " +
			wasWere(fills) + " treated as " + as + "."
		return ex
	}
	ex.reason = a.thresholdReason(rng, ex.listed, wantBreach)
	return ex
}

// thresholdReason is the "Threshold Crossed: k … datapoints [v (t), …] were …" form: R-MN when
// DatapointsToAlarm was set, R-SHORT otherwise, each with its long-list variant (U8).
func (a *Alarm) thresholdReason(rng []Datapoint, listed []int, alarm bool) string {
	k := len(listed)
	var b strings.Builder
	b.WriteString("Threshold Crossed: ")
	if a.explicitM {
		b.WriteString(strconv.Itoa(k) + " out of the last " + strconv.Itoa(a.n) + " datapoints")
	} else {
		b.WriteString(count(k, "datapoint"))
	}
	relation := " " + wasWere(k) + " " + a.relation(alarm) + " the threshold (" + javaDouble(a.s.Threshold) + ")"
	long := k >= longListFrom
	if long {
		b.WriteString(relation + ". ")
		if alarm {
			b.WriteString("The most recent datapoints which crossed the threshold: ")
		} else {
			b.WriteString("The most recent datapoints: ")
		}
		writeList(&b, rng, listed[:5])
	} else {
		b.WriteString(" ")
		writeList(&b, rng, listed)
		b.WriteString(relation)
	}
	if a.explicitM {
		m, dir := a.m, "OK -> ALARM"
		if !alarm {
			m, dir = a.n-a.m+1, "ALARM -> OK"
		}
		b.WriteString(" (minimum " + count(m, "datapoint") + " for " + dir + " transition)")
	}
	b.WriteString(".")
	return b.String()
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

func writeList(b *strings.Builder, rng []Datapoint, idx []int) {
	b.WriteByte('[')
	for j, i := range idx {
		if j > 0 {
			b.WriteString(", ")
		}
		b.WriteString(javaDouble(rng[i].Value))
		b.WriteString(" (")
		b.WriteString(rng[i].Time.UTC().Format(reasonTimeLayout))
		b.WriteByte(')')
	}
	b.WriteByte(']')
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
func javaDouble(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	}
	if abs := math.Abs(v); abs == 0 || (abs >= 1e-3 && abs < 1e7) {
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(v, 'e', -1, 64) // like 1.2345e+07
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}
