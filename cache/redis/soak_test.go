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
// table (the README's) to path.

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

// How long Redis stays down or paused; how long every process must serve
// one token per definition before sharing counts as resumed; and the
// bound the test asserts on the time to resume, from Redis's return: the
// breaker's cool-down (5s) before a process tries Redis again, plus a
// period for its local token to come up for renewal, plus a period for
// the others to take the shared token, with room to spare.
var (
	soakOutage      = 2 * soakPeriod
	soakStable      = 2 * soakPeriod
	soakTransient   = soakPeriod / 2
	soakResumeBound = redis.DefaultCooldown + 2*soakPeriod + 10*time.Second
	// soakWaitBound is the asserted bound on a call's wait once its
	// caller has had a token: a renewal starts a renewal window before
	// expiry, so a caller waits only when a renewal overruns it, and a
	// renewal waits at most twice LockTTL for a lock's holder.
	soakWaitBound = 2*soakLockTTL + time.Second
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
	current  [soakDefinitions][soakProcesses]string      // token fingerprint served
	requests [soakProcesses][soakDefinitions][]time.Time // token requests sent
	fails    []string
	ends     [soakProcesses]*soakEvent
}

func (r *soakRun) add(proc int, e soakEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e.Kind {
	case "ready":
		r.ready++
	case "token":
		r.current[e.Def][proc] = e.Token
	case "request":
		r.requests[proc][e.Def] = append(r.requests[proc][e.Def], time.Unix(0, e.At))
	case "fail":
		r.fails = append(r.fails, fmt.Sprintf("process %d, def-%d: %s", proc, e.Def, e.Err))
	case "end":
		r.ends[proc] = &e
	}
}

// shared reports whether every process serves the same token for each
// definition.
func (r *soakRun) shared() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, procs := range r.current {
		for _, f := range procs {
			if f == "" || f != procs[0] {
				return false
			}
		}
	}
	return true
}

// waitShared polls until sharing has held for soakStable and returns when
// it began, or fails the test at deadline. A renewal makes the processes
// serve two tokens for a moment (the fetcher has the new one, the others
// take it from Redis within a few polls): sharing is broken only when the
// processes disagree for longer than soakTransient.
func (r *soakRun) waitShared(t *testing.T, deadline time.Time, what string) time.Time {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var since, apart time.Time
	for {
		now := time.Now()
		switch {
		case !r.shared():
			if apart.IsZero() {
				apart = now
			}
			if now.Sub(apart) > soakTransient {
				since = time.Time{}
			}
		case since.IsZero():
			since, apart = now, time.Time{}
		case now.Sub(since) >= soakStable:
			return since
		default:
			apart = time.Time{}
		}
		if now.After(deadline) {
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("%s: the processes did not share one token per definition for %s before the deadline; serving %v",
				what, soakStable, r.current)
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
	warm := run.waitShared(t, time.Now().Add(time.Minute), "cold start")

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
		f.Shared = run.waitShared(t, f.Back.Add(soakResumeBound+soakStable), fmt.Sprintf("after Redis %s %d", f.Kind, i+1))
		faults = append(faults, f)
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

	assert.Empty(t, run.fails, "failed calls")
	assert.Zero(t, rep.failed, "failed calls")
	assert.Equal(t, rep.serverRequests, rep.requests, "the children counted every token request the server got")
	assert.LessOrEqual(t, rep.sharedMaxPerPeriod, 1, "while shared: at most one token request per definition per lifetime")
	assert.GreaterOrEqual(t, rep.outageMinProcGap, soakPeriod/2,
		"while Redis is down or sharing resumes: at most one token request per definition per process per lifetime")
	assert.Less(t, rep.warmWait, soakWaitBound, "the longest wait of a caller that had had a token")
	for _, f := range faults {
		assert.LessOrEqual(t, f.Shared.Sub(f.Back), soakResumeBound, "time to resume sharing after a %s", f.Kind)
	}
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
}

// analyseSoak sorts the token requests into the cold start (until warm),
// outages (a fault's start until sharing resumed) and shared stretches
// (the rest).
func analyseSoak(run *soakRun, began, warm, ended time.Time, faults []soakFault) soakReport {
	run.mu.Lock()
	defer run.mu.Unlock()
	rep := soakReport{duration: ended.Sub(began), warmUp: warm.Sub(began), faults: faults,
		sharedMinGap: time.Duration(1 << 62), outageMinProcGap: time.Duration(1 << 62),
		faultMaxPerPeriod: make([]int, len(faults)), processes: soakProcesses, sourcesOf: soakDefinitions}
	type span struct{ from, to time.Time }
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
	// phase says where at falls: the cold start (fault -1), a shared
	// stretch, fault i's outage, or after the end (fault -2: the children
	// stopping).
	phase := func(at time.Time) (isShared bool, fault int) {
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
		return true, -1
	}
	for def := range soakDefinitions {
		var all []time.Time
		for proc := range soakProcesses {
			reqs := run.requests[proc][def]
			all = append(all, reqs...)
			for i := 1; i < len(reqs); i++ {
				if s, f := phase(reqs[i]); !s && f >= 0 {
					rep.outageMinProcGap = min(rep.outageMinProcGap, reqs[i].Sub(reqs[i-1]))
				}
			}
		}
		slices.SortFunc(all, func(a, b time.Time) int { return a.Compare(b) })
		rep.requests += len(all)
		var lastShared time.Time
		for i, at := range all {
			inShared, fault := phase(at)
			// the requests of this definition in the period starting at at
			n := 0
			for _, later := range all[i:] {
				if later.Sub(at) >= soakPeriod {
					break
				}
				if s, f := phase(later); s == inShared && f == fault {
					n++
				}
			}
			switch {
			case inShared:
				rep.sharedRequests++
				rep.sharedMaxPerPeriod = max(rep.sharedMaxPerPeriod, n)
				if !lastShared.IsZero() {
					rep.sharedMinGap = min(rep.sharedMinGap, at.Sub(lastShared))
				}
				lastShared = at
			case fault >= 0:
				rep.outageRequests++
				rep.outageMaxPerPeriod = max(rep.outageMaxPerPeriod, n)
				rep.faultMaxPerPeriod[fault] = max(rep.faultMaxPerPeriod[fault], n)
				lastShared = time.Time{}
			case fault == -1:
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

// markdown renders the report as the README's table.
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
