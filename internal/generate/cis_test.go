package generate

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/trailalarm/trailalarm/filterpattern"
)

// Organizations changes came with CIS v1.3.0 (4.15), after v1.2; verbatim
// from the reference's cis-patterns.json (cis-1.3, 4.15).
const orgPattern = `{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName ="InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }`

// Stricter variants that injected hits also satisfy: Security Hub's
// CloudWatch.3 (successful IAM-user sign-ins only) and the v2.0+ fix of the
// unauthorized-calls filter.
var strictPatterns = map[string]string{
	"console_signin_without_mfa": `{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }`,
	"unauthorized_api_calls":     `{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }`,
}

// cisPatterns returns one compiled pattern per entry of Controls.
func cisPatterns(t testing.TB) []*filterpattern.Pattern {
	t.Helper()
	data, err := os.ReadFile("../../filterpattern/testdata/cis-1.2-patterns.json")
	if err != nil {
		t.Fatal(err)
	}
	var entries []struct{ Control, Pattern string }
	if err := json.Unmarshal(data, &entries); err != nil {
		t.Fatal(err)
	}
	byCIS := map[string]string{"4.15": orgPattern}
	for _, e := range entries {
		byCIS[e.Control] = e.Pattern
	}
	ps := make([]*filterpattern.Pattern, len(Controls))
	for i, c := range Controls {
		src, ok := byCIS[c.CIS]
		if !ok {
			t.Fatalf("no CIS pattern for control %s", c.CIS)
		}
		if ps[i], err = filterpattern.Parse(src); err != nil {
			t.Fatalf("control %s: %v", c.CIS, err)
		}
	}
	return ps
}

func matching(ps []*filterpattern.Pattern, rec []byte) []string {
	var ids []string
	for i, p := range ps {
		if p.Match(rec) {
			ids = append(ids, Controls[i].ID)
		}
	}
	return ids
}

// Every variant of every control, written for several principals and both
// kinds of region: a hit is matched by its own control's filter and no
// other; a near-miss by none.
func TestVariantsMatchCIS(t *testing.T) {
	ps := cisPatterns(t)
	strict := map[string]*filterpattern.Pattern{}
	for id, src := range strictPatterns {
		strict[id] = filterpattern.MustParse(src)
	}
	a := newAccount(1, "123456789012")
	for ci, ce := range controlCatalog {
		id := Controls[ci].ID
		for _, kind := range []string{"hit", "near"} {
			vs := ce.hits
			if kind == "near" {
				vs = ce.near
			}
			for vi, v := range vs {
				for _, home := range []bool{true, false} {
					if v.global && !home {
						continue
					}
					for rep := 0; rep < 8; rep++ {
						g := gen{r: newRNG(uint64(ci), uint64(vi), uint64(rep)), a: a, region: "eu-west-1", home: home, t: DefaultStart.Unix() + int64(rep)*977}
						rec := g.record(nil, v.make(&g))
						if !json.Valid(rec) {
							t.Fatalf("%s %s %d: invalid JSON:\n%s", id, kind, vi, rec)
						}
						got := matching(ps, rec)
						want := []string{id}
						if kind == "near" {
							want = nil
						}
						if fmt.Sprint(got) != fmt.Sprint(want) {
							t.Fatalf("%s %s variant %d: matched by %v, want %v:\n%s", id, kind, vi, got, want, rec)
						}
						if p := strict[id]; p != nil && kind == "hit" && !p.Match(rec) {
							t.Fatalf("%s hit variant %d: not matched by the stricter %s:\n%s", id, vi, strictPatterns[id], rec)
						}
					}
				}
			}
		}
	}
}

// In generated corpora: every injected event is matched as its entry says,
// and background events are not matched at all, so that the injected list
// is the exact expected output of a detector.
func TestCorpusMatchesCIS(t *testing.T) {
	ps := cisPatterns(t)
	for _, o := range []Options{
		{Size: 2 << 20, Seed: 21},
		{Size: 1 << 20, Seed: 22, NumAccounts: 2, Regions: []string{"us-east-1", "eu-west-1", "ap-northeast-1"}, EventsPerFile: 200, InjectRate: 3000},
	} {
		t.Run(fmt.Sprint(o.Seed), func(t *testing.T) {
			c := gen1(t, o)
			inj := map[string]Injected{}
			for _, e := range c.sum.Injected {
				inj[e.EventID] = e
			}
			var total, background int
			stray := map[string]int{}
			for _, f := range c.files {
				for _, rec := range c.records(t, f) {
					total++
					var e struct{ EventID string }
					json.Unmarshal(rec, &e)
					got := matching(ps, rec)
					in, ok := inj[e.EventID]
					switch {
					case !ok:
						background++
						for _, id := range got {
							stray[id]++
						}
					case in.NearMiss && len(got) > 0:
						t.Errorf("near-miss for %s matched by %v:\n%s", in.Control, got, rec)
					case !in.NearMiss && (len(got) != 1 || got[0] != in.Control):
						t.Errorf("hit for %s matched by %v:\n%s", in.Control, got, rec)
					}
				}
			}
			if len(stray) > 0 {
				ids := make([]string, 0, len(stray))
				for id, n := range stray {
					ids = append(ids, fmt.Sprintf("%s:%d", id, n))
				}
				sort.Strings(ids)
				t.Errorf("background events matched CIS filters: %s (of %d background events)", strings.Join(ids, " "), background)
			}
			t.Logf("%d records, %d injected (%d hits), %d files", total, len(c.sum.Injected), c.sum.Hits(), len(c.files))
		})
	}
}
