package rest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/logbuf"
	"github.com/tokenwire/tokenwire/internal/oteltest"
	"github.com/tokenwire/tokenwire/internal/refusing"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

const (
	telClientSecret = "svc-Tel-secret-31"
	telQueryValue   = "patient-4711-private"
)

// telConn builds OAuth connection "crm" to a backend running handler,
// its connection and token source instrumented into kit and logging into
// logs.
func telConn(t *testing.T, kit *oteltest.Kit, clk *fakeClock, logs io.Writer, handler http.HandlerFunc, opts ...Option) (*Conn, *oauthtest.Server) {
	t.Helper()
	as := oauthtest.NewServer(oauthtest.WithClock(clk.Now))
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "svc", Secret: telClientSecret, Scopes: []string{"crm.read"}})
	backend := newServer(t, as.RequireToken(handler).ServeHTTP)
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "crm-oauth", TokenURL: as.TokenURL(), ClientID: "svc",
		ClientSecret: oauthclient.NewSecret(telClientSecret), Scopes: []string{"crm.read"}},
		oauthclient.Options{Store: cache.NewMemory(16, cache.WithClock(clk.Now)), Now: clk.Now, Logger: logger,
			MeterProvider: kit.MeterProvider, TracerProvider: kit.TracerProvider, AllowInsecureHTTP: true})
	require.NoError(t, err)
	t.Cleanup(src.Close)
	all := append([]Option{AllowInsecureHTTP(), WithClock(clk.Now), WithSleep(clk.Sleep), WithMeterProvider(kit.MeterProvider),
		WithTracerProvider(kit.TracerProvider), WithLogger(logger)}, opts...)
	crm, err := NewConn("crm", ConnConfig{BaseURL: backend.URL + "/api", Security: "crm-oauth", Retry: RetryPolicy{MaxAttempts: 3}}, OAuth(src), all...)
	require.NoError(t, err)
	return crm, as
}

// One GET whose first attempt meets a 401 (the token is renewed and the
// request resent) and then a 503 (retried): one client span under the
// caller's with the semantic conventions' attributes, the resend and the
// retry as events, the trace context sent to the backend, one duration
// measurement, the token instruments from the same provider, the stats —
// and no secret, token or query value anywhere.
func TestCallTelemetry(t *testing.T) {
	kit := oteltest.New(t)
	clk := newFakeClock()
	var logs logbuf.Buffer
	var hits atomic.Int32
	var mu sync.Mutex
	var parents []string
	crm, as := telConn(t, kit, clk, &logs, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		parents = append(parents, r.Header.Get("Traceparent"))
		mu.Unlock()
		switch hits.Add(1) {
		case 1:
			w.WriteHeader(http.StatusUnauthorized)
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			_, _ = io.WriteString(w, `{"id":"42"}`)
		}
	}, WithPropagator(propagation.TraceContext{}))

	ctx, caller := kit.TracerProvider.Tracer("test").Start(context.Background(), "handler")
	resp, err := crm.Get(ctx, "customers/42", Query("q", telQueryValue))
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	caller.End()
	u, _ := url.Parse(crm.BaseURL())
	port, _ := strconv.Atoi(u.Port())
	waited := clk.Sleeps()
	require.Len(t, waited, 1, "one retry")

	t.Run("span", func(t *testing.T) {
		spans := kit.Named("GET")
		require.Len(t, spans, 1)
		s := spans[0]
		assert.Equal(t, trace.SpanKindClient, s.SpanKind)
		assert.Equal(t, caller.SpanContext().SpanID(), s.Parent.SpanID(), "a child of the caller's span")
		a := oteltest.Attrs(s.Attributes)
		assert.Equal(t, "GET", a["http.request.method"])
		assert.Equal(t, "127.0.0.1", a["server.address"])
		assert.EqualValues(t, port, a["server.port"])
		assert.EqualValues(t, 200, a["http.response.status_code"])
		assert.EqualValues(t, 1, a["http.request.resend_count"])
		assert.Equal(t, "crm", a["tokenwire.connection"])
		assert.Equal(t, crm.BaseURL()+"/customers/42?q=[redacted]", a["url.full"])
		assert.NotContains(t, a, "error.type")
		assert.Equal(t, codes.Unset, s.Status.Code)
		var names []string
		for _, e := range s.Events {
			names = append(names, e.Name)
		}
		// The first token, the 401 and its resend with a fresh token, the 503 and its retry.
		require.Equal(t, []string{"tokenwire.token.wait", "tokenwire.token.wait", "tokenwire.token.resend", "tokenwire.retry"}, names)
		assert.Equal(t, map[string]any{"tokenwire.definition": "crm-oauth", "tokenwire.resend.reason": "unauthorized"},
			oteltest.Attrs(s.Events[2].Attributes))
		assert.Equal(t, map[string]any{"http.request.resend_count": int64(1), "tokenwire.retry.wait": waited[0].Seconds(),
			"http.response.status_code": int64(503), "error.type": "503"}, oteltest.Attrs(s.Events[3].Attributes))

		want := "00-" + s.SpanContext.TraceID().String() + "-" + s.SpanContext.SpanID().String() + "-01"
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, []string{want, want, want}, parents, "every attempt carries the call's trace context")

		fetches := kit.Named("tokenwire.token.fetch")
		require.Len(t, fetches, 2, "the first token, and the one after the 401")
		for _, f := range fetches {
			require.Len(t, f.Links, 1)
			assert.Equal(t, s.SpanContext.SpanID(), f.Links[0].SpanContext.SpanID(), "linked to the call that waited")
		}
	})

	t.Run("metrics", func(t *testing.T) {
		m := kit.Metric(t, "http.client.request.duration")
		assert.Equal(t, "s", m.Unit)
		dp := oteltest.Histogram(t, m, attribute.String("http.request.method", "GET"), attribute.String("server.address", "127.0.0.1"),
			attribute.Int("server.port", port), attribute.Int("http.response.status_code", 200), attribute.String("tokenwire.connection", "crm"))
		assert.EqualValues(t, 1, dp.Count, "one call, whatever its attempts")
		assert.InDelta(t, waited[0].Seconds(), dp.Sum, 1e-9, "the test clock moved by the retry's wait only")
		_, hasErr := dp.Attributes.Value("error.type")
		assert.False(t, hasErr)
		assert.EqualValues(t, 2, oteltest.Sum(t, kit.Metric(t, "tokenwire.token.requests"), attribute.String("tokenwire.definition", "crm-oauth")),
			"the token source reports through the same provider")
	})

	t.Run("stats", func(t *testing.T) {
		st := crm.Stats()
		assert.Equal(t, "crm", st.Name)
		assert.Equal(t, "crm-oauth", st.Security)
		assert.Equal(t, "oauth2", st.SecurityKind)
		assert.EqualValues(t, 1, st.Calls)
		assert.EqualValues(t, 1, st.Retries)
		assert.Zero(t, st.Errors)
		assert.Equal(t, 200, st.LastStatus)
		assert.Equal(t, clk.Now(), st.LastCall.UTC())
		assert.Equal(t, waited[0], st.Latency.Last)
		assert.Equal(t, waited[0], st.Latency.Max)
	})

	assert.Contains(t, logs.String(), `msg="oauthclient: token obtained" definition=crm-oauth`, "the same logger")
	assert.Contains(t, logs.String(), `msg="rest: retrying" conn=crm method=GET url="`+crm.BaseURL()+`/customers/42?q=[redacted]"`)
	all := logs.String() + kit.Text(t)
	for _, secret := range append(as.SeenTokens(), telClientSecret, telQueryValue) {
		assert.NotContains(t, all, secret)
	}
}

