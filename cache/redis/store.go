package redis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tokenwire/tokenwire/cache"
)

// Store is a [cache.Store] and [cache.Locker] kept in Redis and shared by
// the replicas of a service. It is safe for concurrent use.
type Store struct {
	client   goredis.UniversalClient
	owned    bool // client built by NewFromConfig, closed by Close
	codec    *codec
	prefix   string
	timeout  time.Duration
	fallback cache.Store
	now      func() time.Time
	log      *slog.Logger
	health   *health
	tel      *telemetry
	where    string // names the Redis in errors (see describe)
}

var (
	_ cache.Store  = (*Store)(nil)
	_ cache.Locker = (*Store)(nil)
)

// New returns a store using client, which may be a single-node, Sentinel
// (failover) or Cluster client. The caller keeps ownership of client.
func New(client goredis.UniversalClient, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("redis: nil client")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c, err := newCodec(o.Keys)
	if err != nil {
		return nil, fmt.Errorf("redis: encryption key: %w", err)
	}
	s := &Store{
		client: client, codec: c, prefix: o.Prefix, timeout: o.OpTimeout,
		fallback: o.Fallback, now: o.Now, log: o.Logger,
		health: newHealth(o.Now, o.Cooldown), where: describe(client),
	}
	s.tel = newTelemetry(s, o.MeterProvider)
	if !honoursDeadlines(client) {
		s.log.Warn("redis: client has ContextTimeoutEnabled off; a slow Redis is cut off by its ReadTimeout, not OpTimeout")
	}
	return s, nil
}

// honoursDeadlines reports whether the client cuts a command off at its
// context's deadline; clients it cannot inspect are assumed to.
func honoursDeadlines(client goredis.UniversalClient) bool {
	switch c := client.(type) {
	case *goredis.Client:
		return c.Options().ContextTimeoutEnabled
	case *goredis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}

// Close closes the Redis client if the store created it ([NewFromConfig]);
// a client passed to [New] is left to its owner. The store's gauge is
// unregistered either way.
func (s *Store) Close() error {
	s.tel.unregister()
	if s.owned {
		return s.client.Close()
	}
	return nil
}

// Get implements [cache.Store]. It reads Redis, or the fallback store when
// Redis fails. A value that cannot be decrypted or has expired is a miss.
// Whenever Redis answers it is authoritative: a miss there is a miss even if
// the fallback holds the key (another replica may have deleted it).
func (s *Store) Get(ctx context.Context, key string) (cache.Entry, error) {
	if err := ctx.Err(); err != nil {
		return cache.Entry{}, err
	}
	if s.health.allow() {
		rk := s.valueKey(key)
		opCtx, cancel := context.WithTimeout(ctx, s.timeout)
		b, err := s.client.Get(opCtx, rk).Bytes()
		cancel()
		if err == nil || errors.Is(err, goredis.Nil) {
			s.succeeded()
			if err != nil {
				return cache.Entry{}, cache.ErrNotFound
			}
			return s.decode(ctx, key, rk, b)
		}
		s.failed(ctx, "get", err)
		s.tel.fellBack(ctx, "get", causeError)
	} else {
		s.tel.fellBack(ctx, "get", causeBreaker)
	}
	return s.fallback.Get(ctx, key)
}

// decode opens a stored value; unreadable and expired values are misses.
func (s *Store) decode(ctx context.Context, key, rk string, b []byte) (cache.Entry, error) {
	value, expiry, err := s.codec.open(rk, b)
	if err != nil {
		s.log.DebugContext(ctx, "redis: stored value unreadable, treated as a miss", "reason", err.Error())
		return cache.Entry{}, cache.ErrNotFound
	}
	if !s.now().Before(expiry) {
		return cache.Entry{}, cache.ErrNotFound
	}
	e := cache.Entry{Value: value, Expiry: expiry}
	_ = s.fallback.Set(ctx, key, e) // keep a copy for when Redis fails
	return e, nil
}

// Set implements [cache.Store]. It writes the fallback store and Redis
// (expiring at e.Expiry); a Redis failure is logged, not returned. An
// entry that has already expired is deleted instead.
func (s *Store) Set(ctx context.Context, key string, e cache.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ttl := e.Expiry.Sub(s.now())
	if ttl <= 0 {
		return s.Delete(ctx, key)
	}
	if err := s.fallback.Set(ctx, key, e); err != nil {
		return err
	}
	if !s.health.allow() {
		s.tel.fellBack(ctx, "set", causeBreaker)
		return nil
	}
	rk := s.valueKey(key)
	stored := s.codec.seal(rk, e.Value, e.Expiry)
	opCtx, cancel := context.WithTimeout(ctx, s.timeout)
	err := s.client.Set(opCtx, rk, stored, roundUpMs(ttl)).Err()
	cancel()
	s.recordOrFallBack(ctx, "set", err)
	return nil
}

// Delete implements [cache.Store]. It deletes from Redis and from the
// fallback store; a Redis failure is logged, not returned.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.health.allow() {
		opCtx, cancel := context.WithTimeout(ctx, s.timeout)
		err := s.client.Del(opCtx, s.valueKey(key)).Err()
		cancel()
		s.recordOrFallBack(ctx, "delete", err)
	} else {
		s.tel.fellBack(ctx, "delete", causeBreaker)
	}
	return s.fallback.Delete(ctx, key)
}

