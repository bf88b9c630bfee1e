package redis

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
)

func TestLockIsExclusive(t *testing.T) {
	client := sharedClient(t)
	ctx := context.Background()
	prefix := uniquePrefix(t)
	const replicas = 20
	var (
		start   = make(chan struct{})
		wg      sync.WaitGroup
		winners atomic.Int32
		unlocks = make(chan func(context.Context) error, replicas)
	)
	for range replicas {
		s := newStore(t, client, Options{Prefix: prefix, Plaintext: true})
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			unlock, ok, err := s.TryLock(ctx, "token-key", time.Minute)
			assert.NoError(t, err)
			if ok {
				winners.Add(1)
				unlocks <- unlock
			}
		}()
	}
	close(start)
	wg.Wait()
	require.Equal(t, int32(1), winners.Load())

	require.NoError(t, (<-unlocks)(ctx))
	_, ok, err := newStore(t, client, Options{Prefix: prefix, Plaintext: true}).TryLock(ctx, "token-key", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "free again after unlock")
}

func TestLockExpiresWhenHolderDies(t *testing.T) {
	client := sharedClient(t)
	ctx := context.Background()
	prefix := uniquePrefix(t)
	holder := newStore(t, client, Options{Prefix: prefix, Plaintext: true})
	other := newStore(t, client, Options{Prefix: prefix, Plaintext: true})

	_, ok, err := holder.TryLock(ctx, "k", time.Minute) // and never unlocks
	require.NoError(t, err)
	require.True(t, ok)
	_, ok, err = other.TryLock(ctx, "k", time.Minute)
	require.NoError(t, err)
	require.False(t, ok, "held")
	ttl, err := client.PTTL(ctx, holder.lockKey("k")).Result()
	require.NoError(t, err)
	assert.True(t, ttl > 0 && ttl <= time.Minute, "the lock expires with its TTL: %s", ttl)

	// The minute passes (Redis's clock is its own: the test shortens what
	// is left of it rather than wait, or race a short TTL against the
	// scheduler between the two calls above).
	require.NoError(t, client.PExpire(ctx, holder.lockKey("k"), time.Millisecond).Err())
	require.Eventually(t, func() bool {
		_, ok, err := other.TryLock(ctx, "k", time.Minute)
		return err == nil && ok
	}, 30*time.Second, 5*time.Millisecond, "lock never expired")
}

func TestUnlockByNonOwnerDoesNothing(t *testing.T) {
	client := sharedClient(t)
	ctx := context.Background()
	prefix := uniquePrefix(t)
	a := newStore(t, client, Options{Prefix: prefix, Plaintext: true})
	b := newStore(t, client, Options{Prefix: prefix, Plaintext: true})

	unlockA, ok, err := a.TryLock(ctx, "k", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, client.Del(ctx, a.lockKey("k")).Err()) // A's lock expires
	unlockB, ok, err := b.TryLock(ctx, "k", time.Minute)
	require.NoError(t, err)
	require.True(t, ok, "B takes the expired lock")

	require.NoError(t, unlockA(ctx), "A's late unlock")
	_, ok, err = a.TryLock(ctx, "k", time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "A's unlock released B's lock")

	require.NoError(t, unlockB(ctx))
	_, ok, err = a.TryLock(ctx, "k", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok)
}

func TestLockAndValueShareASlot(t *testing.T) {
	client := sharedClient(t)
	ctx := context.Background()
	s := newStore(t, client, Options{Plaintext: true})
	vk, lk := s.valueKey("k"), s.lockKey("k")
	require.NotEqual(t, vk, lk)
	assert.Equal(t, hashTag(vk), hashTag(lk))
	assert.Len(t, hashTag(vk), 64)

	// The lock and the value do not disturb each other.
	require.NoError(t, s.Set(ctx, "k", cache.Entry{Value: []byte("v"), Expiry: time.Now().Add(time.Hour)}))
	_, ok, err := s.TryLock(ctx, "k", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	got, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "v", string(got.Value))
}

func TestTryLockRejectsBadTTL(t *testing.T) {
	s := newStore(t, sharedClient(t), Options{Plaintext: true})
	_, ok, err := s.TryLock(context.Background(), "k", 0)
	require.Error(t, err)
	assert.False(t, ok)
}

// hashTag returns what Redis Cluster hashes: the text between the first
// '{' and the next '}'.
func hashTag(key string) string {
	_, rest, _ := strings.Cut(key, "{")
	tag, _, _ := strings.Cut(rest, "}")
	return tag
}
