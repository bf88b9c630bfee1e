//go:build unix

package backends

import (
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWatchSignal reloads on SIGHUP alone (no file events).
func TestWatchSignal(t *testing.T) {
	wf := newWatchFixture(t, "", FileEvents(false), ReloadOnSignal(syscall.SIGHUP))
	require.NoError(t, os.WriteFile(wf.path, []byte(changedCRM(t, "2")), 0o600))
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP)) // caught: the watch is running
	got := wf.report(t)
	require.NoError(t, got.err)
	assert.Equal(t, []string{"crm"}, got.rep.Connections.Changed)
}
