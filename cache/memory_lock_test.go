package cache_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/fakeclock"
)

func newLockClock() *clock {
	clk := fakeclock.At(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	return clk
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// The lock is held until its holder releases it or its ttl passes on the
// store's clock; a holder whose lock was taken over cannot release its
// successor's.
func TestMemoryLockIsExclusiveAndExpiresOnTheStoreClock(t *testing.T) {
	clk := newLockClock()
	m := cache.NewMemory(10, cache.WithClock(clk.Now))
	ctx := context.Background()
	const ttl = 10 * time.Second

	unlockA, ok, err := m.TryLock(ctx, "k", ttl)
	require.NoError(t, err)
	require.True(t, ok)
	_, ok, err = m.TryLock(ctx, "k", ttl)
	require.NoError(t, err)
	assert.False(t, ok, "held")
	_, ok, _ = m.TryLock(ctx, "other", ttl)
	assert.True(t, ok, "locks are by name")
	require.NoError(t, m.Set(ctx, "k", cache.Entry{Value: []byte("v"), Expiry: clk.Now().Add(time.Hour)}))
	_, err = m.Get(ctx, "k")
	assert.NoError(t, err, "a lock never hides the entry of the same name")

	clk.Advance(ttl - time.Nanosecond)
	_, ok, _ = m.TryLock(ctx, "k", ttl)
	assert.False(t, ok, "held until its ttl has passed")
	clk.Advance(time.Nanosecond)
	unlockB, ok, err := m.TryLock(ctx, "k", ttl)
	require.NoError(t, err)
	require.True(t, ok, "expired: taken over")

	require.NoError(t, unlockA(ctx))
	_, ok, _ = m.TryLock(ctx, "k", ttl)
	assert.False(t, ok, "the expired holder's unlock leaves its successor's lock")

	require.NoError(t, unlockB(ctx))
	unlockC, ok, _ := m.TryLock(ctx, "k", ttl)
	assert.True(t, ok, "released by its holder")
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	require.NoError(t, unlockC(canceled), "released even when the holder's context has ended")
	_, ok, _ = m.TryLock(ctx, "k", ttl)
	assert.True(t, ok)
}

func TestMemoryLockRefusesBadInput(t *testing.T) {
	m := cache.NewMemory(10)
	_, ok, err := m.TryLock(context.Background(), "k", 0)
	assert.ErrorContains(t, err, "lock ttl must be positive")
	assert.False(t, ok)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, ok, err = m.TryLock(ctx, "k", time.Second)
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, ok)
	_, ok, _ = m.TryLock(context.Background(), "k", time.Second)
	assert.True(t, ok, "a refused call took nothing")
}

// Unlocked wakes a waiter when the holding it waits for ends: released,
// or taken over after it expired — never merely because it expired,
// which the store learns only when the lock is tried.
func TestMemoryUnlockedWakesWaiters(t *testing.T) {
	clk := newLockClock()
	m := cache.NewMemory(10, cache.WithClock(clk.Now))
	ctx := context.Background()
	assert.Nil(t, m.Unlocked("k"), "nobody holds it")

	unlock, _, _ := m.TryLock(ctx, "k", time.Second)
	first := m.Unlocked("k")
	require.NotNil(t, first)
	assert.False(t, closed(first))
	require.NoError(t, unlock(ctx))
	assert.True(t, closed(first), "released")
	assert.Nil(t, m.Unlocked("k"))

	_, _, _ = m.TryLock(ctx, "k", time.Second)
	second := m.Unlocked("k")
	clk.Advance(time.Second)
	assert.False(t, closed(second), "expiring wakes nobody")
	_, ok, _ := m.TryLock(ctx, "k", time.Second)
	require.True(t, ok)
	assert.True(t, closed(second), "taken over")
	assert.False(t, closed(m.Unlocked("k")), "the new holding's channel")

	var wg sync.WaitGroup
	for range 20 { // waiters blocked on the channel wake on release
		ch := m.Unlocked("k")
		wg.Add(1)
		go func() { defer wg.Done(); <-ch }()
	}
	clk.Advance(time.Second)
	unlock, ok, _ = m.TryLock(ctx, "k", time.Second)
	require.True(t, ok)
	wg.Wait()
	require.NoError(t, unlock(ctx))
}

// However many callers try at once, one holds the lock.
func TestMemoryLockHasOneHolderUnderContention(t *testing.T) {
	m := cache.NewMemory(10)
	var holders atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, ok, err := m.TryLock(context.Background(), "k", time.Hour); err == nil && ok {
				holders.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	assert.Equal(t, int32(1), holders.Load())
}

// The locks of failed fetches, kept until they expire, are forgotten once
// expired: the store's memory stays bounded by its size.
func TestMemoryLocksAreBounded(t *testing.T) {
	clk := newLockClock()
	m := cache.NewMemory(4, cache.WithClock(clk.Now))
	ctx := context.Background()
	for i := range 100 {
		_, ok, err := m.TryLock(ctx, fmt.Sprint("k", i), time.Second)
		require.NoError(t, err)
		require.True(t, ok)
		clk.Advance(time.Second) // each one left to expire
	}
	assert.LessOrEqual(t, cache.LockCount(m), 5)
}
