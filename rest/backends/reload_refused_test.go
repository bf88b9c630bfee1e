package backends

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/logbuf"
	"github.com/tokenwire/tokenwire/internal/rendertest"
	"github.com/tokenwire/tokenwire/rest"
)

// TestReloadRefusedKeepsRunning: a file that does not load, does not
// check or changes the store is refused with every problem listed, and
// the running configuration goes on as it was.
func TestReloadRefusedKeepsRunning(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string // each in the error
	}{
		{name: "not YAML", yaml: "security: [", want: []string{"not valid YAML"}},
		{name: "several problems", yaml: reloadBase + "fhir:\n  ehr: {base_ur: 'https://x', security: nope, timeout: soon}\n",
			want: []string{`fhir "ehr": base_ur: unknown field`, `fhir "ehr": timeout: want a duration`}},
		{name: "unknown definition and bad URL", yaml: reloadBase + "fhir:\n  ehr: {base_url: 'ftp://x', security: nope}\n",
			want: []string{`fhir "ehr": base_url: must be an absolute http(s) URL`, `fhir "ehr": security: unknown security definition "nope"`}},
		{name: "store changed", yaml: strings.Replace(reloadBase, "size: 16", "size: 32", 1),
			want: []string{"store: changed: the token store is opened once"}},
		{name: "store changed and a connection broken", yaml: strings.Replace(reloadBase, "size: 16", "size: 32", 1) +
			"fhir:\n  ehr: {base_url: 'ftp://x'}\n", want: []string{`fhir "ehr": base_url`}},
		{name: "same name in rest and fhir", yaml: reloadBase + "fhir:\n  crm: {base_url: '${URL}/crm'}\n",
			want: []string{`fhir "crm": a rest connection has the same name`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newReloadFixture(t, nil)
			f.get(t, "crm")
			crm, err := f.reg.REST("crm")
			require.NoError(t, err)
			path := filepath.Join(t.TempDir(), "tokenwire.yaml")
			require.NoError(t, os.WriteFile(path, []byte(tc.yaml), 0o600))

			rep, err := f.reg.ReloadFile(context.Background(), path)
			require.Error(t, err)
			assert.False(t, rep.Changed())
			var ce *ConfigError
			require.True(t, errors.As(err, &ce), "%v", err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Contains(t, err.Error(), "the running configuration is kept")

			again, err := f.reg.REST("crm")
			require.NoError(t, err)
			assert.Same(t, crm, again)
			assert.Equal(t, []string{"billing", "crm", "erp"}, f.reg.Names())
			f.get(t, "crm")
			assert.Equal(t, 1, f.as.Requests("a"))
			rep = f.reload(t, edit(t, "security: a-oauth}", "security: a-oauth, timeout: 5s}"))
			assert.Equal(t, []string{"crm"}, rep.Connections.Changed, "compared with the configuration still running")
		})
	}
}

// TestReloadBuildFailureChangesNothing: a CA file that checks when the
// file is loaded but cannot be read when the connection is built leaves
// the running configuration whole, the new definition unregistered.
func TestReloadBuildFailureChangesNothing(t *testing.T) {
	ca := caPEM(t)
	var mu sync.Mutex
	reads := 0
	read := func(path string) ([]byte, error) {
		if path != "/new-ca.pem" {
			return os.ReadFile(path)
		}
		mu.Lock()
		defer mu.Unlock()
		if reads++; reads > 2 { // read when loading and when the reload checks, gone afterwards
			return nil, errors.New("gone")
		}
		return ca, nil
	}
	f := newReloadFixture(t, nil, rest.WithReadFile(read))
	yaml := edit(t, "security:\n", "security:\n  new: {type: bearer, token: NEW-TOKEN}\n") +
		"fhir:\n  ehr: {base_url: '${URL}/fhir', security: new, tls: {ca_file: /new-ca.pem}}\n"
	_, err := f.reg.Reload(context.Background(), f.parse(t, yaml))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `connection "ehr"`)
	assert.Contains(t, err.Error(), "tls.ca_file")
	assert.Equal(t, []string{"billing", "crm", "erp"}, f.reg.Names())
	_, err = f.reg.securityOf("new")
	assert.Error(t, err)
	f.get(t, "crm")
}

// TestReloadShowsNoSecret: reports, logs and errors name entries and
// fields, never a secret, old or new.
func TestReloadShowsNoSecret(t *testing.T) {
	var logs logbuf.Buffer
	f := newReloadFixture(t, nil, rest.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	f.get(t, "crm")
	f.vars["A_SECRET"], f.vars["KEY"] = "A-SECRET-2", "KEY-SECRET-2"
	rep := f.reload(t, reloadBase)
	assert.Equal(t, []string{"a-oauth", "key"}, rep.Security.Changed)
	bad := strings.Replace(reloadBase, "client_id: a,", "client_id: a, client_secrt: A-SECRET-3,", 1)
	secrets := []string{"A-SECRET-1", "A-SECRET-2", "A-SECRET-3", "KEY-SECRET-1", "KEY-SECRET-2", "B-SECRET-1"}
	rendertest.NoSecret(t, "report", rep, secrets...)
	_, err := f.reg.ReloadFile(context.Background(), writeTemp(t, bad))
	require.Error(t, err)
	rendertest.NoSecret(t, "error", err.Error(), secrets...)
	require.Contains(t, logs.String(), `"msg":"config reload"`)
	require.Contains(t, logs.String(), `"msg":"config reload refused"`)
	require.Contains(t, logs.String(), `"changed":["a-oauth","key"]`)
	rendertest.NoSecret(t, "logs", logs.String(), secrets...)
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tokenwire.yaml")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}
