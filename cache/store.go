package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// ErrNotFound is returned by [Store.Get] when the key holds no entry, or
// only an expired one.
var ErrNotFound = errors.New("cache: not found")

// Entry is one cached token. The store treats Value as opaque bytes: the
// token source serializes the token into it. Expiry is the instant after
// which the entry must no longer be returned. Value is a token: encoding/json
// and YAML leave it out, and fmt prints only its size (see [Entry.Format]).
type Entry struct {
	Value  []byte `json:"-" yaml:"-"`
	Expiry time.Time
}

// Format prints the entry's size and expiry whatever the verb, never its
// value (a token), with "[redacted]" (the mark of internal/redact, which
// this package may not import). fmt's %p of an Entry value, which no
// method intercepts, shows the exported bytes: print a pointer, or nothing.
func (e Entry) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, e.describe()) }

func (e Entry) describe() string {
	return fmt.Sprintf("cache.Entry{Value:[redacted] (%d bytes) Expiry:%s}", len(e.Value), e.Expiry.UTC().Format(time.RFC3339))
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

// CompareDeleter is implemented by stores shared by several processes, so
// that dropping a token that a backend rejected never drops the one another
// replica has just stored in its place.
type CompareDeleter interface {
	// DeleteIf removes the entry under key only if its value is still
	// value, atomically with respect to other writers.
	DeleteIf(ctx context.Context, key string, value []byte) error
}

// Locker is implemented by stores shared by several token sources (the
// replicas of a service with cache/redis's Store, the sources of a process
// with [Memory]), so that only one of them fetches a token while the others
// wait for it to appear in the store.
type Locker interface {
	// TryLock tries to take the lock named key for at most ttl. It returns
	// ok == false, without error, when another holder has it. The returned
	// unlock releases the lock only if it is still held by this caller.
	TryLock(ctx context.Context, key string, ttl time.Duration) (unlock func(context.Context) error, ok bool, err error)
}

// LockWatcher is implemented by stores that can tell a caller [Locker]
// refused when the lock's holder is done ([Memory]), so that it wakes at
// once to read the holder's token instead of polling for it.
type LockWatcher interface {
	// Unlocked returns a channel that is closed when the current holding
	// of the lock named key ends (its holder released it, or another
	// caller took it after it expired), or nil when nobody holds it. A
	// holding that expires closes nothing until the lock is taken again:
	// a waiter still tries the lock again at its own pace.
	Unlocked(key string) <-chan struct{}
}

// Env is what the assembly that loads a configuration file shares with
// the section of a store kept in another package (cache/redis's Config),
// whose Check(Env) error and Open(ctx, Env) (Store, error) it calls: see
// rest/backends.WithStoreSection. It lets the file name a store whose code
// the assembly does not link.
type Env struct {
	Now      func() time.Time                  // the clock; nil for time.Now
	Logger   *slog.Logger                      // nil for none
	ReadFile func(path string) ([]byte, error) // reads the files the section names (bounded)
	// MeterProvider receives the store's instruments; nil for the global one.
	MeterProvider metric.MeterProvider
}
