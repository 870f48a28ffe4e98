package rules

import (
	"embed"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
)

// The built-in packs, one YAML file each, generated from the CIS reference (see gen_test.go).
//
//go:embed packs/*.yaml
var packFiles embed.FS

// DefaultPack names the default selection wherever a pack name is accepted.
const DefaultPack = "default"

// The default selection: Security Hub's CloudWatch.1–14, which is what most accounts are audited
// against, plus the one CIS control Security Hub lacks, AWS Organizations changes.
const (
	defaultBasePack = "securityhub"
	defaultExtraID  = "cis-5.0:4.15"
)

// PackInfo describes a built-in pack.
type PackInfo struct {
	Name        string // what --pack takes
	Description string // one line
	Rules       int    // how many rules it holds
}

// builtin is every embedded pack, parsed once.
var builtin = sync.OnceValues(func() (map[string]*ruleFile, error) {
	entries, err := packFiles.ReadDir("packs")
	if err != nil {
		return nil, err
	}
	packs := map[string]*ruleFile{}
	var errs Errors
	for _, e := range entries {
		name := path.Join("packs", e.Name())
		data, err := packFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		f, err := parseFile(name, data)
		if err != nil {
			errs = append(errs, err.(Errors)...)
			continue
		}
		want := strings.TrimSuffix(e.Name(), ".yaml")
		if f.Pack != want {
			errs = append(errs, &Error{File: name, Line: 1, Msg: fmt.Sprintf("pack name %q does not match the file name", f.Pack)})
		}
		packs[want] = f
	}
	return packs, errs.err()
})

// builtinPacks returns the parsed packs; a broken embedded pack is a bug caught by the tests.
func builtinPacks() map[string]*ruleFile {
	packs, err := builtin()
	if err != nil {
		panic("rules: built-in packs are invalid: " + err.Error())
	}
	return packs
}

// Packs lists the built-in packs by name, and the default selection as the pack "default".
func Packs() []PackInfo {
	packs := builtinPacks()
	out := make([]PackInfo, 0, len(packs)+1)
	for name, f := range packs {
		out = append(out, PackInfo{Name: name, Description: f.Description, Rules: len(f.Rules)})
	}
	out = append(out, PackInfo{
		Name:        DefaultPack,
		Description: fmt.Sprintf("the default selection: the %s pack plus %s (AWS Organizations changes)", defaultBasePack, defaultExtraID),
		Rules:       len(DefaultSelection()),
	})
	slices.SortFunc(out, func(a, b PackInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// PackNames lists the names Pack accepts.
func PackNames() []string {
	var names []string
	for _, p := range Packs() {
		names = append(names, p.Name)
	}
	return names
}

// Pack returns the rules of a built-in pack ("default" is the default selection). The rules are
// copies: callers may change them.
func Pack(name string) ([]*Rule, error) {
	if name == DefaultPack {
		return DefaultSelection(), nil
	}
	f, ok := builtinPacks()[name]
	if !ok {
		msg := fmt.Sprintf("unknown pack %q", name)
		if s := suggest(name, PackNames()); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return nil, fmt.Errorf("%s: the built-in packs are %s", msg, strings.Join(PackNames(), ", "))
	}
	return copyRules(f.Rules), nil
}

// DefaultSelection is the rule set used when no pack is named: the securityhub pack
// (CloudWatch.1–14) and cis-5.0:4.15 (AWS Organizations changes).
func DefaultSelection() []*Rule {
	packs := builtinPacks()
	out := copyRules(packs[defaultBasePack].Rules)
	for _, r := range packs["cis-5.0"].Rules {
		if r.ID == defaultExtraID {
			out = append(out, copyRules([]*Rule{r})...)
		}
	}
	return out
}

// Builtin finds a built-in rule by id; the rule is a copy.
func Builtin(id string) (*Rule, bool) {
	packs := builtinPacks()
	for _, f := range packs {
		for _, r := range f.Rules {
			if r.ID == id {
				return copyRules([]*Rule{r})[0], true
			}
		}
	}
	return nil, false
}

// AllBuiltin returns every rule of every built-in pack, pack by pack in name order.
func AllBuiltin() []*Rule {
	var out []*Rule
	for _, p := range Packs() {
		if p.Name == DefaultPack {
			continue
		}
		rs, _ := Pack(p.Name)
		out = append(out, rs...)
	}
	return out
}

func copyRules(rs []*Rule) []*Rule {
	out := make([]*Rule, len(rs))
	for i, r := range rs {
		c := *r
		out[i] = &c
	}
	return out
}

// Select combines built-in packs and rule files into one rule set, in the order given (packs
// first). With neither, it is the default selection. A pack named twice counts once; the same
// id defined by two different rules is an error naming both places. File problems come back as
// Errors, all of them.
func Select(packs []string, files []string) ([]*Rule, error) {
	if len(packs) == 0 && len(files) == 0 {
		return DefaultSelection(), nil
	}
	var (
		out   []*Rule
		errs  Errors
		other []error
		seen  = map[string]*Rule{}
		done  = map[string]bool{}
	)
	add := func(rs []*Rule) {
		for _, r := range rs {
			if prev, dup := seen[r.ID]; dup {
				if prev.File == r.File && prev.Line == r.Line {
					continue // the same rule reached twice, e.g. through "default" and "securityhub"
				}
				errs = append(errs, &Error{File: r.File, Line: r.Line, Column: r.Column,
					Msg: fmt.Sprintf("duplicate rule id %q: already defined at %s; rename one of them", r.ID, prev.Position())})
				continue
			}
			seen[r.ID] = r
			out = append(out, r)
		}
	}
	for _, name := range packs {
		if done[name] {
			continue
		}
		done[name] = true
		rs, err := Pack(name)
		if err != nil {
			other = append(other, err)
			continue
		}
		add(rs)
	}
	for _, file := range files {
		rs, err := LoadFile(file)
		if es, ok := err.(Errors); ok {
			errs = append(errs, es...)
			continue
		}
		if err != nil {
			other = append(other, err)
			continue
		}
		add(rs)
	}
	if len(other) > 0 {
		for _, e := range errs {
			other = append(other, e)
		}
		return nil, joinErrors(other)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// joinErrors joins errors one per line.
func joinErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return fmt.Errorf("%s", strings.Join(msgs, "\n"))
}
