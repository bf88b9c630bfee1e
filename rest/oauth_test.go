package rest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// oauthSetup starts a fake authorization server and a backend that
// requires its tokens, and connection "crm" to the backend with a token
// source of definition "crm-oauth" on a memory store, built with opts.
func oauthSetup(t testing.TB, handler http.HandlerFunc, opts ...Option) (*oauthtest.Server, *Conn) {
	t.Helper()
	as, conn, _ := oauthSource(t, handler, opts...)
	return as, conn
}

// oauthSource is oauthSetup, with the token source.
func oauthSource(t testing.TB, handler http.HandlerFunc, opts ...Option) (*oauthtest.Server, *Conn, *oauthclient.Source) {
	t.Helper()
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "svc", Secret: "svc-secret", Scopes: []string{"crm.read"}})
	backend := newServer(t, as.RequireToken(handler).ServeHTTP)
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "crm-oauth", TokenURL: as.TokenURL(), ClientID: "svc",
		ClientSecret: oauthclient.NewSecret("svc-secret"), Scopes: []string{"crm.read"}},
		oauthclient.Options{Store: cache.NewMemory(16), AllowInsecureHTTP: true})
	require.NoError(t, err)
	t.Cleanup(src.Close)
	conn, err := NewConn("crm", ConnConfig{BaseURL: backend.URL + "/api",
		Retry: RetryPolicy{MaxAttempts: 1}}, // the 401 resend is the transport's, not a retry
		OAuth(src), append([]Option{AllowInsecureHTTP()}, opts...)...)
	require.NoError(t, err)
	return as, conn, src
}

type customer struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func TestOAuthConnection(t *testing.T) {
	var mu sync.Mutex
	backendCalls := 0
	as, conn := oauthSetup(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		backendCalls++
		mu.Unlock()
		assert.Equal(t, "/api/customers/42", r.URL.Path)
		_, _ = io.WriteString(w, `{"id":"42","name":"Ada"}`)
	})

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
	_, err := GetJSON[customer](context.Background(), conn, "customers/42")
	require.NoError(t, err)
	assert.Equal(t, 2, as.Requests("svc"))
	assert.Equal(t, 21, backendCalls, "the 401 came from RequireToken, then one success")
}

func TestOAuthTokenNotSentElsewhere(t *testing.T) {
	other := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		assert.Empty(t, r.Header.Get("Authorization"))
	})
	_, conn := oauthSetup(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL, http.StatusFound)
	})
	resp, err := conn.Get(context.Background(), "x")
	require.NoError(t, err)
	resp.Body.Close()
}

func TestOAuthFailureIsTypedAndRedacted(t *testing.T) {
	as, conn := oauthSetup(t, func(w http.ResponseWriter, r *http.Request) {})
	as.FailNext(1, oauthtest.OAuthError(http.StatusUnauthorized, "invalid_client", "bad secret"))
	_, err := conn.Get(context.Background(), "x")
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.ErrorIs(t, err, ErrTransport)
	assert.Contains(t, err.Error(), "invalid_client")
	assert.NotContains(t, err.Error(), "svc-secret")
}

// A definition with DPoP gets DPoP-bound tokens, proved on every call
// through the connection.
func TestDPoPThroughAConnection(t *testing.T) {
	as := oauthtest.NewServer(oauthtest.WithDPoPNonce())
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "svc", Secret: "svc-secret"})
	backend := newServer(t, as.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Regexp(t, `^DPoP `, r.Header.Get("Authorization"))
		_, _ = io.WriteString(w, `{"id":"1"}`)
	})).ServeHTTP)
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "d", TokenURL: as.TokenURL(), ClientID: "svc",
		ClientSecret: oauthclient.NewSecret("svc-secret"), DPoP: true}, oauthclient.Options{AllowInsecureHTTP: true})
	require.NoError(t, err)
	t.Cleanup(src.Close)
	crm, err := NewConn("crm", ConnConfig{BaseURL: backend.URL}, OAuth(src), AllowInsecureHTTP())
	require.NoError(t, err)
	for range 3 {
		_, err := GetJSON[customer](context.Background(), crm, "customers/1")
		require.NoError(t, err)
	}
	assert.Equal(t, 2, as.Requests(""), "one token, asked twice for the nonce")
}

// SendJSON sends a body as JSON with any method and decodes the answer.
func TestSendJSON(t *testing.T) {
	_, conn := oauthSetup(t, func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		var in customer
		assert.NoError(t, json.NewDecoder(r.Body).Decode(&in))
		in.ID = "43"
		_ = json.NewEncoder(w).Encode(in)
	})
	out, err := SendJSON[customer](context.Background(), conn, http.MethodPost, "customers", customer{Name: "Grace"})
	require.NoError(t, err)
	assert.Equal(t, customer{ID: "43", Name: "Grace"}, out)
}
