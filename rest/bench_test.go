package rest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// BenchmarkGet compares a GET through a named OAuth connection with the
// physical limit, a raw http.Client with a fixed Authorization header, on
// the same loopback server and the same kind of transport. "raw-timeout"
// is that raw client with a timeout, as production clients have one; a
// connection always bounds each attempt (Timeout, default 30s).
//
// "conn-oauth" runs with the global OpenTelemetry providers, which do
// nothing until a service installs some (telemetry off);
// "conn-oauth-otel" with a real SDK (telemetry on): a meter provider on a
// manual reader, a tracer provider sampling every span into a batch
// processor whose exporter drops them, and W3C trace context propagation.
func BenchmarkGet(b *testing.B) {
	const body = `{"id":"42","name":"Ada"}`
	handler := func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, body) }
	_, crm, src := oauthSource(b, handler)
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	b.Cleanup(func() { _ = mp.Shutdown(context.Background()); _ = tp.Shutdown(context.Background()) })
	_, withOTel := oauthSetup(b, handler, WithMeterProvider(mp), WithTracerProvider(tp), WithPropagator(propagation.TraceContext{}))
	ctx := context.Background()
	url := crm.BaseURL() + "/customers/42"
	tok, err := src.TokenContext(ctx) // the raw peers send the same valid token
	if err != nil {
		b.Fatal(err)
	}
	header := "Bearer " + tok.AccessToken()
	raw := func(timeout time.Duration) func() error {
		tr, _ := newTransport(TLSConfig{}, PoolConfig{}, nil)
		client := &http.Client{Transport: tr, Timeout: timeout}
		return func() error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			req.Header.Set("Authorization", header)
			return drainBody(client.Do(req))
		}
	}
	peers := []struct {
		name string
		call func() error
	}{
		{"raw", raw(0)},
		{"raw-timeout", raw(30 * time.Second)},
		{"conn-oauth", connGet(ctx, crm)},
		{"conn-oauth-otel", connGet(ctx, withOTel)},
	}
	for _, p := range peers {
		b.Run("serial/"+p.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := p.call(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, p := range peers {
		b.Run("parallel/"+p.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := p.call(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// connGet is a GET of customers/42 through c.
func connGet(ctx context.Context, c *Conn) func() error {
	return func() error { return drainBody(c.Get(ctx, "customers/42")) }
}

func drainBody(resp *http.Response, err error) error {
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK { // every peer must do the same work
		resp.Body.Close()
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}
