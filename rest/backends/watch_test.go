package backends

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fireBy makes the watch's debounce timer the channel fire: the test
// fires it after its change instead of waiting.
func fireBy(fire chan time.Time) WatchOption {
	return func(ws *watchSettings) { ws.after = func(time.Duration) <-chan time.Time { return fire } }
}

// reloaded is what OnReload was called with.
type reloaded struct {
	rep ReloadReport
	err error
}

// watchFixture is a registry opened from a file, watched.
type watchFixture struct {
	*reloadFixture
	path    string
	fire    chan time.Time
	reports chan reloaded
	w       *Watcher
}

// newWatchFixture opens reloadBase from a file at path (written by write,
// by default a plain write) and watches it.
func newWatchFixture(t *testing.T, path string, opts ...WatchOption) *watchFixture {
	t.Helper()
	f := newReloadFixture(t, nil)
	if path == "" {
		path = filepath.Join(t.TempDir(), "tokenwire.yaml")
		require.NoError(t, os.WriteFile(path, []byte(reloadBase), 0o600))
	}
	wf := &watchFixture{reloadFixture: f, path: path, fire: make(chan time.Time), reports: make(chan reloaded, 16)}
	opts = append([]WatchOption{fireBy(wf.fire), OnReload(func(rep ReloadReport, err error) { wf.reports <- reloaded{rep, err} })}, opts...)
	w, err := f.reg.Watch(context.Background(), path, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.Close() })
	wf.w = w
	return wf
}

// next fires the debounce timer once the watch has seen a file event, and
// again while it waits for the file to settle, and returns the reload
// that follows.
func (wf *watchFixture) next(t *testing.T) reloaded {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for fired := 0; ; {
		select {
		case wf.fire <- time.Now():
			fired++
		case r := <-wf.reports:
			require.GreaterOrEqual(t, fired, 2, "applied without reading the same twice a debounce apart")
			return r
		case <-timeout:
			t.Fatalf("no reload after %d firings of the debounce timer", fired)
		}
	}
}

func (wf *watchFixture) report(t *testing.T) reloaded {
	t.Helper()
	select {
	case r := <-wf.reports:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no reload was reported")
	}
	return reloaded{}
}

// changedCRM is reloadBase with crm changed.
func changedCRM(t *testing.T, header string) string {
	return edit(t, "security: a-oauth}", "security: a-oauth, headers: {X-Version: '"+header+"'}}")
}

func TestWatchWriteInPlace(t *testing.T) {
	wf := newWatchFixture(t, "")
	require.NoError(t, os.WriteFile(wf.path, []byte(changedCRM(t, "2")), 0o600))
	got := wf.next(t)
	require.NoError(t, got.err)
	assert.Equal(t, []string{"crm"}, got.rep.Connections.Changed)
	wf.get(t, "crm")
}

// TestWatchRenameReplace: an editor writes a temporary file and renames it
// over the configuration.
func TestWatchRenameReplace(t *testing.T) {
	wf := newWatchFixture(t, "")
	for i, header := range []string{"2", "3"} {
		tmp := filepath.Join(filepath.Dir(wf.path), ".tokenwire.yaml.swp")
		require.NoError(t, os.WriteFile(tmp, []byte(changedCRM(t, header)), 0o600))
		require.NoError(t, os.Rename(tmp, wf.path))
		got := wf.next(t)
		require.NoError(t, got.err, "rename %d", i)
		assert.Equal(t, []string{"crm"}, got.rep.Connections.Changed, "rename %d", i)
	}
}

// TestWatchConfigMapSwap: a Kubernetes ConfigMap volume holds the file as
// a symlink through ..data, a symlink to a timestamped directory that an
// update replaces by renaming a new symlink over ..data.
func TestWatchConfigMapSwap(t *testing.T) {
	dir := t.TempDir()
	version := func(name, content string) {
		require.NoError(t, os.Mkdir(filepath.Join(dir, name), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name, "tokenwire.yaml"), []byte(content), 0o600))
	}
	version("..2026_01_01_v1", reloadBase)
	require.NoError(t, os.Symlink("..2026_01_01_v1", filepath.Join(dir, "..data")))
	path := filepath.Join(dir, "tokenwire.yaml")
	require.NoError(t, os.Symlink("..data/tokenwire.yaml", path))
	wf := newWatchFixture(t, path)

	version("..2026_01_02_v2", changedCRM(t, "2"))
	require.NoError(t, os.Symlink("..2026_01_02_v2", filepath.Join(dir, "..data_tmp")))
	require.NoError(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
	require.NoError(t, os.RemoveAll(filepath.Join(dir, "..2026_01_01_v1")))
	got := wf.next(t)
	require.NoError(t, got.err)
	assert.Equal(t, []string{"crm"}, got.rep.Connections.Changed)
}

