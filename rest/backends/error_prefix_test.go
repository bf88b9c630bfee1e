package backends

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
)

// assertNamedOnce fails when msg says the same prefix twice in a row
// ("config: config:", "redis: store x: … redis: store x").
func assertNamedOnce(t *testing.T, msg string) {
	t.Helper()
	parts := strings.Split(msg, ": ")
	for i := 1; i < len(parts); i++ {
		assert.NotEqual(t, parts[i-1], parts[i], "%q repeats %q", msg, parts[i])
	}
}

// TestErrorsNameEachPlaceOnce: the package's prefix, the file, the
// section and a store's name each appear once in a message.
func TestErrorsNameEachPlaceOnce(t *testing.T) {
	t.Run("a problem of the whole file", func(t *testing.T) {
		_, err := Parse([]byte("fihr:\n  x: {}\n"))
		require.Error(t, err)
		assert.Equal(t, "backends: config: fihr: unknown section (want security, rest, fhir or store) (line 1)", err.Error())
	})
	t.Run("a problem of the whole file, loaded", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "backends.yaml")
		require.NoError(t, os.WriteFile(path, []byte("rest: {}\n---\nrest: {}\n"), 0o600))
		_, err := Load(path)
		require.Error(t, err)
		assert.Equal(t, "backends: config "+path+": only one YAML document is allowed (another one starts with ---) (line 2)", err.Error())
	})
	t.Run("a list keeps the section", func(t *testing.T) {
		_, err := Parse([]byte("fihr: {}\nrest: {crm: {timeout: 1s}}\n"))
		require.Error(t, err)
		assert.Equal(t, "backends: config: 2 problems:\n\tconfig: fihr: unknown section (want security, rest, fhir or store) (line 1)\n"+
			"\trest \"crm\": base_url: missing (line 2)", err.Error())
	})
	t.Run("a refused reload", func(t *testing.T) {
		reg, path := openFile(t, twoConns)
		require.NoError(t, os.WriteFile(path, []byte("# being written\n"), 0o600))
		_, err := reg.ReloadFile(context.Background(), path)
		require.Error(t, err)
		assert.True(t, strings.HasPrefix(err.Error(), "backends: reload refused, the running configuration is kept: config: declares no security definition"), err.Error())
		assertNamedOnce(t, err.Error())
	})
	t.Run("a store that does not open", func(t *testing.T) {
		cfg, err := Parse([]byte("store: {failing: {}}\n"), WithStoreSection[failingSection]("failing"))
		require.NoError(t, err)
		_, err = Open(context.Background(), cfg)
		require.Error(t, err)
		assert.Equal(t, "backends: store failing: store main: refused", err.Error())
		assert.ErrorIs(t, err, errRefused)
	})
}

var errRefused = errors.New("refused")

// failingSection is a store section whose store does not open; its error
// names the store as a store package's errors do ("redis: store …").
type failingSection struct{}

func (*failingSection) Check(cache.Env) error { return nil }

func (*failingSection) Open(context.Context, cache.Env) (cache.Store, error) {
	return nil, fmt.Errorf("failing: store main: %w", errRefused)
}
