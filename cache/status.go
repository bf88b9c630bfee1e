package cache

import (
	"fmt"
	"time"
)

// Status is a snapshot of a store for a status page or a health check. It
// never holds a key or a value, and encodes as JSON with the names shown.
type Status struct {
	Kind    string `json:"kind"`    // "memory", "redis", or "custom" for a store that does not report
	Shared  bool   `json:"shared"`  // shared by the replicas of a service
	Healthy bool   `json:"healthy"` // reachable; a store that does not report is assumed to be
	// Breaker is the state of a shared store's circuit breaker: "closed"
	// (in use), "open" (skipped until RetryAt: the local fallback serves)
	// or "half_open" (the next operation probes it); "" without one.
	Breaker   string    `json:"breaker,omitempty"`
	RetryAt   time.Time `json:"retry_at,omitzero"`
	Fallbacks int64     `json:"fallbacks,omitempty"` // operations the local fallback served for the shared store
	Failures  int64     `json:"failures,omitempty"`  // failed operations of the shared store
	// LastError is the last failure of the shared store (its client's
	// error text: an address, never a password, key or value).
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	Entries     int       `json:"entries,omitempty"` // held in memory (expired ones until read or evicted)
	Type        string    `json:"type,omitempty"`    // the Go type of a custom store
}

// The breaker states of a [Status].
const (
	BreakerClosed   = "closed"
	BreakerOpen     = "open"
	BreakerHalfOpen = "half_open"
)

// StatusReporter is implemented by stores that can describe their state:
// [Memory] and cache/redis's Store.
type StatusReporter interface {
	Status() Status
}

// StatusOf returns st's status, or, for a store that does not report one,
// a custom kind assumed healthy.
func StatusOf(st Store) Status {
	if r, ok := st.(StatusReporter); ok {
		return r.Status()
	}
	return Status{Kind: "custom", Healthy: true, Type: fmt.Sprintf("%T", st)}
}

// Status implements [StatusReporter].
func (m *Memory) Status() Status {
	return Status{Kind: "memory", Healthy: true, Entries: m.lru.Len()}
}
