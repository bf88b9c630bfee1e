package redis

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/logbuf"
	"github.com/tokenwire/tokenwire/internal/redistest"
)

// countHook counts the commands a client sends.
type countHook struct{ n atomic.Int64 }

func (h *countHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (h *countHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}
func (h *countHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func TestRedisOutage(t *testing.T) {
	srv := redistest.Start(t) // its own server: this test stops it
	ctx := context.Background()
	clk := newClock()
	prefix := uniquePrefix(t)
	hook := &countHook{}
	client := newClient(t, srv.Addr())
	client.AddHook(hook)
	var logs logbuf.Buffer
	opts := Options{Prefix: prefix, Keys: [][]byte{aesKey(1)}, Now: clk.Now, OpTimeout: testOpTimeout} // a stopped Redis refuses at once: the timeout only spares a busy machine a false outage
	b := newStore(t, newClient(t, srv.Addr()), opts)
	opts.Logger = debugLogger(&logs)
	a := newStore(t, client, opts)
	entry := func(v string) cache.Entry {
		return cache.Entry{Value: []byte(v), Expiry: clk.Now().Add(time.Hour)}
	}
	get := func(s *Store, key string) (string, error) {
		e, err := s.Get(ctx, key)
		return string(e.Value), err
	}

	require.NoError(t, a.Set(ctx, "before", entry("v1")))
	require.NoError(t, srv.Stop())

	// Redis is down: every operation still succeeds, locally.
	require.NoError(t, a.Set(ctx, "during", entry("v2")))
	assert.False(t, a.Status().Healthy)
	sent := hook.n.Load()
	v, err := get(a, "during")
	require.NoError(t, err)
	assert.Equal(t, "v2", v)
	v, err = get(a, "before")
	require.NoError(t, err, "Set kept a local copy")
	assert.Equal(t, "v1", v)
	unlock, ok, err := a.TryLock(ctx, "during", time.Minute)
	require.NoError(t, err)
	require.True(t, ok, "no lock to wait for: fetch locally")
	require.NoError(t, unlock(ctx))
	require.NoError(t, a.Delete(ctx, "before"))
	_, err = get(a, "before")
	require.ErrorIs(t, err, cache.ErrNotFound)
	assert.Equal(t, sent, hook.n.Load(), "Redis not tried again during the cool-down")

	_, err = get(b, "during")
	require.ErrorIs(t, err, cache.ErrNotFound, "b: Redis down and nothing local is a plain miss")

	// Redis returns (empty: no persistence). After the cool-down the next
	// operation probes it and the stores share values again.
	require.NoError(t, srv.Restart())
	require.Eventually(t, func() bool {
		clk.Advance(DefaultCooldown)
		return a.Set(ctx, "after", entry("v3")) == nil && a.Status().Healthy
	}, 10*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool {
		clk.Advance(DefaultCooldown)
		v, err := get(b, "after")
		return err == nil && v == "v3" && b.Status().Healthy
	}, 10*time.Second, 10*time.Millisecond)
	assert.Contains(t, logs.String(), "using the local fallback cache")
	assert.Contains(t, logs.String(), "reachable again")
	assert.NotContains(t, logs.String(), "v2")
}

// TestSlowRedis points the store at a server that accepts connections and
// never answers: each operation gives up after OpTimeout and falls back.
func TestSlowRedis(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { // hold connections open, answer nothing
		defer close(done)
		var conns []net.Conn
		for {
			c, err := l.Accept()
			if err != nil {
				for _, c := range conns {
					_ = c.Close()
				}
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() { _ = l.Close(); <-done })
	client := goredis.NewClient(&goredis.Options{Addr: l.Addr().String(), ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = client.Close() })
	ctx := context.Background()
	s := newStore(t, client, Options{Plaintext: true, OpTimeout: 20 * time.Millisecond})

	require.NoError(t, s.Set(ctx, "k", cache.Entry{Value: []byte("v"), Expiry: time.Now().Add(time.Hour)}))
	assert.False(t, s.Status().Healthy)
	e, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "v", string(e.Value))
	_, ok, err := s.TryLock(ctx, "k", time.Second)
	require.NoError(t, err)
	assert.True(t, ok)
}

func TestCallerCancellationIsNotAnOutage(t *testing.T) {
	s := newStore(t, sharedClient(t), Options{Plaintext: true})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Get(ctx, "k")
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, s.Set(ctx, "k", cache.Entry{Value: []byte("v"), Expiry: time.Now().Add(time.Hour)}), context.Canceled)
	require.ErrorIs(t, s.Delete(ctx, "k"), context.Canceled)
	_, _, err = s.TryLock(ctx, "k", time.Second)
	require.ErrorIs(t, err, context.Canceled)
	assert.True(t, s.Status().Healthy)
}
