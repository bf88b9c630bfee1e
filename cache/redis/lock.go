package redis

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// unlockScript deletes the lock only if it still holds this owner's token,
// so that a holder whose lock expired cannot release its successor's.
var unlockScript = goredis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)

// TryLock implements [cache.Locker] with SET key owner NX PX ttl and a
// random owner. When Redis fails it returns ok == true with an unlock that
// does nothing: every process then fetches on its own rather than wait
// for a lock that nobody can take.
func (s *Store) TryLock(ctx context.Context, key string, ttl time.Duration) (unlock func(context.Context) error, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	if ttl <= 0 {
		return nil, false, errors.New("redis: lock ttl must be positive")
	}
	if !s.health.allow() {
		s.tel.fellBack(ctx, "lock", causeBreaker)
		return noUnlock, true, nil
	}
	lk, owner := s.lockKey(key), rand.Text()
	opCtx, cancel := context.WithTimeout(ctx, s.timeout)
	ok, err = s.client.SetNX(opCtx, lk, owner, roundUpMs(ttl)).Result()
	cancel()
	if err != nil {
		s.failed(ctx, "lock", err)
		s.tel.fellBack(ctx, "lock", causeError)
		return noUnlock, true, nil
	}
	s.succeeded()
	if !ok {
		return nil, false, nil
	}
	return func(ctx context.Context) error { return s.unlock(ctx, lk, owner) }, true, nil
}

// unlock releases the lock if owner still holds it. A Redis failure is
// logged, not returned: the lock then expires at its ttl.
func (s *Store) unlock(ctx context.Context, lk, owner string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Tried even while the breaker is open: the lock was taken while Redis
	// answered, and releasing it spares the fleet a wait of its ttl.
	opCtx, cancel := context.WithTimeout(ctx, s.timeout)
	err := unlockScript.Run(opCtx, s.client, []string{lk}, owner).Err()
	cancel()
	s.record(ctx, "unlock", err)
	return nil
}

func noUnlock(context.Context) error { return nil }
