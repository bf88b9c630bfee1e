package redis_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache/redis"
	"github.com/tokenwire/tokenwire/internal/redistest"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// The soak: soakProcesses real child processes (soak_child_test.go), each
// a replica with one source per definition, share one Redis while the
// test restarts it (SIGKILL, then a new empty server on the same port) and
// pauses it (SIGSTOP, SIGCONT), in turn, each for soakOutage. It runs
// soakDuration of faults in CI; longer with
//
//	go test ./cache/redis -run 'TestSoak$' -v -timeout 0 -soak=30m
//
// or TOKENWIRE_SOAK=30m. TOKENWIRE_SOAK_REPORT=path writes the report's
// table (the package doc's) to path.

// The shape of the soak.
const (
	soakProcesses   = 10
	soakDefinitions = 5
	soakLifetime    = 6 * time.Second // the tokens' lifetime
	// soakLockTTL is shorter than the tokens' renewal window (3s): a lock
	// left by a command Redis ran after its caller gave up (SIGSTOP) then
	// delays a renewal, never a caller. The default (10s) suits tokens
	// whose renewal window is the default minimum of 10s or more.
	soakLockTTL     = 2 * time.Second
	soakCallTimeout = 30 * time.Second
	soakDuration    = 60 * time.Second // of faults, by default
	soakLatency     = 20 * time.Millisecond
)

// soakPeriod is how long a token is served before it is renewed: its
// lifetime less its renewal window (oauthclient.DefaultRenewWindow: half
// of a 6s lifetime). A lifetime, below, is one such period: the fleet
// should make one token request per definition per period.
var soakPeriod = soakLifetime - oauthclient.DefaultRenewWindow(soakLifetime)

// How long Redis stays down or paused, and how long the fleet shares
// between two faults (the soak's pacing, asserted nowhere).
var (
	soakOutage = 2 * soakPeriod
	soakStable = 2 * soakPeriod
	// soakFailsafe ends a soak whose fleet never shares one token per
	// definition again (at the cold start, or after a fault). It is no
	// bound on how soon sharing resumes, which the soak measures and
	// reports: it only keeps a broken fleet from hanging the test, so it
	// is far beyond what any scheduler makes of the cool-down (5s) and a
	// lifetime or two.
	soakFailsafe = 3 * time.Minute
	// soakWaitBound is the bound on a call's wait that the library
	// enforces with its own timers: a backoff's next attempt, which a
	// caller waits for when it comes within MaxBackoffWait (3s by
	// default), then one
	// shared fetch, bounded by the token request's timeout
	// (10s by default), twice the lock's TTL and a second. A
	// scheduler that starves the children delays renewals, which the
	// soak reports; it does not make a fetch outlive its timer.
	soakWaitBound = 3*time.Second + 10*time.Second + 2*soakLockTTL + time.Second
)

var soakFlag = flag.Duration("soak", 0, "run TestSoak's faults for this long (default 60s, or $TOKENWIRE_SOAK)")

func soakFaultTime(t *testing.T) time.Duration {
	if *soakFlag > 0 {
		return *soakFlag
	}
	if v := os.Getenv("TOKENWIRE_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(t, err, "TOKENWIRE_SOAK")
		return d
	}
	return soakDuration
}

// soakFault is one Redis outage.
type soakFault struct {
	Kind   string    // "restart" or "pause"
	Start  time.Time // Redis went away
	Back   time.Time // Redis answered again
	Shared time.Time // from then on every process served one token per definition
}

// soakRun gathers the children's events.
type soakRun struct {
	mu       sync.Mutex
	ready    int
	served   [soakDefinitions][soakProcesses]map[string]time.Time // token fingerprint → when the process first served it
	requests [soakProcesses][soakDefinitions][]time.Time          // token requests sent
	breaker  [soakProcesses][]span                                // while the process's store skipped Redis (a failed or slow operation)
	overruns [soakDefinitions][]span                              // fleet locks held past their TTL
	fails    []string
	ends     [soakProcesses]*soakEvent
}

// span is a stretch of time; to is zero while it lasts.
type span struct{ from, to time.Time }

