package rest

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tokenwire/tokenwire/oauthclient"
)

// ErrUnknownConnection is matched (errors.Is) by the error of
// [Registry.Conn] for a name that is not defined.
var ErrUnknownConnection = errors.New("rest: unknown connection")

// Registry holds connections by name. It is safe for concurrent use.
// Lookups are an atomic load of an immutable map; Put and Remove publish a
// new map, so calls in flight finish on the *Conn they started with while
// new calls get the new one. The connection replaced or removed has its
// idle keep-alive connections closed (see [Conn.CloseIdleConnections]).
type Registry struct {
	conns    atomic.Pointer[map[string]*Conn]
	mu       sync.Mutex // serialises writers
	security *oauthclient.Registry
	secs     map[string]Security // immutable after NewRegistry
	smart    map[string]bool     // SMART definitions left to package fhir; immutable
	opts     Options
	closer   io.Closer // the store, when the registry built it
}

// Conn returns the connection called name. For an unknown name the error
// lists the known ones.
func (r *Registry) Conn(name string) (*Conn, error) {
	if m := r.conns.Load(); m != nil {
		if c, ok := (*m)[name]; ok {
			return c, nil
		}
	}
	known := r.Names()
	if len(known) == 0 {
		return nil, fmt.Errorf("%w %q: no connections are defined", ErrUnknownConnection, name)
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownConnection, name, strings.Join(known, ", "))
}

// Names returns the connection names, sorted.
func (r *Registry) Names() []string {
	m := r.conns.Load()
	if m == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(*m))
}

// Put adds c, replacing any connection of the same name.
func (r *Registry) Put(c *Conn) {
	if old := r.update(c.Name(), c); old != nil && old != c {
		old.CloseIdleConnections()
	}
}

// Remove deletes the connection called name, if any.
func (r *Registry) Remove(name string) {
	if old := r.update(name, nil); old != nil {
		old.CloseIdleConnections()
	}
}

// Security returns the registry's OAuth security definitions, so that other
// packages (fhir) can reuse them. It is nil for a registry built without
// [NewRegistry].
func (r *Registry) Security() *oauthclient.Registry { return r.security }

// update publishes a copy of the map with name set to c (deleted when c is
// nil) and returns the connection it had.
func (r *Registry) update(name string, c *Conn) (old *Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	next := map[string]*Conn{}
	if m := r.conns.Load(); m != nil {
		maps.Copy(next, *m)
	}
	old = next[name]
	if c == nil {
		delete(next, name)
	} else {
		next[name] = c
	}
	r.conns.Store(&next)
	return old
}

// replaceAll publishes exactly conns.
func (r *Registry) replaceAll(conns map[string]*Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.conns.Store(&conns)
}

// Close releases what the registry opened (the Redis store of the
// configuration's store section). Connections stay usable for calls that
// do not need the store.
func (r *Registry) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}
