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
//
// # A fleet of replicas: the Redis store
//
// With cache/redis as the store, the replicas of a service behave like one
// client: twenty replicas ask the authorization server once per token
// lifetime, not twenty times.
//
//   - One fetch per fleet. A replica that needs a token takes a short Redis
//     lock (SET NX PX, random owner, released by a compare-and-delete script);
//     the others wait for the token to appear in Redis, bounded by their
//     context. If the holder dies, its lock expires and one waiter takes over.
//
//   - Encrypted at rest. Values are sealed with AES-256-GCM bound to their
//     Redis key; several keys may be configured (the first encrypts, all
//     decrypt) for rotation. Keys are hashes that reveal no client id. A value
//     that does not decrypt is a miss, never a crash. Plaintext only with
//     plaintext: true.
//
//   - Never a dependency. When Redis is down or slow (a timeout per
//     operation, 200 ms by default), the store falls back to memory and each
//     replica fetches for itself; a circuit breaker skips Redis for a few
//     seconds, then sharing resumes by itself.
//
//   - No network on the hot path. Every source keeps its token in memory;
//     Redis is consulted only when a token is missing or due for renewal.
//
//     store:
//     redis:
//     addrs: ["redis-1:6379"]          # several addresses + cluster: true for a Cluster; master_name for Sentinel
//     password: ${REDIS_PASSWORD}
//     tls: true
//     prefix: "orders-service:"
//     encryption_keys: ["${TOKEN_KEY_2026}", "${TOKEN_KEY_2025}"]   # base64 AES-256 keys
//     op_timeout: 200ms
//
// Every topology. One address is a single node; several addresses (or
// one with cluster: true: a configuration endpoint) a Redis Cluster;
// master_name makes the addresses those of Sentinels:
//
//	store:
//	  redis:
//	    master_name: orders              # Sentinel: addrs are the Sentinels
//	    addrs: ["sentinel-1:26379", "sentinel-2:26379", "sentinel-3:26379"]
//	    sentinel_password: ${SENTINEL_PASSWORD}
//	    username: orders-service         # ACL: ~orders-service:* -@all +get +set +del +eval +evalsha
//	    password: ${REDIS_PASSWORD}
//	    tls: true
//	    tls_ca_file: /etc/redis/ca.pem
//	    prefix: "orders-service:"
//	    encryption_keys: ["${TOKEN_KEY_2026}"]
//
// Every operation touches one key, and a definition's value and its lock
// share a hash tag (prefix{sha256} and prefix{sha256}:lock): on a
// Cluster they live in one slot and move together when it migrates, and
// the MOVED and ASK replies of a migration are followed by the client,
// never seen by a caller. After a failed operation a Cluster client reloads
// its slot map, so the replica promoted when a master dies is used after
// one cool-down (go-redis alone keeps sending that slot to the dead master
// until its map's reload interval, a minute). The Sentinel client follows
// the Sentinels' +switch-master.
//
// A misconfiguration is not an outage. Opening the store runs its
// script once, on a key under its prefix, writing nothing. A wrong
// password, an ACL that does not cover the prefix or the script, or a
// certificate the client does not trust (or that names another host) fails
// backends.Open with an error that names the store and the cause, matching
// redis.ErrMisconfigured:
//
//	rest: store redis: redis: store 10.0.0.7:6380: the server refused the username or password: WRONGPASS invalid username-password pair or user is disabled.
//
// A Redis that is merely down at that moment is logged and served around,
// as above (and so is a TLS client on a plain port or the reverse, which
// look like a server that does not answer). A server that starts refusing later (a password rotated on it
// first) is served around too, and logged as an error with its cause, not
// as an outage's warning.
//
// # Tested for real, under faults
//
// The cache/redis tests start real servers on loopback (Debian's
// redis-server, redis-sentinel and redis-cli; CI installs them and,
// with CI set, the tests fail rather than skip without them). Each
// topology test runs a fleet of 8 replicas, each with its own client,
// store and token source, against the fake authorization server that
// counts token requests, on one fake clock: a lifetime is one move of the
// clock.
//
//	| topology | fault | while it lasts | afterwards |
//	| Sentinel: a master, a replica, 3 Sentinels; the store through master_name | master killed (SIGKILL); the Sentinels promote the replica in about 2 s | every call served; each replica fetches for itself, one request per lifetime at most (a run: 8, 8, then 1 once the store found the new master) | one request per lifetime for the fleet; a new replica reads the token from the new master |
//	| Cluster: 3 masters with a replica each (redis-cli --cluster create) | the definition's slot migrated while the fleet renews (SETSLOT … MIGRATING/IMPORTING, MIGRATE, SETSLOT … NODE) | some 40 ASK and 25 MOVED followed in a run; no failed Redis operation, nothing served from the fallback, one request per lifetime | a replica started mid-migration is corrected by MOVED |
//	| the same Cluster | the slot's master killed (SIGKILL); its replica takes over in about 2 s | every call served; at most one request per replica per lifetime (a run: 8, 8, 8) | one request per lifetime for the fleet |
//	| TLS under a CA generated by the test, ACL user limited to the prefix and to get set del eval evalsha | wrong password, unknown user, no credentials, prefix outside the user's keys, user without eval, certificate of another CA, system roots only, certificate for another host | Open fails with ErrMisconfigured, naming the store and the cause | a Redis down at open opens and serves from memory; a password rotated on the server is logged as a refusal |
//
// The soak (TestSoak, run by CI) puts 50 token sources in 10 real
// processes (the test binary run again, one replica each, one Redis store
// and 5 sources), 5 definitions with tokens of 6 seconds, and has every
// source called continuously by two goroutines while Redis is killed and
// restarted empty, or paused with SIGSTOP, for 6 seconds at a time, in
// turn. It asserts no failed call, sharing resumed after every fault (all
// processes serving one same new token per definition), at most one token
// request per definition per lifetime while Redis is up (and no two within
// half a lifetime), at most one per process per lifetime while it is down,
// and no caller that already had a token waiting beyond the bound the
// library's own timers set (a backoff's next attempt within 3 s, then one
// shared fetch: its 10 s timeout, twice the lock's TTL and a second). How
// long sharing took to resume and how long callers waited are measured and
// shown below, not asserted: a busy machine makes them longer without
// anything being wrong. What a starved CPU does cause is counted apart: a
// Redis operation slower than its timeout opens that replica's breaker, and
// a lock's holder that overruns the lock's TTL lets another replica fetch,
// as designed; the children report both (the store's log, a wrapper of its
// lock), and a request made meanwhile is counted with the outages, not as
// a failure to share. Under the race
// detector each Redis operation gets a second instead of the default
// 200 ms: the first commands of ten instrumented processes starting at
// once on two CPUs take longer than that, and every breaker would open at
// the cold start. The figures of a run on a shared 2-core VM (race
// detector on, load average 14):
//
// 10 processes × 5 definitions (50 token sources); tokens of 6s, renewed every 3s; Redis killed and restarted empty, or paused (SIGSTOP), for 6s per fault, in turn; race detector on (op_timeout 1s), cool-down 5s, lock TTL 2s.
//
//	| measure | result |
//	| duration | 1m5s: cold start 172ms, 4 faults |
//	| calls | 1310573, 0 failed |
//	| token requests | 478 (the server counted 478); cold start: [1 1 1 1 1] per definition |
//	| requests per definition per lifetime, Redis up and shared | 0.98 on average (49 in 10 lifetimes × 5 definitions; a shared stretch ends with a partial lifetime); at most 1 in one lifetime; never two within 3.027s |
//	| requests per definition per lifetime, Redis down or sharing resuming | at most 10 (10 processes); no process asked twice within 3.023s |
//	| Redis operations failed / served by the fallback | 93 / 1524 |
//	| outside the faults: breakers opened (an operation failed, or slower than op_timeout) / locks held past their TTL | 3 / 0, with 0 token requests made meanwhile (not counted as shared) |
//	| longest caller wait | 217ms once the caller had had a token; 217ms at the cold start |
//	| fault 1: Redis killed, restarted empty | back after 6.067s; sharing resumed 3.012s later; meanwhile at most 10 requests per definition per lifetime |
//	| fault 2: Redis paused (SIGSTOP … SIGCONT) | back after 6s; sharing resumed 1.763s later; meanwhile at most 10 requests per definition per lifetime |
//	| fault 3: Redis killed, restarted empty | back after 6.063s; sharing resumed 3.046s later; meanwhile at most 10 requests per definition per lifetime |
//	| fault 4: Redis paused (SIGSTOP … SIGCONT) | back after 6.001s; sharing resumed 3.073s later; meanwhile at most 10 requests per definition per lifetime |
//
// and of a five-minute run without the race detector
// (go test ./cache/redis -run 'TestSoak$' -v -timeout 0 -soak=5m, or
// TOKENWIRE_SOAK=5m; TOKENWIRE_SOAK_REPORT=file writes the table):
//
// 10 processes × 5 definitions (50 token sources); tokens of 6s, renewed every 3s; Redis killed and restarted empty, or paused (SIGSTOP), for 6s per fault, in turn; race detector off (op_timeout 200ms), cool-down 5s, lock TTL 2s.
//
//	| measure | result |
//	| duration | 5m3s: cold start 132ms, 18 faults |
//	| calls | 5913594, 0 failed |
//	| token requests | 2466 (the server counted 2466); cold start: [1 1 1 1 1] per definition |
//	| requests per definition per lifetime, Redis up and shared | 0.90 on average (171 in 38 lifetimes × 5 definitions; a shared stretch ends with a partial lifetime); at most 1 in one lifetime; never two within 3.022s |
//	| requests per definition per lifetime, Redis down or sharing resuming | at most 10 (10 processes); no process asked twice within 3.021s |
//	| Redis operations failed / served by the fallback | 607 / 8538 |
//	| longest caller wait | 22ms once the caller had had a token; 121ms at the cold start |
//	| Redis killed, restarted empty, 9 times | sharing resumed after 5.171s (median), 2.971s to 8.091s |
//	| Redis paused (SIGSTOP … SIGCONT), 9 times | sharing resumed after 3.09s (median), 761ms to 6.37s |
//
// A replica whose breaker opened keeps its own token until that token is
// due for renewal, then tries Redis again: sharing resumes within a
// lifetime or two of Redis's return, a cool-down (5 s) at most later. The
// tokens' lifetime is short so that the soak sees many of them; the lock's
// TTL (2 s) is below their renewal window (3 s), so that a lock taken by a
// command Redis ran after its caller had given up (a pause) delays a
// renewal, not a caller. The defaults keep that order for tokens of 20 s
// or more (a 10 s lock, a renewal window of at least 10 s); for shorter
// tokens set oauthclient.Options.LockTTL below half their lifetime.
package redis