func (r *soakRun) add(proc int, e soakEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	at := time.Unix(0, e.At)
	switch e.Kind {
	case "ready":
		r.ready++
	case "token":
		m := r.served[e.Def][proc]
		if m == nil {
			m = map[string]time.Time{}
			r.served[e.Def][proc] = m
		}
		if _, ok := m[e.Token]; !ok {
			m[e.Token] = at
		}
	case "request":
		r.requests[proc][e.Def] = append(r.requests[proc][e.Def], at)
	case "down":
		if b := r.breaker[proc]; len(b) == 0 || !b[len(b)-1].to.IsZero() {
			r.breaker[proc] = append(b, span{from: at})
		}
	case "up":
		if b := r.breaker[proc]; len(b) > 0 && b[len(b)-1].to.IsZero() {
			b[len(b)-1].to = at
		}
	case "overrun":
		r.overruns[e.Def] = append(r.overruns[e.Def], span{at, time.Unix(0, e.End)})
	case "fail":
		r.fails = append(r.fails, fmt.Sprintf("process %d, def-%d: %s", proc, e.Def, e.Err))
	case "end":
		r.ends[proc] = &e
	}
}

// sharedSince reports whether, for every definition, every process has
// served one same token that it first served at or after from — the
// fleet shares again — and when the last of them began to.
func (r *soakRun) sharedSince(from time.Time) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var last time.Time
	for def := range soakDefinitions {
		best := time.Time{}
		for tok, at := range r.served[def][0] {
			if at.Before(from) {
				continue
			}
			all := at
			for proc := 1; proc < soakProcesses && !all.IsZero(); proc++ {
				at, ok := r.served[def][proc][tok]
				switch {
				case !ok || at.Before(from):
					all = time.Time{}
				case at.After(all):
					all = at
				}
			}
			if !all.IsZero() && (best.IsZero() || all.Before(best)) {
				best = all
			}
		}
		if best.IsZero() {
			return time.Time{}, false
		}
		if best.After(last) {
			last = best
		}
	}
	return last, true
}

// waitShared waits until the fleet shares one token per definition again
// (sharedSince from) and returns when it began to, or fails the test at
// deadline, a failsafe.
func (r *soakRun) waitShared(t *testing.T, from, deadline time.Time, what string) time.Time {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if at, ok := r.sharedSince(from); ok {
			return at
		}
		if time.Now().After(deadline) {
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("%s: the processes did not come to share one token per definition in %s; served %v", what, deadline.Sub(from), r.served)
		}
		<-tick.C
	}
}

func TestSoak(t *testing.T) {
	faultTime := soakFaultTime(t)
	srv := redistest.Start(t)
	as := oauthtest.NewServer(oauthtest.WithTokenLifetime(soakLifetime))
	t.Cleanup(as.Close)
	for def := range soakDefinitions {
		as.AddClient(oauthtest.Client{ID: soakClientID(def), Secret: soakSecret, Scopes: []string{"read"}})
	}
	as.SetLatency(soakLatency)
	run := &soakRun{}
	prefix := redis.UniquePrefix(t)

	children := make([]*soakChild, soakProcesses)
	for i := range children {
		children[i] = startSoakChild(t, i, run, srv.Addr(), as.TokenURL(), prefix)
	}
	require.Eventually(t, func() bool {
		run.mu.Lock()
		defer run.mu.Unlock()
		return run.ready == soakProcesses
	}, time.Minute, 10*time.Millisecond, "every child built its store and sources")
	began := time.Now()
	for _, c := range children {
		_, err := c.stdin.Write([]byte{'g'}) // go: all call from now on
		require.NoError(t, err)
	}
	warm := run.waitShared(t, began, began.Add(soakFailsafe), "cold start")
	<-time.After(soakStable) // the fleet shares for a while: pacing, not synchronisation

	var faults []soakFault
	for i := 0; i < 2 || time.Since(warm) < faultTime; i++ {
		f := soakFault{Kind: "restart", Start: time.Now()}
		if i%2 == 0 {
			require.NoError(t, srv.Stop())
		} else {
			f.Kind = "pause"
			require.NoError(t, srv.Pause())
		}
		<-time.After(soakOutage) // the outage lasts this long, in wall-clock time
		if f.Kind == "restart" {
			require.NoError(t, srv.Restart())
		} else {
			require.NoError(t, srv.Resume())
		}
		f.Back = time.Now()
		f.Shared = run.waitShared(t, f.Back, f.Back.Add(soakFailsafe), fmt.Sprintf("after Redis %s %d", f.Kind, i+1))
		faults = append(faults, f)
		<-time.After(soakStable) // the fleet shares for a while
	}
	ended := time.Now()
	for _, c := range children {
		c.stop(t)
	}

	rep := analyseSoak(run, began, warm, ended, faults)
	rep.serverRequests = as.Requests("")
	t.Log("\n" + rep.markdown())
	if path := os.Getenv("TOKENWIRE_SOAK_REPORT"); path != "" {
		require.NoError(t, os.WriteFile(path, []byte(rep.markdown()), 0o644))
	}

	// What a starved scheduler cannot break: no call fails; the fleet
	// shares again after every fault (waitShared); while Redis answers
	// every replica in time and every lock's holder finishes within its
	// TTL, one token request per definition per lifetime, whatever the
	// load; never two requests of one process within half a lifetime; no
	// wait beyond the bound the library's own timer sets. How long sharing
	// took to resume and how long callers waited are measured and
	// reported (the table), not asserted.
	assert.Empty(t, run.fails, "failed calls")
	assert.Zero(t, rep.failed, "failed calls")
	assert.Equal(t, rep.serverRequests, rep.requests, "the children counted every token request the server got")
	assert.Positive(t, rep.sharedRequests, "the fleet renewed while shared")
	assert.LessOrEqual(t, rep.sharedMaxPerPeriod, 1, "while shared: at most one token request per definition per lifetime")
	assert.GreaterOrEqual(t, rep.outageMinProcGap, soakPeriod/2,
		"while Redis is down or sharing resumes: at most one token request per definition per process per lifetime")
	assert.Less(t, rep.warmWait, soakWaitBound, "a caller that had had a token waited at most for one shared fetch")
}

