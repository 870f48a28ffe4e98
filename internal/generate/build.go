package generate

import (
	"sort"
	"time"
)

// weights are cumulative background weights, for picking a template with a
// binary search.
type weights struct {
	tmpls []*tmpl
	cum   []float64
}

func newWeights(home bool) *weights {
	w := &weights{}
	total := 0.0
	for _, t := range background {
		if t.weight == 0 || (t.global && !home) {
			continue
		}
		total += t.weight
		w.tmpls = append(w.tmpls, t)
		w.cum = append(w.cum, total)
	}
	return w
}

func (w *weights) pick(r *rng) *tmpl {
	x := r.float() * w.cum[len(w.cum)-1]
	return w.tmpls[sort.SearchFloat64s(w.cum, x)]
}

var homeWeights, regionalWeights = newWeights(true), newWeights(false)

// kindWeights say how much of an API's traffic each kind of principal makes
// when several may call it.
var kindWeights = [...]struct {
	k who
	w float64
}{{human, 2}, {workload, 4}, {ci, 2}, {svcRole, 1.5}, {service, 1.5}}

// pickPrincipal picks a principal of one of the kinds in w: first the kind,
// then, skewed, one of its principals, so that a few are very active.
func (g *gen) pickPrincipal(w who) *principal {
	total := 0.0
	for _, kw := range kindWeights {
		if w&kw.k != 0 && len(g.a.byKind[kw.k]) > 0 {
			total += kw.w
		}
	}
	x := g.r.float() * total
	for _, kw := range kindWeights {
		if w&kw.k == 0 || len(g.a.byKind[kw.k]) == 0 {
			continue
		}
		if x -= kw.w; x < 0 {
			ps := g.a.byKind[kw.k]
			return ps[g.r.skewed(len(ps))]
		}
	}
	ps := g.a.byMask[w]
	return ps[len(ps)-1]
}

// build appends the file's {"Records":[…]} to b. With limit > 0 it stops
// before the first record that would make the JSON longer than limit.
func (w *worker) build(s *fileSpec, b []byte, limit int) ([]byte, int, []Injected) {
	g := gen{r: newRNG(s.seed, uint64(s.index)), a: s.acct, region: s.region, home: s.home}
	wts := regionalWeights
	if s.home {
		wts = homeWeights
	}

	// Event times: n seconds drawn in the window, sorted by counting.
	var counts [windowSecs]int32
	for i := 0; i < s.n; i++ {
		counts[g.r.intn(int(windowSecs))]++
	}
	w.offs = w.offs[:0]
	for sec, c := range counts {
		for ; c > 0; c-- {
			w.offs = append(w.offs, int32(sec))
		}
	}

	var injected []Injected
	b = append(b, `{"Records":[`...)
	next := 0 // index into s.inject
	n := 0
	for i := 0; i < s.n; i++ {
		mark := len(b)
		if i > 0 {
			b = append(b, ',')
		}
		g.t = s.start + int64(w.offs[i])
		var c *call
		var pl *planned
		if next < len(s.inject) && s.inject[next].at == i {
			pl = &s.inject[next]
			next++
			c = g.injectCall(pl)
		} else {
			c = g.backgroundCall(wts, &w.c)
		}
		start := len(b)
		b = g.record(b, c)
		if limit > 0 && len(b)+2 > limit {
			b = b[:mark]
			break
		}
		n++
		if pl != nil {
			ctl := Controls[pl.control]
			injected = append(injected, Injected{
				Control: ctl.ID, CIS: ctl.CIS, NearMiss: pl.near,
				EventID: string(eventID(b[start:])), EventName: c.t.name, EventSource: c.t.source,
				Time: time.Unix(g.t, 0).UTC(), Account: s.acct.id, Region: s.region, File: s.path, Index: i,
			})
		}
	}
	b = append(b, "]}"...)
	return b, n, injected
}

// eventID finds the eventID in a record just written; only for the few
// injected events, so a search is fine.
func eventID(rec []byte) []byte {
	const key = `"eventID":"`
	for i := 0; i+len(key)+36 <= len(rec); i++ {
		if rec[i] == '"' && string(rec[i:i+len(key)]) == key {
			return rec[i+len(key) : i+len(key)+36]
		}
	}
	return nil
}

func (g *gen) backgroundCall(wts *weights, c *call) *call {
	t := wts.pick(&g.r)
	*c = call{t: t}
	if t.name == "ConsoleLogin" { // only ever with MFA in the background
		p := pick(&g.r, g.a.users)
		c.p, c.identity, c.mfa, c.loginOK, c.ua = p, p.login, "Yes", true, pick(&g.r, browserUAs)
		return c
	}
	c.p = g.pickPrincipal(t.who)
	if t.errRate > 0 && g.r.chance(t.errRate) {
		e := pick(&g.r, t.errs)
		c.errCode, c.errMsg = e.code, e.msg
	}
	return c
}

func (g *gen) injectCall(pl *planned) *call {
	ce := &controlCatalog[pl.control]
	vs := ce.hits
	if pl.near {
		vs = ce.near
	}
	if g.home {
		return vs[g.r.intn(len(vs))].make(g)
	}
	// Outside the home region only variants of regional APIs are possible;
	// the planner never puts a control without one there.
	var ok [16]int
	k := 0
	for i, v := range vs {
		if !v.global && k < len(ok) {
			ok[k] = i
			k++
		}
	}
	if k == 0 {
		panic("generate: no regional variant for control " + Controls[pl.control].ID)
	}
	return vs[ok[g.r.intn(k)]].make(g)
}
