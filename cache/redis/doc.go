// Package redis is a [cache.Store] and [cache.Locker] kept in Redis, so
// that the replicas of a service share one token per security definition
// and only one of them fetches it.
//
// What reaches Redis reveals nothing: keys are the prefix and the SHA-256
// of the caller's key (itself already a hash), values are sealed with
// AES-256-GCM under the Redis key, so a value copied to another key does
// not open. Several keys may be configured for rotation: the first
// encrypts, all decrypt. A value that does not decrypt is a miss.
//
// Redis is a shared cache, never a dependency: when it is unreachable or
// slower than Options.OpTimeout, Get, Set and Delete use a local fallback
// store (an in-memory [cache.Memory] by default) and return no Redis error;
// TryLock grants the lock so that each process fetches on its own. After a
// failure Redis is skipped for Options.Cooldown, then tried again; the
// store recovers by itself when Redis answers.
//
// A Redis that answers but refuses the store is another matter: a wrong
// password, a user whose ACL does not cover the prefix or the store's
// commands, a certificate the client does not trust. Retrying will not fix
// it, so [Config.Open] and [NewFromConfig] check the store ([Store.Check])
// and fail with a [*CheckError] naming the store and the cause (matching
// [ErrMisconfigured]); a Redis that is merely down at open time is logged
// and served around. A refusal that starts later (a password rotated on
// the server) is logged as an error, not as an outage's warning.
//
// The store works with single-node, Sentinel and Cluster clients: every
// operation touches one key, and a value and its lock share a hash tag,
// so that they stay in one Cluster slot. After a failed operation a
// Cluster client is told to reload its slot map, so that the replica
// promoted when a master dies is found without waiting for go-redis's own
// reload (a minute).
//
//	client := goredis.NewClient(&goredis.Options{Addr: "redis:6379", ContextTimeoutEnabled: true})
//	store, err := redis.New(client, redis.Options{Keys: [][]byte{key}})
//
// or, from a configuration file, [NewFromConfig] with a [Config].
//
// # Telemetry
//
// The store reports through Options.MeterProvider (default: the global
// one), on the meter "github.com/tokenwire/tokenwire/cache/redis":
//
//	name                      kind             unit         attributes                                   meaning
//	tokenwire.store.fallbacks Counter          {operation}  store, store.operation, store.cause          operations the local fallback served: cause error (Redis failed) or breaker_open (skipped in the cool-down)
//	tokenwire.store.errors    Counter          {error}      store, store.operation                       failed Redis operations (the caller's own cancellation is not one)
//	tokenwire.store.breaker   ObservableGauge  1            store, store.breaker.state                   1 for the breaker's current state (closed, open, half_open), 0 for the others
//
// with the keys tokenwire.store ("redis"), tokenwire.store.operation (get,
// set, delete, lock, unlock), tokenwire.store.cause and
// tokenwire.store.breaker.state. [Store.Status] is the same state as a
// [cache.Status] for a status page. Close unregisters the gauge. The Logger
// warns when an outage starts and says when Redis is reachable again.
package redis
