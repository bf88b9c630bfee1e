// Package oteltest is what tokenwire's tests assert telemetry with: an
// OpenTelemetry SDK meter provider on a manual reader and a tracer provider
// on an in-memory exporter, and finders for data points and spans.
package oteltest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// Kit holds the providers a test gives the code under test, and what they
// recorded.
type Kit struct {
	Reader         *sdkmetric.ManualReader
	Spans          *tracetest.InMemoryExporter
	MeterProvider  *sdkmetric.MeterProvider
	TracerProvider *sdktrace.TracerProvider
}

// New returns a kit whose providers shut down with the test. Every span is
// sampled and exported when it ends.
func New(t testing.TB) *Kit {
	t.Helper()
	k := &Kit{Reader: sdkmetric.NewManualReader(), Spans: tracetest.NewInMemoryExporter()}
	k.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(k.Reader))
	k.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSyncer(k.Spans), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	t.Cleanup(func() {
		_ = k.MeterProvider.Shutdown(context.Background())
		_ = k.TracerProvider.Shutdown(context.Background())
	})
	return k
}

// Metrics collects now and returns the metrics by name.
func (k *Kit) Metrics(t testing.TB) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, k.Reader.Collect(context.Background(), &rm))
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// Metric collects now and returns the metric called name, failing the test
// when there is none.
func (k *Kit) Metric(t testing.TB, name string) metricdata.Metrics {
	t.Helper()
	ms := k.Metrics(t)
	m, ok := ms[name]
	require.Truef(t, ok, "no metric %q among %v", name, names(ms))
	return m
}

func names(ms map[string]metricdata.Metrics) []string {
	var out []string
	for n := range ms {
		out = append(out, n)
	}
	return out
}

// has reports whether set holds every one of want.
func has(set attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		if v, ok := set.Value(kv.Key); !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// Sum returns the value of the data point of the sum m whose attributes
// include want (0 when there is none).
func Sum(t testing.TB, m metricdata.Metrics, want ...attribute.KeyValue) int64 {
	t.Helper()
	s, ok := m.Data.(metricdata.Sum[int64])
	require.Truef(t, ok, "%s is a %T, not an int64 sum", m.Name, m.Data)
	var n int64
	for _, dp := range s.DataPoints {
		if has(dp.Attributes, want) {
			n += dp.Value
		}
	}
	return n
}

// Gauge returns the value of the gauge m's data point whose attributes
// include want (an int64 gauge's as a float64); ok is false when there is
// none, or no gauge at all: a metric without data points is not collected.
func Gauge(t testing.TB, m metricdata.Metrics, want ...attribute.KeyValue) (v float64, ok bool) {
	t.Helper()
	switch g := m.Data.(type) {
	case nil:
	case metricdata.Gauge[float64]:
		for _, dp := range g.DataPoints {
			if has(dp.Attributes, want) {
				return dp.Value, true
			}
		}
	case metricdata.Gauge[int64]:
		for _, dp := range g.DataPoints {
			if has(dp.Attributes, want) {
				return float64(dp.Value), true
			}
		}
	default:
		require.Failf(t, "not a gauge", "%s is a %T", m.Name, m.Data)
	}
	return 0, false
}

// Histogram returns the data point of the float64 histogram m whose
// attributes include want, failing the test when there is none.
func Histogram(t testing.TB, m metricdata.Metrics, want ...attribute.KeyValue) metricdata.HistogramDataPoint[float64] {
	t.Helper()
	h, ok := m.Data.(metricdata.Histogram[float64])
	require.Truef(t, ok, "%s is a %T, not a float64 histogram", m.Name, m.Data)
	for _, dp := range h.DataPoints {
		if has(dp.Attributes, want) {
			return dp
		}
	}
	require.Failf(t, "no data point", "%s has no data point with %v", m.Name, want)
	return metricdata.HistogramDataPoint[float64]{}
}

// Named returns the ended spans called name, in the order they ended.
func (k *Kit) Named(name string) tracetest.SpanStubs {
	var out tracetest.SpanStubs
	for _, s := range k.Spans.GetSpans() {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// Attrs maps attributes by key, for assertions.
func Attrs(kvs []attribute.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

// Text is everything the kit recorded as text — metric names and data
// point attributes, span names, attributes, events, links and statuses —
// for a test that no secret appears anywhere in it.
func (k *Kit) Text(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	for _, m := range k.Metrics(t) {
		fmt.Fprintf(&b, "%s %+v\n", m.Name, m.Data)
	}
	for _, s := range k.Spans.GetSpans() {
		fmt.Fprintf(&b, "%s %v %v %+v %+v\n", s.Name, s.Attributes, s.Status, s.Events, s.Links)
	}
	return b.String()
}
