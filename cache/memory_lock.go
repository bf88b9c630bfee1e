package cache

import (
	"context"
	"errors"
	"time"
)

// holding is one holding of a lock of a [Memory] store.
type holding struct {
	until time.Time     // on the store's clock
	ended chan struct{} // closed when the holding ends
}

// TryLock implements [Locker] in the process: the lock named key is held
// until its holder releases it or ttl has passed on the store's clock
// (see [WithClock]); then the next caller takes it. Lock names and entry
// keys are apart: a lock never hides an entry.
func (m *Memory) TryLock(ctx context.Context, key string, ttl time.Duration) (unlock func(context.Context) error, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	if ttl <= 0 {
		return nil, false, errors.New("cache: lock ttl must be positive")
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if h := m.locks[key]; h != nil {
		if now.Before(h.until) {
			return nil, false, nil
		}
		close(h.ended) // expired: taken over
	}
	h := &holding{until: now.Add(ttl), ended: make(chan struct{})}
	m.locks[key] = h
	if len(m.locks) > m.size {
		m.sweep(now)
	}
	return func(context.Context) error { m.release(key, h); return nil }, true, nil
}

// Unlocked implements [LockWatcher]: the channel is closed when the
// holder of the lock named key releases it, or when another caller takes
// it after it expired; nil when nobody holds it.
func (m *Memory) Unlocked(key string) <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	if h := m.locks[key]; h != nil {
		return h.ended
	}
	return nil
}

// release ends h if it still holds the lock named key.
func (m *Memory) release(key string, h *holding) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.locks[key] == h {
		delete(m.locks, key)
		close(h.ended)
	}
}

// sweep forgets the expired holdings (under m.mu): the locks of failed
// fetches, kept until they expire, stay as few as the store's entries
// unless that many are held at once.
func (m *Memory) sweep(now time.Time) {
	for k, h := range m.locks {
		if !now.Before(h.until) {
			delete(m.locks, k)
			close(h.ended)
		}
	}
}
