package backends

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/tokenwire/tokenwire/internal/tlsconf"
)

// Reload applies cfg — from [Load] or [Parse], or built in
// code — to the running registry, and reports what changed. cfg is checked
// as [Open] checks it, and built with the registry's options (those of its
// loading and of Open; the options cfg remembers are not applied: a
// reload changes the file, not the program).
//
// What did not change is left alone: an unchanged security definition
// keeps its token source and its token (no token is fetched again), an
// unchanged connection stays the same *rest.Conn and *fhir.Conn. Entries are compared by
// their effective configuration: every field, secrets by value (never
// printed), and the contents of the certificate, key and CA files they
// name, so a certificate renewed under the same path counts as a change.
// A changed definition gets a new source and the connections using it are
// rebuilt over it; added ones are built; removed connections are no
// longer found (a lookup gets [ErrUnknownConnection]).
//
// Nothing is fetched or dialled while reloading. Everything new is built
// before anything is changed, and then published at once per entry:
// calls in flight finish on the *Conn they started with. A *Conn looked
// up before the reload keeps the configuration it was built with. The
// token source of a definition the reload changed is released at once
// (its token dropped, its timers stopped) but stays usable for two
// minutes, so that the retries and 401 resends of calls in flight still
// get a token, and is closed after it (or when the registry
// closes): a later call through such a held connection fails with an
// error matching [ErrClosed]. The source of a definition the file no
// longer has is closed at once. Look connections up again after a
// reload, or per call.
//
// A configuration that does not check, whose store section differs from
// the running one (the store is opened once: changing it takes a
// restart), or that declares nothing at all while definitions or
// connections run (a file caught empty: write the sections out empty,
// "rest: {}", to remove everything) is refused: the running
// configuration is kept and the error wraps a *[ConfigError] listing every
// problem. Reloads are serialised; lookups and calls never wait for them. Each
// reload is logged ("config reload") through rest.WithLogger, names only.
func (r *Registry) Reload(ctx context.Context, cfg *Config) (ReloadReport, error) {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	rep, err := r.reload(ctx, func() (*Config, error) { return cfg, nil })
	r.logReload("", rep, err)
	return rep, err
}

// ReloadFile loads the configuration file at path with the registry's
// options and applies it as [Registry.Reload] does. It reads the file
// twice and applies it only when both reads agree, so that a file caught
// while it is written is never applied. A file that does not load is
// refused like one that does not check: every problem is listed and the
// running configuration is kept.
func (r *Registry) ReloadFile(ctx context.Context, path string) (ReloadReport, error) {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	rep, err := r.reload(ctx, func() (*Config, error) { return r.loadSettled(path) })
	r.logReload(path, rep, err)
	return rep, err
}

