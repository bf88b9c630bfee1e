package backends

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watcher reloads a registry's configuration file when it changes; see
// [Registry.Watch]. Its one goroutine ends when the watch's context is
// cancelled, the registry is closed, or Close is called.
type Watcher struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// Close ends the watch and waits for its goroutine (and a reload it is
// making) to finish; it must not be called from [OnReload], which that
// goroutine runs. It is idempotent and always returns nil.
func (w *Watcher) Close() error {
	w.cancel()
	<-w.done
	return nil
}

// Done is closed when the watch has ended.
func (w *Watcher) Done() <-chan struct{} { return w.done }

// Watch reloads the configuration file at path ([Registry.ReloadFile])
// whenever it changes, until ctx is cancelled, the registry is closed or
// the Watcher is closed. It watches the file's directory, not the file,
// so that it follows an editor's write-to-a-temporary-and-rename and a
// Kubernetes ConfigMap update (which swaps the ..data symlink the file
// points through): an event on the file's name or on a name starting
// with ".." counts, and a reload follows 250 ms (see [Debounce]) after the last
// one, once the file reads the same twice a debounce apart (a file caught
// half-written is never applied). [ReloadOnSignal] adds signals (SIGHUP)
// as triggers. The files the
// configuration names (file: secrets, certificates) are read again at
// each reload but not watched: after rotating one alone, send the signal
// or call ReloadFile. Nor is the target of a plain symlink in another
// directory: watch that path instead. A directory replaced whole (rm -rf
// conf; mv conf.new conf) triggers a reload and is watched again.
//
// Each reload is logged ("config reload", through rest.WithLogger) and handed
// to [OnReload]; a file that is refused leaves the running configuration
// in place. Changes made before Watch returns are not seen. The error is
// about setting the watch up (the directory cannot be watched).
func (r *Registry) Watch(ctx context.Context, path string, opts ...WatchOption) (*Watcher, error) {
	if r.done == nil {
		return nil, errors.New("backends: watch: the registry was not made by Open")
	}
	if r.closed.Load() {
		return nil, fmt.Errorf("backends: watch: registry %w", ErrClosed)
	}
	ws := newWatchSettings(opts)
	if !ws.files && len(ws.signals) == 0 {
		return nil, errors.New("backends: watch: nothing to watch (file events off and no signal)")
	}
	l := &watchLoop{r: r, path: path, base: filepath.Base(path), ws: ws}
	if ws.files {
		if err := l.watchDir(); err != nil {
			return nil, fmt.Errorf("backends: watch %s: %w", path, err)
		}
	}
	if len(ws.signals) > 0 {
		l.sig = make(chan os.Signal, 1)
		signal.Notify(l.sig, ws.signals...)
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &Watcher{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer l.stop()
		l.run(ctx)
	}()
	return w, nil
}

// watchLoop is the state of a watch's goroutine.
type watchLoop struct {
	r          *Registry
	path, base string
	dir        string // absolute: re-added at each reload, in case it was replaced
	ws         *watchSettings
	fw         *fsnotify.Watcher
	events     <-chan fsnotify.Event // nil without file events
	errs       <-chan error
	sig        chan os.Signal
	pending    *[]byte // what the file read when the debounce timer last fired
}

func (l *watchLoop) watchDir() error {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(filepath.Dir(l.path))
	if err == nil {
		err = fw.Add(dir)
	}
	if err != nil {
		_ = fw.Close()
		return err
	}
	l.fw, l.events, l.errs, l.dir = fw, fw.Events, fw.Errors, dir
	return nil
}

func (l *watchLoop) stop() {
	if l.sig != nil {
		signal.Stop(l.sig)
	}
	if l.fw != nil {
		_ = l.fw.Close()
	}
}

// run waits for triggers. A file event (re)arms the debounce timer; its
// firing or a signal reloads.
func (l *watchLoop) run(ctx context.Context) {
	var fire <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.r.done:
			return
		case ev, ok := <-l.events:
			if !ok {
				l.events = nil
			} else if l.relevant(ev) {
				fire = l.ws.after(l.ws.debounce)
			}
		case err, ok := <-l.errs:
			if !ok {
				l.errs = nil
				continue
			}
			l.log(slog.LevelWarn, "config watch: file events", slog.String("error", err.Error()))
			if errors.Is(err, fsnotify.ErrEventOverflow) { // events were lost: one may have been ours
				fire = l.ws.after(l.ws.debounce)
			}
		case <-l.sig:
			fire = nil
			l.reload(ctx)
		case <-fire:
			fire = nil
			if l.settled() {
				l.reload(ctx)
			} else {
				fire = l.ws.after(l.ws.debounce) // not settled yet: look again after one more debounce
			}
		}
	}
}

// settled reports whether the file reads the same as when the debounce
// timer last fired: a file is applied only once it has been still for a
// debounce, so that one caught half-written (a writer that stalls, a copy
// in progress) never removes a live connection. A file that cannot be
// read counts as settled: its reload reports why.
func (l *watchLoop) settled() bool {
	data, err := l.r.set.Read(l.path)
	if err != nil {
		l.pending = nil
		return true
	}
	if l.pending != nil && bytes.Equal(*l.pending, data) {
		l.pending = nil
		return true
	}
	l.pending = &data
	return false
}

// relevant reports whether ev may have changed the file: an event on its
// name, or on a name starting with ".." (a Kubernetes volume's ..data
// symlink, swapped on update). Changes of mode alone do not count.
func (l *watchLoop) relevant(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod {
		return false
	}
	if filepath.Clean(ev.Name) == l.dir { // the directory itself was replaced
		return true
	}
	name := filepath.Base(ev.Name)
	return name == l.base || strings.HasPrefix(name, "..")
}

// reload reloads the file and reports; no panic escapes it.
func (l *watchLoop) reload(ctx context.Context) {
	if l.fw != nil && l.dir != "" {
		// A directory replaced (rm -rf conf; mv conf.new conf) took its
		// watch with it: watch the one at that path now.
		if err := l.fw.Add(l.dir); err != nil {
			l.log(slog.LevelWarn, "config watch: watching the directory again", slog.String("error", err.Error()))
		}
	}
	rep, err := l.safeReload(ctx)
	if l.ws.onReload == nil {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			l.log(slog.LevelError, "config watch: OnReload panicked", slog.String("panic", fmt.Sprint(v)))
		}
	}()
	l.ws.onReload(rep, err)
}

func (l *watchLoop) safeReload(ctx context.Context) (rep ReloadReport, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("backends: reload of %s panicked: %v", l.path, v)
			l.log(slog.LevelError, "config watch: reload panicked", slog.String("panic", fmt.Sprint(v)))
		}
	}()
	return l.r.ReloadFile(ctx, l.path)
}

func (l *watchLoop) log(level slog.Level, msg string, attrs ...slog.Attr) {
	if lg := l.r.set.Logger; lg != nil {
		lg.LogAttrs(context.Background(), level, msg, append(attrs, slog.String("file", l.path))...)
	}
}
