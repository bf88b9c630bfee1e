package cache

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by [Store.Get] when the key holds no entry, or
// only an expired one.
var ErrNotFound = errors.New("cache: not found")

// Entry is one cached token. The store treats Value as opaque bytes: the
// token source serializes the token into it. Expiry is the instant after
// which the entry must no longer be returned.
type Entry struct {
	Value  []byte
	Expiry time.Time
}

// Store keeps tokens so that several token sources (and, with a shared
// store, several processes) use one token instead of fetching their own.
//
// Implementations must be safe for concurrent use. Keys are opaque hashes
// chosen by the caller; they never contain a secret.
type Store interface {
	// Get returns the entry under key, or ErrNotFound.
	Get(ctx context.Context, key string) (Entry, error)
	// Set stores e under key until e.Expiry.
	Set(ctx context.Context, key string, e Entry) error
	// Delete removes the entry under key; deleting a missing key is not an
	// error.
	Delete(ctx context.Context, key string) error
}

// Locker is implemented by stores shared by several processes, so that only
// one of them fetches a token while the others wait for it to appear in the
// store.
type Locker interface {
	// TryLock tries to take the lock named key for at most ttl. It returns
	// ok == false, without error, when another holder has it. The returned
	// unlock releases the lock only if it is still held by this caller.
	TryLock(ctx context.Context, key string, ttl time.Duration) (unlock func(context.Context) error, ok bool, err error)
}
