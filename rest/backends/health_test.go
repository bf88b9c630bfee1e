package backends

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/rendertest"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
	"github.com/tokenwire/tokenwire/rest"
)

func TestCheckAllOK(t *testing.T) {
	a := newAssembly(t)
	rep := a.reg.Check(context.Background())
	require.True(t, rep.OK, "%+v", rep)
	assert.Equal(t, []CheckResult{{Name: "crm-oauth", Kind: typeOAuth2, Readiness: "required", OK: true}}, rep.Tokens)
	var names, kinds []string
	for _, r := range rep.Connections {
		names, kinds = append(names, r.Name), append(kinds, r.Kind)
		assert.True(t, r.OK, r.Name)
	}
	assert.Equal(t, []string{"billing", "crm", "ehr", "hook", "legacy"}, names)
	assert.Equal(t, []string{"rest", "rest", "fhir", "rest", "rest"}, kinds)
	require.NotNil(t, rep.Store)
	assert.Equal(t, "memory", rep.Store.Kind)
	assert.Equal(t, a.clk.Now(), rep.At, "on the registry's clock")
	assert.Equal(t, 1, a.as.Requests("svc"), "one token request for the definition and its two connections")

	again := a.reg.Check(context.Background())
	assert.True(t, again.OK)
	assert.Equal(t, 1, a.as.Requests("svc"), "a valid token is not fetched again")
}

func TestCheckReportsEachFailureWithoutSecrets(t *testing.T) {
	a := newAssembly(t)
	// The authorization server refuses, echoing the client secret; a
	// backend fails, echoing its API key in the body.
	a.as.FailNext(10, oauthtest.OAuthError(http.StatusUnauthorized, "invalid_client", "bad secret "+fixClientSecret))
	billing := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down; your key "+r.Header.Get("X-API-Key")+" is fine", http.StatusServiceUnavailable)
	})
	sec, err := a.reg.securityOf("billing-key")
	require.NoError(t, err)
	c, err := rest.NewConn("billing", rest.ConnConfig{BaseURL: billing.URL, Security: "billing-key", Retry: rest.RetryPolicy{MaxAttempts: 1}, Ping: rest.PingConfig{Method: "GET"}}, sec, rest.AllowInsecureHTTP())
	require.NoError(t, err)
	a.reg.put("billing", &entry{kind: kindREST, security: "billing-key", rest: c})

	rep := a.reg.Check(context.Background())
	assert.False(t, rep.OK)
	byName := map[string]CheckResult{}
	for _, r := range append(rep.Tokens, rep.Connections...) {
		byName[r.Name] = r
	}
	for _, name := range []string{"crm-oauth", "crm", "ehr", "billing"} {
		assert.False(t, byName[name].OK, name)
		assert.NotEmpty(t, byName[name].Error, name)
	}
	for _, name := range []string{"legacy", "hook"} {
		assert.True(t, byName[name].OK, name)
	}
	assert.Contains(t, byName["crm-oauth"].Error, "invalid_client")
	assert.Contains(t, byName["billing"].Error, "503")
	assert.Contains(t, byName["billing"].Error, "down; your key [redacted] is fine")
	rendertest.NoSecret(t, "CheckReport", rep, a.secrets()...)
	js, err := json.Marshal(reportView(&rep))
	require.NoError(t, err)
	noSecretIn(t, "CheckReport JSON", string(js), a.secrets())
}

func TestCheckTimeout(t *testing.T) {
	a := newAssembly(t)
	hung := newServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	c, err := rest.NewConn("hung", rest.ConnConfig{BaseURL: hung.URL, Retry: rest.RetryPolicy{MaxAttempts: 1}}, nil, rest.AllowInsecureHTTP())
	require.NoError(t, err)
	a.reg.put("hung", &entry{kind: kindREST, rest: c})
	rep := a.reg.Check(context.Background(), CheckTimeout(5*time.Second)) // per check: each other ping must pass within it on a loaded machine
	assert.False(t, rep.OK)
	for _, r := range rep.Connections {
		if r.Name == "hung" {
			assert.False(t, r.OK)
			assert.Contains(t, r.Error, "deadline exceeded")
		} else {
			assert.True(t, r.OK, r.Name)
		}
	}
}

