package awsjson

import (
	"os/exec"
	"testing"
)

func TestMarshal(t *testing.T) {
	got, err := Marshal(Object{
		{"matches", []any{
			Object{{"eventNumber", 1}, {"eventMessage", "[ERROR] 400 \"BAD\" \\ REQUEST\t\x01 é"}, {"extractedValues", Object{}}},
		}},
		{"empty", []any{}},
		{"flags", []any{true, false, nil}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{
    "matches": [
        {
            "eventNumber": 1,
            "eventMessage": "[ERROR] 400 \"BAD\" \\ REQUEST\t\u0001 é",
            "extractedValues": {}
        }
    ],
    "empty": [],
    "flags": [
        true,
        false,
        null
    ]
}
`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestMatchesPython checks the encoder against Python's own json.dumps, which is what the AWS
// CLI uses, when python3 is on the machine (it is on every trailalarm development machine).
func TestMatchesPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	msg := "tab\there \"q\" back\\slash \x1f ctl é ü 日本 <>&\u2028"
	got, err := Marshal(Object{{"a", []any{Object{{"b", msg}, {"n", 42}}}}, {"e", Object{}}})
	if err != nil {
		t.Fatal(err)
	}
	script := `import json,sys; msg=sys.argv[1]; print(json.dumps({"a":[{"b":msg,"n":42}],"e":{}}, indent=4, ensure_ascii=False))`
	out, err := exec.Command(py, "-c", script, msg).Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(out) {
		t.Errorf("differs from Python:\n%s\n%s", got, out)
	}
}

func TestMarshalRejectsUnknown(t *testing.T) {
	if _, err := Marshal(Object{{"x", 1.5}}); err == nil {
		t.Error("float accepted")
	}
}