// soakChild is a running child process.
type soakChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bytes.Buffer
	read  chan struct{} // closed when its events are all read
}

func startSoakChild(t *testing.T, i int, run *soakRun, redisAddr, tokenURL, prefix string) *soakChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSoakChild$", "-test.count=1", "-test.timeout=0") // the parent bounds it
	cmd.Env = append(os.Environ(), envSoakIndex+"="+fmt.Sprint(i), envSoakRedis+"="+redisAddr,
		envSoakTokenURL+"="+tokenURL, envSoakPrefix+"="+prefix)
	events, w, err := os.Pipe()
	require.NoError(t, err)
	cmd.ExtraFiles = []*os.File{w}
	c := &soakChild{cmd: cmd, out: &bytes.Buffer{}, read: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = c.out, c.out
	c.stdin, err = cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	_ = w.Close()
	t.Cleanup(func() { _ = cmd.Process.Kill() }) // after a failed test; a no-op once stopped
	go func() {
		defer close(c.read)
		defer events.Close()
		sc := bufio.NewScanner(events)
		for sc.Scan() {
			var e soakEvent
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				run.add(i, e)
			}
		}
	}()
	return c
}

// stop closes the child's standard input, which ends it, and waits for it
// and its last events.
func (c *soakChild) stop(t *testing.T) {
	t.Helper()
	_ = c.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "soak child: %s", c.out)
	case <-time.After(time.Minute):
		_ = c.cmd.Process.Kill()
		t.Fatalf("soak child did not stop: %s", c.out)
	}
	<-c.read
}

// soakReport is what the soak measured.
type soakReport struct {
	duration, warmUp     time.Duration
	faults               []soakFault
	calls, failed        int64
	requests             int
	serverRequests       int
	coldRequests         [soakDefinitions]int
	sharedRequests       int
	sharedPeriods        float64
	sharedMaxPerPeriod   int
	sharedMinGap         time.Duration
	outageRequests       int
	outageMaxPerPeriod   int // for one definition, all processes
	outageMinProcGap     time.Duration
	faultMaxPerPeriod    []int
	maxWait, warmWait    time.Duration
	processes, sourcesOf int
	coldByProc           [soakProcesses]int
	storeFailures        int64
	storeFallbacks       int64
	starvedBreaks        int // breakers opened outside any fault: a starved process, or Redis, too slow for op_timeout
	overruns             int // fleet locks held past their TTL
	starvedRequests      int // requests made meanwhile (see disturbed)
}

// faultStarved marks a request made while a replica ran on its own for
// a reason of the machine's (see disturbed): in no fault's stretch.
const faultStarved = -3

// inFault reports whether at falls in a fault's stretch: from Redis going
// away until the fleet shared again.
func inFault(at time.Time, faults []soakFault) bool {
	for _, f := range faults {
		if !at.Before(f.Start) && at.Before(f.Shared) {
			return true
		}
	}
	return false
}

