package backends

import (
	"context"
	"sync"
	"time"

	"github.com/tokenwire/tokenwire/cache"
)

// Defaults of [Registry.Check].
const (
	defaultCheckTimeout     = 10 * time.Second
	defaultCheckConcurrency = 8
)

// CheckOption adjusts [Registry.Check] and [HealthHandler].
type CheckOption func(*checkSettings)

type checkSettings struct {
	timeout     time.Duration
	concurrency int
}

// CheckTimeout bounds each token fetch and each ping of a check (and the
// whole check runs within ctx too). Default 10s.
func CheckTimeout(d time.Duration) CheckOption { return func(s *checkSettings) { s.timeout = d } }

func newCheckSettings(opts []CheckOption) checkSettings {
	s := checkSettings{timeout: defaultCheckTimeout, concurrency: defaultCheckConcurrency}
	for _, o := range opts {
		o(&s)
	}
	if s.timeout <= 0 {
		s.timeout = defaultCheckTimeout
	}
	if s.concurrency <= 0 {
		s.concurrency = defaultCheckConcurrency
	}
	return s
}

// CheckReport is the outcome of [Registry.Check], for a readiness probe or
// a status page. It holds no secret and no token; error texts are the
// redacted ones of this library, scrubbed once more of the connections'
// secrets. [HealthHandler] and the status page serve it as JSON with the
// names shown, durations in milliseconds (duration_ms, latency_ms).
type CheckReport struct {
	OK          bool          `json:"ok"`              // every result that counts (Readiness not "optional") succeeded
	Error       string        `json:"error,omitempty"` // why nothing was checked (a closed registry)
	At          time.Time     `json:"at"`              // when the check started, on the registry's clock
	Duration    time.Duration `json:"-"`
	Tokens      []CheckResult `json:"tokens"`      // one per OAuth definition, by name
	Connections []CheckResult `json:"connections"` // one per connection, by name
	// Store is the token store's state, reported but not counted in OK:
	// when a shared store is unreachable the connections keep working on
	// their local fallback, so readiness does not depend on it.
	Store *cache.Status `json:"store,omitempty"`
}

// CheckResult is one token fetch or one ping of a [CheckReport].
type CheckResult struct {
	Name string `json:"name"`
	// Kind is "oauth2" for a token, "rest" or "fhir" for a
	// connection.
	Kind     string `json:"kind"`
	Security string `json:"security,omitempty"` // a connection's security definition
	// Readiness is how the result counts: "required", "optional" (a
	// failure is reported and does not make the report not OK) or, for a
	// connection checked by its token alone, "token_only". A definition's
	// token is optional when every connection that uses it is.
	Readiness string        `json:"readiness"`
	OK        bool          `json:"ok"`
	Latency   time.Duration `json:"-"`
	Error     string        `json:"error,omitempty"`
}

// Check checks the whole registry: it gets each OAuth definition's token
// (TokenContext: a token held and valid counts without a request; none
// held, one is fetched) and pings each connection (rest.Conn.Ping,
// fhir.Conn.Ping) — a token_only connection is checked by its
// definition's token instead — all concurrently (at most 8 at once, each
// within [CheckTimeout] and ctx), and reports each result. The report is
// OK when every result that counts succeeded: an optional connection's
// (readiness: optional) does not, nor the token of a definition only
// optional connections use. The token store's state is reported and does
// not count. Pings are calls: they count in the connections' statistics
// and telemetry. A closed registry reports not OK.
func (r *Registry) Check(ctx context.Context, opts ...CheckOption) CheckReport {
	set := newCheckSettings(opts)
	now := r.now()
	rep := CheckReport{At: now(), Tokens: []CheckResult{}, Connections: []CheckResult{}}
	switch {
	case r.closed.Load():
		rep.Error = "registry closed"
		return rep
	case r.security == nil:
		rep.Error = "registry not made by Open"
		return rep
	}
	cj := r.collectJobs()
	results := runChecks(ctx, cj.jobs, set, now)
	rep.Tokens, rep.Connections = results[:cj.nTokens:cj.nTokens], results[cj.nTokens:]
	if st := r.tokenOpts.Store; st != nil {
		s := cache.StatusOf(st)
		s.LastError = r.scrub(s.LastError)
		rep.Store = &s
	}
	rep.OK = true
	for _, res := range results {
		rep.OK = rep.OK && (res.OK || !res.counts())
	}
	rep.Duration = now().Sub(rep.At)
	return rep
}

// runChecks runs jobs, at most set.concurrency at once, each within
// set.timeout, timing each with now; the results are in the jobs' order.
func runChecks(ctx context.Context, jobs []func(context.Context) CheckResult, set checkSettings, now func() time.Time) []CheckResult {
	results := make([]CheckResult, len(jobs))
	sem := make(chan struct{}, set.concurrency)
	var wg sync.WaitGroup
	for i, job := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			jctx, cancel := context.WithTimeout(ctx, set.timeout)
			defer cancel()
			begin := now()
			results[i] = job(jctx)
			results[i].Latency = now().Sub(begin)
		}()
	}
	wg.Wait()
	return results
}

// now is the registry's clock.
func (r *Registry) now() func() time.Time {
	if r.set != nil && r.set.Now != nil {
		return r.set.Now
	}
	return time.Now
}
