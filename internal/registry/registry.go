// Package registry is the one concurrency model of tokenwire's registries:
// a map by name published as an immutable copy behind an atomic pointer.
// Lookups are one atomic load and never wait; writers are serialised and
// publish a new copy, so a value taken before a replacement stays usable
// until its holder is done with it.
package registry

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// Map holds values by name. The zero Map is empty and ready to use.
type Map[V any] struct {
	cur    atomic.Pointer[map[string]V]
	mu     sync.Mutex // serialises writers
	closed bool
}

// Get returns the value called name.
func (m *Map[V]) Get(name string) (V, bool) {
	var zero V
	p := m.cur.Load()
	if p == nil {
		return zero, false
	}
	v, ok := (*p)[name]
	return v, ok
}

// Names returns the names, sorted.
func (m *Map[V]) Names() []string {
	p := m.cur.Load()
	if p == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(*p))
}

// Put sets name to v and returns the value it replaced, if any. After
// Close it does nothing and reports closed.
func (m *Map[V]) Put(name string, v V) (old V, replaced, closed bool) {
	return m.update(func(next map[string]V) { next[name] = v }, name)
}

// Delete removes name and returns the value it had, if any.
func (m *Map[V]) Delete(name string) (old V, removed bool) {
	old, removed, _ = m.update(func(next map[string]V) { delete(next, name) }, name)
	return old, removed
}

func (m *Map[V]) update(change func(map[string]V), name string) (old V, had, closed bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return old, false, true
	}
	next := map[string]V{}
	if p := m.cur.Load(); p != nil {
		maps.Copy(next, *p)
	}
	old, had = next[name]
	change(next)
	m.cur.Store(&next)
	return old, had, false
}

// Close empties the map, refuses later writes and returns what it held.
// A second Close returns nothing.
func (m *Map[V]) Close() map[string]V {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	var all map[string]V
	if p := m.cur.Swap(&map[string]V{}); p != nil {
		all = *p
	}
	return all
}
