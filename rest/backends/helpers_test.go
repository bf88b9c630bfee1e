package backends

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/fakeclock"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
	"github.com/tokenwire/tokenwire/rest"
)

// newServer starts an httptest server on loopback, closed at cleanup.
func newServer(t testing.TB, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// securityOf returns the security definition called name, as the registry
// built it.
func (r *Registry) securityOf(name string) (rest.Security, error) {
	if d, ok := r.definitions()[name]; ok {
		return d.sec, nil
	}
	known := slices.Sorted(maps.Keys(r.definitions()))
	return nil, fmt.Errorf("%w %q (known: %s)", oauthclient.ErrUnknownDefinition, name, strings.Join(known, ", "))
}

// testConn builds a test connection to url with a fake clock.
func testConn(t *testing.T, url string, sec rest.Security, cfg rest.ConnConfig) (*rest.Conn, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	cfg.BaseURL = url
	c, err := rest.NewConn("crm", cfg, sec, rest.AllowInsecureHTTP(), rest.WithClock(clk.Now), rest.WithSleep(clk.Sleep))
	require.NoError(t, err)
	return c, clk
}

// oauthSetup starts a fake authorization server and a backend that
// requires its tokens, and a registry with connection "crm" to the backend,
// opened with opts.
func oauthSetup(t testing.TB, handler http.HandlerFunc, opts ...rest.Option) (*oauthtest.Server, *Registry) {
	t.Helper()
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "svc", Secret: "svc-secret", Scopes: []string{"crm.read"}})
	backend := newServer(t, as.RequireToken(handler).ServeHTTP)
	vars := map[string]string{"TOKEN_URL": as.TokenURL(), "CRM_URL": backend.URL, "SECRET": "svc-secret"}
	cfg, err := Parse([]byte(`
security:
  crm-oauth:
    type: oauth2
    token_url: ${TOKEN_URL}
    client_id: svc
    client_secret: ${SECRET}
    scopes: [crm.read]
rest:
  crm:
    base_url: ${CRM_URL}/api
    security: crm-oauth
    retry: {max_attempts: 1} # the 401 resend is the transport's, not a retry
store:
  memory: {size: 16}
`), env(vars), rest.AllowInsecureHTTP())
	require.NoError(t, err)
	reg, err := Open(context.Background(), cfg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	return as, reg
}

func drainBody(resp *http.Response, err error) error {
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK { // every peer must do the same work
		resp.Body.Close()
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// fakeClock is the tests' settable clock.
type fakeClock = fakeclock.Clock

func newFakeClock() *fakeClock { return fakeclock.New() }