// loadSettled loads the file at path only when two reads in a row agree:
// a file caught while it is being written is refused, not applied.
func (r *Registry) loadSettled(path string) (*Config, error) {
	first, err := r.set.Read(path)
	if err == nil {
		var again []byte
		if again, err = r.set.Read(path); err == nil && !bytes.Equal(first, again) {
			return nil, fmt.Errorf("backends: config %s: changed while it was read (still being written?)", path)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("backends: config %s: %w", path, tlsconf.PathCause(err))
	}
	return parseFile(path, first, r.opts)
}

// reload checks, compares and applies the configuration load returns;
// r.reloadMu is held.
func (r *Registry) reload(ctx context.Context, load func() (*Config, error)) (ReloadReport, error) {
	switch {
	case r.running == nil:
		return ReloadReport{}, errors.New("backends: reload: the registry was not made by Open")
	case r.closed.Load():
		return ReloadReport{}, refused(fmt.Errorf("registry %w", ErrClosed))
	}
	if err := ctx.Err(); err != nil {
		return ReloadReport{}, refused(err)
	}
	cfg, err := load()
	if err != nil {
		return ReloadReport{}, refused(err)
	}
	if cfg == nil {
		cfg = &Config{}
	}
	if cfg.Security == nil && cfg.REST == nil && cfg.FHIR == nil && len(r.running.secs)+len(r.running.conns) > 0 {
		return ReloadReport{}, refused(&ConfigError{Problems: []Problem{{Where: "config", Reason: "declares no security " +
			"definition and no connection (a file caught empty or cut short?); to remove them all, write the sections out empty: " +
			"security: {}, rest: {}, fhir: {}"}}})
	}
	p, err := r.check(cfg)
	if err != nil {
		return ReloadReport{}, refused(err)
	}
	if err := r.apply(p); err != nil {
		return ReloadReport{}, refused(err)
	}
	return p.report, nil
}

// check validates cfg as Open does, refuses a change of store, and plans
// the reload.
func (r *Registry) check(cfg *Config) (*plan, error) {
	cr := newReader(r.set)
	cr.check(cfg)
	if len(cr.problems) > 0 {
		return nil, cr.err("")
	}
	p := r.plan(cfg, r.running)
	if r.set.Store == nil && p.next.store != r.running.store {
		cr.add("store", "", 0, "changed: the token store is opened once, by Open; restart the service to change it")
	}
	return p, cr.err("")
}

// reloadError is a refused reload: the running configuration is kept.
type reloadError struct{ err error }

func refused(err error) error { return &reloadError{err: err} }

func (e *reloadError) Error() string {
	return "backends: reload refused, the running configuration is kept: " + strings.TrimPrefix(strings.TrimPrefix(e.err.Error(), "backends: "), "rest: ")
}

func (e *reloadError) Unwrap() error { return e.err }

// logReload logs a reload: what changed, by name, or why it was refused.
func (r *Registry) logReload(path string, rep ReloadReport, err error) {
	if r.set == nil || r.set.Logger == nil {
		return
	}
	l := r.set.Logger
	var attrs []slog.Attr
	if path != "" {
		attrs = append(attrs, slog.String("file", path))
	}
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			attrs = append(attrs, slog.Int("problems", len(ce.Problems)))
		}
		attrs = append(attrs, slog.String("error", err.Error()))
		l.LogAttrs(context.Background(), slog.LevelError, "config reload refused", attrs...)
		return
	}
	attrs = append(attrs, slog.Bool("changed", rep.Changed()), slog.Group("report", rep.Security.attr("security"), rep.Connections.attr("connections")))
	l.LogAttrs(context.Background(), slog.LevelInfo, "config reload", attrs...)
}

// ReloadReport says what a reload changed, by name.
type ReloadReport struct {
	Security    Changes // security definitions
	Connections Changes // REST and FHIR connections (one name space)
}

// Changes lists names, each list sorted.
type Changes struct {
	Added     []string
	Changed   []string // rebuilt: a changed definition gets a new token source
	Removed   []string
	Unchanged []string // kept as they run: same token source, same *Conn
}

// Changed reports whether anything was added, changed or removed.
func (r ReloadReport) Changed() bool { return r.Security.changed() || r.Connections.changed() }

func (c Changes) changed() bool { return len(c.Added)+len(c.Changed)+len(c.Removed) > 0 }

// build lists what must be built: the added and the changed, sorted.
func (c Changes) build() []string {
	return slices.Sorted(slices.Values(slices.Concat(c.Added, c.Changed)))
}

// attr is the log attribute what: the added, changed and removed names,
// and the count of the unchanged ones.
func (c Changes) attr(what string) slog.Attr {
	var attrs []any
	for _, k := range []struct {
		what  string
		names []string
	}{{"added", c.Added}, {"changed", c.Changed}, {"removed", c.Removed}} {
		if len(k.names) > 0 {
			attrs = append(attrs, slog.Any(k.what, k.names))
		}
	}
	return slog.Group(what, append(attrs, slog.Int("unchanged", len(c.Unchanged)))...)
}
