package backends

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/rest"
)

// twoConns is a file without a store section: what a truncated file was
// applied over.
const twoConns = `
rest:
  crm: {base_url: 'https://crm.example.com'}
  erp: {base_url: 'https://erp.example.com'}
`

// openFile opens the file at path holding content, with opts.
func openFile(t *testing.T, content string, opts ...rest.Option) (*Registry, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tokenwire.yaml")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	cfg, err := Load(path, opts...)
	require.NoError(t, err)
	reg, err := Open(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	return reg, path
}

// A file caught empty (truncated by the writer that is about to fill it)
// never removes the live connections: a reload that declares nothing is
// refused, unless the file writes its sections out empty.
func TestReloadRefusesAFileThatDeclaresNothing(t *testing.T) {
	for _, content := range []string{"", "\n", "# being written\n", "rest:\n"} {
		reg, path := openFile(t, twoConns)
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		_, err := reg.ReloadFile(context.Background(), path)
		require.Error(t, err, "%q", content)
		assert.Contains(t, err.Error(), "declares no security definition and no connection")
		assert.Equal(t, []string{"crm", "erp"}, reg.Names(), "%q: the running connections stay", content)
	}
	reg, path := openFile(t, twoConns)
	require.NoError(t, os.WriteFile(path, []byte("rest: {}\n"), 0o600))
	rep, err := reg.ReloadFile(context.Background(), path)
	require.NoError(t, err, "written out empty: meant")
	assert.Equal(t, []string{"crm", "erp"}, rep.Connections.Removed)
	assert.Empty(t, reg.Names())
}

// ReloadFile applies a file only when two reads in a row agree: one
// caught while it is being written is refused.
func TestReloadFileRefusesAFileThatChangesWhileRead(t *testing.T) {
	var reads atomic.Int32
	grow := func(path string) ([]byte, error) { // each read finds more of the file written
		b, err := os.ReadFile(path)
		if reads.Add(1) > 1 && len(b) > 0 {
			b = b[:len(b)-int(reads.Load())%len(b)]
		}
		return b, err
	}
	reg, path := openFile(t, twoConns, rest.WithReadFile(grow))
	require.NoError(t, os.WriteFile(path, []byte(twoConns+"  billing: {base_url: 'https://billing.example.com'}\n"), 0o600))
	_, err := reg.ReloadFile(context.Background(), path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "changed while it was read")
	assert.Equal(t, []string{"crm", "erp"}, reg.Names())
}

// The watch applies a file only once it reads the same twice a debounce
// apart: a file cut short by a writer that stalls is never applied, even
// though it parses, and the complete file is.
func TestWatchWaitsForTheFileToSettle(t *testing.T) {
	reads := make(chan struct{}, 64) // one per read of the file, so the test knows the watch's read is done
	readNotify := func(path string) ([]byte, error) {
		b, err := os.ReadFile(path)
		select {
		case reads <- struct{}{}:
		default:
		}
		return b, err
	}
	reg, path := openFile(t, twoConns, rest.WithReadFile(readNotify))
	for len(reads) > 0 { // the reads of Load and Open
		<-reads
	}
	fire, reports := make(chan time.Time), make(chan reloaded, 4)
	w, err := reg.Watch(context.Background(), path, fireBy(fire),
		OnReload(func(rep ReloadReport, err error) { reports <- reloaded{rep, err} }))
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.Close() })
	fireOnce := func() {
		t.Helper()
		select {
		case fire <- time.Now():
		case <-time.After(10 * time.Second):
			t.Fatal("the watch saw no file event")
		}
		select { // the firing is taken; wait for the read it causes
		case <-reads:
		case <-time.After(10 * time.Second):
			t.Fatal("the watch did not read the file")
		}
	}

	cut := "rest:\n  crm: {base_url: 'https://crm.example.com'}\n" // erp not written yet
	require.NoError(t, os.WriteFile(path, []byte(cut), 0o600))
	fireOnce() // read: the cut file
	full := twoConns + "  billing: {base_url: 'https://billing.example.com'}\n"
	require.NoError(t, os.WriteFile(path, []byte(full), 0o600))
	fireOnce() // read: not what it read before, not settled
	select {
	case r := <-reports:
		t.Fatalf("applied a file that had not settled: %+v", r)
	default:
	}
	assert.Equal(t, []string{"crm", "erp"}, reg.Names(), "erp never removed")
	fireOnce() // read: the same as before, settled
	r := waitReport(t, reports)
	require.NoError(t, r.err)
	assert.Equal(t, []string{"billing"}, r.rep.Connections.Added)
	assert.Empty(t, r.rep.Connections.Removed)
}

func waitReport(t *testing.T, reports chan reloaded) reloaded {
	t.Helper()
	select {
	case r := <-reports:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no reload was reported")
	}
	return reloaded{}
}