// disturbed reports whether a request of proc for def at at may be one a
// replica made on its own, as the library is designed to, because the
// machine starved a process rather than because the fleet failed to
// share: while proc's store skipped Redis after an operation of its
// failed or timed out outside any fault (from a request whose write then
// timed out, until Redis answered it again), or while a lock of def was
// held past its TTL (until its holder had stored its token). The margins
// are the store's timeouts.
func (r *soakRun) disturbed(proc, def int, at, ended time.Time, faults []soakFault) bool {
	margin := 2 * soakOpTimeout()
	for _, b := range r.breaker[proc] {
		if inFault(b.from, faults) {
			continue // the fault's own
		}
		to := b.to
		if to.IsZero() {
			to = ended
		}
		if !at.Before(b.from.Add(-margin)) && at.Before(to.Add(margin)) {
			return true
		}
	}
	for _, o := range r.overruns[def] {
		if !at.Before(o.from) && at.Before(o.to.Add(margin)) {
			return true
		}
	}
	return false
}

// analyseSoak sorts the token requests into the cold start (until warm),
// outages (a fault's start until sharing resumed, or a replica disturbed
// by a starved scheduler: faultStarved) and shared stretches (the rest).
func analyseSoak(run *soakRun, began, warm, ended time.Time, faults []soakFault) soakReport {
	run.mu.Lock()
	defer run.mu.Unlock()
	rep := soakReport{duration: ended.Sub(began), warmUp: warm.Sub(began), faults: faults,
		sharedMinGap: time.Duration(1 << 62), outageMinProcGap: time.Duration(1 << 62),
		faultMaxPerPeriod: make([]int, len(faults)), processes: soakProcesses, sourcesOf: soakDefinitions}
	shared := []span{}
	from := warm
	for _, f := range faults {
		shared = append(shared, span{from, f.Start})
		from = f.Shared
	}
	shared = append(shared, span{from, ended})
	for _, s := range shared {
		rep.sharedPeriods += float64(s.to.Sub(s.from)) / float64(soakPeriod)
	}
	// phase says where a request of proc for def at at falls: the cold
	// start (fault -1), a shared stretch, fault i's outage, a disturbed
	// replica (faultStarved), or after the end (fault -2: the children
	// stopping).
	phase := func(proc, def int, at time.Time) (isShared bool, fault int) {
		if at.Before(warm) {
			return false, -1
		}
		if !at.Before(ended) {
			return false, -2
		}
		for i, f := range faults {
			if !at.Before(f.Start) && at.Before(f.Shared) {
				return false, i
			}
		}
		if run.disturbed(proc, def, at, ended, faults) {
			return false, faultStarved
		}
		return true, -1
	}
	type request struct {
		at     time.Time
		shared bool
		fault  int
	}
	for def := range soakDefinitions {
		var all []request
		for proc := range soakProcesses {
			reqs := run.requests[proc][def]
			for i, at := range reqs {
				s, f := phase(proc, def, at)
				all = append(all, request{at, s, f})
				if i > 0 && !s && (f >= 0 || f == faultStarved) {
					rep.outageMinProcGap = min(rep.outageMinProcGap, at.Sub(reqs[i-1]))
				}
				if f == faultStarved {
					rep.starvedRequests++
				}
			}
		}
		slices.SortFunc(all, func(a, b request) int { return a.at.Compare(b.at) })
		rep.requests += len(all)
		var lastShared time.Time
		for i, r := range all {
			// the requests of this definition in the period starting at r.at
			n := 0
			for _, later := range all[i:] {
				if later.at.Sub(r.at) >= soakPeriod {
					break
				}
				if later.shared == r.shared && later.fault == r.fault {
					n++
				}
			}
			switch {
			case r.shared:
				rep.sharedRequests++
				rep.sharedMaxPerPeriod = max(rep.sharedMaxPerPeriod, n)
				if !lastShared.IsZero() {
					rep.sharedMinGap = min(rep.sharedMinGap, r.at.Sub(lastShared))
				}
				lastShared = r.at
			case r.fault >= 0 || r.fault == faultStarved:
				rep.outageRequests++
				rep.outageMaxPerPeriod = max(rep.outageMaxPerPeriod, n)
				if r.fault >= 0 {
					rep.faultMaxPerPeriod[r.fault] = max(rep.faultMaxPerPeriod[r.fault], n)
				}
				lastShared = time.Time{}
			case r.fault == -1:
				rep.coldRequests[def]++
			}
		}
	}
	for proc := range soakProcesses {
		for def := range soakDefinitions {
			for _, at := range run.requests[proc][def] {
				if at.Before(warm) {
					rep.coldByProc[proc]++
				}
			}
		}
		for _, b := range run.breaker[proc] {
			if !b.from.Before(warm) && !inFault(b.from, faults) {
				rep.starvedBreaks++
			}
		}
	}
	for def := range soakDefinitions {
		rep.overruns += len(run.overruns[def])
	}
	for _, e := range run.ends {
		if e == nil {
			continue
		}
		rep.storeFailures += e.StoreFailures
		rep.storeFallbacks += e.StoreFallbacks
		rep.calls += e.Calls
		rep.failed += e.Failed
		rep.maxWait = max(rep.maxWait, time.Duration(e.MaxWait))
		rep.warmWait = max(rep.warmWait, time.Duration(e.WarmWait))
	}
	return rep
}