func TestRunChecksBoundsConcurrency(t *testing.T) {
	const limit, n = 2, 6
	var running, most atomic.Int64
	arrived, release := make(chan struct{}), make(chan struct{})
	job := func(context.Context) CheckResult {
		now := running.Add(1)
		for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
		}
		arrived <- struct{}{}
		<-release
		running.Add(-1)
		return CheckResult{OK: true}
	}
	jobs := make([]func(context.Context) CheckResult, n)
	for i := range jobs {
		jobs[i] = job
	}
	done := make(chan []CheckResult)
	go func() {
		done <- runChecks(context.Background(), jobs, checkSettings{timeout: time.Minute, concurrency: limit}, time.Now)
	}()
	for range limit {
		<-arrived
	}
	close(release) // from now on each job ends as soon as it has arrived
	for range n - limit {
		<-arrived
	}
	results := <-done
	assert.Len(t, results, n)
	assert.Equal(t, int64(limit), most.Load())
}

func TestCheckClosedRegistry(t *testing.T) {
	a := newAssembly(t)
	require.NoError(t, a.reg.Close())
	rep := a.reg.Check(context.Background())
	assert.False(t, rep.OK)
	assert.Equal(t, "registry closed", rep.Error)
}

// downStore is a shared store that reports itself unreachable.
type downStore struct{ cache.Store }

func (downStore) Status() cache.Status {
	return cache.Status{Kind: "redis", Shared: true, Healthy: false, Breaker: cache.BreakerOpen, LastError: "dial tcp 127.0.0.1:1: connection refused"}
}

func TestCheckStoreDoesNotCount(t *testing.T) {
	a := newAssembly(t, WithStore(downStore{cache.NewMemory(8)}))
	rep := a.reg.Check(context.Background())
	assert.True(t, rep.OK, "the local fallback serves: readiness does not depend on the shared store")
	require.NotNil(t, rep.Store)
	assert.False(t, rep.Store.Healthy)
	assert.Equal(t, cache.BreakerOpen, rep.Store.Breaker)
}

func TestCheckReportJSON(t *testing.T) {
	rep := CheckReport{OK: true, Duration: 1500 * time.Microsecond, Tokens: []CheckResult{{Name: "a", Kind: "oauth2", OK: true, Latency: 2 * time.Millisecond}}}
	js, err := json.Marshal(reportView(&rep)) // as HealthHandler and the status page encode it
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(js, &m))
	assert.InDelta(t, 1.5, m["duration_ms"], 1e-9)
	assert.InDelta(t, 2.0, m["tokens"].([]any)[0].(map[string]any)["latency_ms"], 1e-9)
}

func TestHealthHandler(t *testing.T) {
	a := newAssembly(t)
	h := HealthHandler(a.reg)
	w := get(t, h, "/readyz")
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	var rep CheckReport
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &rep))
	assert.True(t, rep.OK)
	assert.Len(t, rep.Connections, 5)

	head := do(t, h, http.MethodHead, "/readyz", nil)
	assert.Equal(t, http.StatusOK, head.Code)
	assert.Empty(t, head.Body.String())

	post := do(t, h, http.MethodPost, "/readyz", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, post.Code)
	assert.Equal(t, "GET, HEAD", post.Header().Get("Allow"))

	a.fhirStatus = http.StatusInternalServerError
	w = get(t, h, "/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	noSecretIn(t, "health response", w.Body.String(), a.secrets())
}

func TestHealthHandlerSharesARunningCheck(t *testing.T) {
	a := newAssembly(t)
	var hits atomic.Int64
	arrived, release := make(chan struct{}), make(chan struct{})
	slow := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		arrived <- struct{}{}
		<-release
	})
	c, err := rest.NewConn("slow", rest.ConnConfig{BaseURL: slow.URL}, nil, rest.AllowInsecureHTTP())
	require.NoError(t, err)
	a.reg.put("slow", &entry{kind: kindREST, rest: c})
	h := HealthHandler(a.reg).(*healthHandler)

	ctx, cancel := context.WithCancel(context.Background())
	first := h.join(ctx)
	<-arrived // the check is under way, held by the slow backend
	second := h.join(context.Background())
	assert.Same(t, first, second, "a request during a check joins it")
	cancel()
	_, ok := first.wait(ctx)
	assert.False(t, ok, "a request that goes away stops waiting")
	close(release) // the check ran on without it
	rep, ok := second.wait(context.Background())
	require.True(t, ok)
	assert.True(t, rep.OK)
	assert.Equal(t, int64(1), hits.Load(), "both requests, one ping")

	go func() { <-arrived }()
	third := h.join(context.Background())
	assert.NotSame(t, first, third, "a request after the check starts a new one")
	_, ok = third.wait(context.Background())
	assert.True(t, ok)
}
