package filterpattern

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// The oracle evaluates JSON patterns the slow, obvious way — decode the event with
// encoding/json, walk each selector — to check the one-pass scanner, the selector trie and the
// pre-selection against an independent implementation.

type onode struct {
	kind  jsonKind
	text  string // scalars: the string's value, or the number/boolean as written
	keys  []string
	vals  []*onode // object values (parallel to keys) or array elements
	valid bool
}

func oracleDecode(data []byte) (*onode, bool) {
	if !json.Valid(data) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := oracleValue(dec)
	if err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return n, true
}

func oracleValue(dec *json.Decoder) (*onode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &onode{kind: jsonObject}
		if t == '[' {
			n.kind = jsonArray
		}
		for dec.More() {
			if n.kind == jsonObject {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k.(string))
			}
			v, err := oracleValue(dec)
			if err != nil {
				return nil, err
			}
			n.vals = append(n.vals, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return n, nil
	case string:
		return &onode{kind: jsonString, text: t}, nil
	case json.Number:
		return &onode{kind: jsonNumber, text: string(t)}, nil
	case bool:
		if t {
			return &onode{kind: jsonTrue, text: "true"}, nil
		}
		return &onode{kind: jsonFalse, text: "false"}, nil
	default:
		return &onode{kind: jsonNull, text: "null"}, nil
	}
}

func oracleSelect(n *onode, steps []step) []*onode {
	nodes := []*onode{n}
	for _, st := range steps {
		var next []*onode
		for _, x := range nodes {
			switch st.kind {
			case stepKey:
				if x.kind == jsonObject {
					for i, k := range x.keys {
						if k == st.key {
							next = append(next, x.vals[i])
						}
					}
				}
			case stepAnyKey:
				if x.kind == jsonObject {
					next = append(next, x.vals...)
				}
			case stepIndex:
				if x.kind == jsonArray && st.index < len(x.vals) {
					next = append(next, x.vals[st.index])
				}
			case stepAnyIndex:
				if x.kind == jsonArray {
					next = append(next, x.vals...)
				}
			}
		}
		nodes = next
	}
	return nodes
}

func oracleEval(e *expr, root *onode) bool {
	switch e.op {
	case exprAnd:
		for _, k := range e.kids {
			if !oracleEval(k, root) {
				return false
			}
		}
		return true
	case exprOr:
		for _, k := range e.kids {
			if oracleEval(k, root) {
				return true
			}
		}
		return false
	}
	c := e.cond
	nodes := oracleSelect(root, c.sel.steps)
	if c.op == opNotExists {
		return len(nodes) == 0
	}
	for _, n := range nodes {
		switch c.op {
		case opIsNull:
			if n.kind == jsonNull {
				return true
			}
		case opIsTrue:
			if n.kind == jsonTrue {
				return true
			}
		case opIsFalse:
			if n.kind == jsonFalse {
				return true
			}
		default:
			if n.kind != jsonObject && n.kind != jsonArray && n.kind != jsonNull &&
				compareScalar(c.op, &c.val, []byte(n.text), n.kind == jsonNumber) {
				return true
			}
		}
	}
	return false
}

func oracleMatch(p *Pattern, event []byte) bool {
	root, ok := oracleDecode(event)
	return ok && oracleEval(p.expr, root)
}

// oraclePatterns are JSON patterns that exercise every selector form and condition.
var oraclePatterns = []string{
	`{ $.userIdentity.type = "IAMUser" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`,
	`{ $.userIdentity.sessionContext.attributes.mfaAuthenticated != "true" }`,
	`{ $.eventName = "AssumeRole" || $.eventName = "GetCallerIdentity" }`,
	`{ $.resources[*].type = "AWS::IAM::Role" }`,
	`{ $.resources[0].ARN = "*role*" }`,
	`{ $.requestParameters.* = %^sg-% }`,
	`{ $.tlsDetails.tlsVersion = "TLSv1.3" && $.userAgent = *terraform* }`,
	`{ $.readOnly IS TRUE && $.eventName = Describe* }`,
	`{ $.readOnly IS FALSE && $.managementEvent IS TRUE }`,
	`{ $.responseElements IS NULL && $.eventName = "ListBuckets" }`,
	`{ $.eventVersion > 1.08 }`,
	`{ $.recipientAccountId = 123837392027 }`,
	`{ $.* = "us-east-1" && ($.errorCode NOT EXISTS || $.errorCode = "AccessDenied") }`,
	`{ $.['userIdentity'].['accessKeyId'] = ASIA* }`,
	`{ $.requestParameters.ipPermissions.items[0].ipRanges.items[*].cidrIp = "0.0.0.0/0" }`,
	`{ ($.userAgent = "*Terraform*") || ($.userAgent = "*boto3*") }`,
	`{ $.sourceIPAddress != "192.168.10.20" && $.userAgent NOT EXISTS || $.sourceIPAddress = 10.* }`,
	`{ $.errorCode NOT EXISTS && $.userAgent = "AWS Internal" }`,
}

