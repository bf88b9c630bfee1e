package oauthtest_test

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/testcert"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

const secret = "p+s%w:rd &=é"

func TestClientAuthentication(t *testing.T) {
	s := newServer(t)
	s.AddClient(oauthtest.Client{ID: "conf id:1", Secret: secret})
	s.AddClient(oauthtest.Client{ID: "public"})
	s.AddClient(oauthtest.Client{ID: "jwt", Key: rsaKey().Public()})

	tests := []struct {
		name       string
		form       url.Values
		header     http.Header
		wantStatus int
		wantError  string
		wantMethod string
	}{
		{"basic", ccForm(), basic("conf id:1", secret), 200, "", "client_secret_basic"},
		{"basic with matching client_id", ccForm("client_id", "conf id:1"), basic("conf id:1", secret), 200, "", "client_secret_basic"},
		{"basic wrong secret", ccForm(), basic("conf id:1", "nope"), 401, "invalid_client", ""},
		{"basic unknown client", ccForm(), basic("who", secret), 401, "invalid_client", ""},
		{"basic not url-encoded", ccForm(), rawBasic("conf id:1:" + secret), 401, "invalid_client", ""},
		{"basic malformed base64", ccForm(), http.Header{"Authorization": {"Basic !!!"}}, 401, "invalid_client", ""},
		{"basic public client", ccForm(), basic("public", ""), 401, "invalid_client", ""},
		{"basic and post", ccForm("client_secret", secret), basic("conf id:1", secret), 400, "invalid_request", ""},
		{"basic other client_id", ccForm("client_id", "public"), basic("conf id:1", secret), 400, "invalid_request", ""},
		{"post", ccForm("client_id", "conf id:1", "client_secret", secret), nil, 200, "", "client_secret_post"},
		{"post wrong secret", ccForm("client_id", "conf id:1", "client_secret", "nope"), nil, 401, "invalid_client", ""},
		{"post no secret", ccForm("client_id", "conf id:1"), nil, 401, "invalid_client", ""},
		{"public", ccForm("client_id", "public"), nil, 200, "", "none"},
		{"public with secret", ccForm("client_id", "public", "client_secret", "x"), nil, 401, "invalid_client", ""},
		{"jwt client without assertion", ccForm("client_id", "jwt"), nil, 401, "invalid_client", ""},
		{"unknown client", ccForm("client_id", "nobody"), nil, 401, "invalid_client", ""},
		{"no authentication", ccForm(), nil, 401, "invalid_client", ""},
		{"no grant_type", url.Values{"client_id": {"public"}}, nil, 400, "invalid_request", "none"},
		{"other grant", ccForm("client_id", "public", "grant_type", "password"), nil, 400, "unsupported_grant_type", "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, s.Client(), s.TokenURL(), tt.form, tt.header)
			assert.Equal(t, tt.wantStatus, r.Status, r.Body)
			assert.Equal(t, tt.wantError, r.str("error"))
			assert.NotContains(t, r.Body, secret)
			if tt.wantStatus == 200 {
				assert.Equal(t, "Bearer", r.str("token_type"))
				assert.True(t, s.Valid(r.str("access_token")))
				assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
			}
			if tt.header != nil && tt.wantStatus == 401 {
				assert.Contains(t, r.Header.Get("WWW-Authenticate"), "Basic")
			}
			last, ok := s.LastRequest()
			require.True(t, ok)
			assert.Equal(t, tt.wantMethod, last.AuthMethod)
		})
	}
}

func rawBasic(s string) http.Header {
	return http.Header{"Authorization": {"Basic " + b64(s)}}
}

