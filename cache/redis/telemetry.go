package redis

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/tokenwire/tokenwire/cache"
)

// instrumentation names the meter of this package.
const instrumentation = "github.com/tokenwire/tokenwire/cache/redis"

// The attributes of the tokenwire.store.* instruments.
const (
	attrStore     = attribute.Key("tokenwire.store")
	attrOperation = attribute.Key("tokenwire.store.operation")
	attrCause     = attribute.Key("tokenwire.store.cause")
	attrBreaker   = attribute.Key("tokenwire.store.breaker.state")
)

// The causes of a fallback.
const (
	causeError   = "error"        // Redis failed or timed out
	causeBreaker = "breaker_open" // Redis was skipped during the cool-down
)

// telemetry is a store's instruments and running totals, which
// [Store.Status] reads too.
type telemetry struct {
	fallbacks metric.Int64Counter
	errors    metric.Int64Counter
	breaker   metric.Int64ObservableGauge
	states    [3][]metric.ObserveOption // closed, open, half_open

	nFallbacks, nFailures atomic.Int64
	lastErr               atomic.Pointer[errNote]

	once sync.Once
	reg  metric.Registration
}

type errNote struct {
	text string
	at   time.Time
}

var breakerStates = [3]string{cache.BreakerClosed, cache.BreakerOpen, cache.BreakerHalfOpen}

// newTelemetry builds the instruments of a store with health h. The gauge's
// callback reads h only, so a store dropped without Close is collected, and
// its callback is then unregistered.
func newTelemetry(s *Store, mp metric.MeterProvider) *telemetry {
	m := mp.Meter(instrumentation)
	t := &telemetry{}
	t.fallbacks, _ = m.Int64Counter("tokenwire.store.fallbacks", metric.WithUnit("{operation}"),
		metric.WithDescription("Store operations the local fallback served because Redis failed or was skipped."))
	t.errors, _ = m.Int64Counter("tokenwire.store.errors", metric.WithUnit("{error}"),
		metric.WithDescription("Failed Redis operations."))
	t.breaker, _ = m.Int64ObservableGauge("tokenwire.store.breaker", metric.WithUnit("1"),
		metric.WithDescription("State of the Redis circuit breaker: 1 for the current state (closed, open, half_open), 0 for the others."))
	var nm noop.Meter
	if t.fallbacks == nil {
		t.fallbacks, _ = nm.Int64Counter("")
	}
	if t.errors == nil {
		t.errors, _ = nm.Int64Counter("")
	}
	if t.breaker == nil {
		t.breaker, _ = nm.Int64ObservableGauge("")
	}
	for i, st := range breakerStates {
		t.states[i] = []metric.ObserveOption{metric.WithAttributeSet(attribute.NewSet(attrStore.String("redis"), attrBreaker.String(st)))}
	}
	h := s.health
	reg, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		cur := h.state()
		for i, st := range breakerStates {
			v := int64(0)
			if st == cur {
				v = 1
			}
			o.ObserveInt64(t.breaker, v, t.states[i]...)
		}
		return nil
	}, t.breaker)
	if err == nil {
		t.reg = reg
		runtime.AddCleanup(s, func(t *telemetry) { t.unregister() }, t)
	}
	return t
}

func (t *telemetry) unregister() {
	t.once.Do(func() {
		if t.reg != nil {
			_ = t.reg.Unregister()
		}
	})
}

// fellBack records an operation served by the fallback store.
func (t *telemetry) fellBack(ctx context.Context, op, cause string) {
	t.nFallbacks.Add(1)
	t.fallbacks.Add(ctx, 1, metric.WithAttributes(attrStore.String("redis"), attrOperation.String(op), attrCause.String(cause)))
}

// failed records a failed Redis operation.
func (t *telemetry) failed(ctx context.Context, op string, err error, at time.Time) {
	t.nFailures.Add(1)
	t.lastErr.Store(&errNote{text: err.Error(), at: at})
	t.errors.Add(ctx, 1, metric.WithAttributes(attrStore.String("redis"), attrOperation.String(op)))
}

// state is the breaker's state now.
func (h *health) state() string {
	switch {
	case h.healthy.Load():
		return cache.BreakerClosed
	case h.now().UnixNano() < h.downUntil.Load():
		return cache.BreakerOpen
	}
	return cache.BreakerHalfOpen
}

// Status implements [cache.StatusReporter]: Healthy when the last Redis
// operation succeeded (while it is false, the fallback store serves), the
// breaker's state
// and when Redis is tried again, the fallbacks and failures counted, and
// the last failure (go-redis's text: an address, never a password or a
// value).
func (s *Store) Status() cache.Status {
	st := cache.Status{Kind: "redis", Shared: true, Healthy: s.health.healthy.Load(), Breaker: s.health.state(),
		Fallbacks: s.tel.nFallbacks.Load(), Failures: s.tel.nFailures.Load()}
	if st.Breaker == cache.BreakerOpen {
		st.RetryAt = time.Unix(0, s.health.downUntil.Load())
	}
	if e := s.tel.lastErr.Load(); e != nil {
		st.LastError, st.LastErrorAt = e.text, e.at
	}
	return st
}