// TestSetAgreesWithOracle runs the CIS v1.2 patterns and the patterns above as one Set over
// every sample record and compares each result with the oracle's.
func TestSetAgreesWithOracle(t *testing.T) {
	patterns := cis12(t)
	for _, s := range oraclePatterns {
		patterns = append(patterns, MustParse(s))
	}
	m := NewSet(patterns...).NewMatcher()
	m2 := NewSet(patterns...).NewMatcher()
	hits := make([]int, len(patterns))
	records := invictusRecords(t)
	for _, r := range records {
		got := map[int]bool{}
		for _, i := range m.Match(r) {
			got[i] = true
		}
		root, valid := oracleDecode(r)
		var known []Known
		if valid {
			for _, sel := range []string{"$.eventName", "$.eventSource", "$.errorCode", "$.userAgent", "$.sourceIPAddress"} {
				switch nodes := oracleSelect(root, MustParse(`{ `+sel+` = x }`).expr.cond.sel.steps); {
				case len(nodes) == 0:
					known = append(known, Known{Selector: sel, Missing: true})
				case len(nodes) == 1 && nodes[0].kind == jsonString:
					known = append(known, Known{Selector: sel, Value: nodes[0].text})
				}
			}
		}
		viaKnown := map[int]bool{}
		for _, i := range m2.MatchKnown(r, known...) {
			viaKnown[i] = true
		}
		for i, p := range patterns {
			want := valid && oracleEval(p.expr, root)
			if got[i] != want {
				t.Fatalf("pattern %s on record %s: set says %v, oracle %v", p, clip(string(r)), got[i], want)
			}
			if viaKnown[i] != want {
				t.Fatalf("pattern %s on record %s: MatchKnown says %v, oracle %v", p, clip(string(r)), viaKnown[i], want)
			}
			if p.Match(r) != want {
				t.Fatalf("pattern %s alone on record %s: %v, oracle %v", p, clip(string(r)), !want, want)
			}
			if want {
				hits[i]++
			}
		}
	}
	// Every pattern must be exercised by some record, or the agreement proves little.
	for i, n := range hits {
		if n == 0 && i >= 14 {
			t.Errorf("pattern %s matched none of %d records", patterns[i], len(records))
		}
	}
	t.Logf("%d records, matches per pattern: %v", len(records), hits)
}

func TestInvalidJSONMatchesNoJSONPattern(t *testing.T) {
	p := MustParse(`{ $.a NOT EXISTS }`)
	for _, ev := range []string{``, `text`, `{"a":1,}`, `{"b":1} trailing`, `INFO {"b":1}`, `{"b":01}`, `{"b":"\x01"}`, `{"b":"\q"}`,
		strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)} {
		if p.MatchString(ev) {
			t.Errorf("%s matched invalid JSON %q", p, clip(ev))
		}
	}
	for _, ev := range []string{`{}`, ` {"b":[1,2,{"c":null}]} `, `[1]`, `"x"`, `{"b":"\u00e9\ud83d\ude00"}`} {
		if !p.MatchString(ev) {
			t.Errorf("%s did not match valid JSON %q", p, ev)
		}
	}
}

func TestEscapedKeysAndValues(t *testing.T) {
	p := MustParse(`{ $.eventName = "Say \"hi\"" && $.['a.b'] = "é" }`)
	if !p.MatchString(`{"event\u004eame":"Say \"hi\"","a.b":"\u00e9"}`) {
		t.Error("escaped key or value not matched")
	}
}
