package rest

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// oauthSetup starts a fake authorization server and a backend that
// requires its tokens, and a registry with connection "crm" to the backend,
// opened with opts.
func oauthSetup(t testing.TB, handler http.HandlerFunc, opts ...Option) (*oauthtest.Server, *Registry) {
	t.Helper()
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "svc", Secret: "svc-secret", Scopes: []string{"crm.read"}})
	backend := newServer(t, as.RequireToken(handler).ServeHTTP)
	vars := map[string]string{"TOKEN_URL": as.TokenURL(), "CRM_URL": backend.URL, "SECRET": "svc-secret"}
	cfg, err := ParseConfig([]byte(`
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
`), env(vars), AllowInsecureHTTP())
	require.NoError(t, err)
	reg, err := Open(context.Background(), cfg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	return as, reg
}

type customer struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func TestOAuthConnection(t *testing.T) {
	var mu sync.Mutex
	backendCalls := 0
	as, reg := oauthSetup(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		backendCalls++
		mu.Unlock()
		assert.Equal(t, "/api/customers/42", r.URL.Path)
		_, _ = io.WriteString(w, `{"id":"42","name":"Ada"}`)
	})
	conn, err := reg.Conn("crm")
	require.NoError(t, err)

	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			c, err := GetJSON[customer](context.Background(), conn, "customers/42")
			assert.NoError(t, err)
			assert.Equal(t, "Ada", c.Name)
		})
	}
	wg.Wait()
	assert.Equal(t, 1, as.Requests("svc"), "one token for all calls")
	assert.Equal(t, 20, backendCalls)

	// A revoked token: the backend answers 401, the transport fetches a new
	// token and resends once; the call succeeds and is not a retry.
	as.RevokeAll()
	_, err = GetJSON[customer](context.Background(), conn, "customers/42")
	require.NoError(t, err)
	assert.Equal(t, 2, as.Requests("svc"))
	assert.Equal(t, 21, backendCalls, "the 401 came from RequireToken, then one success")
}

func TestOAuthTokenNotSentElsewhere(t *testing.T) {
	other := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		assert.Empty(t, r.Header.Get("Authorization"))
	})
	_, reg := oauthSetup(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL, http.StatusFound)
	})
	conn, err := reg.Conn("crm")
	require.NoError(t, err)
	resp, err := conn.Get(context.Background(), "x")
	require.NoError(t, err)
	resp.Body.Close()
}

func TestOAuthFailureIsTypedAndRedacted(t *testing.T) {
	as, reg := oauthSetup(t, func(w http.ResponseWriter, r *http.Request) {})
	as.FailNext(1, oauthtest.OAuthError(http.StatusUnauthorized, "invalid_client", "bad secret"))
	conn, err := reg.Conn("crm")
	require.NoError(t, err)
	_, err = conn.Get(context.Background(), "x")
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.ErrorIs(t, err, ErrTransport)
	assert.Contains(t, err.Error(), "invalid_client")
	assert.NotContains(t, err.Error(), "svc-secret")
}

// A definition with dpop: true gets DPoP-bound tokens, proved on every call
// through the connection; a bad dpop_alg is a load problem naming it.
func TestDPoPFromTheConfigurationFile(t *testing.T) {
	as := oauthtest.NewServer(oauthtest.WithDPoPNonce())
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "svc", Secret: "svc-secret"})
	backend := newServer(t, as.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Regexp(t, `^DPoP `, r.Header.Get("Authorization"))
		_, _ = io.WriteString(w, `{"id":"1"}`)
	})).ServeHTTP)
	vars := map[string]string{"TOKEN_URL": as.TokenURL(), "CRM_URL": backend.URL}
	cfg, err := ParseConfig([]byte(`
security:
  d: {type: oauth2, token_url: '${TOKEN_URL}', client_id: svc, client_secret: svc-secret, dpop: true}
rest:
  crm: {base_url: '${CRM_URL}', security: d}
`), env(vars), AllowInsecureHTTP())
	require.NoError(t, err)
	reg, err := Open(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	crm, err := reg.Conn("crm")
	require.NoError(t, err)
	for range 3 {
		_, err := GetJSON[customer](context.Background(), crm, "customers/1")
		require.NoError(t, err)
	}
	assert.Equal(t, 2, as.Requests(""), "one token, asked twice for the nonce")

	_, err = ParseConfig([]byte("security:\n  d: {type: oauth2, token_url: 'https://l.example/t', client_id: c, client_secret: x, dpop_alg: HS256}\n"))
	ps := loadProblems(t, err)
	assert.Equal(t, "dpop_alg", ps[0].Field)
}
