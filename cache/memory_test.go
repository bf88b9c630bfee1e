package cache_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/fakeclock"
)

type clock = fakeclock.Clock

func TestMemoryGetSetDelete(t *testing.T) {
	clk := fakeclock.At(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	m := cache.NewMemory(10, cache.WithClock(clk.Now))
	ctx := context.Background()
	_, err := m.Get(ctx, "k")
	assert.ErrorIs(t, err, cache.ErrNotFound)

	val := []byte("v1")
	require.NoError(t, m.Set(ctx, "k", cache.Entry{Value: val, Expiry: clk.Now().Add(time.Minute)}))
	val[0] = 'X' // the store keeps its own copy
	e, err := m.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "v1", string(e.Value))
	e.Value[0] = 'Y'
	e, _ = m.Get(ctx, "k")
	assert.Equal(t, "v1", string(e.Value))

	clk.Advance(time.Minute) // expired exactly at Expiry
	_, err = m.Get(ctx, "k")
	assert.ErrorIs(t, err, cache.ErrNotFound)
	assert.Equal(t, 0, m.Status().Entries)

	require.NoError(t, m.Set(ctx, "k", cache.Entry{Value: val, Expiry: clk.Now().Add(-time.Second)}))
	assert.Equal(t, 0, m.Status().Entries, "an expired entry is not stored")

	require.NoError(t, m.Set(ctx, "k", cache.Entry{Value: val, Expiry: clk.Now().Add(time.Hour)}))
	require.NoError(t, m.Delete(ctx, "k"))
	require.NoError(t, m.Delete(ctx, "missing"))
	_, err = m.Get(ctx, "k")
	assert.ErrorIs(t, err, cache.ErrNotFound)
}

func TestMemoryIsBounded(t *testing.T) {
	m := cache.NewMemory(3)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	for i := range 10 {
		require.NoError(t, m.Set(ctx, fmt.Sprint(i), cache.Entry{Value: []byte("v"), Expiry: exp}))
	}
	assert.Equal(t, 3, m.Status().Entries)
	_, err := m.Get(ctx, "0")
	assert.ErrorIs(t, err, cache.ErrNotFound, "least recently used evicted")
	_, err = m.Get(ctx, "9")
	assert.NoError(t, err)
	assert.Equal(t, 1024, func() int { // the default size
		d := cache.NewMemory(0)
		for i := range 1024 + 5 {
			_ = d.Set(ctx, fmt.Sprint(i), cache.Entry{Value: []byte("v"), Expiry: exp})
		}
		return d.Status().Entries
	}())
}

func TestMemoryHonoursContext(t *testing.T) {
	m := cache.NewMemory(3)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := m.Get(ctx, "k")
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, m.Set(ctx, "k", cache.Entry{}), context.Canceled)
	assert.ErrorIs(t, m.Delete(ctx, "k"), context.Canceled)
}

func TestMemoryConcurrent(t *testing.T) {
	m := cache.NewMemory(64)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				k := fmt.Sprint((g + i) % 100)
				_ = m.Set(ctx, k, cache.Entry{Value: []byte(k), Expiry: time.Now().Add(time.Hour)})
				if e, err := m.Get(ctx, k); err == nil {
					assert.Equal(t, k, string(e.Value))
				}
				_ = m.Delete(ctx, fmt.Sprint(i%100))
			}
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, m.Status().Entries, 64)
}

func BenchmarkMemoryGet(b *testing.B) {
	m := cache.NewMemory(16)
	ctx := context.Background()
	_ = m.Set(ctx, "k", cache.Entry{Value: make([]byte, 200), Expiry: time.Now().Add(time.Hour)})
	b.ReportAllocs()
	for b.Loop() {
		_, _ = m.Get(ctx, "k")
	}
}

func ExampleMemory() {
	store := cache.NewMemory(100)
	ctx := context.Background()
	_ = store.Set(ctx, "tw1:5f2c…", cache.Entry{Value: []byte(`{"a":"…"}`), Expiry: time.Now().Add(time.Hour)})
	e, err := store.Get(ctx, "tw1:5f2c…")
	fmt.Println(string(e.Value), err)
	_, err = store.Get(ctx, "other")
	fmt.Println(err)
	// Output:
	// {"a":"…"} <nil>
	// cache: not found
}

// customStore is a Store that does not report its status.
type customStore struct{ cache.Store }

// A health check reads any store's status: its own report, or, for a
// store that has none, a custom kind assumed healthy.
func TestStatusOf(t *testing.T) {
	m := cache.NewMemory(4)
	require.NoError(t, m.Set(context.Background(), "k", cache.Entry{Value: []byte("v"), Expiry: time.Now().Add(time.Hour)}))
	assert.Equal(t, cache.Status{Kind: "memory", Healthy: true, Entries: 1}, cache.StatusOf(m))
	assert.Equal(t, cache.Status{Kind: "custom", Healthy: true, Type: "cache_test.customStore"}, cache.StatusOf(customStore{m}))
}
