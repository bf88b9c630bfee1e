package oauthclient

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/tokenwire/tokenwire/internal/registry"
)

// Registry holds security definitions by name, each with its cached source.
// Define them once at start-up; look them up by name from anywhere. It is
// safe for concurrent use: a lookup is one atomic load, and Define
// publishes a new set of definitions without disturbing calls in flight,
// which finish with the source they started with. Remove and Close stop
// the sources they drop: later token requests on them fail with
// [ErrClosed].
type Registry struct {
	opts Options
	srcs registry.Map[*Source]
}

// NewRegistry returns an empty registry whose sources share opts (the same
// store, clock and logger).
func NewRegistry(opts Options) *Registry {
	return &Registry{opts: opts}
}

// Define validates cfg and registers it under cfg.Name. A definition it
// replaces is released once the new one is in place: its timers stop and
// its token is dropped, while clients and calls that still hold it keep
// working (a call fetches a token anew if it needs one). Look the
// definition up again to use the new one.
func (r *Registry) Define(cfg Config) error {
	if cfg.Name == "" {
		return &ConfigError{Definition: "", Field: "name", Reason: "missing"}
	}
	src, err := NewSource(cfg, r.opts)
	if err != nil {
		return err
	}
	return r.Add(src)
}

// Add registers an existing source under its name, releasing the one it
// replaces as Define does. After [Registry.Close] it closes src and fails
// with ErrClosed.
func (r *Registry) Add(src *Source) error {
	old, replaced, closed := r.srcs.Put(src.name, src)
	if closed {
		src.Close()
		return fmt.Errorf("security definition %q: %w", src.name, ErrClosed)
	}
	if replaced && old != src {
		old.release()
	}
	return nil
}

// Remove closes and forgets the named definition, if there is one.
func (r *Registry) Remove(name string) {
	if old, ok := r.srcs.Delete(name); ok {
		old.Close()
	}
}

// Close closes every source and refuses later definitions. It always
// returns nil; it exists so that a Registry is an io.Closer.
func (r *Registry) Close() error {
	for _, s := range r.srcs.Close() {
		s.Close()
	}
	return nil
}

// Source returns the source of the named definition. An unknown name gives
// an error matching ErrUnknownDefinition that lists the known names.
func (r *Registry) Source(name string) (*Source, error) {
	if s, ok := r.srcs.Get(name); ok {
		return s, nil
	}
	known := r.Names()
	if len(known) == 0 {
		return nil, fmt.Errorf("%w %q: none is defined", ErrUnknownDefinition, name)
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownDefinition, name, strings.Join(known, ", "))
}

// Client returns an *http.Client attaching the named definition's tokens to
// the given origins.
func (r *Registry) Client(name string, origins ...string) (*http.Client, error) {
	s, err := r.Source(name)
	if err != nil {
		return nil, err
	}
	return NewClient(s, origins...)
}

// Names returns the defined names, sorted.
func (r *Registry) Names() []string { return r.srcs.Names() }
