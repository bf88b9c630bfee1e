package redis

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/oteltest"
	"github.com/tokenwire/tokenwire/internal/redistest"
)

// breakerGauge returns the breaker gauge's value for each state.
func breakerGauge(t *testing.T, kit *oteltest.Kit) map[string]float64 {
	t.Helper()
	m := kit.Metric(t, "tokenwire.store.breaker")
	out := map[string]float64{}
	for _, st := range breakerStates {
		v, ok := oteltest.Gauge(t, m, attrStore.String("redis"), attrBreaker.String(st))
		require.True(t, ok, st)
		out[st] = v
	}
	return out
}

// During an outage the fallbacks and failures are counted by operation
// and cause, the breaker gauge and the status show it open, and both say
// closed again once Redis answers.
func TestStoreTelemetry(t *testing.T) {
	srv := redistest.Start(t) // its own server: this test stops it
	ctx := context.Background()
	clk := newClock()
	kit := oteltest.New(t)
	s := newStore(t, newClient(t, srv.Addr()), Options{Keys: [][]byte{aesKey(1)}, Now: clk.Now,
		OpTimeout: 5 * time.Second, MeterProvider: kit.MeterProvider}) // generous: CI machines are loaded
	entry := cache.Entry{Value: []byte("v-secret-token"), Expiry: clk.Now().Add(time.Hour)}

	require.NoError(t, s.Set(ctx, "k", entry))
	assert.Equal(t, map[string]float64{"closed": 1, "open": 0, "half_open": 0}, breakerGauge(t, kit))
	st := s.Status()
	assert.Equal(t, cache.Status{Kind: "redis", Shared: true, Healthy: true, Breaker: "closed"}, st)

	require.NoError(t, srv.Stop())
	_, err := s.Get(ctx, "k") // fails: served by the fallback, the breaker opens
	require.NoError(t, err)
	require.NoError(t, s.Set(ctx, "k", entry)) // skipped: the breaker is open
	_, ok, err := s.TryLock(ctx, "k", time.Second)
	require.NoError(t, err)
	require.True(t, ok)

	m := kit.Metric(t, "tokenwire.store.fallbacks")
	assert.Equal(t, "{operation}", m.Unit)
	redis := attrStore.String("redis")
	op := func(o string) attribute.KeyValue { return attrOperation.String(o) }
	assert.EqualValues(t, 1, oteltest.Sum(t, m, redis, op("get"), attrCause.String(causeError)))
	assert.EqualValues(t, 1, oteltest.Sum(t, m, redis, op("set"), attrCause.String(causeBreaker)))
	assert.EqualValues(t, 1, oteltest.Sum(t, m, redis, op("lock"), attrCause.String(causeBreaker)))
	assert.EqualValues(t, 1, oteltest.Sum(t, kit.Metric(t, "tokenwire.store.errors"), redis, op("get")))
	assert.Equal(t, map[string]float64{"closed": 0, "open": 1, "half_open": 0}, breakerGauge(t, kit))

	st = s.Status()
	assert.False(t, st.Healthy)
	assert.Equal(t, cache.BreakerOpen, st.Breaker)
	assert.Equal(t, clk.Now().Add(DefaultCooldown), st.RetryAt)
	assert.EqualValues(t, 3, st.Fallbacks)
	assert.EqualValues(t, 1, st.Failures)
	assert.NotEmpty(t, st.LastError)
	assert.NotContains(t, st.LastError+kit.Text(t), "v-secret-token")

	clk.Advance(DefaultCooldown)
	assert.Equal(t, cache.BreakerHalfOpen, s.Status().Breaker, "the next operation probes Redis")
	require.NoError(t, srv.Restart())
	require.Eventually(t, func() bool { // the restarted server may take a moment to accept
		clk.Advance(DefaultCooldown)
		return s.Set(ctx, "k", entry) == nil && s.Status().Healthy
	}, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, map[string]float64{"closed": 1, "open": 0, "half_open": 0}, breakerGauge(t, kit))

	require.NoError(t, s.Close())
	_, ok = kit.Metrics(t)["tokenwire.store.breaker"]
	assert.False(t, ok, "a closed store reports no breaker")
}
