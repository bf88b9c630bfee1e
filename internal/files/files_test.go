package files

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok")
	require.NoError(t, os.WriteFile(ok, []byte("content"), 0o600))
	b, err := Read(ok)
	require.NoError(t, err)
	assert.Equal(t, "content", string(b))

	sparse := filepath.Join(dir, "sparse")
	f, err := os.Create(sparse)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(2<<30))
	require.NoError(t, f.Close())
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, exec.Command("mkfifo", fifo).Run())
	for path, want := range map[string]error{"/dev/zero": ErrNotRegular, fifo: ErrNotRegular, dir: ErrNotRegular, sparse: ErrTooLarge} {
		_, err := Read(path)
		assert.ErrorIs(t, err, want, path)
	}
	_, err = Read(filepath.Join(dir, "missing"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}
