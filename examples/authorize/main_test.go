package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/logbuf"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
	"github.com/tokenwire/tokenwire/rest"
	"github.com/tokenwire/tokenwire/rest/backends"
)

// setup is an authorization server with a confidential client registered
// for loopback redirects, a backend wanting its tokens, and a
// configuration whose definition reads its refresh token from a file.
func setup(t *testing.T) (as *oauthtest.Server, configPath, rtPath string) {
	t.Helper()
	as = oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "integration", Secret: "s3cret", Scopes: []string{"files.read", "offline_access"}, Subject: "admin@acme.example"})
	api := httptest.NewServer(as.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "files") })))
	t.Cleanup(api.Close)
	dir := t.TempDir()
	rtPath = filepath.Join(dir, "drive-refresh-token")
	configPath = filepath.Join(dir, "tokenwire.yaml")
	require.NoError(t, os.WriteFile(configPath, []byte(`
security:
  drive:
    type: oauth2
    grant: refresh_token
    token_url: `+as.TokenURL()+`
    client_id: integration
    client_secret: s3cret
    scopes: [files.read, offline_access]
    refresh_token: {file: "`+rtPath+`"}
rest:
  drive: {base_url: "`+api.URL+`", security: drive}
`), 0o600))
	return as, configPath, rtPath
}

// follow is the browser: it asks the authorization server, which approves
// at once and redirects to the program's loopback address.
func follow(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// End to end: authorise once, write the refresh token, and the service's
// definition renews with it.
func TestAuthorizeEndToEnd(t *testing.T) {
	as, configPath, rtPath := setup(t)
	var asked string
	var out logbuf.Buffer
	browse := func(ctx context.Context, u string) error {
		asked = u
		// Someone else's redirect first: a wrong state is refused, the
		// program keeps waiting for its own.
		p, _ := url.Parse(u)
		forged := p.Query().Get("redirect_uri") + "?code=stolen&state=forged"
		if resp, err := http.Get(forged); err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("a forged redirect got %d", resp.StatusCode)
			}
		}
		return follow(ctx, u)
	}
	require.NoError(t, run(t.Context(), []string{"-config", configPath, "-definition", "drive", "-authorize-url", as.AuthorizeURL()},
		&out, env{browse: browse, insecure: true}))
	t.Log("\n" + out.String())

	q := mustQuery(t, asked)
	assert.Equal(t, "S256", q.Get("code_challenge_method"))
	assert.NotEmpty(t, q.Get("code_challenge"))
	assert.NotEmpty(t, q.Get("state"))
	assert.True(t, strings.HasPrefix(q.Get("redirect_uri"), "http://127.0.0.1:"), "a loopback redirect")
	assert.Equal(t, "files.read offline_access", q.Get("scope"))
	assert.Contains(t, out.String(), "refused a redirect whose state is not this request's")

	fi, err := os.Stat(rtPath)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	rt, err := os.ReadFile(rtPath)
	require.NoError(t, err)
	assert.NotContains(t, out.String(), strings.TrimSpace(string(rt)), "the refresh token is never printed")
	req, _ := as.LastRequest()
	assert.Equal(t, "authorization_code", req.Form.Get("grant_type"))
	assert.NotContains(t, out.String(), req.Form.Get("code"))
	assert.NotContains(t, out.String(), req.Form.Get("code_verifier"))

	// The service: its definition renews with the refresh token written.
	cfg, err := backends.Load(configPath, rest.AllowInsecureHTTP())
	require.NoError(t, err)
	reg, err := backends.Open(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	c, err := reg.REST("drive")
	require.NoError(t, err)
	resp, err := c.Get(t.Context(), "files")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	st := as.RefreshStats()
	assert.Equal(t, 1, st.Used)
	assert.Zero(t, st.Reused)
}

func mustQuery(t *testing.T, u string) url.Values {
	t.Helper()
	p, err := url.Parse(u)
	require.NoError(t, err)
	return p.Query()
}

// The administrator refuses: the program says what the server answered
// and writes nothing.
func TestAuthorizeDenied(t *testing.T) {
	as, configPath, rtPath := setup(t)
	browse := func(ctx context.Context, u string) error {
		q := mustQuery(t, u)
		back := q.Get("redirect_uri") + "?" + url.Values{"error": {"access_denied"}, "error_description": {"the administrator said no"},
			"state": {q.Get("state")}}.Encode()
		return follow(ctx, back)
	}
	var out logbuf.Buffer
	err := run(t.Context(), []string{"-config", configPath, "-definition", "drive", "-authorize-url", as.AuthorizeURL()}, &out, env{browse: browse, insecure: true})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "access_denied: the administrator said no")
	_, err = os.Stat(rtPath)
	assert.True(t, os.IsNotExist(err))
}

// Definitions this program cannot authorise are refused with a reason.
func TestAuthorizeRefusesOtherDefinitions(t *testing.T) {
	as, configPath, _ := setup(t)
	for args, want := range map[string]string{
		"-definition nope":  `no security definition "nope"`,
		"-config /nonexist": "nonexist",
		"":                  "-definition is required",
	} {
		a := strings.Fields(args)
		if !strings.Contains(args, "-config") {
			a = append(a, "-config", configPath)
		}
		err := run(t.Context(), append(a, "-authorize-url", as.AuthorizeURL()), io.Discard, env{insecure: true})
		require.Error(t, err, args)
		assert.Contains(t, err.Error(), want)
	}
}
