package oauthclient

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/cache/redis"
	"github.com/tokenwire/tokenwire/internal/redistest"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// stalledIntentStore is a real Redis store on which the first intent
// written (a refresh record naming its sender) is held before it reaches
// Redis until a second intent has: a replica's write slowed (a stalled
// link, a paused process) past the fleet lock's lifetime.
type stalledIntentStore struct {
	*redis.Store
	stalled chan struct{} // closed when the first intent is held
	second  chan struct{} // closed when the second intent is in Redis
	mu      sync.Mutex
	intents int
}

func (s *stalledIntentStore) StrictSet(ctx context.Context, key string, e cache.Entry) error {
	if !bytes.Contains(e.Value, []byte(`"s":"`)) {
		return s.Store.StrictSet(ctx, key, e)
	}
	s.mu.Lock()
	s.intents++
	n := s.intents
	s.mu.Unlock()
	switch n {
	case 1:
		close(s.stalled)
		select {
		case <-s.second:
		case <-ctx.Done():
			return ctx.Err()
		}
		return s.Store.StrictSet(ctx, key, e)
	case 2:
		err := s.Store.StrictSet(ctx, key, e)
		close(s.second)
		return err
	}
	return s.Store.StrictSet(ctx, key, e)
}

// The fleet lock expires while the holder's intent is on its way to Redis
// (slow Redis, a stalled link or process): another replica takes the lock,
// reads the record the holder has not replaced yet, and sends. The holder
// learns its write came back too late for its lock to cover a request and
// does not send: the same refresh token never leaves twice. The second
// replica runs in this process with a family of its own, as in a process
// of its own.
func TestRefreshIntentOutlivesTheFleetLock(t *testing.T) {
	srv := redistest.Start(t)
	client := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = client.Close() })
	rs, err := redis.New(client, redis.Options{Prefix: fmt.Sprintf("lock-expiry-%d:", time.Now().UnixNano()),
		Keys: [][]byte{[]byte(strings.Repeat("k", redis.KeySize))}, OpTimeout: 5 * time.Second})
	require.NoError(t, err)
	store := &stalledIntentStore{Store: rs, stalled: make(chan struct{}), second: make(chan struct{})}

	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "app", Scopes: []string{"read"}})
	seed := as.IssueRefreshToken("app", "alice", "read")
	cfg := refreshConfig(as, ValueSupplier(NewSecret(seed), time.Time{}), nil)
	opts := Options{AllowInsecureHTTP: true, Store: store, LockTTL: 2 * time.Second}
	a, err := NewSource(cfg, opts)
	require.NoError(t, err)
	t.Cleanup(a.Close)
	b, err := NewSource(cfg, opts)
	require.NoError(t, err)
	t.Cleanup(b.Close)

	ctx := context.Background()
	aDone := make(chan error, 1)
	go func() { _, err := a.TokenContext(ctx); aDone <- err }()
	<-store.stalled // A holds the lock and its intent is on its way
	families.mu.Lock()
	clear(families.m) // B is another process: a family of its own
	families.mu.Unlock()

	_, errB := b.TokenContext(ctx) // the lock expires; B takes it
	errA := <-aDone
	st := as.RefreshStats()
	t.Logf("A: %v; B: %v; refresh tokens: %+v", errA, errB, st)
	assert.Zero(t, st.Reused, "both replicas sent the same refresh token")
}
