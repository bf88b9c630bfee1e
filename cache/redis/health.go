package redis

import (
	"context"
	"sync/atomic"
	"time"
)

// health is a small circuit breaker: after a failed Redis operation, Redis
// is skipped for the cool-down; then one caller probes it, and the first
// success closes the breaker again.
type health struct {
	now      func() time.Time
	cooldown time.Duration

	healthy   atomic.Bool
	downUntil atomic.Int64 // UnixNano on the injected clock; valid when !healthy
}

func newHealth(now func() time.Time, cooldown time.Duration) *health {
	h := &health{now: now, cooldown: cooldown}
	h.healthy.Store(true)
	return h
}

// allow reports whether an operation should go to Redis. While the breaker
// is open it says no until the cool-down has passed, then yes to a single
// caller (the probe), which restarts the cool-down.
func (h *health) allow() bool {
	if h.healthy.Load() {
		return true
	}
	until := h.downUntil.Load()
	now := h.now().UnixNano()
	if now < until {
		return false
	}
	return h.downUntil.CompareAndSwap(until, now+int64(h.cooldown))
}

// succeeded records an answer from Redis; it reports whether that ended an
// outage.
func (h *health) succeeded() bool {
	if h.healthy.Load() {
		return false
	}
	return h.healthy.CompareAndSwap(false, true)
}

// failed records a failed operation; it reports whether that started an
// outage. A failure caused by the caller's own context is not Redis's
// fault and is not counted.
func (h *health) failed(caller context.Context) bool {
	if caller.Err() != nil {
		return false
	}
	h.downUntil.Store(h.now().Add(h.cooldown).UnixNano())
	return h.healthy.CompareAndSwap(true, false)
}
