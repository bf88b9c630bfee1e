// Package registry is the one concurrency model of tokenwire's registries:
// values by name in a sync.Map. Lookups are lock-free and never wait;
// writers are serialised, and a value replaced stays usable by whoever
// took it before until its holder is done with it. A write costs the same
// whatever the number of names, so that building a registry of n entries
// is linear in n (a map copied at each write made it quadratic).
package registry

import (
	"slices"
	"sync"
	"sync/atomic"
)

// Map holds values by name. The zero Map is empty and ready to use.
type Map[V any] struct {
	m      sync.Map
	n      atomic.Int64 // names held
	closed atomic.Bool
	mu     sync.Mutex // serialises writers
}

// Get returns the value called name.
func (m *Map[V]) Get(name string) (V, bool) {
	var zero V
	if m.closed.Load() {
		return zero, false
	}
	v, ok := m.m.Load(name)
	if !ok {
		return zero, false
	}
	return v.(V), true
}

// Names returns the names, sorted.
func (m *Map[V]) Names() []string {
	if m.n.Load() == 0 || m.closed.Load() {
		return nil
	}
	names := make([]string, 0, m.n.Load())
	m.m.Range(func(k, _ any) bool {
		names = append(names, k.(string))
		return true
	})
	slices.Sort(names)
	return names
}

// Put sets name to v and returns the value it replaced, if any. After
// Close it does nothing and reports closed.
func (m *Map[V]) Put(name string, v V) (old V, replaced, closed bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed.Load() {
		return old, false, true
	}
	prev, had := m.m.Swap(name, v)
	if !had {
		m.n.Add(1)
		return old, false, false
	}
	return prev.(V), true, false
}

// Delete removes name and returns the value it had, if any.
func (m *Map[V]) Delete(name string) (old V, removed bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed.Load() {
		return old, false
	}
	prev, had := m.m.LoadAndDelete(name)
	if !had {
		return old, false
	}
	m.n.Add(-1)
	return prev.(V), true
}

// Close empties the map, refuses later writes and returns what it held.
// A second Close returns nothing.
func (m *Map[V]) Close() map[string]V {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed.Swap(true) {
		return nil
	}
	all := map[string]V{}
	m.m.Range(func(k, v any) bool {
		all[k.(string)] = v.(V)
		m.m.Delete(k)
		return true
	})
	m.n.Store(0)
	return all
}
