package generate

import (
	"sort"
	"time"
)

// Window is the span of events in one file: CloudTrail delivers an account's
// events of a region about every five minutes.
const Window = 5 * time.Minute

const windowSecs = int64(Window / time.Second)

// fileSpec is everything a worker needs to write one file; the file's bytes
// are a pure function of it, which is what makes parallel output identical
// to sequential output.
type fileSpec struct {
	index  int
	acct   *account
	region string
	home   bool
	start  int64     // window start, Unix seconds; events are in [start, start+windowSecs)
	stamp  time.Time // the time in the file name: the end of the window
	n      int       // records, before any truncation
	path   string    // slash-separated, relative to the output directory
	seed   uint64
	inject []planned // sorted by at
}

// planned is an injected event: control (index into Controls) at record at.
type planned struct {
	at      int
	control int
	near    bool
}

// planner lays out files in time order: for each window, each account, each
// region (the home region first). It is sequential and cheap; the expensive
// part, writing records, happens in the workers.
type planner struct {
	o       *Options
	r       rng
	accts   []*account
	regions []string // home region first
	win     int64    // current window start
	ai, ri  int
	index   int
	// first holds one hit and one near-miss of every control, placed in the
	// first home-region files so that even a small corpus has each control.
	first []planned
}

func newPlanner(o *Options, accts []*account, regions []string) *planner {
	p := &planner{o: o, r: newRNG(o.Seed, 2), accts: accts, regions: regions, win: o.Start.Unix()}
	if !o.NoInject {
		for c := range Controls {
			p.first = append(p.first, planned{control: c}, planned{control: c, near: true})
		}
	}
	return p
}

// firstSpan is how far into a file the guaranteed events are spread: about
// 500 KB of records, so that a 1 MB corpus holds all of them.
const firstSpan = 400

func (p *planner) next() *fileSpec {
	a := p.accts[p.ai]
	region := p.regions[p.ri]
	s := &fileSpec{index: p.index, acct: a, region: region, home: p.ri == 0, start: p.win}
	s.stamp = time.Unix(p.win+windowSecs, 0).UTC()
	s.seed = p.r.next()
	// Busy and quiet windows: ±30% around the mean.
	s.n = int(float64(p.o.EventsPerFile) * (0.7 + 0.6*p.r.float()))
	if s.n < 1 {
		s.n = 1
	}
	name := string(p.r.appendChars(nil, alnum, 16))
	s.path = "AWSLogs/" + a.id + "/CloudTrail/" + region + "/" + s.stamp.Format("2006/01/02") + "/" +
		a.id + "_CloudTrail_" + region + "_" + s.stamp.Format("20060102T1504Z") + "_" + name + ".json.gz"
	p.plan(s)

	p.index++
	if p.ri++; p.ri == len(p.regions) {
		p.ri = 0
		if p.ai++; p.ai == len(p.accts) {
			p.ai = 0
			p.win += windowSecs
		}
	}
	return s
}

func (p *planner) plan(s *fileSpec) {
	if p.o.NoInject {
		return
	}
	taken := map[int]bool{}
	place := func(at int, c int, near bool) {
		for i := 0; i < s.n; i++ {
			k := (at + i) % s.n
			if !taken[k] {
				taken[k] = true
				s.inject = append(s.inject, planned{at: k, control: c, near: near})
				return
			}
		}
	}
	if s.home && len(p.first) > 0 {
		span := min(s.n, firstSpan)
		slots := min(len(p.first), max(1, s.n/8))
		for i := 0; i < slots; i++ {
			place((i+1)*span/(slots+1), p.first[i].control, p.first[i].near)
		}
		p.first = p.first[slots:]
	}
	// The rate is per control, account and day; a window is 1/288 of a day.
	// Controls that need the home region get the account's whole share there.
	for c, ce := range controlCatalog {
		lambda := p.o.InjectRate * float64(windowSecs) / 86400
		if ce.global {
			if !s.home {
				continue
			}
		} else {
			lambda /= float64(len(p.regions))
		}
		for _, near := range []bool{false, true} {
			k := int(lambda)
			if p.r.chance(lambda - float64(k)) {
				k++
			}
			for ; k > 0; k-- {
				place(p.r.intn(s.n), c, near)
			}
		}
	}
	sort.Slice(s.inject, func(i, j int) bool { return s.inject[i].at < s.inject[j].at })
}