// A call that gets no response and one that gets a 404: error.type, an
// error status, the counts and the last error (without its query value);
// the failed call is logged.
func TestCallTelemetryFailures(t *testing.T) {
	kit := oteltest.New(t)
	clk := newFakeClock()
	var logs logbuf.Buffer
	crm, _ := telConn(t, kit, clk, &logs, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) })
	_, err := crm.Get(context.Background(), "missing", Query("q", telQueryValue))
	require.ErrorIs(t, err, ErrNotFound)

	gone, err := NewConn("gone", ConnConfig{BaseURL: refusing.URL(t), Retry: RetryPolicy{MaxAttempts: 1}}, nil, AllowInsecureHTTP(),
		WithClock(clk.Now), WithMeterProvider(kit.MeterProvider), WithTracerProvider(kit.TracerProvider),
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	_, err = gone.Get(context.Background(), "x", Query("q", telQueryValue))
	require.ErrorIs(t, err, ErrTransport)

	spans := kit.Named("GET")
	require.Len(t, spans, 2)
	assert.Equal(t, "404", oteltest.Attrs(spans[0].Attributes)["error.type"])
	assert.Equal(t, codes.Error, spans[0].Status.Code, "client spans: a 4xx is an error")
	assert.Equal(t, "connect", oteltest.Attrs(spans[1].Attributes)["error.type"])
	assert.Equal(t, codes.Error, spans[1].Status.Code)
	assert.Contains(t, spans[1].Status.Description, "connection refused")

	m := kit.Metric(t, "http.client.request.duration")
	assert.EqualValues(t, 1, oteltest.Histogram(t, m, attribute.String("tokenwire.connection", "crm"), attribute.String("error.type", "404")).Count)
	dp := oteltest.Histogram(t, m, attribute.String("tokenwire.connection", "gone"), attribute.String("error.type", "connect"))
	_, hasStatus := dp.Attributes.Value("http.response.status_code")
	assert.False(t, hasStatus, "no response, no status code")

	st := crm.Stats()
	assert.Equal(t, [4]int64{1, 1, 0, 0}, [4]int64{st.Errors, st.ClientErrors, st.ServerErrors, st.TransportErrors})
	assert.Equal(t, "GET "+crm.BaseURL()+"/missing?q=[redacted]: HTTP 404", st.LastError)
	st = gone.Stats()
	assert.EqualValues(t, 1, st.TransportErrors)
	assert.Equal(t, "none", st.SecurityKind)
	assert.Contains(t, st.LastError, "connection refused")
	assert.Zero(t, st.LastStatus)

	assert.Contains(t, logs.String(), `level=WARN msg="rest: call failed" conn=gone method=GET`)
	assert.NotContains(t, logs.String()+kit.Text(t)+st.LastError, telQueryValue)
}

// The trace context goes out only with a propagator: the global one
// (none until the service sets one) or the connection's.
func TestTracePropagation(t *testing.T) {
	var got atomic.Value
	srv := newServer(t, func(_ http.ResponseWriter, r *http.Request) { got.Store(r.Header.Get("Traceparent")) })
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	for name, tc := range map[string]struct {
		opts []Option
		sent bool
	}{
		"global (none set)": {nil, false},
		"trace context":     {[]Option{WithPropagator(propagation.TraceContext{})}, true},
		"explicitly none":   {[]Option{WithPropagator(propagation.NewCompositeTextMapPropagator())}, false},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := NewConn("api", ConnConfig{BaseURL: srv.URL}, nil, append(tc.opts, AllowInsecureHTTP(), WithTracerProvider(tp))...)
			require.NoError(t, err)
			resp, err := c.Get(context.Background(), "x")
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tc.sent, got.Load().(string) != "")
		})
	}
}
