package backends

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/files"
	"github.com/tokenwire/tokenwire/rest"
)

// loadProblems returns the problems of a failed load.
func loadProblems(t *testing.T, err error) []Problem {
	t.Helper()
	var ce *ConfigError
	require.ErrorAs(t, err, &ce, "%v", err)
	return ce.Problems
}

// Every file the configuration names is read through one bound and must be
// a regular file: a device, a FIFO or a huge sparse file is refused before
// anything is read.
func TestFilesAreBoundedAndRegular(t *testing.T) {
	dir := t.TempDir()
	sparse := filepath.Join(dir, "sparse")
	f, err := os.Create(sparse)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(2<<30)) // 2 GiB, no block written
	require.NoError(t, f.Close())
	big := filepath.Join(dir, "big")
	require.NoError(t, os.WriteFile(big, make([]byte, files.MaxSize+1), 0o600))
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, exec.Command("mkfifo", fifo).Run())

	for _, tt := range []struct{ name, path, want string }{
		{"device", "/dev/zero", "not a regular file"},
		{"fifo", fifo, "not a regular file"},
		{"sparse 2 GiB", sparse, "larger than 1 MiB"},
		{"one byte too many", big, "larger than 1 MiB"},
		{"missing", filepath.Join(dir, "nope"), "no such file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, field := range []struct{ yaml, where, field string }{
				{"security:\n  b: {type: bearer, token: 'file:" + tt.path + "'}\n", `security "b"`, "token"},
				{"rest:\n  c: {base_url: 'https://c.example', tls: {ca_file: '" + tt.path + "'}}\n", `rest "c"`, "tls.ca_file"},
				{"security:\n  m: {type: oauth2, token_url: 'https://l.example/t', client_id: c, auth_method: tls_client_auth, cert_file: '" +
					tt.path + "', key_file: '" + tt.path + "'}\n", `security "m"`, "cert_file"},
			} {
				_, err := Parse([]byte(field.yaml))
				ps := loadProblems(t, err)
				require.Len(t, ps, 1, "%v", err)
				assert.Equal(t, field.where, ps[0].Where)
				assert.Equal(t, field.field, ps[0].Field)
				assert.Contains(t, ps[0].Reason, tt.want)
			}
			_, err := Load(tt.path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want, "the configuration file itself")
		})
	}
}

// "file:" is recognised before ${VAR} expansion: an environment value that
// starts with file: is a value, never read as a path nor echoed.
func TestFileReferenceBeforeExpansion(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tok"), []byte("FROM-FILE\n"), 0o600))
	cfg, err := Parse([]byte(`
security:
  literal: {type: bearer, token: '${TOKEN}'}
  fromfile: {type: bearer, token: 'file:${DIR}/tok'}
`), env(map[string]string{"TOKEN": "file:/etc/passwd", "DIR": dir}))
	require.NoError(t, err)
	assert.Equal(t, "file:/etc/passwd", cfg.Security["literal"].Token.Reveal(), "an expanded value is never a path")
	assert.Equal(t, "FROM-FILE", cfg.Security["fromfile"].Token.Reveal(), "file: written in the file, its path expanded")

	_, err = Parse([]byte("security:\n  b: {type: bearer, token: '${T}'}\n"), env(map[string]string{"T": "file:/nonexistent/x"}))
	assert.NoError(t, err, "nothing is read for a value that came from the environment")
}

// The injected reader is used for every file: one that validated with it
// also builds with it (nothing is read again from disk).
func TestInjectedReaderUsedForEveryFile(t *testing.T) {
	files := map[string][]byte{"/virtual/ca.pem": caPEM(t), "/virtual/token": []byte("VIRTUAL-TOKEN")}
	var read []string
	reader := func(p string) ([]byte, error) {
		read = append(read, p)
		if b, ok := files[p]; ok {
			return b, nil
		}
		return nil, os.ErrNotExist
	}
	cfg, err := Parse([]byte(`
security:
  b: {type: bearer, token: 'file:/virtual/token'}
rest:
  c: {base_url: 'https://c.example', security: b, tls: {ca_file: /virtual/ca.pem}}
`), rest.WithReadFile(reader))
	require.NoError(t, err)
	reg, err := Open(context.Background(), cfg)
	require.NoError(t, err, "files that exist only for the injected reader")
	t.Cleanup(func() { _ = reg.Close() })
	assert.Contains(t, read, "/virtual/ca.pem")
	assert.Contains(t, read, "/virtual/token")
}

// A service that uses only the memory store links no go-redis: the
// packages it imports depend on none of it.
func TestMemoryOnlyServiceLinksNoRedis(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/tokenwire/tokenwire/rest/backends", "github.com/tokenwire/tokenwire/rest", "github.com/tokenwire/tokenwire/fhir",
		"github.com/tokenwire/tokenwire/oauthclient", "github.com/tokenwire/tokenwire/cache").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := string(out)
	require.Contains(t, deps, "github.com/tokenwire/tokenwire/oauthclient", "go list answered")
	// (go-redis's github.com/cespare/xxhash is not a sign: OpenTelemetry's
	// attribute package links it too.)
	for _, dep := range []string{"github.com/redis/go-redis", "go.uber.org/atomic", "tokenwire/cache/redis"} {
		assert.False(t, strings.Contains(deps, dep), "%s is linked", dep)
	}
}

// Anchors that each merge the one before twice (a "billion laughs" of
// merges) are checked in linear time, not exponential.
func TestMergeBombIsChecked(t *testing.T) {
	var b strings.Builder
	b.WriteString("x0: &a0 {base_url: 'https://a.example', timout: 1s}\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, "x%d: &a%d {<<: [*a%d, *a%d]}\n", i, i, i-1, i-1)
	}
	in := "rest:\n" + strings.ReplaceAll(strings.TrimSuffix(b.String(), "\n"), "\n", "\n  ")
	in = strings.Replace(in, "rest:\nx0", "rest:\n  x0", 1) + "\n"
	_, err := Parse([]byte(in)) // 2^40 walks without the memo: it would never return
	require.Error(t, err)
	assert.Contains(t, err.Error(), `rest "x40": timout: unknown field`)
}