// markdown renders the report as the package doc's table.
func (r soakReport) markdown() string {
	var b strings.Builder
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	fmt.Fprintf(&b, "%d processes × %d definitions (%d token sources); tokens of %s, renewed every %s; "+
		"Redis killed and restarted empty, or paused (SIGSTOP), for %s per fault, in turn; race detector %s (op_timeout %s), cool-down %s, lock TTL %s.\n\n",
		r.processes, r.sourcesOf, r.processes*r.sourcesOf, soakLifetime, soakPeriod, soakOutage,
		map[bool]string{true: "on", false: "off"}[soakRace], soakOpTimeout(), redis.DefaultCooldown, soakLockTTL)
	fmt.Fprintf(&b, "| measure | result |\n|---|---|\n")
	fmt.Fprintf(&b, "| duration | %s: cold start %s, %d faults |\n", r.duration.Round(time.Second), ms(r.warmUp), len(r.faults))
	fmt.Fprintf(&b, "| calls | %d, **%d failed** |\n", r.calls, r.failed)
	fmt.Fprintf(&b, "| token requests | %d (the server counted %d); cold start: %v per definition |\n", r.requests, r.serverRequests, r.coldRequests)
	fmt.Fprintf(&b, "| requests per definition per lifetime, Redis up and shared | **%.2f** on average (%d in %.0f lifetimes × %d definitions; a shared stretch ends with a partial lifetime); at most %d in one lifetime; never two within %s |\n",
		float64(r.sharedRequests)/(r.sharedPeriods*soakDefinitions), r.sharedRequests, r.sharedPeriods, soakDefinitions, r.sharedMaxPerPeriod, ms(r.sharedMinGap))
	fmt.Fprintf(&b, "| requests per definition per lifetime, Redis down or sharing resuming | at most **%d** (%d processes); no process asked twice within %s |\n",
		r.outageMaxPerPeriod, r.processes, ms(r.outageMinProcGap))
	fmt.Fprintf(&b, "| Redis operations failed / served by the fallback | %d / %d |\n", r.storeFailures, r.storeFallbacks)
	fmt.Fprintf(&b, "| outside the faults: breakers opened (an operation failed, or slower than op_timeout) / locks held past their TTL | %d / %d, with %d token requests made meanwhile (not counted as shared) |\n",
		r.starvedBreaks, r.overruns, r.starvedRequests)
	fmt.Fprintf(&b, "| longest caller wait | **%s** once the caller had had a token; %s at the cold start |\n", ms(r.warmWait), ms(r.maxWait))
	kinds := map[string]string{"restart": "Redis killed, restarted empty", "pause": "Redis paused (SIGSTOP … SIGCONT)"}
	if len(r.faults) <= 4 {
		for i, f := range r.faults {
			fmt.Fprintf(&b, "| fault %d: %s | back after %s; sharing resumed **%s** later; meanwhile at most %d requests per definition per lifetime |\n",
				i+1, kinds[f.Kind], ms(f.Back.Sub(f.Start)), ms(f.Shared.Sub(f.Back)), r.faultMaxPerPeriod[i])
		}
		return b.String()
	}
	for _, kind := range []string{"restart", "pause"} {
		var resume []time.Duration
		for _, f := range r.faults {
			if f.Kind == kind {
				resume = append(resume, f.Shared.Sub(f.Back))
			}
		}
		slices.Sort(resume)
		fmt.Fprintf(&b, "| %s, %d times | sharing resumed after %s (median), %s to %s |\n",
			kinds[kind], len(resume), ms(resume[len(resume)/2]), ms(resume[0]), ms(resume[len(resume)-1]))
	}
	return b.String()
}
