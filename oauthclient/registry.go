package oauthclient

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// Registry holds security definitions by name, each with its cached source.
// Define them once at start-up (or again after a config reload); look them
// up by name from anywhere. It is safe for concurrent use.
type Registry struct {
	opts Options
	mu   sync.RWMutex
	srcs map[string]*Source
}

// NewRegistry returns an empty registry whose sources share opts (the same
// store, clock and logger).
func NewRegistry(opts Options) *Registry {
	return &Registry{opts: opts, srcs: map[string]*Source{}}
}

// Define validates cfg and registers it under cfg.Name, replacing any
// definition of that name. Sources already handed out keep working.
func (r *Registry) Define(cfg Config) error {
	if cfg.Name == "" {
		return &ConfigError{Definition: "", Field: "name", Reason: "missing"}
	}
	src, err := NewSource(cfg, r.opts)
	if err != nil {
		return err
	}
	r.Add(src)
	return nil
}

// Add registers an existing source under its name, replacing any other.
func (r *Registry) Add(src *Source) {
	r.mu.Lock()
	r.srcs[src.name] = src
	r.mu.Unlock()
}

// Source returns the source of the named definition. An unknown name gives
// an error matching ErrUnknownDefinition that lists the known names.
func (r *Registry) Source(name string) (*Source, error) {
	r.mu.RLock()
	s, ok := r.srcs[name]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("oauthclient: %w %q (known: %s)", ErrUnknownDefinition, name, strings.Join(r.Names(), ", "))
	}
	return s, nil
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
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.srcs))
	for n := range r.srcs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
