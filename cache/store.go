package cache

import (
	"context"
	"encoding/json"
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
// which the entry must no longer be returned.
type Entry struct {
	Value  []byte
	Expiry time.Time
}

// The value of an entry is a token, so an Entry never prints it under
// %v %+v %#v %s %q %d %x, slog, JSON or YAML (fmt's %p of an Entry value,
// which no method can intercept, shows the exported bytes: print a
// pointer, or nothing) ("[redacted]",
// the mark of internal/redact, which this package may not import): every fmt
// verb, log/slog, encoding/json and YAML show its size and expiry only.

// String describes the entry without its value.
func (e Entry) String() string {
	return fmt.Sprintf("cache.Entry{Value:[redacted] (%d bytes) Expiry:%s}", len(e.Value), e.Expiry.UTC().Format(time.RFC3339))
}

// GoString makes %#v print the redacted form.
func (e Entry) GoString() string { return e.String() }

// Format prints [Entry.String] whatever the verb.
func (e Entry) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, e.String()) }

// LogValue implements slog.LogValuer without the value.
func (e Entry) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("bytes", len(e.Value)), slog.Time("expiry", e.Expiry))
}

// MarshalJSON writes the redacted description.
func (e Entry) MarshalJSON() ([]byte, error) { return json.Marshal(e.String()) }

// MarshalYAML writes the redacted description.
func (e Entry) MarshalYAML() (any, error) { return e.String(), nil }

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

// Locker is implemented by stores shared by several processes, so that only
// one of them fetches a token while the others wait for it to appear in the
// store.
type Locker interface {
	// TryLock tries to take the lock named key for at most ttl. It returns
	// ok == false, without error, when another holder has it. The returned
	// unlock releases the lock only if it is still held by this caller.
	TryLock(ctx context.Context, key string, ttl time.Duration) (unlock func(context.Context) error, ok bool, err error)
}

// Config is a shared store's section of a configuration file (package
// cache/redis's Config), which package rest/backends decodes, checks at
// load time and opens. It lets the file name a store whose code the
// assembly does not link.
type Config interface {
	// Check reports what is wrong with the section without connecting,
	// reading the files it names with env.ReadFile.
	Check(env Env) error
	// Open returns the store the section describes. The registry that
	// opened it closes it when it implements io.Closer.
	Open(ctx context.Context, env Env) (Store, error)
}

// Env is what the assembly that opens a [Config] shares with it.
type Env struct {
	Now      func() time.Time                  // the clock; nil for time.Now
	Logger   *slog.Logger                      // nil for none
	ReadFile func(path string) ([]byte, error) // reads the files the section names (bounded)
	// MeterProvider receives the store's instruments; nil for the global one.
	MeterProvider metric.MeterProvider
}
