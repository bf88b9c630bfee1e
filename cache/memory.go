package cache

import (
	"context"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// defaultSize is the number of entries a [Memory] store keeps when
// [NewMemory] is given a size of zero or less.
const defaultSize = 1024

// Memory is an in-process [Store]: a bounded LRU (hashicorp/golang-lru/v2)
// whose entries expire at their own Expiry. It is a [Locker] too, and a
// [LockWatcher], so that the token sources of a process sharing it make
// one fetch where each would make its own. It is safe for concurrent use.
type Memory struct {
	lru  *lru.Cache[string, Entry]
	now  func() time.Time
	size int

	mu    sync.Mutex
	locks map[string]*holding // by lock name
}

// MemoryOption configures a [Memory] store.
type MemoryOption func(*Memory)

// WithClock makes the store read the time from now instead of time.Now, so
// that tests can move time forward without sleeping.
func WithClock(now func() time.Time) MemoryOption {
	return func(m *Memory) { m.now = now }
}

// NewMemory returns a store holding at most size entries; the least
// recently used entry is evicted when it is full.
func NewMemory(size int, opts ...MemoryOption) *Memory {
	if size <= 0 {
		size = defaultSize
	}
	c, err := lru.New[string, Entry](size)
	if err != nil { // only for size <= 0, excluded above
		panic(err)
	}
	m := &Memory{lru: c, now: time.Now, size: size, locks: map[string]*holding{}}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Get implements [Store]. An expired entry is removed and reported as
// ErrNotFound.
func (m *Memory) Get(ctx context.Context, key string) (Entry, error) {
	if err := ctx.Err(); err != nil {
		return Entry{}, err
	}
	e, ok := m.lru.Get(key)
	if !ok {
		return Entry{}, ErrNotFound
	}
	if !m.now().Before(e.Expiry) {
		m.lru.Remove(key)
		return Entry{}, ErrNotFound
	}
	return cloneEntry(e), nil
}

// Set implements [Store]. An entry that has already expired is not stored.
func (m *Memory) Set(ctx context.Context, key string, e Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !m.now().Before(e.Expiry) {
		m.lru.Remove(key)
		return nil
	}
	m.lru.Add(key, cloneEntry(e))
	return nil
}

// Delete implements [Store].
func (m *Memory) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.lru.Remove(key)
	return nil
}

// cloneEntry copies the value so that callers cannot alter what is stored.
func cloneEntry(e Entry) Entry {
	e.Value = append([]byte(nil), e.Value...)
	return e
}
