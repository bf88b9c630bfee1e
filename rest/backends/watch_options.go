package backends

import (
	"os"
	"time"
)

// defaultDebounce is how long a [Registry.Watch] waits after the last
// change to the configuration file before it reloads: an editor's save or
// a Kubernetes ConfigMap update is several file events in a row.
const defaultDebounce = 250 * time.Millisecond

// WatchOption configures [Registry.Watch].
type WatchOption func(*watchSettings)

type watchSettings struct {
	onReload func(ReloadReport, error)
	signals  []os.Signal
	files    bool
	debounce time.Duration
	after    func(time.Duration) <-chan time.Time // the debounce timer; tests fire it themselves
}

func newWatchSettings(opts []WatchOption) *watchSettings {
	ws := &watchSettings{files: true, debounce: defaultDebounce, after: time.After}
	for _, o := range opts {
		o(ws)
	}
	return ws
}

// OnReload is called after each reload the watch makes, from the watch's
// goroutine, with what [Registry.ReloadFile] returned: the report, or the
// error listing every problem of a file that was refused (the running
// configuration is then kept). A panic in fn is recovered and logged.
func OnReload(fn func(ReloadReport, error)) WatchOption {
	return func(ws *watchSettings) { ws.onReload = fn }
}

// ReloadOnSignal also reloads when the process receives one of sigs, at
// once (no debounce): ReloadOnSignal(syscall.SIGHUP). The signals are
// caught only while the watch runs.
func ReloadOnSignal(sigs ...os.Signal) WatchOption {
	return func(ws *watchSettings) { ws.signals = append(ws.signals, sigs...) }
}

// FileEvents turns the watch of the file's directory off (false: reload on
// signals only) or on (true, the default).
func FileEvents(on bool) WatchOption { return func(ws *watchSettings) { ws.files = on } }

// Debounce sets how long to wait after the last file event before
// reloading (default 250 ms; 0 reloads at the first event).
func Debounce(d time.Duration) WatchOption {
	return func(ws *watchSettings) { ws.debounce = max(d, 0) }
}