// TestWatchBadFileKeepsRunning: a broken file is reported and the running
// configuration stays; fixing it applies the fix.
func TestWatchBadFileKeepsRunning(t *testing.T) {
	wf := newWatchFixture(t, "")
	wf.get(t, "crm")
	require.NoError(t, os.WriteFile(wf.path, []byte(reloadBase+"fhir:\n  ehr: {base_ur: x}\n"), 0o600))
	got := wf.next(t)
	var ce *ConfigError
	require.ErrorAs(t, got.err, &ce)
	assert.Contains(t, got.err.Error(), `fhir "ehr": base_ur: unknown field`)
	wf.get(t, "crm")

	require.NoError(t, os.WriteFile(wf.path, []byte(changedCRM(t, "2")), 0o600))
	got = wf.next(t)
	require.NoError(t, got.err)
	assert.Equal(t, []string{"crm"}, got.rep.Connections.Changed)
	assert.Equal(t, 1, wf.as.Requests("a"), "no definition changed")
}

// TestWatchRealTimer goes through the real debounce timer.
func TestWatchRealTimer(t *testing.T) {
	wf := newWatchFixture(t, "", func(ws *watchSettings) { ws.after = time.After }, Debounce(time.Millisecond))
	// Written whole, then renamed over it: os.WriteFile truncates first,
	// and a busy machine can let a millisecond's debounce read the empty
	// file in between (a reload rightly refused).
	tmp := filepath.Join(filepath.Dir(wf.path), ".tokenwire.yaml.swp")
	require.NoError(t, os.WriteFile(tmp, []byte(changedCRM(t, "2")), 0o600))
	require.NoError(t, os.Rename(tmp, wf.path))
	for {
		got := wf.report(t) // several events may make several reloads: the first with the change counts
		require.NoError(t, got.err)
		if got.rep.Changed() {
			assert.Equal(t, []string{"crm"}, got.rep.Connections.Changed)
			return
		}
	}
}

// TestWatchEnds: the goroutine ends with the context, the registry or
// Close.
func TestWatchEnds(t *testing.T) {
	for _, how := range []string{"context", "registry", "close"} {
		t.Run(how, func(t *testing.T) {
			f := newReloadFixture(t, nil)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w, err := f.reg.Watch(ctx, writeTemp(t, reloadBase))
			require.NoError(t, err)
			switch how {
			case "context":
				cancel()
			case "registry":
				require.NoError(t, f.reg.Close())
			case "close":
				require.NoError(t, w.Close())
				require.NoError(t, w.Close(), "idempotent")
			}
			waitFor(t, w.Done(), "the watch goroutine did not end")
		})
	}
}

func TestWatchRefusals(t *testing.T) {
	f := newReloadFixture(t, nil)
	_, err := f.reg.Watch(context.Background(), filepath.Join(t.TempDir(), "missing", "tokenwire.yaml"))
	assert.ErrorContains(t, err, "backends: watch")
	_, err = f.reg.Watch(context.Background(), writeTemp(t, reloadBase), FileEvents(false))
	assert.ErrorContains(t, err, "nothing to watch")
	var zero Registry
	_, err = zero.Watch(context.Background(), writeTemp(t, reloadBase))
	assert.Error(t, err)
	require.NoError(t, f.reg.Close())
	_, err = f.reg.Watch(context.Background(), writeTemp(t, reloadBase))
	assert.ErrorIs(t, err, ErrClosed)
}

// TestWatchSurvivesPanics: a panicking OnReload is recovered; the watch
// goes on.
func TestWatchSurvivesPanics(t *testing.T) {
	calls := make(chan struct{}, 4)
	wf := newWatchFixture(t, "", OnReload(func(ReloadReport, error) {
		calls <- struct{}{}
		panic("boom")
	}))
	for i := range 2 {
		require.NoError(t, os.WriteFile(wf.path, []byte(changedCRM(t, string(rune('2'+i)))), 0o600))
		for range 2 { // the file read when the timer fired, and the same a debounce later
			select {
			case wf.fire <- time.Now():
			case <-time.After(10 * time.Second):
				t.Fatal("the watch saw no file event")
			}
		}
		waitFor(t, calls, "OnReload was not called")
	}
	select {
	case <-wf.w.Done():
		t.Fatal("the watch ended")
	default:
	}
}

// TestWatchDirectoryReplaced: rm -rf conf; mv conf.new conf reloads, and
// the new directory is watched from then on.
func TestWatchDirectoryReplaced(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "conf")
	require.NoError(t, os.Mkdir(dir, 0o700))
	path := filepath.Join(dir, "tokenwire.yaml")
	require.NoError(t, os.WriteFile(path, []byte(reloadBase), 0o600))
	wf := newWatchFixture(t, path)

	next := filepath.Join(root, "conf.new")
	require.NoError(t, os.Mkdir(next, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(next, "tokenwire.yaml"), []byte(changedCRM(t, "2")), 0o600))
	require.NoError(t, os.RemoveAll(dir))
	require.NoError(t, os.Rename(next, dir))
	r := wf.next(t)
	require.NoError(t, r.err)
	assert.Equal(t, []string{"crm"}, r.rep.Connections.Changed)

	require.NoError(t, os.WriteFile(path, []byte(changedCRM(t, "3")), 0o600))
	r = wf.next(t)
	require.NoError(t, r.err, "the replaced directory is watched")
	assert.Equal(t, []string{"crm"}, r.rep.Connections.Changed)
}
