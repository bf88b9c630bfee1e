package oauthclient

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
)

// lockingMemory is a shared store with an expiring lock, as the Redis store
// is, inside one process. The lock expires on the real clock, as Redis's
// does.
type lockingMemory struct {
	*cache.Memory
	mu    sync.Mutex
	until time.Time // when the lock expires; zero when free
}

func (m *lockingMemory) TryLock(_ context.Context, _ string, ttl time.Duration) (func(context.Context) error, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if time.Now().Before(m.until) {
		return nil, false, nil
	}
	until := time.Now().Add(ttl)
	m.until = until
	return func(context.Context) error {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.until.Equal(until) {
			m.until = time.Time{}
		}
		return nil
	}, true, nil
}

// A holder that dies with the lock: once it expires, one waiter fetches
// and the others take its token, rather than every waiter fetching.
func TestDeadLockHolderIsReplacedByOneWaiter(t *testing.T) {
	const sources, ttl = 5, 100 * time.Millisecond
	clk := newClock()
	store := &lockingMemory{Memory: cache.NewMemory(10, cache.WithClock(clk.Now))}
	f := &fakeFetcher{clk: clk, life: time.Hour}
	_, ok, err := store.TryLock(context.Background(), "any", ttl) // the dead holder
	require.NoError(t, err)
	require.True(t, ok)

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[string]int{}
	)
	for range sources {
		s := newTestSource(f, Options{Store: store, LockTTL: ttl})
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := s.TokenContext(context.Background())
			if assert.NoError(t, err) {
				mu.Lock()
				seen[tok.AccessToken()]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), f.calls.Load(), "one waiter took over the expired lock")
	assert.Equal(t, map[string]int{"tok-1": sources}, seen)
}

// A holder whose fetch fails keeps the lock until it expires: the other
// replicas do not each try in turn against a failing server.
func TestFailingLockHolderDoesNotCauseAStampede(t *testing.T) {
	const sources, ttl = 8, 300 * time.Millisecond
	clk := newClock()
	store := &lockingMemory{Memory: cache.NewMemory(10, cache.WithClock(clk.Now))}
	f := &fakeFetcher{clk: clk, life: time.Hour}
	f.setFail(&Error{Definition: "crm", StatusCode: 503})
	var wg sync.WaitGroup
	for range sources {
		s := newTestSource(f, Options{Store: store, LockTTL: ttl})
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.TokenContext(context.Background())
			assert.Error(t, err)
		}()
	}
	wg.Wait()
	// One holder fails; its lock expires after ttl; one waiter takes over and
	// fails too; the rest give up after 2×ttl. Never one fetch per replica.
	assert.LessOrEqual(t, f.calls.Load(), int32(3))
	assert.GreaterOrEqual(t, f.calls.Load(), int32(1))
}
