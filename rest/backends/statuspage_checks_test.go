package backends

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/rest"
)

// A base URL's query values (a tenant, a subscription key) never show in
// a report: not in Check's results, the health handler's JSON or the
// status page's check, as the stats mask them.
func TestReportsMaskTheQueryValuesOfABaseURL(t *testing.T) {
	const tenant, sub = "TENANT-q-4711", "SUBKEY-q-0815"
	a := newAssembly(t)
	down := newServer(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	c, err := rest.NewConn("erp", rest.ConnConfig{BaseURL: down.URL + "/v1?tenant=" + tenant + "&sub=" + sub,
		Retry: rest.RetryPolicy{MaxAttempts: 1}}, nil, rest.AllowInsecureHTTP())
	require.NoError(t, err)
	a.reg.put("erp", &entry{kind: kindREST, rest: c})

	rep := a.reg.Check(context.Background())
	var res CheckResult
	for _, r := range rep.Connections {
		if r.Name == "erp" {
			res = r
		}
	}
	require.Contains(t, res.Error, "503")
	assert.Contains(t, res.Error, "tenant=")
	health := get(t, HealthHandler(a.reg), "/readyz").Body.String()
	status := get(t, StatusHandler(a.reg), "/?check=1&format=json").Body.String()
	require.Contains(t, status, `"name":"erp"`)
	for what, text := range map[string]string{"Check": res.Error, "HealthHandler": health, "StatusHandler ?check=1": status} {
		assert.NotContains(t, text, tenant, what)
		assert.NotContains(t, text, sub, what)
	}
}

// The status page answers only to loopback names, its listening address
// and the hosts given with AllowHosts: a page of another site that rebinds
// its DNS name to this address gets 403, for the page and its actions.
func TestStatusPageChecksTheHost(t *testing.T) {
	a := newAssembly(t)
	listening := &net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 8080}
	tests := []struct {
		host  string
		opts  []StatusOption
		local net.Addr
		want  int
	}{
		{"localhost:8080", nil, nil, http.StatusOK},
		{"127.0.0.1", nil, nil, http.StatusOK},
		{"[::1]:8080", nil, nil, http.StatusOK},
		{"10.1.2.3:8080", nil, listening, http.StatusOK},
		{"evil.example:8080", nil, listening, http.StatusForbidden},
		{"10.9.9.9:8080", nil, listening, http.StatusForbidden},
		{"status.internal", nil, nil, http.StatusForbidden},
		{"status.internal", []StatusOption{AllowHosts("Status.Internal")}, nil, http.StatusOK},
		{"status.internal:9090", []StatusOption{AllowHosts("status.internal:9090")}, nil, http.StatusOK},
		{"status.internal:9091", []StatusOption{AllowHosts("status.internal:9090")}, nil, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			h := StatusHandler(a.reg, append(tt.opts, AllowRenew())...)
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				r := httptest.NewRequest(method, "/?format=json", nil)
				r.Host = tt.host
				if tt.local != nil {
					r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, tt.local))
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if tt.want == http.StatusForbidden || method == http.MethodGet {
					assert.Equal(t, tt.want, w.Code, method)
				}
			}
		})
	}
}

// Requests for ?check=1 that arrive while a check runs share it, like the
// health handler's: 40 at once ping each backend once.
func TestStatusPageSharesARunningCheck(t *testing.T) {
	a := newAssembly(t)
	var hits atomic.Int64
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	slow := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			arrived <- struct{}{}
		}
		<-release
	})
	c, err := rest.NewConn("slow", rest.ConnConfig{BaseURL: slow.URL, Retry: rest.RetryPolicy{MaxAttempts: 1}}, nil, rest.AllowInsecureHTTP())
	require.NoError(t, err)
	a.reg.put("slow", &entry{kind: kindREST, rest: c})
	h := StatusHandler(a.reg).(*statusHandler)

	first := h.checks.join(context.Background())
	<-arrived // the check is under way, held by the slow backend
	var wg sync.WaitGroup
	bodies := make(chan string, 40)
	for range 40 {
		wg.Go(func() { bodies <- get(t, h, "/?check=1&format=json").Body.String() })
	}
	for joined := 0; joined < 41; runtime.Gosched() { // the 40 requests wait on the check held by the backend
		h.checks.mu.Lock()
		require.Same(t, first, h.checks.cur, "the check ended before the requests joined it")
		joined = first.joined
		h.checks.mu.Unlock()
	}
	close(release)
	wg.Wait()
	close(bodies)
	for body := range bodies {
		var v struct {
			Check *CheckReport `json:"check"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &v))
		require.NotNil(t, v.Check)
		assert.True(t, v.Check.OK)
	}
	assert.Equal(t, int64(1), hits.Load(), "40 requests, one ping")
}
