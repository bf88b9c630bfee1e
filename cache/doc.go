// Package cache defines where tokenwire keeps tokens between fetches.
//
// A token source asks its [Store] before it asks the authorization server,
// and writes every token it fetches back to it, so that all sources sharing
// a store share one token per security definition. [Memory] is the
// in-process store (a bounded, expiring LRU); package cache/redis provides a
// store shared by the replicas of a service. A store that also implements
// [Locker] lets the sources sharing it agree on which one of them fetches:
// both do, so that twenty sources — in one process or in twenty replicas —
// make one token request where each would make its own. [Memory]'s lock
// is in the process, expires on the store's clock, and wakes the sources
// waiting for its holder as soon as it is released ([LockWatcher]).
//
// Stores see only opaque keys (hashes of a definition's identity, never a
// secret) and opaque values (the serialized token).
//
//	store := cache.NewMemory(1000)
//	_ = store.Set(ctx, key, cache.Entry{Value: b, Expiry: exp})
//	e, err := store.Get(ctx, key) // err == cache.ErrNotFound on a miss
package cache
