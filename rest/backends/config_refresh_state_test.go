package backends

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
	"github.com/tokenwire/tokenwire/rest"
)

// refresh_state_file in the file: a single instance on the memory store
// keeps its rotations across a restart (a registry closed and opened
// again), instead of sending the file's first refresh token again.
func TestRefreshStateFileSurvivesARestart(t *testing.T) {
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "app", Scopes: []string{"files.read"}})
	api := newServer(t, as.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })).ServeHTTP)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "refresh-token"), []byte(as.IssueRefreshToken("app", "admin", "files.read")), 0o600))
	const file = `
security:
  saas:
    type: oauth2
    grant: refresh_token
    token_url: ${TOKEN_URL}
    client_id: app
    refresh_token: {file: "${DIR}/refresh-token"}
    refresh_state_file: ${DIR}/refresh-state
rest:
  files: {base_url: "${API}", security: saas}
`
	vars := map[string]string{"TOKEN_URL": as.TokenURL(), "DIR": dir, "API": api.URL}
	for range 3 { // three runs of the service, each renewing twice
		cfg, err := Parse([]byte(file), env(vars), rest.AllowInsecureHTTP())
		require.NoError(t, err)
		reg, err := Open(context.Background(), cfg)
		require.NoError(t, err)
		src, err := reg.security.Source("saas")
		require.NoError(t, err)
		for range 2 {
			tok, err := src.TokenContext(context.Background())
			require.NoError(t, err)
			src.Invalidate(tok)
		}
		require.NoError(t, reg.Close())
	}
	st := as.RefreshStats()
	assert.Equal(t, 6, st.Used)
	assert.Zero(t, st.Reused, "a refresh token was sent twice")
	assert.Zero(t, st.Refused)
	info, err := os.Stat(filepath.Join(dir, "refresh-state"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

// Two definitions naming one refresh_state_file would overwrite each
// other's family in it: after a restart, the one whose record was
// replaced sends its configuration's first refresh token again, which its
// server took long ago. The file says so at once, naming both.
func TestRefreshStateFileIsOneDefinitions(t *testing.T) {
	const file = `
security:
  saas:
    type: oauth2
    grant: refresh_token
    token_url: https://as.example/token
    client_id: app
    refresh_token: {value: "rt-one"}
    refresh_state_file: /var/lib/svc/refresh-state
  other:
    type: oauth2
    grant: refresh_token
    token_url: https://as.example/token
    client_id: app2
    refresh_token: {value: "rt-two"}
    refresh_state_file: /var/lib/svc/../svc/refresh-state
`
	_, err := Parse([]byte(file))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `security "other": refresh_state_file: security definition "saas" names the same file`)
	assert.NotContains(t, err.Error(), "rt-one")
}