// deleteIfScript deletes KEYS[1] only if it still holds ARGV[1].
var deleteIfScript = goredis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0
`)

// DeleteIf implements [cache.CompareDeleter]: the entry is deleted only if
// it still holds value — decrypted here, compared, and deleted by a script
// that checks the stored bytes have not changed since, so that a token
// another replica stored meanwhile is kept. A Redis failure is logged, not
// returned; the fallback store's copy is dropped when it holds value.
func (s *Store) DeleteIf(ctx context.Context, key string, value []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.health.allow() {
		rk := s.valueKey(key)
		opCtx, cancel := context.WithTimeout(ctx, s.timeout)
		raw, err := s.client.Get(opCtx, rk).Bytes()
		if err == nil {
			if v, _, oerr := s.codec.open(rk, raw); oerr == nil && bytes.Equal(v, value) {
				err = deleteIfScript.Run(opCtx, s.client, []string{rk}, raw).Err()
			}
		}
		cancel()
		if errors.Is(err, goredis.Nil) {
			err = nil
		}
		s.recordOrFallBack(ctx, "delete", err)
	} else {
		s.tel.fellBack(ctx, "delete", causeBreaker)
	}
	if e, err := s.fallback.Get(ctx, key); err == nil && bytes.Equal(e.Value, value) {
		return s.fallback.Delete(ctx, key)
	}
	return nil
}

// valueKey is the Redis key of a caller's key: the prefix and the hex
// SHA-256 of the key as a Cluster hash tag.
func (s *Store) valueKey(key string) string {
	return s.prefix + "{" + hashKey(key) + "}"
}

// lockKey is the Redis key of the lock named key; it shares the hash tag
// (and so the Cluster slot) of valueKey(key).
func (s *Store) lockKey(key string) string {
	return s.prefix + "{" + hashKey(key) + "}:lock"
}

func (s *Store) record(ctx context.Context, op string, err error) {
	if err == nil {
		s.succeeded()
		return
	}
	s.failed(ctx, op, err)
}

// recordOrFallBack is record for an operation that the fallback store
// then serves alone when Redis failed.
func (s *Store) recordOrFallBack(ctx context.Context, op string, err error) {
	s.record(ctx, op, err)
	if err != nil {
		s.tel.fellBack(ctx, op, causeError)
	}
}

func (s *Store) succeeded() {
	if s.health.succeeded() {
		s.log.Info("redis: reachable again, shared cache resumed")
	}
}

func (s *Store) failed(ctx context.Context, op string, err error) {
	if ctx.Err() == nil { // the caller's own cancellation is not Redis's failure
		s.tel.failed(ctx, op, err, s.now())
		reloadSlots(ctx, s.client)
	}
	if s.health.failed(ctx) {
		if cause := refusal(err); cause != "" { // not an outage: it lasts until the configuration changes
			s.log.ErrorContext(ctx, "redis: refused, using the local fallback cache",
				"op", op, "cause", cause, "error", err.Error(), "retry_after", s.health.cooldown)
			return
		}
		s.log.WarnContext(ctx, "redis: operation failed, using the local fallback cache",
			"op", op, "error", err.Error(), "retry_after", s.health.cooldown)
		return
	}
	s.log.Debug("redis: operation failed", "op", op, "error", err.Error())
}

// roundUpMs rounds a positive duration up to whole milliseconds, the
// precision of PX, so that Redis never expires an entry early.
func roundUpMs(d time.Duration) time.Duration {
	return (d + time.Millisecond - 1).Truncate(time.Millisecond)
}