func TestLastRequestRedactsSecrets(t *testing.T) {
	s := newServer(t)
	s.AddClient(oauthtest.Client{ID: "c", Secret: secret})
	post(t, s.Client(), s.TokenURL(), ccForm("client_id", "c", "client_secret", secret, "scope", "a"), nil)
	last, ok := s.LastRequest()
	require.True(t, ok)
	assert.Equal(t, "[redacted]", last.Form.Get("client_secret"))
	assert.Equal(t, "a", last.Form.Get("scope"))
	assert.Equal(t, "c", last.ClientID)
	assert.Equal(t, http.MethodPost, last.Method)

	post(t, s.Client(), s.TokenURL(), ccForm(), basic("c", secret))
	last, _ = s.LastRequest()
	assert.Equal(t, "Basic [redacted]", last.Header.Get("Authorization"))
	assert.NotContains(t, fmt.Sprintf("%+v", last), secret)
	assert.NotContains(t, fmt.Sprintf("%+v", s), secret)
	assert.NotContains(t, strings.Join(last.Header.Values("Authorization"), ""), b64("c:"))
}

func TestProtocolErrors(t *testing.T) {
	s := newServer(t)
	s.AddClient(oauthtest.Client{ID: "public"})

	resp, err := s.Client().Get(s.TokenURL())
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	resp, err = s.Client().Post(s.TokenURL(), "application/json", strings.NewReader(`{"client_id":"public"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, 2, s.Requests(""))
}

func TestScopes(t *testing.T) {
	s := newServer(t)
	s.AddClient(oauthtest.Client{ID: "limited", Secret: "s", Scopes: []string{"read", "write"}})
	s.AddClient(oauthtest.Client{ID: "any", Secret: "s"})

	tests := []struct {
		name, client, scope string
		wantStatus          int
		wantScope, wantErr  string
	}{
		{"subset", "limited", "read", 200, "read", ""},
		{"all", "limited", "write read", 200, "write read", ""},
		{"none requested gets all allowed", "limited", "", 200, "read write", ""},
		{"not allowed", "limited", "read admin", 400, "", "invalid_scope"},
		{"unrestricted", "any", "x y", 200, "x y", ""},
		{"unrestricted none", "any", "", 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := ccForm()
			if tt.scope != "" {
				form.Set("scope", tt.scope)
			}
			r := post(t, s.Client(), s.TokenURL(), form, basic(tt.client, "s"))
			assert.Equal(t, tt.wantStatus, r.Status, r.Body)
			assert.Equal(t, tt.wantScope, r.str("scope"))
			assert.Equal(t, tt.wantErr, r.str("error"))
			_, hasScope := r.JSON["scope"]
			assert.Equal(t, tt.wantScope != "", hasScope)
		})
	}
}

func TestTLSClientAuth(t *testing.T) {
	s := oauthtest.NewTLSServer()
	t.Cleanup(s.Close)
	cert := testcert.SelfSigned(t, "client-a")
	other := testcert.SelfSigned(t, "client-b")
	s.AddClient(oauthtest.Client{ID: "mtls", Certificate: cert.Leaf, Scopes: []string{"read"}})
	require.NotNil(t, s.CertPool())
	require.True(t, strings.HasPrefix(s.TokenURL(), "https://127.0.0.1:"))

	tests := []struct {
		name       string
		cert       *tls.Certificate
		wantStatus int
	}{
		{"registered certificate", &cert, 200},
		{"other certificate", &other, 401},
		{"no certificate", nil, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &tls.Config{RootCAs: s.CertPool()}
			if tt.cert != nil {
				cfg.Certificates = []tls.Certificate{*tt.cert}
			}
			c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
			t.Cleanup(c.CloseIdleConnections)
			r := post(t, c, s.TokenURL(), ccForm("client_id", "mtls"), nil)
			assert.Equal(t, tt.wantStatus, r.Status, r.Body)
			if tt.wantStatus == 200 {
				last, _ := s.LastRequest()
				assert.Equal(t, "tls_client_auth", last.AuthMethod)
			}
		})
	}

	// Server.Client trusts the server; a TLS client without a certificate
	// is rejected, a public client is fine.
	s.AddClient(oauthtest.Client{ID: "public"})
	r := post(t, s.Client(), s.TokenURL(), ccForm("client_id", "public"), nil)
	assert.Equal(t, 200, r.Status)
}

func TestPlainServerHasNoCertPool(t *testing.T) {
	s := newServer(t)
	assert.Nil(t, s.CertPool())
	assert.True(t, strings.HasPrefix(s.URL, "http://127.0.0.1:"))
	assert.Equal(t, s.URL+"/oauth2/token", s.TokenURL())
}
