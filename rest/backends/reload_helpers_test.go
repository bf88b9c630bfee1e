package backends

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
	"github.com/tokenwire/tokenwire/rest"
)

// reloadBase is the configuration the reload tests start from: two OAuth
// definitions (clients a and b of one authorization server), an API key,
// and a connection for each to one backend.
const reloadBase = `
security:
  a-oauth: {type: oauth2, token_url: '${TOKEN_URL}', client_id: a, client_secret: '${A_SECRET}', scopes: [crm.read]}
  b-oauth: {type: oauth2, token_url: '${TOKEN_URL}', client_id: b, client_secret: '${B_SECRET}'}
  key: {type: apikey, name: X-Key, value: '${KEY}'}
rest:
  crm: {base_url: '${URL}/crm', security: a-oauth}
  erp: {base_url: '${URL}/erp', security: b-oauth}
  billing: {base_url: '${URL}/billing', security: key, tls: {ca_file: '${CA}'}}
store:
  memory: {size: 16}
`

// reloadFixture is a registry opened from reloadBase, with its servers.
type reloadFixture struct {
	as   *oauthtest.Server
	vars map[string]string
	ca   string // the CA file billing names
	reg  *Registry
	opts []rest.Option
}

// newReloadFixture opens reloadBase; backend serves /billing (checking the
// API key) and /crm, /erp (checking the token), calling slow first if set.
func newReloadFixture(t *testing.T, slow http.HandlerFunc, opts ...rest.Option) *reloadFixture {
	t.Helper()
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "a", Secret: "A-SECRET-1", Scopes: []string{"crm.read"}})
	as.AddClient(oauthtest.Client{ID: "b", Secret: "B-SECRET-1", Scopes: []string{"erp.read"}})
	ok := func(w http.ResponseWriter, r *http.Request) {
		if slow != nil {
			slow(w, r)
		}
		_, _ = io.WriteString(w, "ok")
	}
	tokens := as.RequireToken(http.HandlerFunc(ok))
	backend := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/billing") {
			if r.Header.Get("X-Key") == "" {
				http.Error(w, "no key", http.StatusUnauthorized)
				return
			}
			ok(w, r)
			return
		}
		tokens.ServeHTTP(w, r)
	})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, caPEM(t), 0o600))
	f := &reloadFixture{as: as, ca: ca, vars: map[string]string{"TOKEN_URL": as.TokenURL(), "URL": backend.URL, "CA": ca,
		"A_SECRET": "A-SECRET-1", "B_SECRET": "B-SECRET-1", "KEY": "KEY-SECRET-1"}}
	f.opts = append([]rest.Option{env(f.vars), rest.AllowInsecureHTTP()}, opts...)
	reg, err := Open(context.Background(), f.parse(t, reloadBase))
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	f.reg = reg
	return f
}

func (f *reloadFixture) parse(t *testing.T, yaml string) *Config {
	t.Helper()
	cfg, err := Parse([]byte(yaml), f.opts...)
	require.NoError(t, err)
	return cfg
}

// reload applies yaml, which must succeed.
func (f *reloadFixture) reload(t *testing.T, yaml string) ReloadReport {
	t.Helper()
	rep, err := f.reg.Reload(context.Background(), f.parse(t, yaml))
	require.NoError(t, err)
	return rep
}

// get calls the connection called name, which must answer 200.
func (f *reloadFixture) get(t *testing.T, name string) {
	t.Helper()
	c, err := f.reg.REST(name)
	require.NoError(t, err)
	require.NoError(t, drainBody(c.Get(context.Background(), "x")))
}

// edit returns reloadBase with each old replaced by its new, which must be
// there.
func edit(t *testing.T, pairs ...string) string {
	t.Helper()
	s := reloadBase
	for i := 0; i+1 < len(pairs); i += 2 {
		require.Contains(t, s, pairs[i])
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}
