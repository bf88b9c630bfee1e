package redis

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tokenwire/tokenwire/cache"
)

var _ cache.Strict = (*Store)(nil)

// errUnavailable is what the strict operations answer while the breaker
// keeps Redis out.
var errUnavailable = errors.New("redis: unavailable (circuit open); no local fallback for this operation")

// StrictGet implements [cache.Strict]: Get from Redis itself, never from
// the fallback store. It answers Redis's error (or, while the breaker is
// open, an error at once) instead of falling back: a rotating refresh
// token is read only as the fleet has it.
func (s *Store) StrictGet(ctx context.Context, key string) (cache.Entry, error) {
	if err := ctx.Err(); err != nil {
		return cache.Entry{}, err
	}
	if !s.health.allow() {
		return cache.Entry{}, errUnavailable
	}
	rk := s.valueKey(key)
	opCtx, cancel := context.WithTimeout(ctx, s.timeout)
	b, err := s.client.Get(opCtx, rk).Bytes()
	cancel()
	switch {
	case errors.Is(err, goredis.Nil):
		s.succeeded()
		return cache.Entry{}, cache.ErrNotFound
	case err != nil:
		s.failed(ctx, "get", err)
		return cache.Entry{}, fmt.Errorf("redis: get: %w", err)
	}
	s.succeeded()
	return s.decode(ctx, key, rk, b)
}

// StrictSet implements [cache.Strict]: Set that returns Redis's error
// (the fallback store is written too, for this process's own reads).
func (s *Store) StrictSet(ctx context.Context, key string, e cache.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ttl := e.Expiry.Sub(s.now())
	if ttl <= 0 {
		return errors.New("redis: entry already expired")
	}
	if err := s.fallback.Set(ctx, key, e); err != nil {
		return err
	}
	if !s.health.allow() {
		return errUnavailable
	}
	rk := s.valueKey(key)
	opCtx, cancel := context.WithTimeout(ctx, s.timeout)
	err := s.client.Set(opCtx, rk, s.codec.seal(rk, e.Value, e.Expiry), roundUpMs(ttl)).Err()
	cancel()
	s.record(ctx, "set", err)
	if err != nil {
		return fmt.Errorf("redis: set: %w", err)
	}
	return nil
}

// StrictTryLock implements [cache.Strict]: TryLock that answers Redis's
// error (or, while the breaker is open, an error at once) instead of
// letting every process proceed without the lock.
func (s *Store) StrictTryLock(ctx context.Context, key string, ttl time.Duration) (unlock func(context.Context) error, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	if ttl <= 0 {
		return nil, false, errors.New("redis: lock ttl must be positive")
	}
	if !s.health.allow() {
		return nil, false, errUnavailable
	}
	lk, owner := s.lockKey(key), rand.Text()
	opCtx, cancel := context.WithTimeout(ctx, s.timeout)
	ok, err = s.client.SetNX(opCtx, lk, owner, roundUpMs(ttl)).Result()
	cancel()
	if err != nil {
		s.failed(ctx, "lock", err)
		return nil, false, fmt.Errorf("redis: lock: %w", err)
	}
	s.succeeded()
	if !ok {
		return nil, false, nil
	}
	return func(ctx context.Context) error { return s.unlock(ctx, lk, owner) }, true, nil
}
