package cache

import (
	"context"
	"time"
)

// Strict is implemented by stores shared by several processes whose Get,
// Set and TryLock fall back on local state when the shared backend fails
// (cache/redis's Store), so that tokens keep being served. Its methods
// fail instead: for state that must never be acted on twice across
// processes, such as a rotating refresh token, which its server revokes
// (with every token of its family) when one is used twice.
type Strict interface {
	// StrictGet returns the entry under key as the shared backend has it,
	// ErrNotFound, or the backend's error.
	StrictGet(ctx context.Context, key string) (Entry, error)
	// StrictSet stores e under key in the shared backend, or returns its
	// error.
	StrictSet(ctx context.Context, key string, e Entry) error
	// StrictTryLock is TryLock that returns the backend's error instead of
	// letting every caller proceed when the lock cannot be taken.
	StrictTryLock(ctx context.Context, key string, ttl time.Duration) (unlock func(context.Context) error, ok bool, err error)
}
